//! The cash view in the web application (issue 9), what `relance report forecast|scores|steps|
//! experiment|suppliers` print: the cash forecast by week with its band (`forecast`), the aged
//! balance by payer grade and the payer scores (`risk`), what works — each step's outcomes and
//! the policies' A/B experiments (`works`) — and the suppliers' late deliveries and mismatched
//! invoices (`suppliers`).
//!
//! The store reads, the core computes, as on the command line; these modules only assemble and
//! draw (inline SVG, no script). Scoring and the forecast read every payment history of the
//! creditor (seconds at 200,000 customers), so their results are kept per creditor and day
//! while the ledger is unchanged ([`StampCache`]), like the dashboard's aged balance.

pub mod forecast;
pub mod risk;
mod strings;
pub mod suppliers;
pub mod works;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use relance_core::scoring::{score, Score};
use relance_store::cash::{predict_all, weekly_forecast, CashForecast, CustomerCash};
use relance_store::creditors::CreditorRecord;
use relance_store::web_queries::LedgerStamp;
use relance_store::Store;
use serde::Deserialize;

use crate::error::WebError;
use crate::i18n::Lang;
use crate::pages::parse_day;
use crate::AppState;

pub(crate) use strings::STRINGS;

/// Weeks of the forecast, as `relance report forecast` shows by default.
pub const WEEKS: u32 = 13;

/// The page templates of the cash view, registered with the others.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "forecast.html",
        include_str!("../../templates/forecast.html"),
    ),
    ("risk.html", include_str!("../../templates/risk.html")),
    ("works.html", include_str!("../../templates/works.html")),
    (
        "suppliers.html",
        include_str!("../../templates/suppliers.html"),
    ),
];

pub fn add_templates(env: &mut minijinja::Environment<'static>) -> Result<(), WebError> {
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    Ok(())
}

/// The query of the cash view's pages: the day (`as_of`, today by default) and what each page
/// narrows to.
#[derive(Debug, Deserialize, Default)]
pub struct ViewQuery {
    #[serde(default)]
    pub as_of: String,
    /// The scores list: one grade only (`A`…`E`).
    #[serde(default)]
    pub grade: String,
    /// The scores list: the page, from 1.
    #[serde(default)]
    pub page: Option<u32>,
    /// What works: the policy whose experiments are shown.
    #[serde(default)]
    pub policy: String,
}

impl ViewQuery {
    pub fn day(&self, creditor: &CreditorRecord, lang: Lang) -> Result<NaiveDate, WebError> {
        match self.as_of.trim() {
            "" => Ok(crate::today_for(creditor)),
            d => parse_day(d, "as_of", lang),
        }
    }
}

/// A cache entry's key: the creditor's id and the day.
type CacheKey = (i64, NaiveDate);

/// Results kept per creditor and day with the [`LedgerStamp`] they were computed at, served
/// again while the stamp is the same; one computation at a time, so that viewers arriving
/// together wait for the first one's result instead of each reading the whole ledger.
pub struct StampCache<T> {
    entries: Mutex<HashMap<CacheKey, (LedgerStamp, Arc<T>)>>,
    computing: tokio::sync::Mutex<()>,
}

impl<T> Default for StampCache<T> {
    fn default() -> Self {
        StampCache {
            entries: Mutex::new(HashMap::new()),
            computing: tokio::sync::Mutex::new(()),
        }
    }
}

impl<T> StampCache<T> {
    /// The kept result if the ledger has not changed since, without computing it.
    pub async fn peek(
        &self,
        store: &Store,
        key: (i64, NaiveDate),
    ) -> Result<Option<Arc<T>>, WebError> {
        let stamp = store.ledger_stamp().await?;
        Ok(self.fresh(key, stamp))
    }

    /// The kept result, or `compute`'s (then kept).
    pub async fn get<F, Fut>(
        &self,
        store: &Store,
        key: (i64, NaiveDate),
        compute: F,
    ) -> Result<Arc<T>, WebError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, WebError>>,
    {
        if let Some(kept) = self.peek(store, key).await? {
            return Ok(kept);
        }
        let _computing = self.computing.lock().await;
        // The stamp before computing: a change made meanwhile makes the next view recompute.
        let stamp = store.ledger_stamp().await?;
        if let Some(kept) = self.fresh(key, stamp) {
            return Ok(kept);
        }
        let value = Arc::new(compute().await?);
        if let Ok(mut map) = self.entries.lock() {
            // Other days' entries go: a day's figures are asked for on that day.
            map.retain(|k, _| k.1 == key.1);
            map.insert(key, (stamp, value.clone()));
        }
        Ok(value)
    }

    fn fresh(&self, key: (i64, NaiveDate), stamp: LedgerStamp) -> Option<Arc<T>> {
        let map = self.entries.lock().ok()?;
        map.get(&key)
            .filter(|(at, _)| *at == stamp)
            .map(|(_, v)| v.clone())
    }
}

/// The creditor's payers on a day: their histories and scores (`None`: nothing paid and
/// nothing open, so nothing to score, as `relance report scores` leaves them out).
pub struct Payers {
    pub customers: Vec<CustomerCash>,
    pub scores: Vec<Option<Score>>,
    /// Indexes of the scored customers, riskiest first (score, then code).
    pub ranked: Vec<usize>,
}

/// What the cash view keeps between views.
#[derive(Default)]
pub struct Caches {
    payers: StampCache<Payers>,
    forecast: StampCache<CashForecast>,
}

/// Whether `relance report scores` scores this customer.
fn scorable(c: &CustomerCash) -> bool {
    c.history.paid > 0 || c.history.open_minor > 0
}

/// The creditor's payers on `as_of`, scored.
pub async fn payers(
    state: &AppState,
    creditor: &CreditorRecord,
    as_of: NaiveDate,
) -> Result<Arc<Payers>, WebError> {
    let store = state.store();
    state
        .insights()
        .payers
        .get(store, (creditor.id.0, as_of), || async move {
            let customers = store.payer_histories(creditor.id, as_of).await?;
            let scores: Vec<Option<Score>> = customers
                .iter()
                .map(|c| scorable(c).then(|| score(&c.history)))
                .collect();
            let mut ranked: Vec<usize> = (0..customers.len())
                .filter(|i| scores[*i].is_some())
                .collect();
            ranked.sort_by_key(|i| {
                (
                    scores[*i].as_ref().map_or(0, |s| s.score),
                    customers[*i].code.as_str(),
                )
            });
            Ok(Payers {
                customers,
                scores,
                ranked,
            })
        })
        .await
}

/// The peeked payers, if scored since the ledger last changed (the customer page never waits
/// for a whole creditor's scoring).
pub async fn payers_if_kept(
    state: &AppState,
    creditor: &CreditorRecord,
    as_of: NaiveDate,
) -> Result<Option<Arc<Payers>>, WebError> {
    state
        .insights()
        .payers
        .peek(state.store(), (creditor.id.0, as_of))
        .await
}

/// The weekly cash forecast on `as_of` ([`WEEKS`] weeks, then "later").
pub async fn cash_forecast(
    state: &AppState,
    creditor: &CreditorRecord,
    as_of: NaiveDate,
) -> Result<Arc<CashForecast>, WebError> {
    let payers = payers(state, creditor, as_of).await?;
    let store = state.store();
    state
        .insights()
        .forecast
        .get(store, (creditor.id.0, as_of), || async move {
            let items = store.forecast_items(creditor.id, as_of).await?;
            let predictions = predict_all(&payers.customers, &items, as_of);
            Ok(weekly_forecast(&items, &predictions, as_of, WEEKS))
        })
        .await
}

/// A report error as a page error.
pub(crate) fn internal(e: anyhow::Error) -> WebError {
    WebError::Internal(format!("report: {e:#}"))
}

/// A number scaled to `span` SVG units against `max` (0 when `max` is not positive).
pub(crate) fn scale(value: rust_decimal::Decimal, max: rust_decimal::Decimal, span: i64) -> i64 {
    use rust_decimal::prelude::ToPrimitive;
    if max <= rust_decimal::Decimal::ZERO {
        return 0;
    }
    (value.max(rust_decimal::Decimal::ZERO) * rust_decimal::Decimal::from(span) / max)
        .round()
        .to_i64()
        .unwrap_or(0)
        .clamp(0, span)
}
