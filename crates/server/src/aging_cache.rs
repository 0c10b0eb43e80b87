//! The dashboard's aged balance and promises due, kept while the ledger has not changed.
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
use relance_store::web_queries::{AgingTotals, LedgerStamp, PromiseLine};
use relance_store::Store;

type Entry = (LedgerStamp, Vec<AgingTotals>);
type PromiseEntry = (LedgerStamp, Vec<PromiseLine>);

#[derive(Default)]
pub struct AgingCache {
    entries: Mutex<HashMap<(i64, NaiveDate), Entry>>,
    /// Held while totals are computed: viewers arriving together wait for one computation.
    computing: tokio::sync::Mutex<()>,
}

impl AgingCache {
    /// The creditor's aged balance on `today`, from the cache when the ledger is unchanged.
    pub async fn totals(
        &self,
        store: &Store,
        creditor: CreditorId,
        today: NaiveDate,
    ) -> Result<Vec<AgingTotals>, relance_store::StoreError> {
        let key = (creditor.0, today);
        let stamp = store.ledger_stamp().await?;
        if let Some(totals) = self.fresh(key, stamp) {
            return Ok(totals);
        }
        let _computing = self.computing.lock().await;
        let stamp = store.ledger_stamp().await?;
        if let Some(totals) = self.fresh(key, stamp) {
            return Ok(totals);
        }
        let totals = store.aging_totals(creditor, today).await?;
        if let Ok(mut map) = self.entries.lock() {
            // Other days' entries go: the cache holds today's figures only.
            map.retain(|k, _| k.1 == today);
            map.insert(key, (stamp, totals.clone()));
        }
        Ok(totals)
    }

    fn fresh(&self, key: (i64, NaiveDate), stamp: LedgerStamp) -> Option<Vec<AgingTotals>> {
        let map = self.entries.lock().ok()?;
        map.get(&key)
            .filter(|(at, _)| *at == stamp)
            .map(|(_, totals)| totals.clone())
    }
}

/// The promises to pay falling within a week of today, kept like the aged balance: finding
/// them reads every case's memory (a promise lives in the case state), which at 200,000
/// customers was most of a dashboard view's cost. Any promise made, kept or broken appends to
/// the timeline, so the [`LedgerStamp`] changes with them.
#[derive(Default)]
pub struct PromiseCache {
    entries: Mutex<HashMap<(i64, NaiveDate), PromiseEntry>>,
    computing: tokio::sync::Mutex<()>,
}

impl PromiseCache {
    /// The creditor's promises due between a week ago and a week on from `today`.
    pub async fn around(
        &self,
        store: &Store,
        creditor: CreditorId,
        today: NaiveDate,
    ) -> Result<Vec<PromiseLine>, relance_store::StoreError> {
        let key = (creditor.0, today);
        let stamp = store.ledger_stamp().await?;
        if let Some(lines) = self.fresh(key, stamp) {
            return Ok(lines);
        }
        let _computing = self.computing.lock().await;
        let stamp = store.ledger_stamp().await?;
        if let Some(lines) = self.fresh(key, stamp) {
            return Ok(lines);
        }
        let week_ago = today
            .checked_sub_days(chrono::Days::new(7))
            .unwrap_or(today);
        let week_on = today
            .checked_add_days(chrono::Days::new(7))
            .unwrap_or(today);
        let lines = store.promises_between(creditor, week_ago, week_on).await?;
        if let Ok(mut map) = self.entries.lock() {
            map.retain(|k, _| k.1 == today);
            map.insert(key, (stamp, lines.clone()));
        }
        Ok(lines)
    }

    fn fresh(&self, key: (i64, NaiveDate), stamp: LedgerStamp) -> Option<Vec<PromiseLine>> {
        let map = self.entries.lock().ok()?;
        map.get(&key)
            .filter(|(at, _)| *at == stamp)
            .map(|(_, lines)| lines.clone())
    }
}
