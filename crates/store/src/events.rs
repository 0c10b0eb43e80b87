//! The append-only timeline: everything that happened to a customer, in the order it happened.

use chrono::NaiveDate;
use relance_core::ids::{CreditorId, CustomerId, ItemId};
use sqlx::{Any, Row};

use crate::db::{now_text, statement_parts, value_rows, Backend};
use crate::error::Result;
use crate::Store;

/// An event to append.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub creditor: CreditorId,
    pub customer: Option<CustomerId>,
    pub item: Option<ItemId>,
    /// `invoice_changed`, `payment_received`, `reminder_sent`, `promise`, `dispute`, …
    pub kind: String,
    /// The calendar day it happened (not the day it was recorded).
    pub occurred_on: NaiveDate,
    /// One human sentence.
    pub summary: String,
    /// Details as JSON.
    pub data: serde_json::Value,
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EventRecord {
    pub id: i64,
    pub customer: Option<String>,
    pub item: Option<String>,
    pub kind: String,
    pub occurred_on: String,
    pub recorded_at: String,
    pub summary: String,
    pub data: serde_json::Value,
}

/// Appends one event inside the caller's transaction.
pub async fn append<'c, E>(executor: E, event: &NewEvent) -> Result<()>
where
    E: sqlx::Executor<'c, Database = Any>,
{
    sqlx::query(
        "INSERT INTO events (creditor_id, customer_id, item_id, kind, occurred_on, recorded_at, summary, data) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(event.creditor.0)
    .bind(event.customer.map(|c| c.0))
    .bind(event.item.map(|i| i.0))
    .bind(&event.kind)
    .bind(event.occurred_on.to_string())
    .bind(now_text())
    .bind(&event.summary)
    .bind(event.data.to_string())
    .execute(executor)
    .await?;
    Ok(())
}

/// Appends events inside the caller's transaction, in order, with multi-row inserts.
pub(crate) async fn append_many(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    events: &[NewEvent],
) -> Result<()> {
    let now = now_text();
    for part in statement_parts(events, 256) {
        let sql = format!(
            "INSERT INTO events (creditor_id, customer_id, item_id, kind, occurred_on, recorded_at, summary, data) \
             VALUES {}",
            value_rows(backend, part.len(), 8)
        );
        let mut query = sqlx::query(&sql);
        for event in part {
            query = query
                .bind(event.creditor.0)
                .bind(event.customer.map(|c| c.0))
                .bind(event.item.map(|i| i.0))
                .bind(event.kind.as_str())
                .bind(event.occurred_on.to_string())
                .bind(now.as_str())
                .bind(event.summary.as_str())
                .bind(event.data.to_string());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

impl Store {
    /// A customer's timeline (or the creditor's whole timeline), oldest first.
    pub async fn timeline(
        &self,
        creditor: CreditorId,
        customer_code: Option<&str>,
    ) -> Result<Vec<EventRecord>> {
        let sql = "SELECT e.id, c.code AS customer_code, i.number AS item_number, e.kind, e.occurred_on, \
                   e.recorded_at, e.summary, e.data \
                   FROM events e LEFT JOIN customers c ON c.id = e.customer_id \
                   LEFT JOIN items i ON i.id = e.item_id \
                   WHERE e.creditor_id = $1 AND ($2 = '' OR c.code = $2) \
                   ORDER BY e.occurred_on, e.id";
        let rows = sqlx::query(sql)
            .bind(creditor.0)
            .bind(customer_code.unwrap_or(""))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let data: String = row.try_get("data")?;
                Ok(EventRecord {
                    id: row.try_get("id")?,
                    customer: row.try_get("customer_code")?,
                    item: row.try_get("item_number")?,
                    kind: row.try_get("kind")?,
                    occurred_on: row.try_get("occurred_on")?,
                    recorded_at: row.try_get("recorded_at")?,
                    summary: row.try_get("summary")?,
                    data: serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
                })
            })
            .collect()
    }
}
