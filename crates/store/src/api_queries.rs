//! Read models of the REST API (`/api`): keyset pages of invoices, payments, cases, actions and
//! events, and the stored responses of the `Idempotency-Key` header (migration
//! `0011_api_idempotency.sql`).
//!
//! Every page is cut on an indexed, unique key (the row id, or the customer code for cases), so
//! that the thousandth page costs what the first does. A page reads `limit + 1` rows: the extra
//! row only says whether there is a next page.

use relance_core::ids::CreditorId;
use relance_core::money::{Currency, Money};
use sqlx::Row;

use crate::db::now_text;
use crate::error::{Result, StoreError};
use crate::events::EventRecord;
use crate::web_queries::{
    event_from_row, item_from_row, money, CaseMemoryView, ItemLine, ITEM_COLUMNS,
};
use crate::Store;

/// Rows of one page, and whether more rows follow.
#[derive(Debug, Clone, PartialEq)]
pub struct KeysetPage<T> {
    pub rows: Vec<T>,
    pub more: bool,
}

impl<T> KeysetPage<T> {
    fn cut(mut rows: Vec<T>, limit: u32) -> KeysetPage<T> {
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        KeysetPage { rows, more }
    }
}

/// An invoice or credit note with its customer's code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceRow {
    pub item: ItemLine,
    pub customer: String,
}

/// A payment as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRow {
    pub id: i64,
    /// `None` while the payment waits in the reconciliation queue.
    pub customer: Option<String>,
    pub received_on: String,
    pub amount: Money,
    pub unallocated: Money,
    pub reference: String,
    pub invoice_number: Option<String>,
    pub bank_reference: Option<String>,
    pub source: String,
}

/// A customer's dunning case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRow {
    pub customer: String,
    pub customer_name: String,
    pub status: String,
    pub cycle: i64,
    pub last_step: Option<String>,
    /// `pending` when the next run plans it.
    pub next_action_on: Option<String>,
    pub promise: Option<relance_core::planner::PromiseToPay>,
    pub holds: Vec<relance_core::planner::Hold>,
}

/// An outbox row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionLine {
    pub id: i64,
    pub customer: String,
    pub step: String,
    pub channel: String,
    pub status: String,
    pub planned_on: String,
    pub due_on: String,
    pub invoices: Vec<String>,
    pub amount: Money,
    pub reason: String,
    pub sent_at: Option<String>,
}

/// Filters of the API's lists; empty means "any".
#[derive(Debug, Clone, Default)]
pub struct ApiFilter {
    pub customer: String,
    pub status: String,
    pub open_only: bool,
}

/// A response kept for an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub request_hash: String,
    pub status: u16,
    pub body: String,
}

fn fetch_limit(limit: u32) -> i64 {
    i64::from(limit.clamp(1, 500)) + 1
}

enum Arg {
    Int(i64),
    Text(String),
}

/// A statement built from the clauses in use, so that a filter on one customer goes through
/// that customer's index instead of a scan of the creditor's rows in id order.
struct Statement {
    sql: String,
    args: Vec<Arg>,
}

impl Statement {
    fn new(sql: &str, creditor: CreditorId) -> Statement {
        Statement {
            sql: sql.to_string(),
            args: vec![Arg::Int(creditor.0)],
        }
    }

    /// Appends `clause` with `?` standing for the new argument's placeholder.
    fn and(&mut self, clause: &str, arg: Arg) {
        self.args.push(arg);
        let placeholder = format!("${}", self.args.len());
        self.sql.push_str(" AND ");
        self.sql.push_str(&clause.replace('?', &placeholder));
    }

    fn tail(&mut self, order: &str, limit: u32) {
        self.args.push(Arg::Int(fetch_limit(limit)));
        self.sql
            .push_str(&format!(" ORDER BY {order} LIMIT ${}", self.args.len()));
    }

    async fn fetch(self, pool: &sqlx::AnyPool) -> Result<Vec<sqlx::any::AnyRow>> {
        let mut q = sqlx::query(&self.sql);
        for arg in self.args {
            q = match arg {
                Arg::Int(i) => q.bind(i),
                Arg::Text(t) => q.bind(t),
            };
        }
        Ok(q.fetch_all(pool).await?)
    }
}

/// Whom a list is filtered to.
enum Scope {
    All,
    Customer(i64),
    /// A customer code the creditor does not have: an empty page.
    Nobody,
}

impl Store {
    async fn scope(&self, creditor: CreditorId, filter: &ApiFilter) -> Result<Scope> {
        if filter.customer.is_empty() {
            return Ok(Scope::All);
        }
        let id: Option<i64> =
            sqlx::query_scalar("SELECT id FROM customers WHERE creditor_id = $1 AND code = $2")
                .bind(creditor.0)
                .bind(&filter.customer)
                .fetch_optional(&self.pool)
                .await?;
        Ok(id.map_or(Scope::Nobody, Scope::Customer))
    }

    /// Invoices and credit notes by id, after the id `after`.
    pub async fn invoice_page(
        &self,
        creditor: CreditorId,
        after: i64,
        limit: u32,
        filter: &ApiFilter,
    ) -> Result<KeysetPage<InvoiceRow>> {
        let customer = match self.scope(creditor, filter).await? {
            Scope::Nobody => return Ok(KeysetPage::cut(Vec::new(), limit)),
            Scope::Customer(id) => Some(id),
            Scope::All => None,
        };
        let mut st = Statement::new(
            &format!(
                "SELECT {ITEM_COLUMNS}, c.code AS customer_code FROM items i \
                 JOIN customers c ON c.id = i.customer_id WHERE i.creditor_id = $1"
            ),
            creditor,
        );
        st.and("i.id > ?", Arg::Int(after));
        if let Some(id) = customer {
            st.and("i.customer_id = ?", Arg::Int(id));
            // One customer's rows are few: read them through `items_customer` and sort them,
            // rather than walk the creditor's rows in id order (the unary plus keeps SQLite
            // from choosing `items_creditor_id`; PostgreSQL plans it the same either way).
            st.sql = st
                .sql
                .replacen("WHERE i.creditor_id", "WHERE +i.creditor_id", 1);
        }
        if filter.open_only {
            st.sql.push_str(" AND i.open_minor <> 0");
        }
        st.tail("i.id", limit);
        let rows = st.fetch(&self.pool).await?;
        let rows = rows
            .iter()
            .map(|r| {
                Ok(InvoiceRow {
                    item: item_from_row(r)?,
                    customer: r.try_get("customer_code")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(KeysetPage::cut(rows, limit))
    }

    /// Payments by id, after the id `after`.
    pub async fn payment_page(
        &self,
        creditor: CreditorId,
        after: i64,
        limit: u32,
        filter: &ApiFilter,
    ) -> Result<KeysetPage<PaymentRow>> {
        let customer = match self.scope(creditor, filter).await? {
            Scope::Nobody => return Ok(KeysetPage::cut(Vec::new(), limit)),
            Scope::Customer(id) => Some(id),
            Scope::All => None,
        };
        let mut st = Statement::new(
            "SELECT p.id, c.code, p.received_on, p.currency, p.amount_minor, p.unallocated_minor, \
             p.reference, p.invoice_number, p.bank_reference, p.source FROM payments p \
             LEFT JOIN customers c ON c.id = p.customer_id WHERE p.creditor_id = $1",
            creditor,
        );
        st.and("p.id > ?", Arg::Int(after));
        if let Some(id) = customer {
            st.and("p.customer_id = ?", Arg::Int(id));
            // Through `payments_customer`, as for invoices.
            st.sql = st
                .sql
                .replacen("WHERE p.creditor_id", "WHERE +p.creditor_id", 1);
        }
        st.tail("p.id", limit);
        let rows = st.fetch(&self.pool).await?;
        let rows = rows
            .iter()
            .map(|r| {
                let currency = Currency::parse(&r.try_get::<String, _>("currency")?)?;
                Ok(PaymentRow {
                    id: r.try_get("id")?,
                    customer: r.try_get("code")?,
                    received_on: r.try_get("received_on")?,
                    amount: money(r, "amount_minor", currency)?,
                    unallocated: money(r, "unallocated_minor", currency)?,
                    reference: r.try_get("reference")?,
                    invoice_number: r.try_get("invoice_number")?,
                    bank_reference: r.try_get("bank_reference")?,
                    source: r.try_get("source")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(KeysetPage::cut(rows, limit))
    }

    /// Cases by customer code, after the code `after`.
    pub async fn case_page(
        &self,
        creditor: CreditorId,
        after: &str,
        limit: u32,
        filter: &ApiFilter,
    ) -> Result<KeysetPage<CaseRow>> {
        let rows = sqlx::query(
            "SELECT c.code, c.name, k.status, k.cycle, k.last_step, k.next_action_on, k.state \
             FROM cases k JOIN customers c ON c.id = k.customer_id \
             WHERE k.creditor_id = $1 AND c.code > $2 AND ($3 = '' OR c.code = $3) \
             AND ($4 = '' OR k.status = $4) ORDER BY c.code LIMIT $5",
        )
        .bind(creditor.0)
        .bind(after)
        .bind(&filter.customer)
        .bind(&filter.status)
        .bind(fetch_limit(limit))
        .fetch_all(&self.pool)
        .await?;
        let rows = rows
            .iter()
            .map(|r| {
                let state: String = r.try_get("state")?;
                let memory: CaseMemoryView = serde_json::from_str(&state).unwrap_or_default();
                let next: Option<String> = r.try_get("next_action_on")?;
                Ok(CaseRow {
                    customer: r.try_get("code")?,
                    customer_name: r.try_get("name")?,
                    status: r.try_get("status")?,
                    cycle: r.try_get("cycle")?,
                    last_step: r.try_get("last_step")?,
                    next_action_on: next.map(|n| {
                        if n == crate::cases::PENDING {
                            "pending".into()
                        } else {
                            n
                        }
                    }),
                    promise: memory.promise,
                    holds: memory.holds,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(KeysetPage::cut(rows, limit))
    }

    /// Outbox actions by id, after the id `after`.
    pub async fn action_page(
        &self,
        creditor: CreditorId,
        after: i64,
        limit: u32,
        filter: &ApiFilter,
    ) -> Result<KeysetPage<ActionLine>> {
        let customer = match self.scope(creditor, filter).await? {
            Scope::Nobody => return Ok(KeysetPage::cut(Vec::new(), limit)),
            Scope::Customer(id) => Some(id),
            Scope::All => None,
        };
        let mut st = Statement::new(
            "SELECT a.id, c.code, a.step, a.channel, a.status, a.planned_on, a.due_on, a.invoices, \
             a.amount_minor, a.currency, a.reason, a.sent_at FROM actions a \
             JOIN customers c ON c.id = a.customer_id WHERE a.creditor_id = $1",
            creditor,
        );
        st.and("a.id > ?", Arg::Int(after));
        if let Some(id) = customer {
            st.and("a.customer_id = ?", Arg::Int(id));
        }
        if !filter.status.is_empty() {
            st.and("a.status = ?", Arg::Text(filter.status.clone()));
        }
        st.tail("a.id", limit);
        let rows = st.fetch(&self.pool).await?;
        let rows = rows
            .iter()
            .map(|r| {
                let currency = Currency::parse(&r.try_get::<String, _>("currency")?)?;
                let invoices: String = r.try_get("invoices")?;
                Ok(ActionLine {
                    id: r.try_get("id")?,
                    customer: r.try_get("code")?,
                    step: r.try_get("step")?,
                    channel: r.try_get("channel")?,
                    status: r.try_get("status")?,
                    planned_on: r.try_get("planned_on")?,
                    due_on: r.try_get("due_on")?,
                    invoices: serde_json::from_str(&invoices)
                        .map_err(|e| StoreError::Corrupt(format!("action invoices: {e}")))?,
                    amount: money(r, "amount_minor", currency)?,
                    reason: r.try_get("reason")?,
                    sent_at: r.try_get("sent_at")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(KeysetPage::cut(rows, limit))
    }

    /// Timeline events, newest first, before the id `before` (0: from the newest).
    pub async fn event_page(
        &self,
        creditor: CreditorId,
        before: i64,
        limit: u32,
        filter: &ApiFilter,
    ) -> Result<KeysetPage<EventRecord>> {
        let customer = match self.scope(creditor, filter).await? {
            Scope::Nobody => return Ok(KeysetPage::cut(Vec::new(), limit)),
            Scope::Customer(id) => Some(id),
            Scope::All => None,
        };
        let mut st = Statement::new(
            "SELECT e.id, c.code AS customer_code, i.number AS item_number, e.kind, e.occurred_on, \
             e.recorded_at, e.summary, e.data FROM events e LEFT JOIN customers c ON c.id = e.customer_id \
             LEFT JOIN items i ON i.id = e.item_id WHERE e.creditor_id = $1",
            creditor,
        );
        if before > 0 {
            st.and("e.id < ?", Arg::Int(before));
        }
        if let Some(id) = customer {
            st.and("e.customer_id = ?", Arg::Int(id));
        }
        st.tail("e.id DESC", limit);
        let rows = st.fetch(&self.pool).await?;
        let rows = rows
            .iter()
            .map(event_from_row)
            .collect::<Result<Vec<_>>>()?;
        Ok(KeysetPage::cut(rows, limit))
    }

    /// Reserves `user`'s idempotency key for a request whose fingerprint is `request_hash`
    /// (status 0: running). `None` when it is now ours; else what the key already holds (its
    /// fingerprint, and its status and body once answered). The primary key is the guard: two
    /// concurrent requests cannot both reserve it.
    pub async fn reserve_idempotency_key(
        &self,
        user: i64,
        key: &str,
        request_hash: &str,
    ) -> Result<Option<StoredResponse>> {
        let done = sqlx::query(
            "INSERT INTO api_idempotency (user_id, idempotency_key, request_hash, status, body, created_at) \
             VALUES ($1, $2, $3, 0, '', $4) ON CONFLICT (user_id, idempotency_key) DO NOTHING",
        )
        .bind(user)
        .bind(key)
        .bind(request_hash)
        .bind(now_text())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 1 {
            return Ok(None);
        }
        let row = sqlx::query(
            "SELECT request_hash, status, body FROM api_idempotency WHERE user_id = $1 AND idempotency_key = $2",
        )
        .bind(user)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            let status: i64 = r.try_get("status")?;
            Ok(StoredResponse {
                request_hash: r.try_get("request_hash")?,
                status: u16::try_from(status)
                    .map_err(|_| StoreError::Corrupt(format!("idempotent status {status}")))?,
                body: r.try_get("body")?,
            })
        })
        .transpose()
    }

    /// Keeps the answer to the request that reserved the key.
    pub async fn complete_idempotency_key(
        &self,
        user: i64,
        key: &str,
        response: &StoredResponse,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE api_idempotency SET status = $1, body = $2 WHERE user_id = $3 AND idempotency_key = $4 \
             AND request_hash = $5",
        )
        .bind(i64::from(response.status))
        .bind(&response.body)
        .bind(user)
        .bind(key)
        .bind(&response.request_hash)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Frees a key whose request failed on the server's side, so that a retry runs again.
    pub async fn release_idempotency_key(&self, user: i64, key: &str) -> Result<()> {
        sqlx::query(
            "DELETE FROM api_idempotency WHERE user_id = $1 AND idempotency_key = $2 AND status = 0",
        )
        .bind(user)
        .bind(key)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
