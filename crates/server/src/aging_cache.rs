//! Figures over the whole ledger, kept per creditor and day while the data has not changed.
//!
//! Summing a million open items takes SQLite a few hundred milliseconds; fifty people opening
//! the dashboard at once would queue behind one another. A [`StampedCache`] keeps a value with
//! the [`DataRevision`] read before computing it, and serves it again only while the revision
//! (one primary-key read) is the same: any write to what the figures are made of, from this
//! process or another one (an import from the command line), makes the next view recompute.
//! Viewers arriving together while it is computed wait for that one computation.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;

use chrono::NaiveDate;
use relance_core::ids::CreditorId;
use relance_store::web_queries::{AgingTotals, DataPart, DataRevision};
use relance_store::Store;

/// Values per (creditor, day), each with the revision it was computed at.
pub struct StampedCache<V> {
    entries: Mutex<HashMap<(i64, NaiveDate), (DataRevision, V)>>,
    /// Held while a value is computed: viewers arriving together wait for one computation.
    computing: tokio::sync::Mutex<()>,
}

impl<V> Default for StampedCache<V> {
    fn default() -> Self {
        StampedCache {
            entries: Mutex::new(HashMap::new()),
            computing: tokio::sync::Mutex::new(()),
        }
    }
}

impl<V: Clone> StampedCache<V> {
    /// The value for `creditor` on `today`, made of the data `parts`: the kept one while
    /// their counters are as `seen` (the revision the caller read), else `compute`'s, kept for
    /// the next callers.
    pub async fn get_or_compute<E, F, Fut>(
        &self,
        store: &Store,
        seen: DataRevision,
        parts: &[DataPart],
        creditor: CreditorId,
        today: NaiveDate,
        compute: F,
    ) -> Result<V, E>
    where
        E: From<relance_store::StoreError>,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        let key = (creditor.0, today);
        if let Some(value) = self.fresh(key, seen.only(parts)) {
            return Ok(value);
        }
        let _computing = self.computing.lock().await;
        // Read again: the data may have changed while waiting, and the value computed by the
        // caller we waited for may be the one wanted. The revision is read before computing,
        // so a write committed meanwhile leaves the value marked older than it is (recomputed
        // at the next view), never newer.
        let revision = store.data_revision().await?.only(parts);
        if let Some(value) = self.fresh(key, revision) {
            return Ok(value);
        }
        let value = compute().await?;
        if let Ok(mut map) = self.entries.lock() {
            // Other days' entries go: the cache holds today's figures only.
            map.retain(|k, _| k.1 == today);
            map.insert(key, (revision, value.clone()));
        }
        Ok(value)
    }

    fn fresh(&self, key: (i64, NaiveDate), revision: DataRevision) -> Option<V> {
        let map = self.entries.lock().ok()?;
        map.get(&key)
            .filter(|(at, _)| *at == revision)
            .map(|(_, value)| value.clone())
    }
}

/// The creditor's aged balance (the dashboard's and the aging report's totals).
#[derive(Default)]
pub struct AgingCache(StampedCache<Vec<AgingTotals>>);

impl AgingCache {
    /// The creditor's aged balance on `today`, from the cache when the ledger is unchanged.
    pub async fn totals(
        &self,
        store: &Store,
        creditor: CreditorId,
        today: NaiveDate,
    ) -> Result<Vec<AgingTotals>, relance_store::StoreError> {
        let seen = store.data_revision().await?;
        self.totals_seen(store, seen, creditor, today).await
    }

    /// [`AgingCache::totals`] with the data revision the caller has read.
    pub async fn totals_seen(
        &self,
        store: &Store,
        seen: DataRevision,
        creditor: CreditorId,
        today: NaiveDate,
    ) -> Result<Vec<AgingTotals>, relance_store::StoreError> {
        self.0
            .get_or_compute(store, seen, &[DataPart::Ledger], creditor, today, || {
                store.aging_totals(creditor, today)
            })
            .await
    }
}
