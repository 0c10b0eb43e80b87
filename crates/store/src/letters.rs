//! What was sent, seen as documents: the copies the litigation file lists and ships
//! ([`Store::sent_documents`]), the letters of a day for the print batch and the post office
//! ([`Store::letters_sent_on`]), and the registered-letter number and acknowledgement of
//! receipt a person records when the post office gives them ([`Store::record_letter_receipt`]).

use chrono::NaiveDate;
use relance_core::ids::{CreditorId, CustomerId};
use serde::Serialize;
use sqlx::Row;

use crate::db::now_text;
use crate::error::{Result, StoreError};
use crate::events::{append, NewEvent};
use crate::Store;

/// Channels that print a letter.
pub const LETTER_CHANNELS: [&str; 3] = ["letter", "registered_letter", "registered_letter_ar"];

/// A message that left, with the copy relance kept of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentDocument {
    /// The outbox id: the letter's reference.
    pub action_id: i64,
    pub step: String,
    pub channel: String,
    /// The day it was sent (creditor's calendar).
    pub sent_on: NaiveDate,
    /// Where the copy is (a letter's PDF, an e-mail's .eml); `None` for an e-mail handed to an
    /// SMTP server, of which only the fingerprint is kept.
    pub document_path: Option<String>,
    /// SHA-256 of the bytes sent, lowercase hex.
    pub document_sha256: String,
    pub message_id: Option<String>,
    pub registered_number: Option<String>,
    pub acknowledged_on: Option<NaiveDate>,
    pub invoices: Vec<String>,
    /// A letter handed to the postal provider: the reference it gave (tracking number).
    pub carrier_reference: Option<String>,
}

/// A letter sent on a day, with its addressee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentLetter {
    pub document: SentDocument,
    pub customer_code: String,
    pub customer_name: String,
    /// The postal address, lines separated by `\n`.
    pub address: String,
}

const DOCUMENT_COLUMNS: &str = "a.id, a.step, a.channel, a.sent_on, a.sent_at, a.document_path, \
    a.document_sha256, a.message_id, a.registered_number, a.acknowledged_on, a.invoices, \
    a.carrier_reference";

fn date_of(id: i64, column: &str, text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|e| StoreError::Corrupt(format!("action {id}: {column} \"{text}\": {e}")))
}

fn document_from_row(row: &sqlx::any::AnyRow) -> Result<SentDocument> {
    let id: i64 = row.try_get("id")?;
    let sent_on: Option<String> = row.try_get("sent_on")?;
    let sent_at: Option<String> = row.try_get("sent_at")?;
    let day = sent_on
        .or_else(|| sent_at.map(|t| t.chars().take(10).collect()))
        .ok_or_else(|| StoreError::Corrupt(format!("action {id} is sent but has no date")))?;
    let invoices: String = row.try_get("invoices")?;
    Ok(SentDocument {
        action_id: id,
        step: row.try_get("step")?,
        channel: row.try_get("channel")?,
        sent_on: date_of(id, "sent_on", &day)?,
        document_path: row.try_get("document_path")?,
        document_sha256: row
            .try_get::<Option<String>, _>("document_sha256")?
            .unwrap_or_default(),
        message_id: row.try_get("message_id")?,
        registered_number: row.try_get("registered_number")?,
        acknowledged_on: row
            .try_get::<Option<String>, _>("acknowledged_on")?
            .map(|d| date_of(id, "acknowledged_on", &d))
            .transpose()?,
        invoices: serde_json::from_str(&invoices)
            .map_err(|e| StoreError::Corrupt(format!("action {id}: invoices: {e}")))?,
        carrier_reference: row.try_get("carrier_reference")?,
    })
}

impl Store {
    /// The messages sent to a customer of which relance kept a fingerprint (letters, e-mails),
    /// oldest first: the documents of the litigation file.
    pub async fn sent_documents(
        &self,
        creditor: CreditorId,
        customer_code: &str,
    ) -> Result<Vec<SentDocument>> {
        let rows = sqlx::query(&format!(
            "SELECT {DOCUMENT_COLUMNS} FROM actions a JOIN customers c ON c.id = a.customer_id \
             WHERE a.creditor_id = $1 AND c.creditor_id = $1 AND c.code = $2 AND a.status = 'sent' \
             AND a.document_sha256 IS NOT NULL ORDER BY a.sent_on, a.sent_at, a.id"
        ))
        .bind(creditor.0)
        .bind(customer_code)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(document_from_row).collect()
    }

    /// The letters sent on `day` that we print and post ourselves (registered ones only when
    /// asked), in the order they were sent: those handed to the postal provider
    /// (`carrier_reference` set) are left out of the print batch and the post-office list.
    pub async fn letters_sent_on(
        &self,
        creditor: CreditorId,
        day: NaiveDate,
        registered_only: bool,
    ) -> Result<Vec<SentLetter>> {
        let channels = if registered_only {
            "('registered_letter', 'registered_letter_ar')"
        } else {
            "('letter', 'registered_letter', 'registered_letter_ar')"
        };
        let rows = sqlx::query(&format!(
            "SELECT {DOCUMENT_COLUMNS}, c.code, c.name, c.address FROM actions a \
             JOIN customers c ON c.id = a.customer_id \
             WHERE a.creditor_id = $1 AND a.sent_on = $2 AND a.status = 'sent' AND a.channel IN {channels} \
             AND a.carrier_reference IS NULL ORDER BY a.id"
        ))
        .bind(creditor.0)
        .bind(day.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(SentLetter {
                    document: document_from_row(row)?,
                    customer_code: row.try_get("code")?,
                    customer_name: row.try_get("name")?,
                    address: row.try_get("address")?,
                })
            })
            .collect()
    }

    /// Records the registered-letter number of a sent letter (its outbox id), and the day its
    /// acknowledgement of receipt was signed when it came back; adds an event to the customer's
    /// timeline. Refuses an unknown reference, a letter not sent or not registered, an
    /// acknowledgement on a letter sent without one, or dated before the letter left or after
    /// `today`. Returns a sentence saying what was recorded.
    pub async fn record_letter_receipt(
        &self,
        creditor: CreditorId,
        reference: i64,
        number: Option<&str>,
        acknowledged_on: Option<NaiveDate>,
        today: NaiveDate,
    ) -> Result<String> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "UPDATE actions SET updated_at = $1 WHERE id = $2 AND creditor_id = $3 \
             RETURNING id, customer_id, status, step, channel, sent_on, sent_at, document_path, \
             document_sha256, message_id, registered_number, acknowledged_on, invoices, carrier_reference",
        )
        .bind(now_text())
        .bind(reference)
        .bind(creditor.0)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| {
            StoreError::Refused(format!(
                "no letter with the reference {reference} (the reference is the first column of `relance letter registered`)"
            ))
        })?;
        let status: String = row.try_get("status")?;
        let channel: String = row.try_get("channel")?;
        let customer = CustomerId(row.try_get("customer_id")?);
        if !channel.starts_with("registered_letter") {
            return Err(StoreError::Refused(format!(
                "{reference} is {} ({channel}), not a registered letter: it has no registered-letter number",
                if LETTER_CHANNELS.contains(&channel.as_str()) {
                    "an ordinary letter"
                } else {
                    "not a letter"
                }
            )));
        }
        if status != "sent" {
            return Err(StoreError::Refused(format!(
                "the letter {reference} is {status}, not sent: a number is recorded once it has left"
            )));
        }
        let document = document_from_row(&row)?;
        let number = match number {
            Some(text) => Some(
                relance_core::post::registered_number(text)
                    .map_err(|e| StoreError::Refused(format!("--number: {e}")))?,
            ),
            None => None,
        };
        if number.is_none() && document.registered_number.is_none() {
            return Err(StoreError::Refused(format!(
                "the letter {reference} has no registered-letter number yet: give it with --number"
            )));
        }
        if let Some(on) = acknowledged_on {
            if channel != "registered_letter_ar" {
                return Err(StoreError::Refused(format!(
                    "the letter {reference} was sent registered without acknowledgement of receipt: there is no acknowledgement to record"
                )));
            }
            if on < document.sent_on {
                return Err(StoreError::Refused(format!(
                    "--acknowledged-on {on} is before the letter {reference} was sent ({})",
                    document.sent_on
                )));
            }
            if on > today {
                return Err(StoreError::Refused(format!(
                    "--acknowledged-on {on} is in the future (today is {today})"
                )));
            }
        }
        sqlx::query(
            "UPDATE actions SET registered_number = COALESCE($1, registered_number), \
             acknowledged_on = COALESCE($2, acknowledged_on) WHERE id = $3 AND creditor_id = $4",
        )
        .bind(number.clone())
        .bind(acknowledged_on.map(|d| d.to_string()))
        .bind(reference)
        .bind(creditor.0)
        .execute(&mut *tx)
        .await?;
        let final_number = number
            .clone()
            .or(document.registered_number.clone())
            .unwrap_or_default();
        let mut summary = format!(
            "{} ({channel}) of {} for {}: registered letter no. {final_number}",
            document.step,
            document.sent_on,
            document.invoices.join(", ")
        );
        if let (Some(new), Some(old)) = (&number, &document.registered_number) {
            if new != old {
                summary.push_str(&format!(" (replaces {old})"));
            }
        }
        if let Some(on) = acknowledged_on {
            summary.push_str(&format!(", acknowledgement of receipt signed on {on}"));
        }
        append(
            &mut *tx,
            &NewEvent {
                creditor,
                customer: Some(customer),
                item: None,
                kind: "letter_receipt".into(),
                occurred_on: acknowledged_on.unwrap_or(today),
                summary: summary.clone(),
                data: serde_json::json!({
                    "action": reference,
                    "step": document.step,
                    "channels": [channel],
                    "invoices": document.invoices,
                    "registered_number": final_number,
                    "acknowledged_on": acknowledged_on.map(|d| d.to_string()),
                }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(summary)
    }
}
