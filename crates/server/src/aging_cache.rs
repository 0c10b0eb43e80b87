//! The dashboard's aged balance, kept while the ledger has not changed.
//!
//! Summing a million open items takes SQLite a few hundred milliseconds; fifty people opening
//! the dashboard at once would queue behind one another. The totals are kept per creditor and
//! day with the [`LedgerStamp`] they were computed at, and served again only while the stamp
//! (three index look-ups) is the same: any new item, allocation or timeline entry, from this
//! process or another one (an import from the command line), makes the next view recompute.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::NaiveDate;
use relance_core::ids::CreditorId;
use relance_store::web_queries::{AgingTotals, LedgerStamp};
use relance_store::Store;

type Entry = (LedgerStamp, Vec<AgingTotals>);

#[derive(Default)]
pub struct AgingCache(Mutex<HashMap<(i64, NaiveDate), Entry>>);

impl AgingCache {
    /// The creditor's aged balance on `today`, from the cache when the ledger is unchanged.
    pub async fn totals(
        &self,
        store: &Store,
        creditor: CreditorId,
        today: NaiveDate,
    ) -> Result<Vec<AgingTotals>, relance_store::StoreError> {
        let stamp = store.ledger_stamp().await?;
        let key = (creditor.0, today);
        if let Ok(map) = self.0.lock() {
            if let Some((at, totals)) = map.get(&key) {
                if *at == stamp {
                    return Ok(totals.clone());
                }
            }
        }
        let totals = store.aging_totals(creditor, today).await?;
        if let Ok(mut map) = self.0.lock() {
            // Other days' entries go: the cache holds today's figures only.
            map.retain(|k, _| k.1 == today);
            map.insert(key, (stamp, totals.clone()));
        }
        Ok(totals)
    }
}
