//! Read models of the web application's work queue, imports and reports pages: the outbox rows a
//! person should look at today, the latest imports, and the actions of a period counted per step
//! and channel. Writes go through the functions the commands use (`outbox_retry`,
//! `outbox_cancel`, `record_call`, the imports), never through here.

use chrono::NaiveDate;
use relance_core::ids::CreditorId;
use relance_core::money::{Currency, Money};
use serde::Serialize;
use sqlx::Row;

use crate::error::{Result, StoreError};
use crate::web_queries::money;
use crate::Store;

/// An outbox row of the work queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueAction {
    pub id: i64,
    pub customer: String,
    pub customer_name: String,
    pub step: String,
    pub channel: String,
    pub status: String,
    pub in_doubt: bool,
    pub due_on: String,
    pub amount: Money,
    pub invoices: Vec<String>,
    pub attempts: i64,
    pub last_error: Option<String>,
}

impl QueueAction {
    /// Failed, or in doubt: a person must decide (send again or cancel).
    pub fn needs_a_person(&self) -> bool {
        self.status == "failed" || (self.status == "sending" && self.in_doubt)
    }
}

/// One import, as the imports page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportLine {
    pub id: i64,
    /// `invoices` or `payments`.
    pub kind: String,
    pub source: String,
    pub rows: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub warnings: i64,
    pub imported_at: String,
}

/// Actions of one step and channel in a period, by outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionCount {
    pub step: String,
    pub channel: String,
    pub sent: i64,
    pub failed: i64,
    pub cancelled: i64,
}

impl Store {
    /// Messages a person may act on today, oldest first: those planned (or rendered) due on or
    /// before `today`, and those failed or in doubt whatever their day. Call tasks are left out
    /// (the queue lists them with their script, from [`Store::call_tasks`]).
    pub async fn queue_actions(
        &self,
        creditor: CreditorId,
        today: NaiveDate,
        limit: u32,
    ) -> Result<Vec<QueueAction>> {
        let rows = sqlx::query(
            "SELECT a.id, c.code, c.name, a.step, a.channel, a.status, a.in_doubt, a.due_on, a.amount_minor, \
             a.currency, a.invoices, a.attempts, a.last_error \
             FROM actions a JOIN customers c ON c.id = a.customer_id \
             WHERE a.creditor_id = $1 AND a.channel <> 'phone_call' AND ( \
               (a.status IN ('planned', 'rendered') AND a.due_on <= $2) \
               OR a.status = 'failed' OR (a.status = 'sending' AND a.in_doubt = 1)) \
             ORDER BY a.due_on, a.id LIMIT $3",
        )
        .bind(creditor.0)
        .bind(today.to_string())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let currency = Currency::parse(&row.try_get::<String, _>("currency")?)?;
                let invoices: String = row.try_get("invoices")?;
                Ok(QueueAction {
                    id: row.try_get("id")?,
                    customer: row.try_get("code")?,
                    customer_name: row.try_get("name")?,
                    step: row.try_get("step")?,
                    channel: row.try_get("channel")?,
                    status: row.try_get("status")?,
                    in_doubt: row.try_get::<i64, _>("in_doubt")? != 0,
                    due_on: row.try_get("due_on")?,
                    amount: money(row, "amount_minor", currency)?,
                    invoices: serde_json::from_str(&invoices)
                        .map_err(|e| StoreError::Corrupt(format!("action invoices: {e}")))?,
                    attempts: row.try_get("attempts")?,
                    last_error: row.try_get("last_error")?,
                })
            })
            .collect()
    }

    /// The latest imports of the creditor, newest first.
    pub async fn recent_imports(
        &self,
        creditor: CreditorId,
        limit: u32,
    ) -> Result<Vec<ImportLine>> {
        let rows = sqlx::query(
            "SELECT id, kind, source, rows_read, created, updated, unchanged, warnings, imported_at \
             FROM imports WHERE creditor_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(creditor.0)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ImportLine {
                    id: row.try_get("id")?,
                    kind: row.try_get("kind")?,
                    source: row.try_get("source")?,
                    rows: row.try_get("rows_read")?,
                    created: row.try_get("created")?,
                    updated: row.try_get("updated")?,
                    unchanged: row.try_get("unchanged")?,
                    warnings: row.try_get("warnings")?,
                    imported_at: row.try_get("imported_at")?,
                })
            })
            .collect()
    }

    /// Actions of the period `from..=to` per step and channel, by what became of them and on
    /// the day it happened: sent (the day it left, `sent_on`; a call task closed by a call has
    /// none and counts on the day of its last change), failed or cancelled (the day of the last
    /// change, UTC). A late step's due day is its theoretical one, long before it was acted on,
    /// so it is not used.
    pub async fn action_counts(
        &self,
        creditor: CreditorId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ActionCount>> {
        let rows = sqlx::query(
            "SELECT step, channel, \
             CAST(SUM(CASE WHEN status = 'sent' THEN 1 ELSE 0 END) AS BIGINT) AS sent, \
             CAST(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS BIGINT) AS failed, \
             CAST(SUM(CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END) AS BIGINT) AS cancelled \
             FROM actions WHERE creditor_id = $1 AND status IN ('sent', 'failed', 'cancelled') \
             AND COALESCE(sent_on, substr(updated_at, 1, 10)) >= $2 \
             AND COALESCE(sent_on, substr(updated_at, 1, 10)) <= $3 \
             GROUP BY step, channel ORDER BY step, channel",
        )
        .bind(creditor.0)
        .bind(from.to_string())
        .bind(to.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ActionCount {
                    step: row.try_get("step")?,
                    channel: row.try_get("channel")?,
                    sent: row.try_get("sent")?,
                    failed: row.try_get("failed")?,
                    cancelled: row.try_get("cancelled")?,
                })
            })
            .collect()
    }
}
