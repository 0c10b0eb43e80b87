//! The debtor portal: a page without login, reached by a signed, expiring link, where a customer
//! sees what they owe, how to pay, and promises a date or disputes an invoice.
//!
//! A link carries the creditor, the customer's code and the last day it is valid, signed with
//! HMAC-SHA256 under a key kept in the database (`server_secrets`). Anything altered, or a day
//! past the expiry (in the creditor's time zone), is refused.

use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use chrono::NaiveDate;
use hmac::{Hmac, Mac};
use relance_core::ids::CreditorId;
use relance_store::creditors::CreditorRecord;
use relance_store::customers::CustomerRecord;
use relance_store::Store;
use serde::Deserialize;
use sha2::Sha256;

use crate::auth::{hex, random_hex};
use crate::error::WebError;
use crate::i18n::{refusal, Lang};
use crate::pages::{url_encode, ItemView};
use crate::{today_for, AppState};

type HmacSha256 = Hmac<Sha256>;

/// The portal's signing key, created at first use and shared through the database.
pub async fn portal_key(store: &Store) -> Result<Vec<u8>, WebError> {
    let key = store
        .server_secret("portal_hmac_key", &random_hex(32))
        .await?;
    Ok(key.into_bytes())
}

fn mac(key: &[u8], creditor: i64, customer: &str, expires: NaiveDate) -> Option<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(key).ok()?;
    mac.update(format!("relance-portal\n{creditor}\n{customer}\n{expires}").as_bytes());
    Some(mac)
}

/// The signature of a link (hex).
pub fn sign(key: &[u8], creditor: i64, customer: &str, expires: NaiveDate) -> String {
    mac(key, creditor, customer, expires)
        .map(|m| hex(&m.finalize().into_bytes()))
        .unwrap_or_default()
}

/// Whether `signature` is the one of these fields (compared in constant time).
pub fn verify(
    key: &[u8],
    creditor: i64,
    customer: &str,
    expires: NaiveDate,
    signature: &str,
) -> bool {
    let Some(bytes) = unhex(signature) else {
        return false;
    };
    mac(key, creditor, customer, expires).is_some_and(|m| m.verify_slice(&bytes).is_ok())
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The path and query of a portal link (append it to the server's public address).
pub fn link_path(key: &[u8], creditor: i64, customer: &str, expires: NaiveDate) -> String {
    format!(
        "/portal?c={creditor}&u={}&e={expires}&s={}",
        url_encode(customer),
        sign(key, creditor, customer, expires)
    )
}

/// The link's fields, as the query string or hidden form fields carry them.
#[derive(Debug, Deserialize)]
pub struct LinkFields {
    c: i64,
    u: String,
    e: NaiveDate,
    s: String,
    #[serde(default)]
    done: Option<String>,
}

/// The creditor and customer of a valid link.
async fn open_link(
    state: &AppState,
    link: &LinkFields,
) -> Result<(CreditorRecord, CustomerRecord), WebError> {
    let refused = || WebError::Forbidden("this link is invalid or has expired".into());
    if !verify(state.portal_key(), link.c, &link.u, link.e, &link.s) {
        return Err(refused());
    }
    let creditor = state
        .store()
        .creditors()
        .await?
        .into_iter()
        .find(|c| c.id == CreditorId(link.c))
        .ok_or_else(refused)?;
    if today_for(&creditor) > link.e {
        return Err(refused());
    }
    let customer = state
        .store()
        .customer_by_code(creditor.id, &link.u)
        .await?
        .ok_or_else(refused)?;
    Ok((creditor, customer))
}

fn lang_for(headers: &HeaderMap, customer: &CustomerRecord) -> Lang {
    if crate::auth::cookie(headers, "lang").is_some() {
        return Lang::of(headers);
    }
    match customer.language.as_str() {
        "en" => Lang::En,
        _ => Lang::Fr,
    }
}

/// `GET /portal?c=&u=&e=&s=`: the customer's open invoices, how to pay, and the two forms.
pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(link): Query<LinkFields>,
) -> Result<Response, WebError> {
    let (creditor, customer) = match open_link(&state, &link).await {
        Ok(found) => found,
        Err(WebError::Forbidden(msg)) => return Ok(refused_page(&msg)),
        Err(e) => return Err(e),
    };
    let lang = lang_for(&headers, &customer);
    let items = state
        .store()
        .customer_items(creditor.id, customer.id, false)
        .await?;
    let items: Vec<ItemView> = items
        .iter()
        .filter(|i| i.kind == "invoice" && i.open.is_positive())
        .map(|i| ItemView::of(i, creditor.id.0, lang))
        .collect();
    let today = today_for(&creditor);
    let body = crate::pages::render(
        &state,
        "portal.html",
        lang,
        minijinja::context! {
            creditor => minijinja::context! {
                name => creditor.name, iban => creditor.iban, bic => creditor.bic,
                email => creditor.email, address => creditor.address,
            },
            customer => minijinja::context! { name => customer.name, code => customer.code },
            items,
            link => minijinja::context! { c => link.c, u => link.u, e => link.e.to_string(), s => link.s },
            done => link.done.is_some(),
            today => today.to_string(),
            expires => link.e.to_string(),
        },
    )?;
    Ok(Html(body).into_response())
}

fn refused_page(message: &str) -> Response {
    (
        StatusCode::FORBIDDEN,
        Html(format!(
            "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>relance</title></head>\
             <body><main><h1>Lien invalide ou expiré / Invalid or expired link</h1><p>{}</p></main></body></html>",
            minijinja::HtmlEscape(message)
        )),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
pub struct PromiseForm {
    c: i64,
    u: String,
    e: NaiveDate,
    s: String,
    invoice: String,
    date: NaiveDate,
}

#[derive(Debug, Deserialize)]
pub struct DisputeForm {
    c: i64,
    u: String,
    e: NaiveDate,
    s: String,
    invoice: String,
    message: String,
}

/// Checks that `invoice` is one of the customer's open invoices.
async fn own_invoice(
    state: &AppState,
    creditor: &CreditorRecord,
    customer: &CustomerRecord,
    invoice: &str,
    lang: Lang,
) -> Result<(), WebError> {
    let items = state
        .store()
        .customer_items(creditor.id, customer.id, false)
        .await?;
    if items
        .iter()
        .any(|i| i.number == invoice && i.kind == "invoice")
    {
        Ok(())
    } else {
        Err(WebError::BadRequest(refusal(
            lang,
            "not_your_open_invoice",
            &[invoice],
        )))
    }
}

fn back_to(link: &LinkFields, key: &[u8]) -> Response {
    let target = format!("{}&done=1", link_path(key, link.c, &link.u, link.e));
    (StatusCode::SEE_OTHER, [(header::LOCATION, target)]).into_response()
}

/// `POST /portal/promise`: the customer promises to pay an invoice by a date; the case pauses.
pub async fn promise(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<PromiseForm>,
) -> Result<Response, WebError> {
    let link = LinkFields {
        c: form.c,
        u: form.u,
        e: form.e,
        s: form.s,
        done: None,
    };
    let (creditor, customer) = open_link(&state, &link).await?;
    let lang = lang_for(&headers, &customer);
    own_invoice(&state, &creditor, &customer, &form.invoice, lang).await?;
    let today = today_for(&creditor);
    if form.date < today {
        return Err(WebError::BadRequest(refusal(
            lang,
            "promise_in_the_past",
            &[],
        )));
    }
    state
        .store()
        .promise_to_pay(creditor.id, &form.invoice, form.date, None, today)
        .await?;
    Ok(back_to(&link, state.portal_key()))
}

/// `POST /portal/dispute`: the customer disputes an invoice with a message.
pub async fn dispute(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<DisputeForm>,
) -> Result<Response, WebError> {
    let link = LinkFields {
        c: form.c,
        u: form.u,
        e: form.e,
        s: form.s,
        done: None,
    };
    let (creditor, customer) = open_link(&state, &link).await?;
    let lang = lang_for(&headers, &customer);
    own_invoice(&state, &creditor, &customer, &form.invoice, lang).await?;
    let message = form.message.trim();
    if message.is_empty() || message.chars().count() > 2000 {
        return Err(WebError::BadRequest(refusal(
            lang,
            "message_length",
            &["2000"],
        )));
    }
    let today = today_for(&creditor);
    state
        .store()
        .open_dispute(
            creditor.id,
            &form.invoice,
            &format!("(portal) {message}"),
            today,
        )
        .await?;
    Ok(back_to(&link, state.portal_key()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_covers_every_field() {
        let key = b"k3y";
        let day = NaiveDate::from_ymd_opt(2026, 12, 31).expect("date");
        let s = sign(key, 1, "C001", day);
        assert!(verify(key, 1, "C001", day, &s));
        assert!(!verify(key, 2, "C001", day, &s));
        assert!(!verify(key, 1, "C002", day, &s));
        assert!(!verify(key, 1, "C001", day.succ_opt().expect("date"), &s));
        assert!(!verify(b"other", 1, "C001", day, &s));
        assert!(!verify(key, 1, "C001", day, "zz"));
    }
}
