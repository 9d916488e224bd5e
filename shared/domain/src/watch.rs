//! Real time for clients: a long poll over the account's inbox.
//!
//! A client names, for each feed it follows, the last sequence number it
//! has; the call answers as soon as anything newer is recorded, or empty
//! when the wait runs out. Within one process a recorded item wakes the
//! waiters at once (in-process signals); across processes (one Lambda
//! records, another holds the poll) the waiter also re-reads the store
//! every `poll_interval`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use cloudim_protocol::{AccountName, Tenant};
use tokio::sync::watch;

use crate::{Error, InboxItem, Provider};

/// The longest a client may ask to wait.
pub const MAX_WAIT: Duration = Duration::from_secs(25);
/// The most followed feeds one watch may name.
pub const MAX_WATCHED_FEEDS: usize = 1000;
/// The most items one answer carries (a client asks again for the rest).
pub const MAX_WATCH_ITEMS: usize = 200;

/// Wakes the watchers of an account when items are recorded for it.
#[derive(Default)]
pub struct InboxSignals {
    senders: Mutex<HashMap<(Tenant, AccountName), watch::Sender<u64>>>,
}

impl InboxSignals {
    fn subscribe(&self, tenant: &Tenant, account: &AccountName) -> watch::Receiver<u64> {
        let mut map = self.senders.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.retain(|_, s| s.receiver_count() > 0);
        map.entry((tenant.clone(), account.clone())).or_insert_with(|| watch::channel(0).0).subscribe()
    }

    /// Tells this process's watchers of `account` that something arrived.
    pub fn wake(&self, tenant: &Tenant, account: &AccountName) {
        let map = self.senders.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(s) = map.get(&(tenant.clone(), account.clone())) {
            s.send_modify(|n| *n = n.wrapping_add(1));
        }
    }
}

impl Provider {
    /// Items recorded for `account` after the given cursors (feed URL →
    /// last sequence number seen, `None` for none yet), waiting up to
    /// `wait` for the first one. Only feeds the account follows are read.
    pub async fn watch_inbox(
        &self,
        tenant: &Tenant,
        account: &AccountName,
        cursors: &BTreeMap<String, Option<u64>>,
        wait: Duration,
    ) -> Result<Vec<InboxItem>, Error> {
        if cursors.len() > MAX_WATCHED_FEEDS {
            return Err(Error::invalid(format!("a watch names at most {MAX_WATCHED_FEEDS} feeds")));
        }
        let wait = wait.min(MAX_WAIT);
        let mut signal = self.signals.subscribe(tenant, account);
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            signal.borrow_and_update();
            let mut found = Vec::new();
            for (feed, after) in cursors {
                let room = MAX_WATCH_ITEMS - found.len();
                if room == 0 {
                    break;
                }
                found.extend(self.ports.inbox.list_items(tenant, account, feed, *after, room).await?);
            }
            if !found.is_empty() || tokio::time::Instant::now() >= deadline {
                return Ok(found);
            }
            let tick = (tokio::time::Instant::now() + self.settings.inbox_poll_interval).min(deadline);
            tokio::select! {
                _ = signal.changed() => {}
                _ = tokio::time::sleep_until(tick) => {}
            }
        }
    }
}
