//! Dunning cases on the stored ledger: the daily run (`relance run`), the outbox rows it writes, and promises, disputes, holds.
//!
//! A case has two halves (see `relance_core::planner::case`). The ledger half is rebuilt at each
//! use from `items` (open amounts, due dates), `disputes` (open ones take an invoice out) and
//! `payments` (unallocated money is a credit); the memory half — cycle, steps done, promise,
//! holds, notices sent — is the JSON `state` of the `cases` row.
//!
//! Incremental runs (DESIGN.md, principle 3): a run of day D plans only the cases whose
//! `next_action_on` is on or before D. Anything that changes a case (invoice or payment import,
//! promise, dispute, resolution, hold) sets its `next_action_on` to [`PENDING`], a date before
//! every other, so that the next run plans it whatever its day, and stores the real date again.
//! `--full` plans every case and must give the same actions.
//!
//! Exactly once (principle 2): each action and channel is one `actions` row with a unique
//! (creditor, idempotency key, channel); a second run of the same day inserts nothing.

use std::collections::HashSet;

use chrono::NaiveDate;
use relance_core::calendar::BusinessCalendar;
use relance_core::ids::{CreditorId, CustomerId, ItemId};
use relance_core::ledger::ItemKind;
use relance_core::money::{Currency, Money};
use relance_core::planner::{
    CaseCustomer, CaseItem, CaseState, CaseStatus, Hold, NoticeSent, PlannedAction, Policy,
    PromiseToPay, StepDone,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::{Any, Row, Transaction};

use crate::customers::{customer_from_row, CUSTOMER_COLUMNS};
use crate::db::{now_text, value_rows};
use crate::error::{Result, StoreError};
use crate::events::{append, NewEvent};
use crate::imports::parse_date;
use crate::Store;

/// `next_action_on` of a case changed since its last plan: the next run plans it.
pub const PENDING: &str = "0000-00-00";

/// What only the case knows, stored as JSON in `cases.state`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CaseMemory {
    #[serde(default)]
    cycle: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    history: Vec<StepDone>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    promise: Option<PromiseToPay>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    holds: Vec<Hold>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resume_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    notices: Vec<NoticeSent>,
}

impl CaseMemory {
    pub(crate) fn of(state: &CaseState) -> CaseMemory {
        CaseMemory {
            cycle: state.cycle,
            history: state.history.clone(),
            promise: state.promise.clone(),
            holds: state.holds.clone(),
            resume_on: state.resume_on,
            notices: state.notices.clone(),
        }
    }

    /// Puts the stored memory back into a case rebuilt from the ledger.
    pub(crate) fn restore(self, state: &mut CaseState) {
        state.cycle = self.cycle;
        state.history = self.history;
        state.holds = self.holds;
        state.resume_on = self.resume_on;
        state.notices = self.notices;
        state.promise = self.promise;
    }
}

/// Options of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    pub as_of: NaiveDate,
    /// Plan and report, but write nothing (everything is rolled back).
    pub dry_run: bool,
    /// Plan every case, not only those due: slower, same result.
    pub full: bool,
}

/// One case as `relance report cases` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseLine {
    pub customer: String,
    pub customer_name: String,
    pub status: String,
    pub cycle: i64,
    pub last_step: Option<String>,
    /// `None` when nothing is due as things stand; "pending" when changed since the last run.
    pub next_action_on: Option<String>,
    pub amount_overdue: String,
    pub currency: String,
}

/// A case loaded for planning or for a change.
struct LoadedCase {
    id: i64,
    state: CaseState,
}

/// The invoice a command names, with its owner.
struct NamedInvoice {
    id: ItemId,
    customer: CustomerId,
    customer_code: String,
    currency: Currency,
    open_minor: i64,
}

type Tx = Transaction<'static, Any>;

pub(crate) fn status_text(status: CaseStatus) -> String {
    match status {
        CaseStatus::NothingOverdue => "nothing_overdue",
        CaseStatus::BelowMinimum => "below_minimum",
        CaseStatus::Disputed => "disputed",
        CaseStatus::Active => "active",
        CaseStatus::Exhausted => "exhausted",
    }
    .to_string()
}

/// The policy every case follows for now: the French default of DESIGN.md.
pub fn default_policy() -> Policy {
    Policy::default_french()
}

/// Creates the case rows of these customers if needed, and marks them to be planned at the
/// next run. Batched: an import touching many customers costs a few statements.
pub(crate) async fn mark_pending(
    tx: &mut Tx,
    backend: crate::Backend,
    creditor: CreditorId,
    customers: &[i64],
) -> Result<()> {
    let mut unique: Vec<i64> = customers
        .iter()
        .copied()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    unique.sort_unstable();
    let now = now_text();
    for chunk in unique.chunks(500) {
        let sql = format!(
            "INSERT INTO cases (creditor_id, customer_id, next_action_on, updated_at) VALUES {} \
             ON CONFLICT (creditor_id, customer_id) DO UPDATE SET next_action_on = excluded.next_action_on, \
             updated_at = excluded.updated_at",
            value_rows(backend, chunk.len(), 4)
        );
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query
                .bind(creditor.0)
                .bind(*id)
                .bind(PENDING)
                .bind(now.clone());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// The `reminder_cancelled` event of an outbox entry cancelled on `on`.
pub(crate) fn cancel_event(
    creditor: CreditorId,
    customer: CustomerId,
    case_closed: bool,
    on: NaiveDate,
    key: String,
    step: String,
    invoices: Vec<String>,
) -> NewEvent {
    let why = if case_closed {
        "nothing is left to chase"
    } else {
        "the invoices it lists are settled or disputed"
    };
    NewEvent {
        creditor,
        customer: Some(customer),
        item: None,
        kind: "reminder_cancelled".into(),
        occurred_on: on,
        summary: format!("{step} for {} cancelled: {why}", invoices.join(", ")),
        data: serde_json::json!({ "key": key, "step": step, "invoices": invoices }),
    }
}

/// The `reminder_planned` event of an action written to the outbox (its channels are those
/// actually written).
pub(crate) fn reminder_planned_event(
    creditor: CreditorId,
    customer: CustomerId,
    as_of: NaiveDate,
    done: &PlannedAction,
) -> NewEvent {
    let channels: Vec<&str> = done.channels.iter().map(|c| c.as_str()).collect();
    let mut event = NewEvent {
        creditor,
        customer: Some(customer),
        item: done.item_ids.first().copied().filter(|i| i.0 > 0),
        kind: "reminder_planned".into(),
        occurred_on: as_of,
        summary: format!("{} ({}): {}", done.step, channels.join(", "), done.reason),
        data: serde_json::json!({
            "key": done.key,
            "step": done.step,
            "channels": channels,
            "invoices": done.invoices,
            "amount_due": done.amount_due.to_plain_string(),
            "currency": done.amount_due.currency.code(),
        }),
    };
    if let (Some(name), Some(variant), Some(data)) =
        (&done.experiment, done.variant, event.data.as_object_mut())
    {
        data.insert("experiment".into(), name.as_str().into());
        data.insert("variant".into(), variant.as_str().into());
        if let Some(hour) = done.send_hour {
            data.insert("send_hour".into(), hour.into());
        }
    }
    event
}

/// Cancels the planned actions of a customer whose invoices are all settled (open amount zero
/// or less) or disputed, and, when `case_closed`, every planned case step (not the before-due notices of
/// invoices still open). Returns how many were cancelled.
pub(crate) async fn cancel_settled(
    tx: &mut Tx,
    creditor: CreditorId,
    customer: CustomerId,
    case_closed: bool,
    on: NaiveDate,
) -> Result<u64> {
    let rows = sqlx::query(
        "SELECT id, idempotency_key, step, notice, invoices FROM actions \
         WHERE creditor_id = $1 AND customer_id = $2 AND status = 'planned' AND kind = 'receivable' ORDER BY id",
    )
    .bind(creditor.0)
    .bind(customer.0)
    .fetch_all(&mut **tx)
    .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let open_rows = sqlx::query(
        "SELECT i.number FROM items i WHERE +i.creditor_id = $1 AND i.customer_id = $2 AND i.kind = 'invoice' \
         AND i.open_minor > 0 AND NOT EXISTS (SELECT 1 FROM disputes d WHERE d.creditor_id = i.creditor_id \
         AND d.item_id = i.id AND d.resolved_on IS NULL)",
    )
    .bind(creditor.0)
    .bind(customer.0)
    .fetch_all(&mut **tx)
    .await?;
    let mut open = HashSet::new();
    for row in &open_rows {
        open.insert(row.try_get::<String, _>("number")?);
    }
    let mut cancelled = 0;
    let mut keys: Vec<(String, String, Vec<String>)> = Vec::new();
    for row in &rows {
        let id: i64 = row.try_get("id")?;
        let key: String = row.try_get("idempotency_key")?;
        let step: String = row.try_get("step")?;
        let notice: i64 = row.try_get("notice")?;
        let invoices: String = row.try_get("invoices")?;
        let invoices: Vec<String> = serde_json::from_str(&invoices)
            .map_err(|e| StoreError::Corrupt(format!("action {id}: invoices: {e}")))?;
        let settled = !invoices.iter().any(|n| open.contains(n));
        if settled || (case_closed && notice == 0) {
            sqlx::query(
                "UPDATE actions SET status = 'cancelled', updated_at = $1 WHERE id = $2 AND creditor_id = $3 AND status = 'planned'",
            )
            .bind(now_text())
            .bind(id)
            .bind(creditor.0)
            .execute(&mut **tx)
            .await?;
            cancelled += 1;
            if !keys.iter().any(|(k, _, _)| *k == key) {
                keys.push((key, step, invoices));
            }
        }
    }
    for (key, step, invoices) in keys {
        append(
            &mut **tx,
            &cancel_event(creditor, customer, case_closed, on, key, step, invoices),
        )
        .await?;
    }
    Ok(cancelled)
}

pub(crate) async fn calendar_of(
    conn: &mut sqlx::AnyConnection,
    creditor: CreditorId,
) -> Result<BusinessCalendar> {
    let alsace: Option<i64> =
        sqlx::query_scalar("SELECT alsace_moselle FROM creditors WHERE id = $1")
            .bind(creditor.0)
            .fetch_optional(&mut *conn)
            .await?;
    let alsace = alsace.ok_or_else(|| StoreError::UnknownCreditor(creditor.to_string()))?;
    Ok(BusinessCalendar::new(alsace != 0))
}

/// The case row of a customer (id, state, next_action_on), created when missing and locked
/// for the rest of the transaction: the first statement writes, so SQLite takes its write lock
/// (waiting up to the busy timeout) and PostgreSQL locks the row. Two runs at once thus plan a
/// case one after the other, and the second sees what the first did.
async fn case_row(
    tx: &mut Tx,
    creditor: CreditorId,
    customer: CustomerId,
) -> Result<(i64, String, Option<String>)> {
    let now = now_text();
    sqlx::query(
        "INSERT INTO cases (creditor_id, customer_id, next_action_on, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (creditor_id, customer_id) DO NOTHING",
    )
    .bind(creditor.0)
    .bind(customer.0)
    .bind(PENDING)
    .bind(&now)
    .execute(&mut **tx)
    .await?;
    let row = sqlx::query(
        "UPDATE cases SET updated_at = $1 WHERE creditor_id = $2 AND customer_id = $3 \
         RETURNING id, state, next_action_on",
    )
    .bind(&now)
    .bind(creditor.0)
    .bind(customer.0)
    .fetch_one(&mut **tx)
    .await?;
    Ok((
        row.try_get("id")?,
        row.try_get("state")?,
        row.try_get("next_action_on")?,
    ))
}

/// Builds the case of a customer from the ledger and its stored memory.
async fn load_case(tx: &mut Tx, creditor: CreditorId, customer: CustomerId) -> Result<LoadedCase> {
    let (id, state_text, _) = case_row(tx, creditor, customer).await?;
    let memory: CaseMemory = serde_json::from_str(&state_text)
        .map_err(|e| StoreError::Corrupt(format!("case {id}: state: {e}")))?;
    let row = sqlx::query(&format!(
        "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE creditor_id = $1 AND id = $2"
    ))
    .bind(creditor.0)
    .bind(customer.0)
    .fetch_one(&mut **tx)
    .await?;
    let record = customer_from_row(&row)?;
    let rows = sqlx::query(
        "SELECT i.id, i.kind, i.number, i.due_date, i.currency, i.open_minor, \
         CAST(CASE WHEN EXISTS (SELECT 1 FROM disputes d WHERE d.creditor_id = i.creditor_id \
         AND d.item_id = i.id AND d.resolved_on IS NULL) THEN 1 ELSE 0 END AS BIGINT) AS disputed \
         FROM items i WHERE +i.creditor_id = $1 AND i.customer_id = $2 AND i.open_minor <> 0 \
         ORDER BY i.due_date, i.number",
    )
    .bind(creditor.0)
    .bind(customer.0)
    .fetch_all(&mut **tx)
    .await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        let kind: String = row.try_get("kind")?;
        let currency = Currency::parse(&row.try_get::<String, _>("currency")?)?;
        items.push(CaseItem {
            id: ItemId(row.try_get("id")?),
            kind: ItemKind::parse(&kind)
                .ok_or_else(|| StoreError::Corrupt(format!("item kind {kind}")))?,
            number: row.try_get("number")?,
            due_date: parse_date(&row.try_get::<String, _>("due_date")?)?,
            open: Money::from_minor(row.try_get("open_minor")?, currency),
            disputed: row.try_get::<i64, _>("disputed")? != 0,
        });
    }
    // Money received but not allocated is a credit of the customer, as in the planner's replay.
    let credits = sqlx::query(
        "SELECT id, received_on, currency, unallocated_minor FROM payments \
         WHERE creditor_id = $1 AND customer_id = $2 AND unallocated_minor > 0 ORDER BY received_on, id",
    )
    .bind(creditor.0)
    .bind(customer.0)
    .fetch_all(&mut **tx)
    .await?;
    for row in &credits {
        let payment: i64 = row.try_get("id")?;
        let currency = Currency::parse(&row.try_get::<String, _>("currency")?)?;
        items.push(CaseItem {
            id: ItemId(-payment),
            kind: ItemKind::CreditNote,
            number: format!("unallocated-payment-{payment}"),
            due_date: parse_date(&row.try_get::<String, _>("received_on")?)?,
            open: Money::from_minor(-row.try_get::<i64, _>("unallocated_minor")?, currency),
            disputed: false,
        });
    }
    let currency = items
        .iter()
        .find(|i| i.kind == ItemKind::Invoice && i.open.is_positive())
        .or(items.first())
        .map_or(Currency::EUR, |i| i.open.currency);
    let customer_info = CaseCustomer {
        id: record.id,
        code: record.code.clone(),
        kind: record.kind,
        has_email: !record.emails.is_empty(),
        tags: Vec::new(),
    };
    let mut state = CaseState::new(creditor, customer_info, currency);
    state.items = items;
    state.cycle = memory.cycle;
    state.history = memory.history;
    state.holds = memory.holds;
    state.resume_on = memory.resume_on;
    state.notices = memory.notices;
    state.promise = match memory.promise {
        Some(mut promise) => {
            // What the customer paid on the case's items since the promise was made.
            let received: i64 = sqlx::query_scalar(
                "SELECT CAST(COALESCE(SUM(a.amount_minor), 0) AS BIGINT) FROM allocations a \
                 JOIN payments p ON p.id = a.payment_id JOIN items i ON i.id = a.item_id \
                 WHERE a.creditor_id = $1 AND i.customer_id = $2 AND p.received_on >= $3 AND i.currency = $4",
            )
            .bind(creditor.0)
            .bind(customer.0)
            .bind(promise.made_on.to_string())
            .bind(promise.amount.currency.code().to_string())
            .fetch_one(&mut **tx)
            .await?;
            promise.received = Money::from_minor(received, promise.amount.currency);
            Some(promise)
        }
        None => None,
    };
    Ok(LoadedCase { id, state })
}

/// Writes a case's memory, status and next date.
async fn save_case(
    tx: &mut Tx,
    case: &LoadedCase,
    status: Option<String>,
    next_action_on: Option<String>,
) -> Result<()> {
    let memory = serde_json::to_string(&CaseMemory::of(&case.state))
        .map_err(|e| StoreError::Corrupt(format!("case {}: {e}", case.id)))?;
    let last_step = case.state.history.last().map(|s| s.step.clone());
    sqlx::query(
        "UPDATE cases SET cycle = $1, state = $2, status = COALESCE($3, status), last_step = $4, \
         next_action_on = $5, updated_at = $6 WHERE id = $7 AND creditor_id = $8",
    )
    .bind(i64::from(case.state.cycle))
    .bind(memory)
    .bind(status)
    .bind(last_step)
    .bind(next_action_on)
    .bind(now_text())
    .bind(case.id)
    .bind(case.state.creditor.0)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Finds an invoice by number.
async fn named_invoice(tx: &mut Tx, creditor: CreditorId, number: &str) -> Result<NamedInvoice> {
    let row = sqlx::query(
        "SELECT i.id, i.customer_id, c.code, i.currency, i.open_minor FROM items i \
         JOIN customers c ON c.id = i.customer_id \
         WHERE i.creditor_id = $1 AND i.number = $2 AND i.kind = 'invoice'",
    )
    .bind(creditor.0)
    .bind(number)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| StoreError::UnknownInvoice(number.to_string()))?;
    Ok(NamedInvoice {
        id: ItemId(row.try_get("id")?),
        customer: CustomerId(row.try_get("customer_id")?),
        customer_code: row.try_get("code")?,
        currency: Currency::parse(&row.try_get::<String, _>("currency")?)?,
        open_minor: row.try_get("open_minor")?,
    })
}

impl Store {
    /// How many cases the creditor has (`None`), or how many a run of `as_of` would plan.
    pub async fn cases_due(&self, creditor: CreditorId, as_of: Option<NaiveDate>) -> Result<i64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM cases WHERE creditor_id = $1 \
             AND ($2 = '' OR next_action_on <= $2)",
        )
        .bind(creditor.0)
        .bind(as_of.map(|d| d.to_string()).unwrap_or_default())
        .fetch_one(&self.pool)
        .await?;
        Ok(n)
    }

    /// Records a promise to pay for the case of `invoice`'s customer, made on `at`: the case
    /// pauses until the business day after `promised_for`. `amount` defaults to the invoice's
    /// open amount.
    pub async fn promise_to_pay(
        &self,
        creditor: CreditorId,
        invoice: &str,
        promised_for: NaiveDate,
        amount: Option<Decimal>,
        at: NaiveDate,
    ) -> Result<String> {
        let mut tx = self.pool.begin().await?;
        let named = named_invoice(&mut tx, creditor, invoice).await?;
        let amount = match amount {
            Some(a) => Money::new(a, named.currency),
            None => Money::from_minor(named.open_minor, named.currency),
        };
        let mut case = load_case(&mut tx, creditor, named.customer).await?;
        case.state
            .promise_to_pay(PromiseToPay::new(at, promised_for, amount));
        save_case(&mut tx, &case, None, Some(PENDING.to_string())).await?;
        let summary = format!(
            "{} promised to pay {amount} by {promised_for} (invoice {invoice})",
            named.customer_code
        );
        append(
            &mut *tx,
            &NewEvent {
                creditor,
                customer: Some(named.customer),
                item: Some(named.id),
                kind: "promise".into(),
                occurred_on: at,
                summary: summary.clone(),
                data: serde_json::json!({
                    "invoice": invoice,
                    "promised_for": promised_for.to_string(),
                    "amount": amount.to_plain_string(),
                    "currency": amount.currency.code(),
                }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(summary)
    }

    /// Opens a dispute on an invoice on `at`: it leaves its case until resolved.
    pub async fn open_dispute(
        &self,
        creditor: CreditorId,
        invoice: &str,
        reason: &str,
        at: NaiveDate,
    ) -> Result<String> {
        let mut tx = self.pool.begin().await?;
        let named = named_invoice(&mut tx, creditor, invoice).await?;
        let open: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM disputes WHERE creditor_id = $1 AND item_id = $2 AND resolved_on IS NULL",
        )
        .bind(creditor.0)
        .bind(named.id.0)
        .fetch_optional(&mut *tx)
        .await?;
        if open.is_some() {
            return Err(StoreError::Refused(format!(
                "invoice {invoice} is already disputed"
            )));
        }
        sqlx::query(
            "INSERT INTO disputes (creditor_id, customer_id, item_id, opened_on, reason, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(creditor.0)
        .bind(named.customer.0)
        .bind(named.id.0)
        .bind(at.to_string())
        .bind(reason)
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        mark_pending(&mut tx, self.backend(), creditor, &[named.customer.0]).await?;
        cancel_settled(&mut tx, creditor, named.customer, false, at).await?;
        let summary = format!("invoice {invoice} disputed: {reason}");
        append(
            &mut *tx,
            &NewEvent {
                creditor,
                customer: Some(named.customer),
                item: Some(named.id),
                kind: "dispute".into(),
                occurred_on: at,
                summary: summary.clone(),
                data: serde_json::json!({ "invoice": invoice, "reason": reason }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(summary)
    }

    /// Resolves the open dispute on an invoice on `at`; a case that was paused for want of
    /// anything else to chase takes its next step that day (next business day if not one).
    pub async fn resolve_dispute(
        &self,
        creditor: CreditorId,
        invoice: &str,
        at: NaiveDate,
    ) -> Result<String> {
        let mut tx = self.pool.begin().await?;
        let calendar = calendar_of(&mut tx, creditor).await?;
        let named = named_invoice(&mut tx, creditor, invoice).await?;
        let resolved = sqlx::query(
            "UPDATE disputes SET resolved_on = $1 WHERE creditor_id = $2 AND item_id = $3 AND resolved_on IS NULL",
        )
        .bind(at.to_string())
        .bind(creditor.0)
        .bind(named.id.0)
        .execute(&mut *tx)
        .await?;
        if resolved.rows_affected() == 0 {
            return Err(StoreError::Refused(format!(
                "invoice {invoice} has no open dispute"
            )));
        }
        // The case as it stood with the dispute, then the core's transition.
        let mut case = load_case(&mut tx, creditor, named.customer).await?;
        case.state.open_dispute(invoice);
        let policy = crate::policies::customer_policy(&mut tx, creditor, named.customer).await?;
        case.state.resolve_dispute(invoice, at, &policy, &calendar);
        save_case(&mut tx, &case, None, Some(PENDING.to_string())).await?;
        let summary = format!("dispute on invoice {invoice} resolved");
        append(
            &mut *tx,
            &NewEvent {
                creditor,
                customer: Some(named.customer),
                item: Some(named.id),
                kind: "dispute_resolved".into(),
                occurred_on: at,
                summary: summary.clone(),
                data: serde_json::json!({ "invoice": invoice }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(summary)
    }

    /// Puts a customer's case on hold from `at` until `until` (excluded): nothing is sent.
    pub async fn hold(
        &self,
        creditor: CreditorId,
        customer_code: &str,
        until: NaiveDate,
        reason: &str,
        at: NaiveDate,
    ) -> Result<String> {
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
        let mut case = load_case(&mut tx, creditor, customer).await?;
        case.state.add_hold(Hold {
            from: at,
            until,
            reason: reason.to_string(),
        });
        save_case(&mut tx, &case, None, Some(PENDING.to_string())).await?;
        let summary = format!("{customer_code} on hold until {until}: {reason}");
        append(
            &mut *tx,
            &NewEvent {
                creditor,
                customer: Some(customer),
                item: None,
                kind: "hold".into(),
                occurred_on: at,
                summary: summary.clone(),
                data: serde_json::json!({ "until": until.to_string(), "reason": reason }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(summary)
    }

    /// Every case with its status and what is overdue on `as_of` (undisputed open invoices
    /// due before it), by customer code.
    pub async fn case_lines(
        &self,
        creditor: CreditorId,
        as_of: NaiveDate,
        customer: Option<&str>,
    ) -> Result<Vec<CaseLine>> {
        let rows = sqlx::query(
            "SELECT c.code, c.name, k.status, k.cycle, k.last_step, k.next_action_on, o.currency, \
             CAST(COALESCE(o.overdue, 0) AS BIGINT) AS overdue \
             FROM cases k JOIN customers c ON c.id = k.customer_id \
             LEFT JOIN (SELECT i.customer_id, i.currency, SUM(i.open_minor) AS overdue FROM items i \
               WHERE i.creditor_id = $1 AND i.kind = 'invoice' AND i.open_minor > 0 AND i.due_date < $2 \
               AND NOT EXISTS (SELECT 1 FROM disputes d WHERE d.creditor_id = i.creditor_id \
                 AND d.item_id = i.id AND d.resolved_on IS NULL) \
               GROUP BY i.customer_id, i.currency) o ON o.customer_id = k.customer_id \
             WHERE k.creditor_id = $1 AND ($3 = '' OR c.code = $3) ORDER BY c.code, o.currency",
        )
        .bind(creditor.0)
        .bind(as_of.to_string())
        .bind(customer.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let currency: Option<String> = row.try_get("currency")?;
                let currency = Currency::parse(currency.as_deref().unwrap_or("EUR"))?;
                let next: Option<String> = row.try_get("next_action_on")?;
                Ok(CaseLine {
                    customer: row.try_get("code")?,
                    customer_name: row.try_get("name")?,
                    status: row.try_get("status")?,
                    cycle: row.try_get("cycle")?,
                    last_step: row.try_get("last_step")?,
                    next_action_on: next.map(|n| {
                        if n == PENDING {
                            "pending".to_string()
                        } else {
                            n
                        }
                    }),
                    amount_overdue: Money::from_minor(row.try_get("overdue")?, currency)
                        .to_plain_string(),
                    currency: currency.code().to_string(),
                })
            })
            .collect()
    }

    /// The outbox rows of a customer (or all), oldest first: (key, channel, step, status).
    pub async fn action_rows(
        &self,
        creditor: CreditorId,
        customer_code: Option<&str>,
    ) -> Result<Vec<ActionRow>> {
        let rows = sqlx::query(
            "SELECT a.idempotency_key, a.channel, a.step, a.status, a.planned_on, c.code, a.invoices \
             FROM actions a JOIN customers c ON c.id = a.customer_id \
             WHERE a.creditor_id = $1 AND ($2 = '' OR c.code = $2) ORDER BY a.id",
        )
        .bind(creditor.0)
        .bind(customer_code.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let invoices: String = row.try_get("invoices")?;
                Ok(ActionRow {
                    key: row.try_get("idempotency_key")?,
                    channel: row.try_get("channel")?,
                    step: row.try_get("step")?,
                    status: row.try_get("status")?,
                    planned_on: row.try_get("planned_on")?,
                    customer: row.try_get("code")?,
                    invoices: serde_json::from_str(&invoices)
                        .map_err(|e| StoreError::Corrupt(format!("action invoices: {e}")))?,
                })
            })
            .collect()
    }
}

/// An outbox row as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionRow {
    pub key: String,
    pub channel: String,
    pub step: String,
    pub status: String,
    pub planned_on: String,
    pub customer: String,
    pub invoices: Vec<String>,
}
