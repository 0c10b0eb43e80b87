//! The dashboard (`GET /c/{creditor}`): open and overdue receivables, the aged balance as a
//! chart, the DSO and its trend, the actions due, the promises due and the open disputes.
//!
//! Each figure is kept per creditor and day in a [`StampedCache`] with the counters of the
//! data it is made of ([`DataPart`]): a view reads the data revision (one small query) and
//! computes only what changed since — a payment import sums the ledger again, a promise
//! re-reads the cases, neither recomputes the other. Fifty viewers arriving together wait for
//! one computation. The figures are computed at server start and after an import or a daily
//! run in this process ([`warm`]), so that the next viewer does not pay for them.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use chrono::NaiveDate;
use relance_core::ids::CreditorId;
use relance_core::money::Money;
use relance_store::web_queries::{
    AgingTotals, DataPart, DataRevision, DisputeLine, DueAction, PromiseLine,
};
use relance_store::Store;
use serde::Serialize;

use crate::aging_cache::StampedCache;
use crate::auth::Session;
use crate::editors::dso::{dso_charts, DsoChart};
use crate::error::WebError;
use crate::i18n::{strings, Lang};
use crate::pages::{chrome_of, path_of, render};
use crate::{today_for, AppState};

/// Actions due shown.
const ACTIONS_SHOWN: u32 = 25;
/// Open disputes listed (all are counted).
const DISPUTES_SHOWN: u32 = 10;

/// The dashboard's figures other than the aged balance (kept by [`crate::aging_cache::AgingCache`],
/// which the aging report shares).
#[derive(Default)]
pub struct DashboardCache {
    actions: StampedCache<Arc<Vec<DueAction>>>,
    promises: StampedCache<Arc<Vec<PromiseLine>>>,
    disputes: StampedCache<Arc<(Vec<DisputeLine>, i64)>>,
    dso: StampedCache<Arc<Vec<DsoChart>>>,
}

/// Everything the dashboard shows of a creditor on a day.
pub struct Figures {
    pub totals: Vec<AgingTotals>,
    pub actions: Arc<Vec<DueAction>>,
    pub promises: Arc<Vec<PromiseLine>>,
    pub disputes: Arc<(Vec<DisputeLine>, i64)>,
    pub dso: Arc<Vec<DsoChart>>,
}

/// The creditor's figures on `today`, each from the cache while its data is unchanged. The
/// parts missing are computed together (the aged balance and the DSO each scan the ledger).
pub async fn figures(
    state: &AppState,
    creditor: CreditorId,
    today: NaiveDate,
) -> Result<Figures, WebError> {
    use DataPart::*;
    let store = state.store();
    let seen = store.data_revision().await?;
    let cache = state.dashboard_cache();
    let week_ago = today
        .checked_sub_days(chrono::Days::new(7))
        .unwrap_or(today);
    let week_on = today
        .checked_add_days(chrono::Days::new(7))
        .unwrap_or(today);
    let (totals, actions, promises, disputes, dso) = tokio::try_join!(
        async {
            Ok::<_, WebError>(
                state
                    .aging_cache()
                    .totals_seen(store, seen, creditor, today)
                    .await?,
            )
        },
        part(
            &cache.actions,
            store,
            seen,
            &[Outbox, Customers],
            creditor,
            today,
            || async {
                Ok::<_, WebError>(Arc::new(
                    store.due_actions(creditor, today, ACTIONS_SHOWN).await?,
                ))
            }
        ),
        part(
            &cache.promises,
            store,
            seen,
            &[Cases, Customers],
            creditor,
            today,
            || async {
                Ok::<_, WebError>(Arc::new(
                    store.promises_between(creditor, week_ago, week_on).await?,
                ))
            }
        ),
        // A dispute line shows its invoice's number and open amount.
        part(
            &cache.disputes,
            store,
            seen,
            &[Disputes, Ledger, Customers],
            creditor,
            today,
            || async {
                Ok::<_, WebError>(Arc::new(
                    store.open_disputes(creditor, DISPUTES_SHOWN).await?,
                ))
            }
        ),
        part(
            &cache.dso,
            store,
            seen,
            &[Ledger],
            creditor,
            today,
            || async { Ok::<_, WebError>(Arc::new(dso_charts(store, creditor, today).await?)) }
        ),
    )?;
    Ok(Figures {
        totals,
        actions,
        promises,
        disputes,
        dso,
    })
}

async fn part<V, F, Fut>(
    cache: &StampedCache<V>,
    store: &Store,
    seen: DataRevision,
    parts: &[DataPart],
    creditor: CreditorId,
    today: NaiveDate,
    compute: F,
) -> Result<V, WebError>
where
    V: Clone,
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<V, WebError>>,
{
    cache
        .get_or_compute(store, seen, parts, creditor, today, compute)
        .await
}

/// Computes `creditor`'s figures for its today in the background, so that the next viewer
/// after a change (an import, a daily run) finds them ready.
pub fn warm(state: &AppState, creditor: CreditorId) {
    let state = state.clone();
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        let result = async {
            let record = state
                .store()
                .creditors()
                .await?
                .into_iter()
                .find(|c| c.id == creditor)
                .ok_or(WebError::NotFound)?;
            figures(&state, creditor, today_for(&record)).await
        }
        .await;
        match result {
            Ok(_) => tracing::debug!(
                creditor = creditor.0,
                ms = started.elapsed().as_millis() as u64,
                "dashboard figures ready"
            ),
            Err(e) => {
                tracing::warn!(creditor = creditor.0, error = %e, "dashboard figures not computed")
            }
        }
    });
}

/// [`warm`] for every creditor, one after the other (at server start).
pub fn warm_all(state: &AppState) {
    let state = state.clone();
    tokio::spawn(async move {
        match state.store().creditors().await {
            Ok(creditors) => {
                for c in creditors {
                    let started = std::time::Instant::now();
                    match figures(&state, c.id, today_for(&c)).await {
                        Ok(_) => tracing::info!(
                            creditor = %c.name,
                            ms = started.elapsed().as_millis() as u64,
                            "dashboard figures ready"
                        ),
                        Err(e) => {
                            tracing::warn!(creditor = %c.name, error = %e, "dashboard figures not computed")
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "dashboard figures not computed"),
        }
    });
}

#[derive(Serialize)]
struct Bar {
    label: &'static str,
    value: String,
    x: i64,
    y: i64,
    height: i64,
}

#[derive(Serialize)]
struct CurrencyTotals {
    currency: String,
    buckets: Vec<(String, String, String)>,
    total: String,
    total_plain: String,
    overdue: String,
    overdue_plain: String,
    open_invoices: i64,
    overdue_invoices: i64,
    bars: Vec<Bar>,
}

const BUCKET_KEYS: [&str; 5] = ["not_due", "d1_30", "d31_60", "d61_90", "over_90"];
const BUCKET_IDS: [&str; 5] = ["not_due", "1_30", "31_60", "61_90", "over_90"];

fn currency_totals(
    tot: &AgingTotals,
    lang: Lang,
    t: &std::collections::BTreeMap<&'static str, &'static str>,
) -> CurrencyTotals {
    let m = |minor: i64| Money::from_minor(minor, tot.currency);
    let max = tot.buckets.iter().copied().max().unwrap_or(0).max(1);
    let bars = tot
        .buckets
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let height = ((*b).max(0) as i128 * 160 / max as i128) as i64;
            Bar {
                label: t.get(BUCKET_KEYS[i]).copied().unwrap_or(""),
                value: lang.money(&m(*b)),
                x: 10 + i as i64 * 96,
                y: 170 - height,
                height,
            }
        })
        .collect();
    CurrencyTotals {
        currency: tot.currency.code().to_string(),
        buckets: tot
            .buckets
            .iter()
            .enumerate()
            .map(|(i, b)| {
                (
                    BUCKET_IDS[i].to_string(),
                    lang.money(&m(*b)),
                    m(*b).to_plain_string(),
                )
            })
            .collect(),
        total: lang.money(&m(tot.total())),
        total_plain: m(tot.total()).to_plain_string(),
        overdue: lang.money(&m(tot.overdue())),
        overdue_plain: m(tot.overdue()).to_plain_string(),
        open_invoices: tot.open_invoices,
        overdue_invoices: tot.overdue_invoices,
        bars,
    }
}

/// `GET /c/{creditor}`.
pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path(creditor): Path<i64>,
    uri: axum::http::Uri,
) -> Result<Response, WebError> {
    // The creditors the user may see are read once, for the access check and the chrome.
    let creditors = state.store().creditors_of(&session.user).await?;
    let creditor = creditors
        .iter()
        .find(|c| c.id == CreditorId(creditor))
        .cloned()
        .ok_or(WebError::NotFound)?;
    let lang = Lang::of(&headers);
    let today = today_for(&creditor);
    let figures = figures(&state, creditor.id, today).await?;
    let t = strings(lang);
    let totals: Vec<CurrencyTotals> = figures
        .totals
        .iter()
        .map(|tot| currency_totals(tot, lang, &t))
        .collect();
    let actions: Vec<_> = figures
        .actions
        .iter()
        .map(|a| {
            minijinja::context! {
                customer => a.customer, customer_name => a.customer_name, step => a.step,
                channel => a.channel, status => a.status, due_on => a.due_on,
                amount => lang.money(&a.amount),
            }
        })
        .collect();
    let promises: Vec<_> = figures
        .promises
        .iter()
        .map(|p| {
            minijinja::context! {
                customer => p.customer, customer_name => p.customer_name,
                promised_for => p.promised_for.to_string(), amount => lang.money(&p.amount),
                past => p.promised_for < today,
            }
        })
        .collect();
    let (disputes, dispute_count) = &*figures.disputes;
    let disputes: Vec<_> = disputes
        .iter()
        .map(|d| {
            minijinja::context! {
                customer => d.customer, customer_name => d.customer_name, invoice => d.invoice,
                item_id => d.item_id, opened_on => d.opened_on, reason => d.reason,
                open_amount => lang.money(&d.open_amount),
            }
        })
        .collect();
    let chrome = chrome_of(&session, creditors, Some(&creditor), path_of(&uri));
    Ok(Html(render(
        &state,
        "dashboard.html",
        lang,
        minijinja::context! {
            chrome, totals, actions, promises, disputes, dispute_count, active => "dashboard",
            dso => &*figures.dso,
            e => crate::editors::strings::strings(lang),
            today => today.to_string(), cid => creditor.id.0,
        },
    )?)
    .into_response())
}
