//! The suppliers' side (`/c/{creditor}/suppliers`), what `relance report suppliers` prints:
//! the purchase orders not delivered (late first) and the supplier invoices that do not match
//! their order or are not checked yet.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use chrono::NaiveDate;
use relance_core::money::Currency;
use relance_dispatch::tables::Table;
use relance_store::creditors::CreditorRecord;
use relance_store::suppliers::SupplierReportLine;
use rust_decimal::Decimal;

use super::{internal, ViewQuery};
use crate::auth::Session;
use crate::error::WebError;
use crate::i18n::{text, Lang};
use crate::pages::{chrome, path_of, render};
use crate::{access, AppState};

/// A status in the user's language (the code itself when the catalogue has none).
fn status(lang: Lang, code: &str) -> String {
    let key = match code {
        "late" => "sp_status_late",
        "awaited" => "sp_status_awaited",
        "disputed" => "sp_status_disputed",
        "unchecked" => "sp_status_unchecked",
        _ => return code.to_string(),
    };
    text(lang, key).to_string()
}

fn view(l: &SupplierReportLine, lang: Lang) -> minijinja::Value {
    let amount = match (l.amount.parse::<Decimal>(), Currency::parse(&l.currency)) {
        (Ok(a), Ok(c)) => lang.money(&relance_core::money::Money::new(a, c)),
        _ => format!("{} {}", l.amount, l.currency),
    };
    minijinja::context! {
        supplier => l.supplier, name => l.supplier_name, number => l.number, date => l.date,
        amount, amount_raw => l.amount, status_code => l.status, status => status(lang, &l.status),
        days_late => l.days_late, detail => l.detail,
    }
}

/// `GET /c/{creditor}/suppliers?as_of=`.
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
    let lines = state.store().supplier_report(creditor.id, as_of).await?;
    let orders: Vec<minijinja::Value> = lines
        .iter()
        .filter(|l| l.document == "order")
        .map(|l| view(l, lang))
        .collect();
    let invoices: Vec<minijinja::Value> = lines
        .iter()
        .filter(|l| l.document == "invoice")
        .map(|l| view(l, lang))
        .collect();
    let late = lines
        .iter()
        .filter(|l| l.document == "order" && l.days_late > 0)
        .count();
    let chrome = chrome(&state, &session, Some(&creditor), path_of(&uri)).await?;
    Ok(Html(render(
        &state,
        "suppliers.html",
        lang,
        minijinja::context! {
            chrome, cid, active => "suppliers", as_of => as_of.to_string(), orders, invoices, late,
            download => format!("/c/{cid}/reports"), qs => format!("as_of={as_of}"),
        },
    )?)
    .into_response())
}

/// The report as a download (`/c/{creditor}/reports/suppliers.csv`).
pub async fn table(
    state: &AppState,
    creditor: &CreditorRecord,
    as_of: NaiveDate,
) -> Result<(String, Table), WebError> {
    let lines = state.store().supplier_report(creditor.id, as_of).await?;
    let (headers, rows) = relance_dispatch::tables::supplier_rows(&lines);
    Ok((
        format!("Suppliers {as_of}"),
        Table::new(headers, rows, &lines).map_err(internal)?,
    ))
}
