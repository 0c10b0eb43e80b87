//! The work queue (`/c/{creditor}/queue`): what a collector does each morning. Today's messages
//! (due today or earlier, not sent yet) that may still be skipped; the failed and in-doubt ones
//! a person must send again or skip (`relance outbox retry|cancel`); the day's call tasks with
//! their script, the customer's recent history and a form for the outcome, recorded by the same
//! function as `relance call` so it feeds the planner the same way.

use axum::extract::{Form, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use relance_core::calendar::BusinessCalendar;
use relance_core::calls::{within_send_window, CallOutcome};
use relance_dispatch::calls::{call_tasks_with_scripts, record_call_outcome, CallError, CallInput};
use relance_dispatch::{DispatchOptions, SendNow};
use serde::Deserialize;

use crate::auth::Session;
use crate::error::WebError;
use crate::i18n::{refusal, text, Lang};
use crate::pages::{chrome, parse_amount_field, parse_day, path_of, render, url_encode};
use crate::work::{back_to, writer_context};
use crate::{access, today_for, AppState};

/// Messages listed at most (the oldest first: what is late comes first).
const QUEUE_LIMIT: u32 = 500;
/// Timeline entries shown with each call.
const HISTORY: usize = 5;

#[derive(Debug, Deserialize, Default)]
pub struct QueueQuery {
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// `GET /c/{creditor}/queue`.
pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path(creditor): Path<i64>,
    Query(q): Query<QueueQuery>,
    uri: axum::http::Uri,
) -> Result<Response, WebError> {
    let creditor = access(state.store(), &session.user, creditor).await?;
    let lang = Lang::of(&headers);
    let today = today_for(&creditor);
    let store = state.store();
    let cid = creditor.id.0;
    let customer_url = |code: &str| format!("/c/{cid}/customers/{}", url_encode(code));
    let (attention, to_send): (Vec<_>, Vec<_>) = store
        .queue_actions(creditor.id, today, QUEUE_LIMIT)
        .await?
        .into_iter()
        .partition(|a| a.needs_a_person());
    let view = |a: &relance_store::work::QueueAction| {
        minijinja::context! {
            id => a.id, customer => a.customer, customer_name => a.customer_name,
            url => customer_url(&a.customer), step => a.step, channel => a.channel,
            status => a.status, in_doubt => a.in_doubt, due_on => a.due_on,
            amount => lang.money(&a.amount), invoices => a.invoices.join(", "),
            attempts => a.attempts, last_error => a.last_error,
        }
    };
    let to_send: Vec<_> = to_send.iter().map(view).collect();
    let attention: Vec<_> = attention.iter().map(view).collect();
    let tasks = call_tasks_with_scripts(store, &creditor, Some(today), today)
        .await
        .map_err(|e| WebError::Internal(format!("call tasks: {e:#}")))?;
    let mut calls = Vec::with_capacity(tasks.len());
    for v in &tasks {
        let t = &v.task;
        let history: Vec<_> = match store.customer_by_code(creditor.id, &t.customer).await? {
            Some(c) => store
                .customer_timeline(creditor.id, c.id)
                .await?
                .into_iter()
                .rev()
                .take(HISTORY)
                .map(|e| minijinja::context! { occurred_on => e.occurred_on, kind => e.kind, summary => e.summary })
                .collect(),
            None => Vec::new(),
        };
        calls.push(minijinja::context! {
            action_id => t.action_id, customer => t.customer, customer_name => t.customer_name,
            url => customer_url(&t.customer), phones => t.phones, step => t.step, due_on => t.due_on,
            invoices => t.invoices, amount => format!("{} {}", t.amount, t.currency),
            last_call => t.last_call, script => v.script, history,
        });
    }
    let calendar = BusinessCalendar::new(creditor.alsace_moselle);
    let tz: chrono_tz::Tz = creditor
        .time_zone
        .parse()
        .unwrap_or(chrono_tz::Europe::Paris);
    let now = chrono::Utc::now().with_timezone(&tz).naive_local();
    let outside_window = !calls.is_empty() && !within_send_window(now, &calendar);
    let chrome = chrome(&state, &session, Some(&creditor), path_of(&uri)).await?;
    Ok(Html(render(
        &state,
        "queue.html",
        lang,
        minijinja::context! {
            chrome, cid, to_send, attention, calls, active => "queue",
            outside_window,
            outcomes => CallOutcome::ALL.iter().map(|o| o.as_str()).collect::<Vec<_>>(),
            today => today.to_string(), done => q.done, error => q.error,
        },
    )?)
    .into_response())
}

#[derive(Debug, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    why: String,
}

/// Who did it and why, as the timeline records it.
fn note_of(session: &Session, why: &str, lang: Lang) -> Result<String, WebError> {
    let why = why.trim();
    if why.chars().count() > 500 {
        return Err(WebError::BadRequest(refusal(
            lang,
            "why_too_long",
            &["500"],
        )));
    }
    Ok(if why.is_empty() {
        format!("by {}", session.user.email)
    } else {
        format!("{why} (by {})", session.user.email)
    })
}

/// `POST /c/{creditor}/queue/{id}/retry`: a failed or in-doubt message back to the outbox, for
/// the next dispatch (`relance outbox retry`).
pub async fn retry(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path((creditor, id)): Path<(i64, i64)>,
    Form(form): Form<ActionForm>,
) -> Result<Response, WebError> {
    let creditor = writer_context(&state, &session, creditor, &form.csrf).await?;
    let lang = Lang::of(&headers);
    let result = async {
        let note = note_of(&session, &form.why, lang)?;
        Ok(state
            .store()
            .outbox_retry(creditor.id, id, &note, today_for(&creditor))
            .await?)
    }
    .await;
    back_to(&format!("/c/{}/queue", creditor.id.0), result)
}

/// `POST /c/{creditor}/queue/{id}/skip`: cancels a message that has not left, with who and why
/// on the timeline (`relance outbox cancel`).
pub async fn skip(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path((creditor, id)): Path<(i64, i64)>,
    Form(form): Form<ActionForm>,
) -> Result<Response, WebError> {
    let creditor = writer_context(&state, &session, creditor, &form.csrf).await?;
    let lang = Lang::of(&headers);
    let result = async {
        if form.why.trim().is_empty() {
            return Err(WebError::BadRequest(refusal(lang, "why_required", &[])));
        }
        let note = note_of(&session, &form.why, lang)?;
        Ok(state
            .store()
            .outbox_cancel(creditor.id, id, &note, today_for(&creditor))
            .await?)
    }
    .await;
    back_to(&format!("/c/{}/queue", creditor.id.0), result)
}

#[derive(Debug, Deserialize)]
pub struct CallForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    on: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    invoice: String,
    #[serde(default)]
    note: String,
}

/// `POST /c/{creditor}/queue/call/{code}`: records a call's outcome as `relance call` does.
pub async fn call(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path((creditor, code)): Path<(i64, String)>,
    Form(form): Form<CallForm>,
) -> Result<Response, WebError> {
    let creditor = writer_context(&state, &session, creditor, &form.csrf).await?;
    let lang = Lang::of(&headers);
    let customer = state
        .store()
        .customer_by_code(creditor.id, &code)
        .await?
        .ok_or(WebError::NotFound)?;
    let result = async {
        let invoice = Some(form.invoice.trim().to_string()).filter(|i| !i.is_empty());
        if let Some(number) = &invoice {
            let items = state
                .store()
                .customer_items(creditor.id, customer.id, true)
                .await?;
            if !items
                .iter()
                .any(|i| &i.number == number && i.kind == "invoice")
            {
                return Err(WebError::BadRequest(refusal(
                    lang,
                    "not_an_open_invoice_of_customer",
                    &[number],
                )));
            }
        }
        let outcome = CallOutcome::parse(&form.outcome).ok_or_else(|| {
            WebError::BadRequest(refusal(lang, "not_an_outcome", &[&form.outcome]))
        })?;
        let on = match form.on.trim() {
            "" => None,
            d => Some(parse_day(d, "date", lang)?),
        };
        let amount = parse_amount_field(&form.amount, lang)?;
        let note = form.note.trim();
        if note.chars().count() > 4000 {
            return Err(WebError::BadRequest(refusal(
                lang,
                "note_too_long",
                &["4000"],
            )));
        }
        let input = CallInput {
            customer: code.clone(),
            outcome,
            on,
            amount,
            invoice,
            note: note.to_string(),
            at: today_for(&creditor),
        };
        let done = record_call_outcome(state.store(), &creditor, &input)
            .await
            .map_err(|e| match e {
                CallError::Store(s) => WebError::Store(s),
                other => WebError::BadRequest(other.to_string()),
            })?;
        Ok(match done.consequence {
            Some(c) => format!("{}; {c}", done.record.summary),
            None => done.record.summary,
        })
    }
    .await;
    let result = match result {
        Err(WebError::Store(e @ relance_store::StoreError::UnknownInvoice(_))) => {
            Err(WebError::BadRequest(e.to_string()))
        }
        other => other,
    };
    back_to(&format!("/c/{}/queue", creditor.id.0), result)
}

/// `POST /c/{creditor}/queue/{id}/send`: sends one of today's planned e-mails now, through the
/// dispatcher the scheduler runs (claim → render → last check → send → record), instead of at
/// its next check; the outcome comes back as the page's message. Collectors and admins only.
pub async fn send_now(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path((creditor, id)): Path<(i64, i64)>,
    Form(form): Form<ActionForm>,
) -> Result<Response, WebError> {
    let creditor = writer_context(&state, &session, creditor, &form.csrf).await?;
    let lang = Lang::of(&headers);
    let refused = |key| Err(WebError::BadRequest(text(lang, key).to_string()));
    let internal = |e: anyhow::Error| WebError::Internal(format!("send now: {e:#}"));
    let result = async {
        let Some(mut settings) = state.options().delivery.clone() else {
            return refused("wq_send_off");
        };
        let store = state.store();
        // The creditor's own SMTP account when its settings name one, as the scheduler does.
        if let Some(url) = store.creditor_settings(creditor.id).await?.smtp_url {
            let password = store.smtp_password(creditor.id).await?;
            settings.smtp_url = Some(crate::scheduler::with_password(
                &url,
                password.as_deref(),
            ));
        }
        let mailer = std::sync::Arc::new(relance_dispatch::mailer_for(&settings).map_err(internal)?);
        let mut options =
            DispatchOptions::new(&settings, today_for(&creditor), Some(1)).map_err(internal)?;
        options.worker = format!("{}:web", relance_dispatch::worker_name(0));
        let outcome = relance_dispatch::dispatch_action(store, &creditor, mailer, &options, id)
            .await
            .map_err(internal)?;
        match outcome {
            SendNow::NoSender => refused("wq_send_no_sender"),
            SendNow::NotClaimable => refused("wq_send_not_claimable"),
            SendNow::Done(r) if r.sent > 0 => {
                tracing::info!(creditor = %creditor.name, action = id, by = %session.user.email, "sent now");
                Ok(text(lang, "wq_sent_now").to_string())
            }
            SendNow::Done(r) if r.cancelled > 0 => refused("wq_send_cancelled"),
            SendNow::Done(r) if r.postponed > 0 => refused("wq_send_postponed"),
            SendNow::Done(r) if r.deferred > 0 => refused("wq_send_deferred"),
            SendNow::Done(_) => refused("wq_send_failed"),
        }
    }
    .await;
    back_to(&format!("/c/{}/queue", creditor.id.0), result)
}
