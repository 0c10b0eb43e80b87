//! The imports page (`/c/{creditor}/imports`): upload an invoice or payment file, imported by
//! `relance_dispatch::imports` — the code behind `relance import` — so it is all or nothing: on
//! any error the page lists every positioned problem (`file:line: column "x": …`) and nothing
//! is stored; otherwise it says what was written. Below, the creditor's latest imports.

use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use relance_core::money::{Currency, Money};
use relance_dispatch::imports::{error_count, import_invoices, import_payments, Input};
use relance_formats::{Problem, Severity};

use crate::auth::Session;
use crate::error::WebError;
use crate::i18n::{refusal, Lang};
use crate::pages::{chrome, path_of, render};
use crate::work::writer_context;
use crate::{access, today_for, AppState};

/// The largest upload accepted (the request's body, file and fields together). A year of
/// invoices of a mid-sized company is a few megabytes of CSV; larger files go through
/// `relance import`.
pub const MAX_UPLOAD: usize = 64 * 1024 * 1024;
/// Problems shown at most (the count says how many there were).
const SHOWN_PROBLEMS: usize = 1000;
/// Payment terms (days) for FEC entries without a due date, as `relance import` by default.
const DEFAULT_TERM: i64 = 30;

/// What the page says after an upload.
#[derive(Debug, Default, serde::Serialize)]
struct Report {
    file: String,
    refused: bool,
    errors: usize,
    problems: Vec<String>,
    more: usize,
    /// What was written, one sentence (in the user's language).
    summary: Option<String>,
    lines: Vec<String>,
}

/// `GET /c/{creditor}/imports`.
pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path(creditor): Path<i64>,
    uri: axum::http::Uri,
) -> Result<Response, WebError> {
    let creditor = access(state.store(), &session.user, creditor).await?;
    show(
        &state,
        &headers,
        &session,
        &creditor,
        &uri,
        None,
        StatusCode::OK,
    )
    .await
}

async fn show(
    state: &AppState,
    headers: &HeaderMap,
    session: &Session,
    creditor: &relance_store::creditors::CreditorRecord,
    uri: &axum::http::Uri,
    report: Option<Report>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let lang = Lang::of(headers);
    let recent = state.store().recent_imports(creditor.id, 20).await?;
    let chrome = chrome(state, session, Some(creditor), path_of(uri)).await?;
    let body = render(
        state,
        "imports.html",
        lang,
        minijinja::context! {
            chrome, cid => creditor.id.0, recent, report, active => "imports",
            max_mb => MAX_UPLOAD / (1024 * 1024),
        },
    )?;
    Ok((status, Html(body)).into_response())
}

/// `POST /c/{creditor}/imports` (multipart: `csrf`, `kind` = invoices|payments, `file`).
pub async fn upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path(creditor): Path<i64>,
    uri: axum::http::Uri,
    mut multipart: Multipart,
) -> Result<Response, WebError> {
    // Whose data it is before anything is read.
    access(state.store(), &session.user, creditor).await?;
    let mut csrf = String::new();
    let mut kind = String::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    let lang = Lang::of(&headers);
    let bad_upload = |e| bad_upload(e, lang);
    while let Some(field) = multipart.next_field().await.map_err(bad_upload)? {
        let field_name = field.name().unwrap_or("").to_string();
        match field_name.as_str() {
            "csrf" => csrf = field.text().await.map_err(bad_upload)?,
            "kind" => kind = field.text().await.map_err(bad_upload)?,
            "file" => {
                let name = file_name(field.file_name());
                let bytes = field.bytes().await.map_err(bad_upload)?;
                file = Some((name, bytes.to_vec()));
            }
            _ => {}
        }
    }
    let creditor = writer_context(&state, &session, creditor, &csrf).await?;
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return Err(WebError::BadRequest(refusal(lang, "choose_a_file", &[])));
    };
    let today = today_for(&creditor);
    let input = Input::Bytes {
        name: name.clone(),
        bytes,
    };
    let mut report = Report {
        file: name,
        ..Report::default()
    };
    let store = state.store();
    let outcome = match kind.as_str() {
        "invoices" => import_invoices(
            store,
            creditor.id,
            vec![input],
            None,
            DEFAULT_TERM,
            today,
            &|_| {},
        )
        .await
        .map_err(internal)?
        .map(|(summary, warnings)| {
            let sentence = match lang {
                Lang::Fr => format!(
                    "{} lignes : {} nouvelles, {} modifiées, {} inchangées ; {} nouveaux clients, {} modifiés",
                    summary.rows, summary.created, summary.updated, summary.unchanged,
                    summary.customers_created, summary.customers_updated
                ),
                Lang::En => format!(
                    "{} rows: {} new, {} updated, {} unchanged; {} new customers, {} updated",
                    summary.rows, summary.created, summary.updated, summary.unchanged,
                    summary.customers_created, summary.customers_updated
                ),
            };
            report.lines = summary.changes.iter().take(50).cloned().collect();
            (sentence, warnings)
        }),
        "payments" => {
            let (outcome, _statement) = import_payments(store, creditor.id, input, None, today)
                .await
                .map_err(internal)?;
            outcome.map(|(summary, warnings)| {
                let eur = |minor| Money::from_minor(minor, Currency::EUR);
                let sentence = match lang {
                    Lang::Fr => format!(
                        "{} lignes : {} nouveaux paiements, {} déjà importés ; {} lettré, {} gardé en avoir ; {} rapprochement(s) automatique(s), {} à rapprocher",
                        summary.rows, summary.created, summary.duplicates,
                        lang.money(&eur(summary.allocated_minor)), lang.money(&eur(summary.unallocated_minor)),
                        summary.matched_automatically, summary.to_reconcile
                    ),
                    Lang::En => format!(
                        "{} rows: {} new payments, {} already imported; {} allocated, {} kept as credit; {} matched automatically, {} to reconcile",
                        summary.rows, summary.created, summary.duplicates,
                        lang.money(&eur(summary.allocated_minor)), lang.money(&eur(summary.unallocated_minor)),
                        summary.matched_automatically, summary.to_reconcile
                    ),
                };
                report.lines = summary.lines.iter().take(50).cloned().collect();
                (sentence, warnings)
            })
        }
        other => {
            return Err(WebError::BadRequest(refusal(lang, "not_a_kind", &[other])))
        }
    };
    let status = match outcome {
        Ok((sentence, warnings)) => {
            tracing::info!(creditor = %creditor.name, file = %report.file, user = %session.user.email, "imported from the web");
            report.summary = Some(sentence);
            set_problems(&mut report, &warnings);
            crate::dashboard::warm(&state, creditor.id);
            StatusCode::OK
        }
        Err(problems) => {
            report.refused = true;
            report.errors = error_count(&problems);
            set_problems(&mut report, &problems);
            StatusCode::UNPROCESSABLE_ENTITY
        }
    };
    show(
        &state,
        &headers,
        &session,
        &creditor,
        &uri,
        Some(report),
        status,
    )
    .await
}

fn set_problems(report: &mut Report, problems: &[Problem]) {
    // Errors first: they are why the file was refused.
    let mut sorted: Vec<&Problem> = problems.iter().collect();
    sorted.sort_by_key(|p| p.severity != Severity::Error);
    report.problems = sorted
        .iter()
        .take(SHOWN_PROBLEMS)
        .map(|p| p.to_string())
        .collect();
    report.more = problems.len().saturating_sub(SHOWN_PROBLEMS);
}

/// The uploaded file's name without any folder, printable, at most 120 characters (it names
/// the import and its problems).
fn file_name(sent: Option<&str>) -> String {
    let base = sent
        .unwrap_or("upload")
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("upload");
    let clean: String = base.chars().filter(|c| !c.is_control()).take(120).collect();
    if clean.trim().is_empty() {
        "upload".into()
    } else {
        clean
    }
}

fn bad_upload(e: axum::extract::multipart::MultipartError, lang: Lang) -> WebError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return WebError::BadRequest(refusal(
            lang,
            "file_too_large",
            &[&(MAX_UPLOAD / (1024 * 1024)).to_string()],
        ));
    }
    WebError::BadRequest(refusal(lang, "bad_upload", &[&e.to_string()]))
}

fn internal(e: anyhow::Error) -> WebError {
    WebError::Internal(format!("import: {e:#}"))
}

#[cfg(test)]
mod tests {
    use super::file_name;

    #[test]
    fn file_names_lose_their_folders() {
        assert_eq!(file_name(Some("C:\\data\\jan.csv")), "jan.csv");
        assert_eq!(file_name(Some("../../etc/passwd")), "passwd");
        assert_eq!(file_name(Some("a\nb.csv")), "ab.csv");
        assert_eq!(file_name(None), "upload");
        assert_eq!(file_name(Some("")), "upload");
    }
}
