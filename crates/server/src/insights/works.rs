//! What works (`/c/{creditor}/what-works?policy=`): each step's outcomes (`relance report
//! steps`: cases, share paid within 7 and 14 days, median days to payment) and the A/B
//! experiments of a policy (`relance report experiment POLICY`: per variant the payment rate
//! within 14 days and the days to payment, B − A with its confidence interval, the verdict).

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use chrono::NaiveDate;
use relance_core::effectiveness::{step_stats, StepStats};
use relance_core::experiment::{compare, Difference, ExperimentReport};
use relance_dispatch::tables::Table;
use relance_store::creditors::CreditorRecord;
use serde::Serialize;

use super::{internal, ViewQuery};
use crate::auth::Session;
use crate::error::WebError;
use crate::i18n::Lang;
use crate::pages::{chrome, path_of, render};
use crate::{access, AppState};

/// The steps' figures on `as_of`, in the order the policies list the steps.
pub async fn steps(
    state: &AppState,
    creditor: &CreditorRecord,
    as_of: NaiveDate,
) -> Result<Vec<StepStats>, WebError> {
    let store = state.store();
    let outcomes = store.step_outcomes(creditor.id, as_of).await?;
    let mut order: Vec<String> = Vec::new();
    for p in store.policies(creditor.id).await? {
        for s in p.steps {
            if !order.contains(&s.id) {
                order.push(s.id);
            }
        }
    }
    Ok(step_stats(&outcomes, &order, as_of))
}

/// A share as "62 % (31 / 50)", or "—" when nothing is old enough.
fn share(rate: Option<f64>, seen: u64, lang: Lang) -> String {
    match rate {
        Some(r) => {
            let paid = (r * seen as f64).round() as u64;
            let pct = format!("{:.0}", r * 100.0);
            match lang {
                Lang::Fr => format!("{pct} % ({paid} / {seen})"),
                Lang::En => format!("{pct}% ({paid} / {seen})"),
            }
        }
        None => "—".into(),
    }
}

fn days(value: Option<f64>, lang: Lang) -> String {
    match value {
        Some(d) => {
            let text = format!("{d:.1}");
            if lang == Lang::Fr {
                text.replace('.', ",")
            } else {
                text
            }
        }
        None => "—".into(),
    }
}

fn difference(d: Option<Difference>, scale: f64, unit: &str, lang: Lang) -> String {
    match d {
        Some(d) => {
            let text = format!(
                "{:+.1}{unit} [{:+.1} ; {:+.1}]",
                d.estimate * scale,
                d.low * scale,
                d.high * scale
            );
            if lang == Lang::Fr {
                text.replace('.', ",")
            } else {
                text.replace(" ; ", ", ")
            }
        }
        None => "—".into(),
    }
}

/// One experiment of the policy, as the page shows it.
#[derive(Serialize)]
struct ExperimentView {
    name: String,
    step: String,
    arms: Vec<ArmView>,
    rate_difference: String,
    days_difference: String,
    confidence: String,
    verdict: String,
    /// `winner_a`, `winner_b`, `not_enough_data` or `no_clear_difference`.
    verdict_kind: String,
}

#[derive(Serialize)]
struct ArmView {
    variant: String,
    cases: u64,
    rate: String,
    rate_raw: Option<f64>,
    mean_days: String,
    median_days: String,
}

fn experiment_view(
    name: &str,
    step: &str,
    report: &ExperimentReport,
    lang: Lang,
) -> ExperimentView {
    let unit_days = if lang == Lang::Fr { " j" } else { " d" };
    ExperimentView {
        name: name.to_string(),
        step: step.to_string(),
        arms: [&report.a, &report.b]
            .into_iter()
            .map(|a| ArmView {
                variant: a.variant.as_str().to_string(),
                cases: a.cases,
                rate: share(a.rate, a.seen, lang),
                rate_raw: a.rate,
                mean_days: days(a.mean_days, lang),
                median_days: days(a.median_days, lang),
            })
            .collect(),
        rate_difference: difference(report.rate_difference, 100.0, " pts", lang),
        days_difference: difference(report.days_difference, 1.0, unit_days, lang),
        confidence: format!("{}", report.confidence),
        verdict: report.verdict_text(lang.code()),
        verdict_kind: match report.verdict {
            relance_core::experiment::Verdict::NotEnoughData { .. } => "not_enough_data".into(),
            relance_core::experiment::Verdict::NoClearDifference => "no_clear_difference".into(),
            relance_core::experiment::Verdict::Winner { winner, .. } => {
                format!("winner_{}", winner.as_str().to_lowercase())
            }
        },
    }
}

/// `GET /c/{creditor}/what-works?as_of=&policy=`.
pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path(creditor): Path<i64>,
    Query(q): Query<ViewQuery>,
    uri: axum::http::Uri,
) -> Result<Response, WebError> {
    let creditor = access(state.store(), &session.user, creditor).await?;
    let lang = Lang::of(&headers);
    let as_of = q.day(&creditor, lang)?;
    let cid = creditor.id.0;
    let stats = steps(&state, &creditor, as_of).await?;
    let step_rows: Vec<minijinja::Value> = stats
        .iter()
        .map(|s| {
            minijinja::context! {
                step => s.step, cases => s.cases,
                within_7 => share(s.paid_within_7, s.seen_7, lang),
                within_14 => share(s.paid_within_14, s.seen_14, lang),
                paid => s.paid, median => days(s.median_days_to_payment, lang),
            }
        })
        .collect();
    // The policies that run an experiment, and the one shown (the asked one, else the first).
    let policies = state.store().policies(creditor.id).await?;
    let with_experiments: Vec<(String, String)> = policies
        .iter()
        .filter(|p| p.steps.iter().any(|s| s.experiment.is_some()))
        .map(|p| (p.id.clone(), p.name.clone()))
        .collect();
    let wanted = q.policy.trim();
    let policy = if wanted.is_empty() {
        policies
            .iter()
            .find(|p| p.steps.iter().any(|s| s.experiment.is_some()))
    } else {
        Some(
            policies
                .iter()
                .find(|p| p.id == wanted)
                .ok_or(WebError::NotFound)?,
        )
    };
    let mut experiments = Vec::new();
    if let Some(policy) = policy {
        for step in &policy.steps {
            let Some(e) = &step.experiment else { continue };
            let outcomes = state
                .store()
                .experiment_outcomes(creditor.id, &e.name, as_of)
                .await?;
            let report = compare(&outcomes, as_of);
            experiments.push(experiment_view(&e.name, &step.id, &report, lang));
        }
    }
    let chrome = chrome(&state, &session, Some(&creditor), path_of(&uri)).await?;
    Ok(Html(render(
        &state,
        "works.html",
        lang,
        minijinja::context! {
            chrome, cid, active => "reports", as_of => as_of.to_string(), steps => step_rows,
            policies => with_experiments,
            policy => policy.map(|p| minijinja::context! { id => p.id, name => p.name }),
            experiments,
            download => format!("/c/{cid}/reports"), qs => format!("as_of={as_of}"),
        },
    )?)
    .into_response())
}

/// The steps' figures as a download (`/c/{creditor}/reports/steps.csv`).
pub async fn table(
    state: &AppState,
    creditor: &CreditorRecord,
    as_of: NaiveDate,
) -> Result<(String, Table), WebError> {
    let stats = steps(state, creditor, as_of).await?;
    let pct = |share: Option<f64>| share.map(|s| format!("{s:.4}")).unwrap_or_default();
    let headers = vec![
        "step",
        "cases",
        "seen_7_days",
        "paid_within_7_days",
        "seen_14_days",
        "paid_within_14_days",
        "paid",
        "median_days_to_payment",
    ];
    let rows = stats
        .iter()
        .map(|s| {
            vec![
                s.step.clone(),
                s.cases.to_string(),
                s.seen_7.to_string(),
                pct(s.paid_within_7),
                s.seen_14.to_string(),
                pct(s.paid_within_14),
                s.paid.to_string(),
                s.median_days_to_payment
                    .map(|m| format!("{m:.1}"))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    Ok((
        format!("Steps {as_of}"),
        Table::new(headers, rows, &stats).map_err(internal)?,
    ))
}
