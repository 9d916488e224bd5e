//! Fan-out: notify every live subscriber of a feed, with bounded
//! concurrency, a timeout per attempt and retries with backoff; drop a
//! subscriber after repeated consecutive failures. One slow or dead
//! subscriber never delays the others beyond its own slot.

use cloudim_protocol::{FeedId, Tenant};
use futures::StreamExt;

use crate::{Error, OutboundError, Provider, Subscription};

/// What one fan-out did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FanoutReport {
    /// Subscribers notified.
    pub delivered: usize,
    /// Subscribers that failed every attempt this time.
    pub failed: usize,
    /// Subscribers dropped for failing too often (or expired).
    pub dropped: usize,
}

enum Outcome {
    Delivered,
    Failed,
    Dropped,
}

impl Provider {
    /// Notifies every live subscriber of a feed.
    pub async fn fanout(&self, tenant: &Tenant, feed: &FeedId) -> Result<FanoutReport, Error> {
        let now = self.ports.clock.now();
        let subs = self.ports.subscriptions.list(tenant, feed).await?;
        let mut report = FanoutReport::default();
        let (live, expired): (Vec<_>, Vec<_>) = subs.into_iter().partition(|s| s.expires_at > now);
        for sub in expired {
            self.ports.subscriptions.delete(tenant, feed, &sub.id).await?;
            report.dropped += 1;
        }
        let outcomes: Vec<Outcome> = futures::stream::iter(live)
            .map(|sub| async move { self.deliver(tenant, &sub).await })
            .buffer_unordered(self.settings.fanout.concurrency.max(1))
            .collect()
            .await;
        for o in outcomes {
            match o {
                Outcome::Delivered => report.delivered += 1,
                Outcome::Failed => report.failed += 1,
                Outcome::Dropped => report.dropped += 1,
            }
        }
        tracing::debug!(tenant = %tenant, feed = %feed, ?report, "fan-out done");
        Ok(report)
    }

    async fn deliver(&self, tenant: &Tenant, sub: &Subscription) -> Outcome {
        let f = &self.settings.fanout;
        let target = sub.target();
        let mut last = None;
        for attempt in 0..=f.retries {
            if attempt > 0 {
                tokio::time::sleep(f.backoff * 2u32.saturating_pow(attempt - 1)).await;
            }
            let result = tokio::time::timeout(f.attempt_timeout, self.ports.outbound.notify(&target, &sub.resource)).await;
            match result {
                Ok(Ok(())) => {
                    if sub.failures > 0
                        && let Err(e) = self.ports.subscriptions.reset_failures(tenant, &sub.feed, &sub.id).await {
                            tracing::warn!(error = %e, "could not reset a subscription's failure count");
                        }
                    return Outcome::Delivered;
                }
                Ok(Err(e)) => last = Some(e),
                Err(_) => last = Some(OutboundError::Timeout("the subscriber".into())),
            }
        }
        let reason = last.map(|e| e.to_string()).unwrap_or_default();
        match self.ports.subscriptions.record_failure(tenant, &sub.feed, &sub.id).await {
            Ok(Some(n)) if n >= f.max_failures => {
                tracing::info!(tenant = %tenant, feed = %sub.feed, failures = n, %reason, "subscription dropped");
                match self.ports.subscriptions.delete(tenant, &sub.feed, &sub.id).await {
                    Ok(()) => Outcome::Dropped,
                    Err(_) => Outcome::Failed,
                }
            }
            Ok(_) => {
                tracing::info!(tenant = %tenant, feed = %sub.feed, %reason, "notification failed");
                Outcome::Failed
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not record a notification failure");
                Outcome::Failed
            }
        }
    }
}
