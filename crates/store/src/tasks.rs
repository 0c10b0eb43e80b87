//! Call tasks for collectors: the outbox rows of channel `phone_call` are not sent by a
//! machine; a person calls, then records the outcome (`relance call`), which closes the task
//! and lands on the timeline. Promises and disputes the call brings go through the case
//! functions of `cases.rs`, so they feed the planner exactly as if typed in by hand.

use chrono::NaiveDate;
use relance_core::calls::CallOutcome;
use relance_core::ids::{CreditorId, CustomerId};
use relance_core::money::{Currency, Money};
use serde::Serialize;
use sqlx::Row;

use crate::db::now_text;
use crate::error::{Result, StoreError};
use crate::events::{append, NewEvent};
use crate::Store;

/// One call to make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallTask {
    pub action_id: i64,
    pub customer: String,
    pub customer_name: String,
    pub phones: Vec<String>,
    pub step: String,
    /// The day the task became due.
    pub due_on: String,
    pub invoices: Vec<String>,
    pub amount: String,
    pub currency: String,
    /// The outcome and day of the customer's last recorded call, if any.
    pub last_call: Option<String>,
}

/// What `record_call` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallRecord {
    pub customer: String,
    pub outcome: CallOutcome,
    /// The call tasks the call closed (none for a call made outside any task).
    pub closed_tasks: Vec<i64>,
    pub summary: String,
}

impl Store {
    /// Open call tasks (planned, not yet done), oldest first; with `due_by`, only those due on
    /// or before that day.
    pub async fn call_tasks(
        &self,
        creditor: CreditorId,
        due_by: Option<NaiveDate>,
    ) -> Result<Vec<CallTask>> {
        let rows = sqlx::query(
            "SELECT a.id, a.step, a.due_on, a.invoices, a.amount_minor, a.currency, \
             c.code, c.name, c.phones, \
             (SELECT e.summary FROM events e WHERE e.creditor_id = a.creditor_id \
               AND e.customer_id = a.customer_id AND e.kind = 'call' ORDER BY e.occurred_on DESC, e.id DESC LIMIT 1) AS last_call \
             FROM actions a JOIN customers c ON c.id = a.customer_id \
             WHERE a.creditor_id = $1 AND a.channel = 'phone_call' AND a.status IN ('planned', 'rendered') \
             AND ($2 = '' OR a.due_on <= $2) \
             ORDER BY a.due_on, c.code, a.id",
        )
        .bind(creditor.0)
        .bind(due_by.map(|d| d.to_string()).unwrap_or_default())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let currency = Currency::parse(&row.try_get::<String, _>("currency")?)?;
                let invoices: String = row.try_get("invoices")?;
                Ok(CallTask {
                    action_id: row.try_get("id")?,
                    customer: row.try_get("code")?,
                    customer_name: row.try_get("name")?,
                    phones: crate::customers::split_list(&row.try_get::<String, _>("phones")?),
                    step: row.try_get("step")?,
                    due_on: row.try_get("due_on")?,
                    invoices: serde_json::from_str(&invoices)
                        .map_err(|e| StoreError::Corrupt(format!("action invoices: {e}")))?,
                    amount: Money::from_minor(row.try_get("amount_minor")?, currency)
                        .to_plain_string(),
                    currency: currency.code().to_string(),
                    last_call: row.try_get("last_call")?,
                })
            })
            .collect()
    }

    /// Records a call to `customer_code` made on `at` with its outcome: closes the customer's
    /// call tasks due by then (status `sent`: the step was carried out) and appends a `call`
    /// event. A call that reached nobody (no answer, wrong number) closes nothing: the task
    /// stays for another try.
    pub async fn record_call(
        &self,
        creditor: CreditorId,
        customer_code: &str,
        outcome: CallOutcome,
        note: &str,
        at: NaiveDate,
    ) -> Result<CallRecord> {
        let mut tx = self.pool.begin().await?;
        let customer: Option<i64> =
            sqlx::query_scalar("SELECT id FROM customers WHERE creditor_id = $1 AND code = $2")
                .bind(creditor.0)
                .bind(customer_code)
                .fetch_optional(&mut *tx)
                .await?;
        let customer = CustomerId(
            customer.ok_or_else(|| StoreError::UnknownCustomer(customer_code.to_string()))?,
        );
        let mut closed_tasks = Vec::new();
        if outcome.reached_someone() {
            let ids: Vec<i64> = sqlx::query_scalar(
                "SELECT id FROM actions WHERE creditor_id = $1 AND customer_id = $2 \
                 AND channel = 'phone_call' AND status IN ('planned', 'rendered') AND due_on <= $3 ORDER BY id",
            )
            .bind(creditor.0)
            .bind(customer.0)
            .bind(at.to_string())
            .fetch_all(&mut *tx)
            .await?;
            for id in ids {
                sqlx::query(
                    "UPDATE actions SET status = 'sent', updated_at = $1 WHERE id = $2 AND creditor_id = $3",
                )
                .bind(now_text())
                .bind(id)
                .bind(creditor.0)
                .execute(&mut *tx)
                .await?;
                closed_tasks.push(id);
            }
        }
        let note = note.trim();
        let summary = if note.is_empty() {
            format!("call to {customer_code}: {}", outcome.as_str())
        } else {
            format!("call to {customer_code}: {} — {note}", outcome.as_str())
        };
        append(
            &mut *tx,
            &NewEvent {
                creditor,
                customer: Some(customer),
                item: None,
                kind: "call".into(),
                occurred_on: at,
                summary: summary.clone(),
                data: serde_json::json!({
                    "channel": "phone_call",
                    "outcome": outcome.as_str(),
                    "note": note,
                    "tasks": closed_tasks,
                }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(CallRecord {
            customer: customer_code.to_string(),
            outcome,
            closed_tasks,
            summary,
        })
    }

    /// The customer's oldest open, undisputed invoice past its due date on `as_of` (the one a
    /// call's promise or dispute is about when the collector names none).
    pub async fn oldest_overdue_invoice(
        &self,
        creditor: CreditorId,
        customer_code: &str,
        as_of: NaiveDate,
    ) -> Result<Option<String>> {
        let number: Option<String> = sqlx::query_scalar(
            "SELECT i.number FROM items i JOIN customers c ON c.id = i.customer_id \
             WHERE i.creditor_id = $1 AND c.code = $2 AND i.kind = 'invoice' AND i.open_minor > 0 \
             AND i.due_date < $3 AND NOT EXISTS (SELECT 1 FROM disputes d WHERE d.creditor_id = i.creditor_id \
               AND d.item_id = i.id AND d.resolved_on IS NULL) \
             ORDER BY i.due_date, i.number LIMIT 1",
        )
        .bind(creditor.0)
        .bind(customer_code)
        .bind(as_of.to_string())
        .fetch_optional(&self.pool)
        .await?;
        Ok(number)
    }
}
