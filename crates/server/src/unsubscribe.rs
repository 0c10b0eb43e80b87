//! The public unsubscribe route of commercial messages (quotes, prospects, dormant customers):
//! `GET` or `POST /unsubscribe?c=&u=&e=&s=`, a link signed by `relance_dispatch::optout`. A
//! valid, unexpired link records the opt-out at once (an `opted_out` event on the customer's
//! timeline; their planned commercial messages are cancelled) and says so; an altered or
//! expired one is refused with 403 and changes nothing. `POST` serves mail clients' one-click
//! unsubscribe (RFC 8058).

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use chrono::NaiveDate;
use relance_core::ids::CreditorId;
use serde::Deserialize;

use crate::error::WebError;
use crate::i18n::Lang;
use crate::{today_for, AppState};

/// The link's fields.
#[derive(Debug, Deserialize)]
pub struct UnsubscribeLink {
    c: i64,
    u: String,
    e: NaiveDate,
    s: String,
}

/// `GET|POST /unsubscribe`: records the opt-out and confirms it.
pub async fn unsubscribe(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(link): Query<UnsubscribeLink>,
) -> Result<Response, WebError> {
    let refused = || WebError::Forbidden("this link is invalid or has expired".into());
    if !relance_dispatch::optout::verify(state.portal_key(), link.c, &link.u, link.e, &link.s) {
        return Err(refused());
    }
    let creditor = state
        .store()
        .creditors()
        .await?
        .into_iter()
        .find(|c| c.id == CreditorId(link.c))
        .ok_or_else(refused)?;
    let today = today_for(&creditor);
    if today > link.e {
        return Err(refused());
    }
    let customer = state
        .store()
        .customer_by_code(creditor.id, &link.u)
        .await?
        .ok_or_else(refused)?;
    let new = state
        .store()
        .opt_out(creditor.id, &customer.code, today, "link")
        .await?;
    tracing::info!(creditor = creditor.id.0, customer = %customer.code, new, "opt-out");
    let lang = if crate::auth::cookie(&headers, "lang").is_some() {
        Lang::of(&headers)
    } else if customer.language.as_str() == "en" {
        Lang::En
    } else {
        Lang::Fr
    };
    let body = crate::pages::render(
        &state,
        "unsubscribe.html",
        lang,
        minijinja::context! { creditor => creditor.name },
    )?;
    Ok(Html(body).into_response())
}
