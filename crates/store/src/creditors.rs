//! Creditors (tenants): creating one with `relance init`, and choosing the one a command acts for.

use relance_core::ids::CreditorId;
use sqlx::Row;

use crate::db::now_text;
use crate::error::{Result, StoreError};
use crate::Store;

/// A creditor as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CreditorRecord {
    pub id: CreditorId,
    pub name: String,
    pub siren: Option<String>,
    pub iban: Option<String>,
    pub bic: Option<String>,
    pub address: String,
    pub email: Option<String>,
    pub time_zone: String,
    pub alsace_moselle: bool,
}

/// What `relance init` sets. `None` leaves a field as it is on an existing creditor.
#[derive(Debug, Clone, Default)]
pub struct CreditorInput {
    pub name: String,
    pub siren: Option<String>,
    pub iban: Option<String>,
    pub bic: Option<String>,
    pub address: Option<String>,
    pub email: Option<String>,
    pub time_zone: Option<String>,
    pub alsace_moselle: Option<bool>,
}

const COLUMNS: &str = "id, name, siren, iban, bic, address, email, time_zone, alsace_moselle";

fn from_row(row: &sqlx::any::AnyRow) -> Result<CreditorRecord> {
    Ok(CreditorRecord {
        id: CreditorId(row.try_get("id")?),
        name: row.try_get("name")?,
        siren: row.try_get("siren")?,
        iban: row.try_get("iban")?,
        bic: row.try_get("bic")?,
        address: row.try_get("address")?,
        email: row.try_get("email")?,
        time_zone: row.try_get("time_zone")?,
        alsace_moselle: row.try_get::<i64, _>("alsace_moselle")? != 0,
    })
}

impl Store {
    /// Creates the creditor, or updates the one with the same name. Returns it and whether it
    /// was created.
    pub async fn upsert_creditor(&self, input: &CreditorInput) -> Result<(CreditorRecord, bool)> {
        let mut tx = self.pool.begin().await?;
        let existing = sqlx::query(&format!("SELECT {COLUMNS} FROM creditors WHERE name = $1"))
            .bind(&input.name)
            .fetch_optional(&mut *tx)
            .await?;
        let created = existing.is_none();
        match existing {
            None => {
                sqlx::query(
                    "INSERT INTO creditors (name, siren, iban, bic, address, email, time_zone, alsace_moselle, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(&input.name)
                .bind(&input.siren)
                .bind(&input.iban)
                .bind(&input.bic)
                .bind(input.address.clone().unwrap_or_default())
                .bind(&input.email)
                .bind(input.time_zone.clone().unwrap_or_else(|| "Europe/Paris".into()))
                .bind(i64::from(input.alsace_moselle.unwrap_or(false)))
                .bind(now_text())
                .execute(&mut *tx)
                .await?;
            }
            Some(row) => {
                let old = from_row(&row)?;
                sqlx::query(
                    "UPDATE creditors SET siren = $1, iban = $2, bic = $3, address = $4, email = $5, \
                     time_zone = $6, alsace_moselle = $7 WHERE id = $8",
                )
                .bind(input.siren.clone().or(old.siren))
                .bind(input.iban.clone().or(old.iban))
                .bind(input.bic.clone().or(old.bic))
                .bind(input.address.clone().unwrap_or(old.address))
                .bind(input.email.clone().or(old.email))
                .bind(input.time_zone.clone().unwrap_or(old.time_zone))
                .bind(i64::from(input.alsace_moselle.unwrap_or(old.alsace_moselle)))
                .bind(old.id.0)
                .execute(&mut *tx)
                .await?;
            }
        }
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM creditors WHERE name = $1"))
            .bind(&input.name)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((from_row(&row)?, created))
    }

    /// All creditors, by id.
    pub async fn creditors(&self) -> Result<Vec<CreditorRecord>> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM creditors ORDER BY id"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// The creditor a command acts for: the one named (by name or id), or the only one.
    pub async fn resolve_creditor(&self, wanted: Option<&str>) -> Result<CreditorRecord> {
        let all = self.creditors().await?;
        match wanted {
            Some(w) => all
                .into_iter()
                .find(|c| c.name == w || c.id.0.to_string() == w)
                .ok_or_else(|| StoreError::UnknownCreditor(w.to_string())),
            None => match all.len() {
                0 => Err(StoreError::NoCreditor),
                1 => all.into_iter().next().ok_or(StoreError::NoCreditor),
                _ => Err(StoreError::SeveralCreditors(
                    all.iter()
                        .map(|c| format!("{} \"{}\"", c.id, c.name))
                        .collect::<Vec<_>>()
                        .join(", "),
                )),
            },
        }
    }
}
