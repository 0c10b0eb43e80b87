//! Payer risk (`/c/{creditor}/risk`): the aged balance split by payer grade (A pays on time,
//! E is the riskiest; `relance_core::scoring`), drawn as one stacked bar per grade, and the
//! payer scores (`relance report scores`) riskiest first, a page at a time. The customer page
//! shows its own grade and why from the same scores.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use chrono::NaiveDate;
use relance_core::money::{Currency, Money};
use relance_core::scoring::Grade;
use relance_dispatch::tables::Table;
use relance_store::creditors::CreditorRecord;
use rust_decimal::Decimal;
use serde::Serialize;

use super::{internal, payers, scale, Payers, ViewQuery};
use crate::auth::Session;
use crate::error::WebError;
use crate::i18n::Lang;
use crate::pages::{chrome, path_of, render};
use crate::{access, AppState};

/// Payers per page of the scores list.
pub const PAGE: usize = 50;

/// Chart box: a bar per grade, x 60–470.
const LEFT: i64 = 60;
const WIDTH: i64 = 410;
const ROW: i64 = 28;

/// The label of a customer with nothing to score (no payment, nothing open: credits only).
pub const UNGRADED: &str = "-";

/// One grade's aged balance in one currency (major units).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GradeAging {
    pub currency: String,
    /// `A`…`E`, or [`UNGRADED`].
    pub grade: String,
    pub customers: usize,
    pub buckets: [Decimal; 5],
    pub total: Decimal,
}

/// Sums each customer's aged balance into its grade, per currency (grades A–E, then the
/// ungraded), from the store's per-customer aged balance.
pub fn by_grade(payers: &Payers, aging: &[relance_store::cash::CustomerAging]) -> Vec<GradeAging> {
    let grade_of: HashMap<i64, Grade> = payers
        .customers
        .iter()
        .zip(&payers.scores)
        .filter_map(|(c, s)| s.as_ref().map(|s| (c.id, s.grade)))
        .collect();
    // (currency, grade index: 0–4 for A–E, 5 ungraded) → customers, buckets in minor units.
    let mut sums: BTreeMap<(String, usize), (usize, [i64; 5])> = BTreeMap::new();
    for line in aging {
        let slot = grade_of
            .get(&line.customer_id)
            .and_then(|g| Grade::ALL.iter().position(|x| x == g))
            .unwrap_or(5);
        let e = sums
            .entry((line.currency.code().to_string(), slot))
            .or_insert((0, [0; 5]));
        e.0 += 1;
        for (sum, b) in e.1.iter_mut().zip(line.buckets) {
            *sum += b;
        }
    }
    sums.into_iter()
        .filter_map(|((code, slot), (customers, minor))| {
            let currency = Currency::parse(&code).ok()?;
            let buckets = minor.map(|m| Money::from_minor(m, currency).amount);
            Some(GradeAging {
                currency: code,
                grade: Grade::ALL
                    .get(slot)
                    .map_or(UNGRADED.to_string(), |g| g.to_string()),
                customers,
                total: buckets.iter().sum(),
                buckets,
            })
        })
        .collect()
}

/// A segment of a grade's bar.
#[derive(Debug, Serialize)]
struct Segment {
    bucket: usize,
    x: i64,
    width: i64,
    value: String,
}

/// A grade's row of the chart and the table.
#[derive(Debug, Serialize)]
struct GradeRow {
    grade: String,
    customers: usize,
    y: i64,
    segments: Vec<Segment>,
    buckets: Vec<String>,
    total: String,
    total_raw: String,
}

/// One currency's chart and table.
#[derive(Debug, Serialize)]
struct GradeChart {
    currency: String,
    rows: Vec<GradeRow>,
    height: i64,
}

fn charts(lines: &[GradeAging], lang: Lang) -> Vec<GradeChart> {
    let mut codes: Vec<&str> = lines.iter().map(|l| l.currency.as_str()).collect();
    codes.dedup();
    codes
        .into_iter()
        .filter_map(|code| {
            let currency = Currency::parse(code).ok()?;
            let mine: Vec<&GradeAging> = lines.iter().filter(|l| l.currency == code).collect();
            // Credits (negative cells) draw nothing: the bars show what is owed.
            let positive = |l: &GradeAging| -> Decimal {
                l.buckets.iter().map(|b| (*b).max(Decimal::ZERO)).sum()
            };
            let max = mine.iter().map(|l| positive(l)).max().unwrap_or_default();
            let rows = mine
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let mut x = LEFT;
                    let segments = l
                        .buckets
                        .iter()
                        .enumerate()
                        .filter(|(_, b)| **b > Decimal::ZERO)
                        .map(|(bucket, b)| {
                            let width = scale(*b, max, WIDTH);
                            let s = Segment {
                                bucket,
                                x,
                                width,
                                value: lang.money(&Money::new(*b, currency)),
                            };
                            x += width;
                            s
                        })
                        .collect();
                    GradeRow {
                        grade: l.grade.clone(),
                        customers: l.customers,
                        y: 10 + ROW * i as i64,
                        segments,
                        buckets: l
                            .buckets
                            .iter()
                            .map(|b| lang.money(&Money::new(*b, currency)))
                            .collect(),
                        total: lang.money(&Money::new(l.total, currency)),
                        total_raw: l.total.to_string(),
                    }
                })
                .collect::<Vec<_>>();
            Some(GradeChart {
                currency: code.to_string(),
                height: 20 + ROW * rows.len() as i64,
                rows,
            })
        })
        .collect()
}

/// One line of the scores list.
#[derive(Debug, Serialize)]
struct ScoreLine {
    code: String,
    name: String,
    score: u8,
    grade: String,
    explanation: String,
}

/// `GET /c/{creditor}/risk?as_of=&grade=&page=`.
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
    let payers = payers(&state, &creditor, as_of).await?;
    let aging = state.store().aging_by_customer(creditor.id, as_of).await?;
    let graded = charts(&by_grade(&payers, &aging), lang);
    let grade = Grade::parse(&q.grade);
    let page = q.page.unwrap_or(1).max(1) as usize;
    let matching = payers
        .ranked
        .iter()
        .filter(|i| grade.is_none() || payers.scores[**i].as_ref().map(|s| s.grade) == grade);
    let mut shown: Vec<ScoreLine> = matching
        .skip((page - 1) * PAGE)
        .take(PAGE + 1)
        .filter_map(|i| {
            let c = &payers.customers[*i];
            let s = payers.scores[*i].as_ref()?;
            Some(ScoreLine {
                code: c.code.clone(),
                name: c.name.clone(),
                score: s.score,
                grade: s.grade.to_string(),
                explanation: s.explanation(lang.code()).to_string(),
            })
        })
        .collect();
    let more = shown.len() > PAGE;
    shown.truncate(PAGE);
    let base = format!(
        "/c/{cid}/risk?as_of={as_of}{}",
        grade.map(|g| format!("&grade={g}")).unwrap_or_default()
    );
    let chrome = chrome(&state, &session, Some(&creditor), path_of(&uri)).await?;
    Ok(Html(render(
        &state,
        "risk.html",
        lang,
        minijinja::context! {
            chrome, cid, active => "reports", as_of => as_of.to_string(), graded,
            scores => shown, grade => grade.map(|g| g.to_string()).unwrap_or_default(),
            grades => Grade::ALL.iter().map(|g| g.to_string()).collect::<Vec<_>>(),
            scored => payers.ranked.len(),
            previous => (page > 1).then(|| format!("{base}&page={}", page - 1)),
            next => more.then(|| format!("{base}&page={}", page + 1)),
            page,
            download => format!("/c/{cid}/reports"), qs => format!("as_of={as_of}"),
        },
    )?)
    .into_response())
}

/// A customer's score on the customer page: grade, score and why, when the creditor's payers
/// were scored since the ledger last changed (the page never waits for a whole creditor's
/// scoring; the risk page computes it).
pub async fn customer_score(
    state: &AppState,
    creditor: &CreditorRecord,
    customer: i64,
    lang: Lang,
) -> Result<Option<minijinja::Value>, WebError> {
    let today = crate::today_for(creditor);
    let Some(payers) = super::payers_if_kept(state, creditor, today).await? else {
        return Ok(None);
    };
    Ok(payers
        .customers
        .iter()
        .position(|c| c.id == customer)
        .and_then(|i| payers.scores[i].as_ref())
        .map(|s| {
            minijinja::context! {
                score => s.score, grade => s.grade.to_string(),
                explanation => s.explanation(lang.code()),
                as_of => today.to_string(),
            }
        }))
}

/// The downloads: `grades` (the aged balance by grade) and `scores` (every payer's score).
pub async fn table(
    state: &AppState,
    creditor: &CreditorRecord,
    as_of: NaiveDate,
    which: &str,
    lang: Lang,
) -> Result<(String, Table), WebError> {
    let payers = payers(state, creditor, as_of).await?;
    if which == "grades" {
        let aging = state.store().aging_by_customer(creditor.id, as_of).await?;
        let lines = by_grade(&payers, &aging);
        let headers = vec![
            "currency",
            "grade",
            "customers",
            "not_due",
            "1_30",
            "31_60",
            "61_90",
            "over_90",
            "total",
        ];
        let rows = lines
            .iter()
            .map(|l| {
                let mut row = vec![l.currency.clone(), l.grade.clone(), l.customers.to_string()];
                row.extend(l.buckets.iter().map(|b| b.to_string()));
                row.push(l.total.to_string());
                row
            })
            .collect();
        return Ok((
            format!("By grade {as_of}"),
            Table::new(headers, rows, &lines).map_err(internal)?,
        ));
    }
    #[derive(Serialize)]
    struct Line<'a> {
        customer: &'a str,
        customer_name: &'a str,
        score: u8,
        grade: String,
        paid_invoices: u32,
        explanation: &'a str,
    }
    let lines: Vec<Line> = payers
        .ranked
        .iter()
        .filter_map(|i| {
            let c = &payers.customers[*i];
            let s = payers.scores[*i].as_ref()?;
            Some(Line {
                customer: &c.code,
                customer_name: &c.name,
                score: s.score,
                grade: s.grade.to_string(),
                paid_invoices: c.history.paid,
                explanation: s.explanation(lang.code()),
            })
        })
        .collect();
    let headers = vec![
        "customer",
        "customer_name",
        "score",
        "grade",
        "paid_invoices",
        "explanation",
    ];
    let rows = lines
        .iter()
        .map(|l| {
            vec![
                l.customer.to_string(),
                l.customer_name.to_string(),
                l.score.to_string(),
                l.grade.clone(),
                l.paid_invoices.to_string(),
                l.explanation.to_string(),
            ]
        })
        .collect();
    Ok((
        format!("Payer scores {as_of}"),
        Table::new(headers, rows, &lines).map_err(internal)?,
    ))
}
