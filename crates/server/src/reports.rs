//! The reports page (`/c/{creditor}/reports`): the aged balance per customer (paged, with the
//! totals per currency), the DSO month by month (`relance report dso`: the store's monthly
//! flows, the core's count-back), and the actions of a period per step and channel. Each
//! downloads as CSV or XLSX (`/c/{creditor}/reports/aging.xlsx`…) through the tables of
//! `relance export`, so a figure is the same on the page, in the file and on the command line.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{Html, IntoResponse, Response};
use chrono::{Days, NaiveDate};
use relance_core::dso;
use relance_core::money::{Currency, Money};
use relance_dispatch::tables::{aging_table, AgingTable, Table};
use relance_store::cash::{major, months_of};
use relance_store::creditors::CreditorRecord;
use relance_store::Store;
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::auth::Session;
use crate::error::WebError;
use crate::i18n::{refusal, Lang};
use crate::pages::{chrome, parse_day, path_of, render};
use crate::{access, today_for, AppState};

/// Customers per page of the aged balance.
const PAGE: u32 = 50;
/// Months of DSO shown.
const DSO_MONTHS: usize = 12;
/// The default period of the actions: the last 30 days.
const PERIOD_DAYS: u64 = 30;

#[derive(Debug, Deserialize, Default)]
pub struct ReportsQuery {
    #[serde(default)]
    as_of: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    /// The aged balance's cursor: the last customer code of the previous page.
    #[serde(default)]
    after: Option<String>,
}

/// The days a request asks about, checked.
struct Days3 {
    as_of: NaiveDate,
    from: NaiveDate,
    to: NaiveDate,
}

impl ReportsQuery {
    fn days(&self, today: NaiveDate, lang: Lang) -> Result<Days3, WebError> {
        let day = |text: &str, field: &str, default: NaiveDate| match text.trim() {
            "" => Ok(default),
            d => parse_day(d, field, lang),
        };
        let as_of = day(&self.as_of, "as_of", today)?;
        let to = day(&self.to, "to", today)?;
        let from = day(
            &self.from,
            "from",
            to.checked_sub_days(Days::new(PERIOD_DAYS)).unwrap_or(to),
        )?;
        if from > to {
            return Err(WebError::BadRequest(refusal(
                lang,
                "from_after_to",
                &[&from.to_string(), &to.to_string()],
            )));
        }
        Ok(Days3 { as_of, from, to })
    }

    /// The query string that gives the same days.
    fn query_string(days: &Days3) -> String {
        format!("as_of={}&from={}&to={}", days.as_of, days.from, days.to)
    }
}

/// `GET /c/{creditor}/reports?as_of=&from=&to=&page=`.
pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path(creditor): Path<i64>,
    Query(q): Query<ReportsQuery>,
    uri: axum::http::Uri,
) -> Result<Response, WebError> {
    let creditor = access(state.store(), &session.user, creditor).await?;
    let lang = Lang::of(&headers);
    let days = q.days(today_for(&creditor), lang)?;
    let store = state.store();
    let cid = creditor.id.0;
    // One page of customers in SQL (keyset on the code), and the totals of the whole creditor
    // (the dashboard's cached figures when the day is today).
    let after = q.after.as_deref().filter(|a| !a.is_empty());
    let aging = store
        .aging_page(creditor.id, days.as_of, after, PAGE)
        .await?;
    let shown: Vec<Vec<String>> = aging
        .lines
        .iter()
        .map(|l| {
            let mut row = vec![
                l.customer.clone(),
                l.customer_name.clone(),
                l.currency.clone(),
            ];
            row.extend(l.buckets.iter().map(|b| b.to_string()));
            row.push(l.total().to_string());
            money_cells(&row, lang)
        })
        .collect();
    let all_totals = if days.as_of == today_for(&creditor) {
        state
            .aging_cache()
            .totals(store, creditor.id, days.as_of)
            .await?
    } else {
        store.aging_totals(creditor.id, days.as_of).await?
    };
    let totals: Vec<Vec<String>> = all_totals
        .iter()
        .map(|t| {
            let code = t.currency.code();
            let mut row = vec![code.to_string()];
            row.extend(
                t.buckets
                    .iter()
                    .chain(std::iter::once(&t.total()))
                    .map(|m| lang.money(&Money::from_minor(*m, t.currency))),
            );
            row
        })
        .collect();
    let dso_lines = dso_table(store, &creditor, days.as_of)
        .await
        .map_err(internal)?;
    let actions = store.action_counts(creditor.id, days.from, days.to).await?;
    let qs = ReportsQuery::query_string(&days);
    let next = aging.next.as_ref().map(|code| {
        format!(
            "/c/{cid}/reports?{qs}&after={}",
            crate::pages::url_encode(code)
        )
    });
    let chrome = chrome(&state, &session, Some(&creditor), path_of(&uri)).await?;
    Ok(Html(render(
        &state,
        "reports.html",
        lang,
        minijinja::context! {
            chrome, cid, active => "reports",
            as_of => days.as_of.to_string(), from => days.from.to_string(), to => days.to.to_string(),
            aging_rows => shown, aging_totals => totals,
            first => after.map(|_| format!("/c/{cid}/reports?{qs}")), next,
            dso => dso_lines.rows, actions,
            download => format!("/c/{cid}/reports"), qs,
        },
    )?)
    .into_response())
}

/// Amount cells of an aged-balance row (`code, name, currency, buckets…, total`) in the
/// user's format.
fn money_cells(row: &[String], lang: Lang) -> Vec<String> {
    let currency = row.get(2).cloned().unwrap_or_default();
    row.iter()
        .enumerate()
        .map(|(i, cell)| {
            if i < 3 {
                cell.clone()
            } else {
                cell.parse::<Decimal>()
                    .map(|d| amount(d, &currency, lang))
                    .unwrap_or_else(|_| cell.clone())
            }
        })
        .collect()
}

fn amount(value: Decimal, currency: &str, lang: Lang) -> String {
    match Currency::parse(currency) {
        Ok(c) => lang.money(&Money::new(value, c)),
        Err(_) => format!("{value} {currency}"),
    }
}

/// The DSO of the last months, per currency, as `relance report dso` prints it.
async fn dso_table(
    store: &Store,
    creditor: &CreditorRecord,
    as_of: NaiveDate,
) -> anyhow::Result<Table> {
    let flows = store.month_flows(creditor.id, as_of).await?;
    let mut currencies: Vec<Currency> = flows.iter().map(|f| f.currency).collect();
    currencies.sort_by_key(|c| c.code().to_string());
    currencies.dedup();
    #[derive(serde::Serialize)]
    struct Line {
        month: String,
        currency: String,
        sales: Decimal,
        receivables: Decimal,
        dso_count_back: Decimal,
        count_back_exhausted: bool,
        dso_simple: Option<Decimal>,
        trend: Option<Decimal>,
    }
    let mut lines = Vec::new();
    for currency in &currencies {
        let months = months_of(flows.iter().filter(|f| f.currency == *currency), as_of);
        for l in dso::monthly(&months, DSO_MONTHS) {
            lines.push(Line {
                month: l.month,
                currency: currency.code().to_string(),
                sales: major(l.sales, *currency),
                receivables: major(l.receivables, *currency),
                dso_count_back: l.count_back,
                count_back_exhausted: l.count_back_exhausted,
                dso_simple: l.simple,
                trend: l.trend,
            });
        }
    }
    let headers = vec![
        "month",
        "currency",
        "sales",
        "receivables",
        "dso_count_back",
        "dso_simple",
        "trend",
    ];
    let rows = lines
        .iter()
        .map(|l| {
            vec![
                l.month.clone(),
                l.currency.clone(),
                l.sales.to_string(),
                l.receivables.to_string(),
                format!(
                    "{}{}",
                    if l.count_back_exhausted { "≥" } else { "" },
                    l.dso_count_back
                ),
                l.dso_simple.map(|d| d.to_string()).unwrap_or_default(),
                l.trend
                    .map(|t| {
                        if t.is_sign_negative() {
                            t.to_string()
                        } else {
                            format!("+{t}")
                        }
                    })
                    .unwrap_or_default(),
            ]
        })
        .collect();
    Table::new(headers, rows, &lines)
}

/// `GET /c/{creditor}/reports/{aging|dso|actions|forecast|grades|scores|steps|suppliers}.{csv|xlsx}?as_of=&from=&to=`.
pub async fn download(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path((creditor, file)): Path<(i64, String)>,
    Query(q): Query<ReportsQuery>,
) -> Result<Response, WebError> {
    let creditor = access(state.store(), &session.user, creditor).await?;
    let (which, extension) = file.rsplit_once('.').ok_or(WebError::NotFound)?;
    if !matches!(extension, "csv" | "xlsx") {
        return Err(WebError::NotFound);
    }
    let days = q.days(today_for(&creditor), Lang::of(&headers))?;
    let store = state.store();
    let (title, table) = match which {
        "aging" => {
            let AgingTable {
                headers,
                rows,
                json,
                totals,
            } = aging_table(store, &creditor, days.as_of, None)
                .await
                .map_err(internal)?;
            let mut table = Table::new(headers, rows, &json).map_err(internal)?;
            table.totals = totals
                .into_iter()
                .map(|(currency, t)| (currency, t.to_vec()))
                .collect();
            (format!("Aged balance {}", days.as_of), table)
        }
        "dso" => (
            format!("DSO {}", days.as_of),
            dso_table(store, &creditor, days.as_of)
                .await
                .map_err(internal)?,
        ),
        "actions" => {
            let counts = store.action_counts(creditor.id, days.from, days.to).await?;
            let rows = counts
                .iter()
                .map(|c| {
                    vec![
                        c.step.clone(),
                        c.channel.clone(),
                        c.sent.to_string(),
                        c.failed.to_string(),
                        c.cancelled.to_string(),
                    ]
                })
                .collect();
            let headers = vec!["step", "channel", "sent", "failed", "cancelled"];
            (
                format!("Actions {} {}", days.from, days.to),
                Table::new(headers, rows, &counts).map_err(internal)?,
            )
        }
        "forecast" => crate::insights::forecast::table(&state, &creditor, days.as_of).await?,
        "grades" | "scores" => {
            crate::insights::risk::table(&state, &creditor, days.as_of, which, Lang::of(&headers))
                .await?
        }
        "steps" => crate::insights::works::table(&state, &creditor, days.as_of).await?,
        "suppliers" => crate::insights::suppliers::table(&state, &creditor, days.as_of).await?,
        _ => return Err(WebError::NotFound),
    };
    let (content_type, bytes) = if extension == "csv" {
        ("text/csv; charset=utf-8", table.csv().map_err(internal)?)
    } else {
        (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            table.xlsx(&title).map_err(internal)?,
        )
    };
    let name = format!("{which}-{}.{extension}", days.as_of);
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

fn internal(e: anyhow::Error) -> WebError {
    WebError::Internal(format!("report: {e:#}"))
}
