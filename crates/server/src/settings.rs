//! The settings page `/c/{creditor}/settings`: the creditor's identity (name, address, SIREN,
//! RCS, VAT number, IBAN/BIC, e-mail, phone, signatory), the logo of the letterhead, the SMTP
//! account (URL, sender, reply-to; the password is write-only), a contractual late-interest
//! rate, the time zone, the Alsace-Moselle calendar and the daily run's time.
//!
//! Everyone who may see the creditor reads the page; only an admin saves it. Each field is
//! checked with the core's own parsers (`Siren`, `Iban`, `EmailAddress`) and every problem is
//! shown beside its field; nothing is saved while one remains. What the letterhead prints is
//! read back by `relance_dispatch::letters::Letterhead`.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::NaiveTime;
use relance_core::money::parse_amount;
use relance_core::party::{EmailAddress, Iban, Siren};
use relance_store::creditors::CreditorRecord;
use relance_store::settings::{CreditorIdentity, Secret, SettingsInput, MAX_LOGO_BYTES};
use relance_store::StoreError;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::auth::Session;
use crate::editors::{multipart, page, require_admin};
use crate::error::WebError;
use crate::i18n::Lang;
use crate::pages::{chrome, path_of, see_other};
use crate::{access, AppState};

/// The form as typed (shown again as sent when refused).
#[derive(Debug, Clone, Default, Serialize)]
struct SettingsForm {
    name: String,
    address: String,
    siren: String,
    rcs: String,
    vat_number: String,
    iban: String,
    bic: String,
    email: String,
    phone: String,
    signatory: String,
    smtp_url: String,
    smtp_from: String,
    smtp_reply_to: String,
    contractual_rate: String,
    time_zone: String,
    alsace_moselle: bool,
    run_at: String,
    has_logo: bool,
    has_smtp_password: bool,
}

fn text(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}

fn opt(value: &str) -> Option<String> {
    let v = value.trim();
    (!v.is_empty()).then(|| v.to_string())
}

/// What the logo's first bytes say it is: only JPEG and PNG are accepted.
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else {
        None
    }
}

impl SettingsForm {
    async fn load(state: &AppState, creditor: &CreditorRecord) -> Result<SettingsForm, WebError> {
        let s = state.store().creditor_settings(creditor.id).await?;
        Ok(SettingsForm {
            name: creditor.name.clone(),
            address: creditor.address.clone(),
            siren: text(&creditor.siren),
            rcs: text(&s.rcs),
            vat_number: text(&s.vat_number),
            iban: text(&creditor.iban),
            bic: text(&creditor.bic),
            email: text(&creditor.email),
            phone: text(&s.phone),
            signatory: text(&s.signatory),
            smtp_url: text(&s.smtp_url),
            smtp_from: text(&s.smtp_from),
            smtp_reply_to: text(&s.smtp_reply_to),
            contractual_rate: text(&s.contractual_rate),
            time_zone: creditor.time_zone.clone(),
            alsace_moselle: creditor.alsace_moselle,
            run_at: text(&s.run_at),
            has_logo: s.logo_type.is_some(),
            has_smtp_password: s.has_smtp_password,
        })
    }

    fn from_fields(fields: &multipart::Fields) -> SettingsForm {
        let t = |name: &str| fields.text(name).trim().to_string();
        SettingsForm {
            name: t("name"),
            address: fields
                .text("address")
                .replace("\r\n", "\n")
                .trim()
                .to_string(),
            siren: t("siren"),
            rcs: t("rcs"),
            vat_number: t("vat_number"),
            iban: t("iban"),
            bic: t("bic"),
            email: t("email"),
            phone: t("phone"),
            signatory: t("signatory"),
            smtp_url: t("smtp_url"),
            smtp_from: t("smtp_from"),
            smtp_reply_to: t("smtp_reply_to"),
            contractual_rate: t("contractual_rate"),
            time_zone: t("time_zone"),
            alsace_moselle: !t("alsace_moselle").is_empty(),
            run_at: t("run_at"),
            has_logo: false,
            has_smtp_password: false,
        }
    }

    /// Checks every field; the problems are keyed by field name, in the page's language.
    fn check(
        &self,
        lang: Lang,
        fields: &multipart::Fields,
    ) -> Result<SettingsInput, BTreeMap<&'static str, String>> {
        let fr = lang == Lang::Fr;
        let mut errors: BTreeMap<&'static str, String> = BTreeMap::new();
        let say = |fr_text: &str, en_text: &str| if fr { fr_text } else { en_text }.to_string();
        if self.name.is_empty() || self.name.chars().count() > 200 {
            errors.insert(
                "name",
                say(
                    "obligatoire (200 caractères au plus)",
                    "required (at most 200 characters)",
                ),
            );
        }
        if self.address.chars().count() > 500 {
            errors.insert(
                "address",
                say("500 caractères au plus", "at most 500 characters"),
            );
        }
        let siren = opt(&self.siren).map(|s| Siren::parse(&s));
        if let Some(Err(e)) = &siren {
            errors.insert("siren", e.to_string());
        }
        let iban = opt(&self.iban).map(|s| Iban::parse(&s));
        if let Some(Err(e)) = &iban {
            errors.insert("iban", e.to_string());
        }
        let bic = opt(&self.bic).map(|b| b.replace(' ', "").to_uppercase());
        if let Some(b) = &bic {
            if !(b.len() == 8 || b.len() == 11) || !b.chars().all(|c| c.is_ascii_alphanumeric()) {
                errors.insert(
                    "bic",
                    if fr {
                        "8 ou 11 lettres et chiffres"
                    } else {
                        "8 or 11 letters and digits"
                    }
                    .to_string(),
                );
            }
        }
        let vat = opt(&self.vat_number).map(|v| v.replace(' ', "").to_uppercase());
        if let Some(v) = &vat {
            let ok = v.len() >= 4
                && v.len() <= 15
                && v[..2].chars().all(|c| c.is_ascii_uppercase())
                && v[2..].chars().all(|c| c.is_ascii_alphanumeric());
            if !ok {
                errors.insert(
                    "vat_number",
                    if fr {
                        "un code pays puis 2 à 13 lettres ou chiffres (FR12345678901)"
                    } else {
                        "a country code then 2 to 13 letters or digits (FR12345678901)"
                    }
                    .to_string(),
                );
            }
        }
        for (field, value) in [
            ("email", &self.email),
            ("smtp_from", &self.smtp_from),
            ("smtp_reply_to", &self.smtp_reply_to),
        ] {
            if let Some(Err(e)) = opt(value).map(|v| EmailAddress::parse(&v)) {
                errors.insert(field, e.to_string());
            }
        }
        let smtp_url = opt(&self.smtp_url);
        if let Some(url) = &smtp_url {
            let rest = url
                .strip_prefix("smtp://")
                .or_else(|| url.strip_prefix("smtps://"));
            match rest {
                None => errors.insert(
                    "smtp_url",
                    if fr {
                        "commence par smtp:// ou smtps://"
                    } else {
                        "starts with smtp:// or smtps://"
                    }
                    .to_string(),
                ),
                // A password in the URL would be shown back on this page.
                Some(r)
                    if r.split('/')
                        .next()
                        .and_then(|authority| authority.rsplit_once('@'))
                        .is_some_and(|(userinfo, _)| userinfo.contains(':')) =>
                {
                    errors.insert(
                        "smtp_url",
                        if fr {
                            "mettez le mot de passe dans son propre champ, pas dans l'URL"
                        } else {
                            "put the password in its own field, not in the URL"
                        }
                        .to_string(),
                    )
                }
                Some(_) => None,
            };
        }
        let rate = opt(&self.contractual_rate).map(|r| parse_amount(&r.replace('%', "")));
        match &rate {
            Some(Ok(r)) if *r < Decimal::ZERO || *r > Decimal::from(100) => {
                errors.insert(
                    "contractual_rate",
                    say("entre 0 et 100 (% par an)", "between 0 and 100 (% a year)"),
                );
            }
            Some(Err(e)) => {
                errors.insert("contractual_rate", e.to_string());
            }
            _ => {}
        }
        if self.time_zone.parse::<chrono_tz::Tz>().is_err() {
            errors.insert(
                "time_zone",
                say(
                    "fuseau horaire inconnu (Europe/Paris, America/Martinique…)",
                    "unknown time zone (Europe/Paris, America/Martinique…)",
                ),
            );
        }
        let run_at = opt(&self.run_at);
        if let Some(r) = &run_at {
            if NaiveTime::parse_from_str(r, "%H:%M").is_err() {
                errors.insert("run_at", say("heure au format HH:MM", "a time as HH:MM"));
            }
        }
        let logo = if !fields.text("remove_logo").is_empty() {
            Secret::Remove
        } else if let Some(file) = fields.file("logo") {
            match image_type(&file.data) {
                _ if file.data.len() > MAX_LOGO_BYTES => {
                    errors.insert(
                        "logo",
                        format!(
                            "{} {} {}",
                            if fr {
                                "fichier trop gros : au plus"
                            } else {
                                "file too large: at most"
                            },
                            MAX_LOGO_BYTES / 1024,
                            if fr { "Kio" } else { "KiB" }
                        ),
                    );
                    Secret::Keep
                }
                // The letterhead reads 8-bit, non-interlaced PNGs only: say so now, not by a
                // letter without its logo.
                Some("image/png") if relance_render::pdf::png::decode(&file.data).is_none() => {
                    errors.insert(
                        "logo",
                        say(
                            "PNG illisible : 8 bits par couleur, non entrelacé, 4096 px au plus",
                            "unreadable PNG: 8 bits per colour, not interlaced, 4096 px at most",
                        ),
                    );
                    Secret::Keep
                }
                Some(kind) => Secret::Set((file.data.clone(), kind.to_string())),
                None => {
                    errors.insert("logo", say("une image PNG ou JPEG", "a PNG or JPEG image"));
                    Secret::Keep
                }
            }
        } else {
            Secret::Keep
        };
        let password = fields.text("smtp_password");
        let smtp_password = if !fields.text("clear_password").is_empty() {
            Secret::Remove
        } else if password.is_empty() {
            Secret::Keep
        } else {
            Secret::Set(password)
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(SettingsInput {
            identity: CreditorIdentity {
                name: self.name.clone(),
                address: self.address.clone(),
                siren: siren.and_then(Result::ok).map(|s| s.as_str().to_string()),
                iban: iban.and_then(Result::ok).map(|s| s.as_str().to_string()),
                bic,
                email: opt(&self.email),
                time_zone: self.time_zone.clone(),
                alsace_moselle: self.alsace_moselle,
            },
            rcs: opt(&self.rcs),
            vat_number: vat,
            phone: opt(&self.phone),
            signatory: opt(&self.signatory),
            logo,
            smtp_url,
            smtp_from: opt(&self.smtp_from),
            smtp_reply_to: opt(&self.smtp_reply_to),
            smtp_password,
            contractual_rate: rate.and_then(Result::ok).map(|r| r.normalize().to_string()),
            run_at,
        })
    }
}

#[allow(clippy::too_many_arguments)]
async fn settings_page(
    state: &AppState,
    session: &Session,
    creditor: &CreditorRecord,
    lang: Lang,
    uri: &axum::http::Uri,
    status: StatusCode,
    form: SettingsForm,
    errors: BTreeMap<&'static str, String>,
    saved: bool,
) -> Result<Response, WebError> {
    let chrome = chrome(state, session, Some(creditor), path_of(uri)).await?;
    page(
        state,
        "settings.html",
        lang,
        status,
        minijinja::context! {
            chrome, cid => creditor.id.0, active => "settings", form, errors, saved,
            max_logo_kib => MAX_LOGO_BYTES / 1024,
            is_admin => session.user.role == relance_store::users::Role::Admin,
        },
    )
}

#[derive(Debug, Deserialize, Default)]
pub struct SettingsQuery {
    #[serde(default)]
    saved: Option<String>,
}

/// `GET /c/{creditor}/settings`.
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path(creditor): Path<i64>,
    Query(q): Query<SettingsQuery>,
    uri: axum::http::Uri,
) -> Result<Response, WebError> {
    let creditor = access(state.store(), &session.user, creditor).await?;
    let form = SettingsForm::load(&state, &creditor).await?;
    let lang = Lang::of(&headers);
    settings_page(
        &state,
        &session,
        &creditor,
        lang,
        &uri,
        StatusCode::OK,
        form,
        BTreeMap::new(),
        q.saved.is_some(),
    )
    .await
}

/// `POST /c/{creditor}/settings` (multipart, for the logo): admin only.
pub async fn save(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path(creditor): Path<i64>,
    uri: axum::http::Uri,
    body: Bytes,
) -> Result<Response, WebError> {
    let creditor = access(state.store(), &session.user, creditor).await?;
    let fields = multipart::parse(&headers, &body)?;
    session.check_csrf(&fields.text("csrf"))?;
    require_admin(&session)?;
    let lang = Lang::of(&headers);
    let mut form = SettingsForm::from_fields(&fields);
    let errors = match form.check(lang, &fields) {
        Ok(input) => match state
            .store()
            .save_creditor_settings(creditor.id, &input)
            .await
        {
            Ok(()) => {
                tracing::info!(creditor = creditor.id.0, user = %session.user.email, "settings saved");
                return Ok(see_other(&format!("/c/{}/settings?saved=1", creditor.id.0)));
            }
            Err(StoreError::Refused(m)) => BTreeMap::from([("name", m)]),
            Err(e) => return Err(e.into()),
        },
        Err(errors) => errors,
    };
    let stored = state.store().creditor_settings(creditor.id).await?;
    form.has_logo = stored.logo_type.is_some();
    form.has_smtp_password = stored.has_smtp_password;
    settings_page(
        &state,
        &session,
        &creditor,
        lang,
        &uri,
        StatusCode::UNPROCESSABLE_ENTITY,
        form,
        errors,
        false,
    )
    .await
}

/// `GET /c/{creditor}/settings/logo`: the stored logo.
pub async fn logo(
    State(state): State<AppState>,
    session: Session,
    Path(creditor): Path<i64>,
) -> Result<Response, WebError> {
    let creditor = access(state.store(), &session.user, creditor).await?;
    let (bytes, kind) = state
        .store()
        .creditor_logo(creditor.id)
        .await?
        .ok_or(WebError::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "private, no-cache".to_string()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_jpeg_and_png_only() {
        assert_eq!(image_type(b"\xFF\xD8\xFF\xE0rest"), Some("image/jpeg"));
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(image_type(b"GIF89a"), None);
        assert_eq!(image_type(b"<svg"), None);
    }
}
