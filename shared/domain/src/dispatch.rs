//! The in-process dispatcher: fan-outs run on a background task, so a
//! publisher never waits for its subscribers. (On Lambda a different
//! dispatcher hands the work to an asynchronous invocation.)

use std::sync::{Arc, Weak};

use async_trait::async_trait;
use cloudim_protocol::{FeedId, Tenant};
use tokio::sync::mpsc;

use crate::{Dispatcher, Provider, StoreError};

/// Queues fan-outs for [`run_fanouts`].
#[derive(Clone)]
pub struct LocalDispatcher {
    tx: mpsc::UnboundedSender<(Tenant, FeedId)>,
}

/// The receiving end, consumed by [`run_fanouts`].
pub struct FanoutQueue(mpsc::UnboundedReceiver<(Tenant, FeedId)>);

impl LocalDispatcher {
    /// A dispatcher and the queue its worker reads.
    pub fn new() -> (Self, FanoutQueue) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self { tx }, FanoutQueue(rx))
    }
}

#[async_trait]
impl Dispatcher for LocalDispatcher {
    async fn feed_changed(&self, tenant: &Tenant, feed: &FeedId) -> Result<(), StoreError> {
        self.tx.send((tenant.clone(), feed.clone())).map_err(|_| StoreError::Backend("the fan-out worker has stopped".into()))
    }
}

/// Runs fan-outs as they are queued, each on its own task, until every
/// dispatcher is dropped or the provider is gone.
pub async fn run_fanouts(provider: Weak<Provider>, mut queue: FanoutQueue) {
    while let Some((tenant, feed)) = queue.0.recv().await {
        let Some(provider) = provider.upgrade() else { break };
        tokio::spawn(async move {
            if let Err(e) = Arc::clone(&provider).fanout(&tenant, &feed).await {
                tracing::warn!(tenant = %tenant, feed = %feed, error = %e, "fan-out failed");
            }
        });
    }
}
