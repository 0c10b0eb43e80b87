//! The editors of the web application: follow-up policies (`policies`), message templates with
//! a live preview of the e-mail and the PDF letter (`templates`), and the DSO chart of the
//! dashboard (`dso`). The settings page is `crate::settings`.
//!
//! Everyone who may see a creditor may read these pages; only an admin changes policies,
//! templates and settings. Saving goes through the same checks as the command line
//! (`relance policy import`, `relance template set`), so the web never stores what the CLI
//! would refuse.

pub mod dso;
pub mod multipart;
pub mod policies;
pub mod strings;
pub mod templates;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::auth::Session;
use crate::error::WebError;
use crate::i18n::{strings as page_strings, Lang};
use crate::AppState;

/// The page templates of the editors and the settings page, registered with the others.
const TEMPLATES: &[(&str, &str)] = &[
    ("policies.html", include_str!("../templates/policies.html")),
    ("policy.html", include_str!("../templates/policy.html")),
    (
        "templates.html",
        include_str!("../templates/templates.html"),
    ),
    (
        "template_edit.html",
        include_str!("../templates/template_edit.html"),
    ),
    (
        "template_preview.html",
        include_str!("../templates/template_preview.html"),
    ),
    ("settings.html", include_str!("../templates/settings.html")),
    ("dso.html", include_str!("../templates/dso.html")),
];

/// Adds the editors' templates to the pages' environment.
pub fn add_templates(env: &mut minijinja::Environment<'static>) -> Result<(), WebError> {
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    Ok(())
}

/// Renders one of the editors' pages: the pages' strings as `t`, the editors' as `e`.
pub(crate) fn page(
    state: &AppState,
    name: &str,
    lang: Lang,
    status: StatusCode,
    ctx: minijinja::Value,
) -> Result<Response, WebError> {
    let template = state.templates().get_template(name)?;
    let body = template.render(minijinja::context! {
        t => page_strings(lang),
        e => strings::strings(lang),
        lang => lang.code(),
        ..ctx
    })?;
    Ok((status, Html(body)).into_response())
}

/// Editing is for admins: collectors and viewers read only.
pub(crate) fn require_admin(session: &Session) -> Result<(), WebError> {
    if session.user.role == relance_store::users::Role::Admin {
        Ok(())
    } else {
        Err(WebError::Forbidden("only an admin may change this".into()))
    }
}

/// A download: the bytes with their type and file name.
pub(crate) fn download(bytes: Vec<u8>, content_type: &str, file_name: &str) -> Response {
    use axum::http::header;
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}
