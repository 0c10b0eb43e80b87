//! The creditor's settings as the web settings page edits them (migration
//! `0016_creditor_settings.sql`): the identity kept in `creditors` (name, address, SIREN, bank
//! details, e-mail, time zone, Alsace-Moselle calendar) and, in `creditor_settings`, what the
//! letterhead prints besides (RCS, VAT number, phone, signatory, logo), the SMTP account, a
//! contractual late-interest rate and the local time of the daily run.
//!
//! The SMTP password is write-only for the pages: [`CreditorSettings`] says only whether one
//! is stored, and [`Secret::Keep`] leaves it as it is when a form sends an empty field.

use relance_core::ids::CreditorId;
use sqlx::Row;

use crate::db::now_text;
use crate::error::{Result, StoreError};
use crate::Store;

/// The largest logo accepted (bytes): a letterhead logo needs a few tens of kilobytes.
pub const MAX_LOGO_BYTES: usize = 512 * 1024;

/// What `creditor_settings` holds for a creditor (all empty when the page never saved it).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CreditorSettings {
    pub rcs: Option<String>,
    pub vat_number: Option<String>,
    pub phone: Option<String>,
    pub signatory: Option<String>,
    /// `image/jpeg` or `image/png` when a logo is stored.
    pub logo_type: Option<String>,
    pub smtp_url: Option<String>,
    pub smtp_from: Option<String>,
    pub smtp_reply_to: Option<String>,
    /// Whether a password is stored; the password itself never leaves [`Store::smtp_password`].
    pub has_smtp_password: bool,
    /// Contractual late-interest rate, percent per year, as decimal text ("12.5").
    pub contractual_rate: Option<String>,
    /// Local time of the daily run, `HH:MM`.
    pub run_at: Option<String>,
}

/// The identity columns of `creditors` the page edits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreditorIdentity {
    pub name: String,
    pub address: String,
    pub siren: Option<String>,
    pub iban: Option<String>,
    pub bic: Option<String>,
    pub email: Option<String>,
    pub time_zone: String,
    pub alsace_moselle: bool,
}

/// A write-only value: kept, replaced or removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Secret<T> {
    #[default]
    Keep,
    Set(T),
    Remove,
}

/// What the settings form saves, already checked by the caller (formats, sizes).
#[derive(Debug, Clone, Default)]
pub struct SettingsInput {
    pub identity: CreditorIdentity,
    pub rcs: Option<String>,
    pub vat_number: Option<String>,
    pub phone: Option<String>,
    pub signatory: Option<String>,
    /// Bytes and content type.
    pub logo: Secret<(Vec<u8>, String)>,
    pub smtp_url: Option<String>,
    pub smtp_from: Option<String>,
    pub smtp_reply_to: Option<String>,
    pub smtp_password: Secret<String>,
    pub contractual_rate: Option<String>,
    pub run_at: Option<String>,
}

impl Store {
    /// The creditor's settings; empty ones when none were saved.
    pub async fn creditor_settings(&self, creditor: CreditorId) -> Result<CreditorSettings> {
        let row = sqlx::query(
            "SELECT rcs, vat_number, phone, signatory, logo_type, smtp_url, smtp_from, \
             smtp_reply_to, smtp_password, contractual_rate, run_at \
             FROM creditor_settings WHERE creditor_id = $1",
        )
        .bind(creditor.0)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(CreditorSettings::default());
        };
        let password: Option<String> = row.try_get("smtp_password")?;
        Ok(CreditorSettings {
            rcs: row.try_get("rcs")?,
            vat_number: row.try_get("vat_number")?,
            phone: row.try_get("phone")?,
            signatory: row.try_get("signatory")?,
            logo_type: row.try_get("logo_type")?,
            smtp_url: row.try_get("smtp_url")?,
            smtp_from: row.try_get("smtp_from")?,
            smtp_reply_to: row.try_get("smtp_reply_to")?,
            has_smtp_password: password.is_some_and(|p| !p.is_empty()),
            contractual_rate: row.try_get("contractual_rate")?,
            run_at: row.try_get("run_at")?,
        })
    }

    /// The logo's bytes and content type, if one is stored.
    pub async fn creditor_logo(&self, creditor: CreditorId) -> Result<Option<(Vec<u8>, String)>> {
        let row = sqlx::query(
            "SELECT logo, logo_type FROM creditor_settings WHERE creditor_id = $1 \
             AND logo IS NOT NULL AND logo_type IS NOT NULL",
        )
        .bind(creditor.0)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            None => Ok(None),
            Some(row) => Ok(Some((row.try_get("logo")?, row.try_get("logo_type")?))),
        }
    }

    /// The stored SMTP password, for the code that connects (never for a page).
    pub async fn smtp_password(&self, creditor: CreditorId) -> Result<Option<String>> {
        let value: Option<Option<String>> = sqlx::query_scalar(
            "SELECT smtp_password FROM creditor_settings WHERE creditor_id = $1",
        )
        .bind(creditor.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(value.flatten().filter(|p| !p.is_empty()))
    }

    /// Saves the identity and the settings in one transaction. Refused when another creditor
    /// already has the name (names identify creditors on the command line).
    pub async fn save_creditor_settings(
        &self,
        creditor: CreditorId,
        input: &SettingsInput,
    ) -> Result<()> {
        let id = &input.identity;
        if id.name.trim().is_empty() {
            return Err(StoreError::Refused("the name is required".into()));
        }
        let mut tx = self.pool.begin().await?;
        let clash: Option<i64> =
            sqlx::query_scalar("SELECT id FROM creditors WHERE name = $1 AND id <> $2")
                .bind(&id.name)
                .bind(creditor.0)
                .fetch_optional(&mut *tx)
                .await?;
        if clash.is_some() {
            return Err(StoreError::Refused(format!(
                "another company is already named \"{}\"",
                id.name
            )));
        }
        sqlx::query(
            "UPDATE creditors SET name = $1, address = $2, siren = $3, iban = $4, bic = $5, \
             email = $6, time_zone = $7, alsace_moselle = $8 WHERE id = $9",
        )
        .bind(&id.name)
        .bind(&id.address)
        .bind(&id.siren)
        .bind(&id.iban)
        .bind(&id.bic)
        .bind(&id.email)
        .bind(&id.time_zone)
        .bind(i64::from(id.alsace_moselle))
        .bind(creditor.0)
        .execute(&mut *tx)
        .await?;
        // The row exists from here on, so the write-only fields are plain updates.
        sqlx::query(
            "INSERT INTO creditor_settings (creditor_id, updated_at) VALUES ($1, $2) \
             ON CONFLICT (creditor_id) DO NOTHING",
        )
        .bind(creditor.0)
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE creditor_settings SET rcs = $1, vat_number = $2, phone = $3, signatory = $4, \
             smtp_url = $5, smtp_from = $6, smtp_reply_to = $7, contractual_rate = $8, \
             run_at = $9, updated_at = $10 WHERE creditor_id = $11",
        )
        .bind(&input.rcs)
        .bind(&input.vat_number)
        .bind(&input.phone)
        .bind(&input.signatory)
        .bind(&input.smtp_url)
        .bind(&input.smtp_from)
        .bind(&input.smtp_reply_to)
        .bind(&input.contractual_rate)
        .bind(&input.run_at)
        .bind(now_text())
        .bind(creditor.0)
        .execute(&mut *tx)
        .await?;
        match &input.logo {
            Secret::Keep => {}
            Secret::Set((bytes, kind)) => {
                if bytes.len() > MAX_LOGO_BYTES {
                    return Err(StoreError::Refused(format!(
                        "the logo is larger than {} KiB",
                        MAX_LOGO_BYTES / 1024
                    )));
                }
                sqlx::query(
                    "UPDATE creditor_settings SET logo = $1, logo_type = $2 WHERE creditor_id = $3",
                )
                .bind(bytes.clone())
                .bind(kind)
                .bind(creditor.0)
                .execute(&mut *tx)
                .await?;
            }
            Secret::Remove => {
                sqlx::query(
                    "UPDATE creditor_settings SET logo = NULL, logo_type = NULL WHERE creditor_id = $1",
                )
                .bind(creditor.0)
                .execute(&mut *tx)
                .await?;
            }
        }
        let password = match &input.smtp_password {
            Secret::Keep => None,
            Secret::Set(p) => Some(Some(p.as_str())),
            Secret::Remove => Some(None),
        };
        if let Some(password) = password {
            sqlx::query("UPDATE creditor_settings SET smtp_password = $1 WHERE creditor_id = $2")
                .bind(password)
                .bind(creditor.0)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
