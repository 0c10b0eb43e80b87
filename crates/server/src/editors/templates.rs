//! The template editor: the creditor's message templates per step, channel (part) and
//! language, edited in the page; saving refuses a source that does not render, exactly as
//! `relance template set` does (`Templates::set` on the creditor's set, then
//! `Store::save_template`); the preview renders the unsaved text of the form for a chosen
//! customer (or sample data), as the e-mail (subject, text, HTML) or the PDF letter.
//!
//! The preview is a plain form post into an `<iframe>` (`formtarget`), so it works without
//! script; a few lines of script re-post it as the text changes ("live").

use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use relance_core::party::{CustomerKind, Language};
use relance_core::planner::Channel;
use relance_dispatch::letters::{creditor_info, letter_for, Letterhead};
use relance_dispatch::templates_for;
use relance_render::templates::VARIABLES;
use relance_render::{render_letter_pdf, LetterData, Part, StepId, TemplateKey, Templates};
use relance_store::creditors::CreditorRecord;
use relance_store::templates::TemplateId;
use relance_store::web_queries::{CustomerQuery, CustomerSort};
use serde::Deserialize;

use super::{page, require_admin};
use crate::auth::Session;
use crate::error::WebError;
use crate::i18n::Lang;
use crate::pages::{chrome, path_of, see_other, url_encode};
use crate::{access, today_for, AppState};

fn internal(e: impl std::fmt::Display) -> WebError {
    WebError::Internal(e.to_string())
}

/// The key a path names; 404 for an unknown step, language or part.
fn key_of(step: &str, lang: &str, part: &str) -> Result<TemplateKey, WebError> {
    let step = StepId::parse(step).ok_or(WebError::NotFound)?;
    let language = match lang {
        "fr" => Language::Fr,
        "en" => Language::En,
        _ => return Err(WebError::NotFound),
    };
    let part = Part::parse(part).ok_or(WebError::NotFound)?;
    Ok(TemplateKey::new(step, language, part))
}

fn id_of(key: TemplateKey) -> TemplateId {
    TemplateId {
        step: key.step.as_str().to_string(),
        language: key.language.as_str().to_string(),
        part: key.part.as_str().to_string(),
    }
}

/// Which channels a part feeds: the e-mail's text and HTML parts, the letter's body, or both
/// for the subject and the shared body.
fn channels_of(part: Part) -> &'static [&'static str] {
    match part {
        Part::Text | Part::Html => &["email"],
        Part::Letter => &["letter"],
        Part::Sms => &["sms"],
        Part::Subject | Part::Body => &["email", "letter"],
    }
}

fn url_of(creditor: i64, key: TemplateKey) -> String {
    format!(
        "/c/{creditor}/templates/{}/{}/{}",
        key.step.as_str(),
        key.language.as_str(),
        key.part.as_str()
    )
}

/// `GET /c/{creditor}/templates`: every template by step and language, built-in or which
/// version is in force.
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path(creditor): Path<i64>,
    uri: axum::http::Uri,
) -> Result<Response, WebError> {
    let creditor = access(state.store(), &session.user, creditor).await?;
    let lang = Lang::of(&headers);
    let overrides = state.store().template_overrides(creditor.id).await?;
    let mut groups = Vec::new();
    for step in StepId::ALL {
        for language in [Language::Fr, Language::En] {
            let parts: Vec<_> = Part::ALL
                .into_iter()
                .map(|part| {
                    let key = TemplateKey::new(step, language, part);
                    let id = id_of(key);
                    let stored = overrides.iter().find(|o| o.id == id);
                    minijinja::context! {
                        part => part.as_str(),
                        channels => channels_of(part),
                        url => url_of(creditor.id.0, key),
                        version => stored.map(|o| o.version),
                        updated => stored.map(|o| o.created_at.clone()),
                    }
                })
                .collect();
            groups.push(minijinja::context! {
                step => step.as_str(), language => language.as_str(), parts,
            });
        }
    }
    let chrome = chrome(&state, &session, Some(&creditor), path_of(&uri)).await?;
    page(
        &state,
        "templates.html",
        lang,
        StatusCode::OK,
        minijinja::context! { chrome, groups, cid => creditor.id.0, active => "templates" },
    )
}

#[derive(Debug, Deserialize, Default)]
pub struct EditQuery {
    #[serde(default)]
    customer: Option<String>,
    #[serde(default)]
    saved: Option<String>,
}

/// What the editor page shows around the text.
struct Editor<'a> {
    creditor: &'a CreditorRecord,
    key: TemplateKey,
    source: String,
    customer: String,
    error: Option<String>,
    saved: Option<String>,
}

async fn editor_page(
    state: &AppState,
    session: &Session,
    lang: Lang,
    uri: &axum::http::Uri,
    status: StatusCode,
    ed: Editor<'_>,
) -> Result<Response, WebError> {
    let store = state.store();
    let history: Vec<_> = store
        .template_history(ed.creditor.id, &id_of(ed.key))
        .await?
        .into_iter()
        .rev()
        .take(10)
        .map(|v| {
            minijinja::context! {
                version => v.version, created_at => v.created_at, note => v.note,
                reset => v.source.is_none(),
            }
        })
        .collect();
    // A choice of customers for the preview: the first ones with something overdue.
    let customers: Vec<_> = store
        .customer_page(
            ed.creditor.id,
            &CustomerQuery {
                search: String::new(),
                overdue_only: true,
                sort: CustomerSort::Code,
                descending: false,
                after: None,
                limit: 50,
                as_of: Some(today_for(ed.creditor)),
            },
        )
        .await?
        .rows
        .into_iter()
        .map(|r| minijinja::context! { code => r.code, name => r.name })
        .collect();
    let variables: Vec<_> = VARIABLES
        .iter()
        .map(|(name, what)| minijinja::context! { name => name, what => what })
        .collect();
    let chrome = chrome(state, session, Some(ed.creditor), path_of(uri)).await?;
    let url = url_of(ed.creditor.id.0, ed.key);
    page(
        state,
        "template_edit.html",
        lang,
        status,
        minijinja::context! {
            chrome, cid => ed.creditor.id.0, active => "templates", url,
            step => ed.key.step.as_str(), language => ed.key.language.as_str(),
            part => ed.key.part.as_str(), channels => channels_of(ed.key.part),
            source => ed.source, customer => ed.customer, customers, variables, history,
            error => ed.error, saved => ed.saved,
            is_admin => session.user.role == relance_store::users::Role::Admin,
        },
    )
}

/// `GET /c/{creditor}/templates/{step}/{lang}/{part}`: the source in force, the variables,
/// the preview.
pub async fn edit(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path((creditor, step, language, part)): Path<(i64, String, String, String)>,
    Query(q): Query<EditQuery>,
    uri: axum::http::Uri,
) -> Result<Response, WebError> {
    let creditor = access(state.store(), &session.user, creditor).await?;
    let key = key_of(&step, &language, &part)?;
    let templates = templates_for(state.store(), creditor.id)
        .await
        .map_err(internal)?;
    let ed = Editor {
        creditor: &creditor,
        key,
        source: templates.source(key),
        customer: q.customer.unwrap_or_default(),
        error: None,
        saved: q.saved,
    };
    editor_page(
        &state,
        &session,
        Lang::of(&headers),
        &uri,
        StatusCode::OK,
        ed,
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct SaveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    customer: String,
    /// `reset` goes back to the built-in template.
    #[serde(default)]
    action: String,
}

/// `POST /c/{creditor}/templates/{step}/{lang}/{part}`: saves a new version (admin only), or
/// shows the editor again with the renderer's message and nothing saved.
pub async fn save(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path((creditor, step, language, part)): Path<(i64, String, String, String)>,
    uri: axum::http::Uri,
    Form(form): Form<SaveForm>,
) -> Result<Response, WebError> {
    let creditor = access(state.store(), &session.user, creditor).await?;
    session.check_csrf(&form.csrf)?;
    require_admin(&session)?;
    let key = key_of(&step, &language, &part)?;
    let store = state.store();
    let mut templates = templates_for(store, creditor.id).await.map_err(internal)?;
    let url = url_of(creditor.id.0, key);
    let back = |version: i64| {
        see_other(&format!(
            "{url}?saved={version}&customer={}",
            url_encode(&form.customer)
        ))
    };
    if form.action == "reset" {
        templates.reset(key).map_err(internal)?;
        let version = store
            .save_template(creditor.id, &id_of(key), None, "reset")
            .await?;
        tracing::info!(template = %key.name(), version, user = %session.user.email, "template reset");
        return Ok(back(version));
    }
    // Browsers send CRLF line ends; the stored text keeps the CLI's LF.
    let source = form.source.replace("\r\n", "\n");
    if let Err(e) = templates.set(key, &source) {
        let ed = Editor {
            creditor: &creditor,
            key,
            source,
            customer: form.customer.clone(),
            error: Some(e.to_string()),
            saved: None,
        };
        let lang = Lang::of(&headers);
        return editor_page(
            &state,
            &session,
            lang,
            &uri,
            StatusCode::UNPROCESSABLE_ENTITY,
            ed,
        )
        .await;
    }
    let version = store
        .save_template(creditor.id, &id_of(key), Some(&source), form.note.trim())
        .await?;
    tracing::info!(template = %key.name(), version, user = %session.user.email, "template saved");
    Ok(back(version))
}

#[derive(Debug, Deserialize)]
pub struct PreviewForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    customer: String,
    /// `email` or `letter`.
    #[serde(default)]
    format: String,
}

/// The data a preview renders: the chosen customer's letter of this step on today's date,
/// else sample data (with why), with the creditor's own letterhead either way.
async fn preview_data(
    state: &AppState,
    creditor: &CreditorRecord,
    key: TemplateKey,
    channel: Channel,
    customer: &str,
    lang: Lang,
) -> Result<(LetterData, Option<String>), WebError> {
    let today = today_for(creditor);
    let mut note = None;
    if !customer.trim().is_empty() {
        match letter_for(
            state.store(),
            creditor,
            customer.trim(),
            key.step,
            channel,
            today,
            None,
        )
        .await
        {
            Ok(mut data) => {
                // The language being edited, whatever the customer's.
                data.debtor.language = key.language;
                return Ok((data, None));
            }
            Err(e) => {
                note = Some(match lang {
                    Lang::Fr => format!("{e:#} — aperçu sur des données d'exemple."),
                    Lang::En => format!("{e:#} — preview on sample data."),
                })
            }
        }
    }
    let mut data = LetterData::sample(key.step, CustomerKind::Business, key.language);
    data.channel = channel;
    data.creditor = creditor_info(creditor);
    Letterhead::load(state.store(), creditor)
        .await
        .map_err(internal)?
        .apply(&mut data.creditor);
    Ok((data, note))
}

/// `POST /c/{creditor}/templates/{step}/{lang}/{part}/preview`: renders the form's unsaved
/// source — the e-mail as a page (subject, HTML in a sandboxed frame, text), or the PDF
/// letter. Nothing is saved; any role that may see the creditor may preview.
pub async fn preview(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path((creditor, step, language, part)): Path<(i64, String, String, String)>,
    Form(form): Form<PreviewForm>,
) -> Result<Response, WebError> {
    let creditor = access(state.store(), &session.user, creditor).await?;
    session.check_csrf(&form.csrf)?;
    let key = key_of(&step, &language, &part)?;
    let lang = Lang::of(&headers);
    let (channel, letter, sms) = match form.format.as_str() {
        "letter" => (Channel::Letter, true, false),
        "sms" => (Channel::Sms, false, true),
        "email" | "" => (Channel::Email, false, false),
        other => {
            return Err(WebError::BadRequest(format!(
                "format \"{other}\": email, letter or sms"
            )))
        }
    };
    let mut templates: Templates = templates_for(state.store(), creditor.id)
        .await
        .map_err(internal)?;
    let source = form.source.replace("\r\n", "\n");
    let rendered = match templates.set(key, &source) {
        Err(e) => Err(e.to_string()),
        Ok(()) => {
            let (data, note) =
                preview_data(&state, &creditor, key, channel, &form.customer, lang).await?;
            if letter {
                match render_letter_pdf(&data, &templates) {
                    Ok(pdf) => {
                        return Ok((
                            [
                                (header::CONTENT_TYPE, "application/pdf"),
                                (
                                    header::CONTENT_DISPOSITION,
                                    "inline; filename=\"preview.pdf\"",
                                ),
                                (header::CACHE_CONTROL, "no-store"),
                            ],
                            pdf,
                        )
                            .into_response())
                    }
                    Err(e) => Err(e.to_string()),
                }
            } else if sms {
                templates
                    .render(Part::Sms, &data)
                    .map(|text| {
                        let warning = templates.sms_warning(key);
                        (
                            relance_render::RenderedMessage {
                                subject: String::new(),
                                text,
                                html: String::new(),
                                letter: String::new(),
                            },
                            warning.or(note),
                        )
                    })
                    .map_err(|e| e.to_string())
            } else {
                templates
                    .render_message(&data)
                    .map(|m| (m, note))
                    .map_err(|e| e.to_string())
            }
        }
    };
    let (message, note, error) = match rendered {
        Ok((m, note)) => (Some(m), note, None),
        Err(e) => (None, None, Some(e)),
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let body = state
        .templates()
        .get_template("template_preview.html")?
        .render(minijinja::context! {
            e => super::strings::strings(lang), lang => lang.code(),
            subject => message.as_ref().map(|m| m.subject.clone()),
            text => message.as_ref().map(|m| m.text.clone()),
            html => message.as_ref().map(|m| m.html.clone()),
            note, error,
        })?;
    Ok((status, [(header::CACHE_CONTROL, "no-store")], Html(body)).into_response())
}
