//! Read models of the web pages: the dashboard's figures, the customer list with keyset
//! pagination, a customer's open items, timeline and case, an invoice with its allocations.
//!
//! Every query is scoped by creditor and, where it reads one customer, goes through that
//! customer's id so that the indexes `items_customer` and `events_customer` serve it.

use chrono::{Days, NaiveDate};
use relance_core::ids::{CreditorId, CustomerId, ItemId};
use relance_core::money::{Currency, Money};
use relance_core::planner::{Hold, PromiseToPay};
use sqlx::Row;

use crate::customers::{customer_from_row, CustomerRecord, CUSTOMER_COLUMNS};
use crate::error::Result;
use crate::events::{append, EventRecord, NewEvent};
use crate::{Backend, Store};

/// The aged balance of a whole creditor in one currency, in minor units: the column totals of
/// `relance report aging` (credits included the same way).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AgingTotals {
    pub currency: Currency,
    pub buckets: [i64; 5],
    pub open_invoices: i64,
    pub overdue_invoices: i64,
}

/// A stamp that changes whenever the ledger may have changed: the newest item, allocation and
/// timeline entry (every change to an open amount adds one of them: a new invoice, a payment or
/// credit allocated, an invoice changed by a re-import, a dispute). Three index look-ups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LedgerStamp(pub i64, pub i64, pub i64);

/// A part of the data with its own revision counter (migration 0030).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataPart {
    /// Items, allocations and payments: open amounts, the aged balance, the DSO.
    Ledger = 1,
    /// Actions: the outbox and the actions due.
    Outbox = 2,
    /// Cases, whose state keeps the promises to pay.
    Cases = 3,
    Disputes = 4,
    /// Customers (their names show beside actions, promises and disputes).
    Customers = 5,
}

/// The data revision: counters that move with every committed write to the tables the
/// dashboard reads, one per [`DataPart`], moved by triggers (migration 0030) so that writes
/// from any connection or process count. A cache of figures keeps a result with the revision
/// read before computing it, and serves it again only while the counters of the parts it is
/// made of are the same. One small read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DataRevision([i64; 5]);

impl DataRevision {
    /// The counter of `part`.
    pub fn of(&self, part: DataPart) -> i64 {
        self.0[part as usize - 1]
    }

    /// The counters of `parts` only, the others zero: what a figure made of them depends on.
    pub fn only(&self, parts: &[DataPart]) -> DataRevision {
        let mut out = DataRevision::default();
        for part in parts {
            out.0[*part as usize - 1] = self.of(*part);
        }
        out
    }
}

impl Store {
    /// The current [`LedgerStamp`], for caches of aggregates over the ledger.
    pub async fn ledger_stamp(&self) -> Result<LedgerStamp> {
        let row = sqlx::query(
            "SELECT (SELECT COALESCE(MAX(id), 0) FROM items) AS i, \
             (SELECT COALESCE(MAX(id), 0) FROM allocations) AS a, \
             (SELECT COALESCE(MAX(id), 0) FROM events) AS e",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(LedgerStamp(
            row.try_get::<i64, _>("i")?,
            row.try_get::<i64, _>("a")?,
            row.try_get::<i64, _>("e")?,
        ))
    }

    /// The current [`DataRevision`].
    pub async fn data_revision(&self) -> Result<DataRevision> {
        let rows = sqlx::query("SELECT id, n FROM data_revision")
            .fetch_all(&self.pool)
            .await?;
        let mut out = DataRevision::default();
        for row in &rows {
            let id: i64 = row.try_get("id")?;
            if let Some(slot) = usize::try_from(id - 1).ok().and_then(|i| out.0.get_mut(i)) {
                *slot = row.try_get("n")?;
            }
        }
        Ok(out)
    }
}

impl AgingTotals {
    pub fn total(&self) -> i64 {
        self.buckets.iter().sum()
    }
    pub fn overdue(&self) -> i64 {
        self.buckets[1..].iter().sum()
    }
}

/// An outbox action due, for the dashboard.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DueAction {
    pub customer: String,
    pub customer_name: String,
    pub step: String,
    pub channel: String,
    pub status: String,
    pub due_on: String,
    pub amount: Money,
}

/// A promise to pay kept by a case.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PromiseLine {
    pub customer: String,
    pub customer_name: String,
    pub made_on: NaiveDate,
    pub promised_for: NaiveDate,
    pub amount: Money,
}

/// An open dispute.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DisputeLine {
    pub customer: String,
    pub customer_name: String,
    pub item_id: i64,
    pub invoice: String,
    pub opened_on: String,
    pub reason: String,
    pub open_amount: Money,
}

/// How the customer list is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CustomerSort {
    #[default]
    Code,
    Name,
}

/// A page request of the customer list. `after` is the cursor of the last row of the previous
/// page (see [`CustomerRow::cursor`]).
#[derive(Debug, Clone, Default)]
pub struct CustomerQuery {
    pub search: String,
    pub overdue_only: bool,
    pub sort: CustomerSort,
    pub descending: bool,
    pub after: Option<String>,
    pub limit: u32,
    pub as_of: Option<NaiveDate>,
}

/// A row of the customer list, with open and overdue amounts per currency.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CustomerRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub balances: Vec<Balance>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Balance {
    pub open: Money,
    pub overdue: Money,
}

/// One page of customers and the cursor of the next one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CustomerPage {
    pub rows: Vec<CustomerRow>,
    pub next: Option<String>,
}

impl CustomerRow {
    /// The keyset cursor after this row for `sort`: the code, or the name and id.
    pub fn cursor(&self, sort: CustomerSort) -> String {
        match sort {
            CustomerSort::Code => self.code.clone(),
            CustomerSort::Name => format!("{}\u{1f}{}", self.id, self.name),
        }
    }
}

/// An invoice or credit note of a customer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ItemLine {
    pub id: i64,
    pub number: String,
    pub kind: String,
    pub issue_date: String,
    pub due_date: String,
    pub total: Money,
    pub settled: Money,
    pub open: Money,
    pub disputed: bool,
}

/// What the customer page shows of the case.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CaseSummary {
    pub status: String,
    pub cycle: i64,
    pub last_step: Option<String>,
    pub next_action_on: Option<String>,
    pub promise: Option<PromiseToPay>,
    pub holds: Vec<Hold>,
}

/// A payment or credit note lettered against an invoice.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AllocationLine {
    pub allocated_on: String,
    pub amount: Money,
    pub source: String,
}

/// An invoice with its customer, allocations, disputes and events.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct InvoiceDetail {
    pub item: ItemLine,
    pub customer: CustomerRecord,
    pub allocations: Vec<AllocationLine>,
    pub disputes: Vec<DisputeLine>,
    pub events: Vec<EventRecord>,
}

#[derive(serde::Deserialize, Default)]
pub(crate) struct CaseMemoryView {
    #[serde(default)]
    pub(crate) promise: Option<PromiseToPay>,
    #[serde(default)]
    pub(crate) holds: Vec<Hold>,
}

pub(crate) fn money(row: &sqlx::any::AnyRow, col: &str, currency: Currency) -> Result<Money> {
    Ok(Money::from_minor(row.try_get(col)?, currency))
}

pub(crate) fn item_from_row(row: &sqlx::any::AnyRow) -> Result<ItemLine> {
    let currency = Currency::parse(&row.try_get::<String, _>("currency")?)?;
    Ok(ItemLine {
        id: row.try_get("id")?,
        number: row.try_get("number")?,
        kind: row.try_get("kind")?,
        issue_date: row.try_get("issue_date")?,
        due_date: row.try_get("due_date")?,
        total: money(row, "total_minor", currency)?,
        settled: money(row, "settled_minor", currency)?,
        open: money(row, "open_minor", currency)?,
        disputed: row.try_get::<i64, _>("disputed")? != 0,
    })
}

pub(crate) const ITEM_COLUMNS: &str = "i.id, i.number, i.kind, i.issue_date, i.due_date, i.currency, i.total_minor, \
     i.paid_outside_minor + i.allocated_minor AS settled_minor, i.open_minor, \
     CAST(CASE WHEN EXISTS (SELECT 1 FROM disputes d WHERE d.creditor_id = i.creditor_id AND d.item_id = i.id \
     AND d.resolved_on IS NULL) THEN 1 ELSE 0 END AS BIGINT) AS disputed";

pub(crate) fn event_from_row(row: &sqlx::any::AnyRow) -> Result<EventRecord> {
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
}

impl Store {
    /// Column totals of the aged balance on `as_of`, per currency, with the number of open and
    /// overdue invoices. Equal to the sums of [`Store::aging`]'s lines, in one pass.
    pub async fn aging_totals(
        &self,
        creditor: CreditorId,
        as_of: NaiveDate,
    ) -> Result<Vec<AgingTotals>> {
        let back = |days: u64| {
            as_of
                .checked_sub_days(Days::new(days))
                .unwrap_or(as_of)
                .to_string()
        };
        let rows = sqlx::query(
            "SELECT i.currency, \
             CAST(SUM(CASE WHEN i.due_date >= $2 THEN i.open_minor ELSE 0 END) AS BIGINT) AS b0, \
             CAST(SUM(CASE WHEN i.due_date < $2 AND i.due_date >= $3 THEN i.open_minor ELSE 0 END) AS BIGINT) AS b1, \
             CAST(SUM(CASE WHEN i.due_date < $3 AND i.due_date >= $4 THEN i.open_minor ELSE 0 END) AS BIGINT) AS b2, \
             CAST(SUM(CASE WHEN i.due_date < $4 AND i.due_date >= $5 THEN i.open_minor ELSE 0 END) AS BIGINT) AS b3, \
             CAST(SUM(CASE WHEN i.due_date < $5 THEN i.open_minor ELSE 0 END) AS BIGINT) AS b4, \
             CAST(SUM(CASE WHEN i.kind = 'invoice' AND i.open_minor > 0 THEN 1 ELSE 0 END) AS BIGINT) AS open_n, \
             CAST(SUM(CASE WHEN i.kind = 'invoice' AND i.open_minor > 0 AND i.due_date < $2 THEN 1 ELSE 0 END) AS BIGINT) AS overdue_n \
             FROM items i WHERE i.creditor_id = $1 AND i.open_minor <> 0 \
             GROUP BY i.currency ORDER BY i.currency",
        )
        .bind(creditor.0)
        .bind(as_of.to_string())
        .bind(back(30))
        .bind(back(60))
        .bind(back(90))
        .fetch_all(&self.pool)
        .await?;
        // Unallocated payments of customers who have open items in that currency lower the
        // not-yet-due column, as in the per-customer aged balance. The unary plus keeps SQLite
        // from probing `items_open_aging` (all the creditor's open items) for each payment:
        // through `items_customer` it is 0.1 s instead of 21 s on 100,000 invoices.
        let credits = sqlx::query(
            "SELECT p.currency, CAST(SUM(p.unallocated_minor) AS BIGINT) AS credit FROM payments p \
             WHERE p.creditor_id = $1 AND p.unallocated_minor > 0 AND EXISTS (SELECT 1 FROM items i \
             WHERE i.customer_id = p.customer_id AND +i.creditor_id = p.creditor_id AND i.currency = p.currency \
             AND i.open_minor <> 0) GROUP BY p.currency",
        )
        .bind(creditor.0)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut buckets = [0i64; 5];
            for (i, b) in buckets.iter_mut().enumerate() {
                *b = row.try_get(format!("b{i}").as_str())?;
            }
            out.push(AgingTotals {
                currency: Currency::parse(&row.try_get::<String, _>("currency")?)?,
                buckets,
                open_invoices: row.try_get("open_n")?,
                overdue_invoices: row.try_get("overdue_n")?,
            });
        }
        for row in &credits {
            let currency = Currency::parse(&row.try_get::<String, _>("currency")?)?;
            let credit: i64 = row.try_get("credit")?;
            if let Some(t) = out.iter_mut().find(|t| t.currency == currency) {
                t.buckets[0] -= credit;
            }
        }
        Ok(out)
    }

    /// Outbox actions not yet sent whose due day is on or before `day`, oldest first.
    pub async fn due_actions(
        &self,
        creditor: CreditorId,
        day: NaiveDate,
        limit: u32,
    ) -> Result<Vec<DueAction>> {
        let rows = sqlx::query(
            "SELECT c.code, c.name, a.step, a.channel, a.status, a.due_on, a.amount_minor, a.currency \
             FROM actions a JOIN customers c ON c.id = a.customer_id \
             WHERE a.creditor_id = $1 AND a.status IN ('planned', 'rendered') AND a.due_on <= $2 \
             ORDER BY a.due_on, a.id LIMIT $3",
        )
        .bind(creditor.0)
        .bind(day.to_string())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let currency = Currency::parse(&row.try_get::<String, _>("currency")?)?;
                Ok(DueAction {
                    customer: row.try_get("code")?,
                    customer_name: row.try_get("name")?,
                    step: row.try_get("step")?,
                    channel: row.try_get("channel")?,
                    status: row.try_get("status")?,
                    due_on: row.try_get("due_on")?,
                    amount: money(row, "amount_minor", currency)?,
                })
            })
            .collect()
    }

    /// Promises to pay whose date falls in `from..=to`, by date.
    pub async fn promises_between(
        &self,
        creditor: CreditorId,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<PromiseLine>> {
        let rows = sqlx::query(
            "SELECT c.code, c.name, k.state FROM cases k JOIN customers c ON c.id = k.customer_id \
             WHERE k.creditor_id = $1 AND k.state LIKE '%\"promise\"%'",
        )
        .bind(creditor.0)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for row in &rows {
            let state: String = row.try_get("state")?;
            let memory: CaseMemoryView = serde_json::from_str(&state).unwrap_or_default();
            if let Some(p) = memory.promise {
                if p.promised_for >= from && p.promised_for <= to {
                    out.push(PromiseLine {
                        customer: row.try_get("code")?,
                        customer_name: row.try_get("name")?,
                        made_on: p.made_on,
                        promised_for: p.promised_for,
                        amount: p.amount,
                    });
                }
            }
        }
        out.sort_by(|a, b| (a.promised_for, &a.customer).cmp(&(b.promised_for, &b.customer)));
        Ok(out)
    }

    /// Open disputes, oldest first, and how many there are in all.
    pub async fn open_disputes(
        &self,
        creditor: CreditorId,
        limit: u32,
    ) -> Result<(Vec<DisputeLine>, i64)> {
        let count: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM disputes WHERE creditor_id = $1 AND resolved_on IS NULL",
        )
        .bind(creditor.0)
        .fetch_one(&self.pool)
        .await?;
        let rows = sqlx::query(
            "SELECT c.code, c.name, i.id AS item_id, i.number, i.currency, i.open_minor, d.opened_on, d.reason \
             FROM disputes d JOIN items i ON i.id = d.item_id JOIN customers c ON c.id = d.customer_id \
             WHERE d.creditor_id = $1 AND d.resolved_on IS NULL ORDER BY d.opened_on, d.id LIMIT $2",
        )
        .bind(creditor.0)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let lines = rows.iter().map(dispute_from_row).collect::<Result<_>>()?;
        Ok((lines, count))
    }

    /// A page of customers: filtered, sorted and cut with a keyset cursor, so that a page costs
    /// the same at the end of 200,000 customers as at the start.
    pub async fn customer_page(
        &self,
        creditor: CreditorId,
        query: &CustomerQuery,
    ) -> Result<CustomerPage> {
        let limit = query.limit.clamp(1, 500);
        let as_of = query
            .as_of
            .map(|d| d.to_string())
            .unwrap_or_else(|| "9999-12-31".into());
        let words = search_words(&query.search);
        let (cmp, dir) = if query.descending {
            ("<", "DESC")
        } else {
            (">", "ASC")
        };
        let (after_key, after_id) = match (&query.after, query.sort) {
            (None, _) => (None, 0i64),
            (Some(a), CustomerSort::Code) => (Some(a.clone()), 0),
            (Some(a), CustomerSort::Name) => match a.split_once('\u{1f}') {
                Some((id, name)) => (Some(name.to_string()), id.parse().unwrap_or(0)),
                None => (Some(a.clone()), 0),
            },
        };
        // Only the clauses in use go into the statement, so that the index on (creditor, code)
        // or (creditor, name, id) seeks straight to the cursor instead of scanning up to it.
        enum Arg {
            Text(String),
            Int(i64),
        }
        let mut args = vec![Arg::Int(creditor.0)];
        let mut sql =
            // Suppliers' party rows (`supplier:CODE`, kept for their outbox and timeline) are
            // not customers.
            "SELECT c.id, c.code, c.name, c.kind FROM customers c WHERE c.creditor_id = $1 \
             AND c.code NOT LIKE 'supplier:%'"
                .to_string();
        if !words.is_empty() {
            match self.backend() {
                // The full-text index (migration 0024): every word a prefix of a word of the
                // name, code, SIREN or an e-mail address, accents and case folded.
                Backend::Sqlite => {
                    let expr: Vec<String> = words.iter().map(|w| format!("\"{w}\"*")).collect();
                    let expr = expr.join(" ");
                    // Few matches (up to FEW_MATCHES): their ids, listed in the statement, so
                    // that SQLite fetches them by id and sorts them. Many (`durand` among
                    // 200,000): walk the sort's index from the cursor and keep the matching
                    // rows (the unary plus keeps SQLite from the first plan), which finds a
                    // page after a few hundred rows instead of sorting 50,000.
                    let ids: Vec<i64> = sqlx::query_scalar(&format!(
                        "SELECT rowid FROM customers_fts WHERE customers_fts MATCH $1 LIMIT {}",
                        FEW_MATCHES + 1
                    ))
                    .bind(&expr)
                    .fetch_all(&self.pool)
                    .await?;
                    if ids.is_empty() {
                        return Ok(CustomerPage {
                            rows: Vec::new(),
                            next: None,
                        });
                    }
                    if ids.len() <= FEW_MATCHES {
                        // Integers from the index: listed inline.
                        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
                        sql.push_str(&format!(" AND c.id IN ({})", list.join(",")));
                    } else {
                        args.push(Arg::Text(expr));
                        let n = args.len();
                        sql.push_str(&format!(
                            " AND +c.id IN (SELECT rowid FROM customers_fts WHERE customers_fts MATCH ${n})"
                        ));
                    }
                }
                // The same rule over the trigram index: the folded text holds " word".
                Backend::Postgres => {
                    for w in &words {
                        args.push(Arg::Text(w.clone()));
                        let n = args.len();
                        sql.push_str(&format!(
                            " AND relance_customer_search(c.name, c.code, c.siren, c.emails) \
                             LIKE ('%' || rtrim(relance_search_fold(${n})) || '%')"
                        ));
                    }
                }
            }
        }
        if query.overdue_only {
            args.push(Arg::Text(as_of.clone()));
            let n = args.len();
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM items i WHERE i.customer_id = c.id AND i.kind = 'invoice' \
                 AND i.open_minor > 0 AND i.due_date < ${n})"
            ));
        }
        if let Some(key) = after_key {
            args.push(Arg::Text(key));
            let k = args.len();
            match query.sort {
                CustomerSort::Code => sql.push_str(&format!(" AND c.code {cmp} ${k}")),
                CustomerSort::Name => {
                    args.push(Arg::Int(after_id));
                    let i = args.len();
                    sql.push_str(&format!(
                        " AND (c.name {cmp} ${k} OR (c.name = ${k} AND c.id {cmp} ${i}))"
                    ));
                }
            }
        }
        args.push(Arg::Int(i64::from(limit) + 1));
        let n = args.len();
        match query.sort {
            CustomerSort::Code => sql.push_str(&format!(" ORDER BY c.code {dir} LIMIT ${n}")),
            CustomerSort::Name => {
                sql.push_str(&format!(" ORDER BY c.name {dir}, c.id {dir} LIMIT ${n}"))
            }
        }
        let mut q = sqlx::query(&sql);
        for arg in args {
            q = match arg {
                Arg::Text(t) => q.bind(t),
                Arg::Int(i) => q.bind(i),
            };
        }
        let rows = q.fetch_all(&self.pool).await?;
        let mut customers = Vec::with_capacity(rows.len());
        for row in &rows {
            customers.push(CustomerRow {
                id: row.try_get("id")?,
                code: row.try_get("code")?,
                name: row.try_get("name")?,
                kind: row.try_get("kind")?,
                balances: Vec::new(),
            });
        }
        let more = customers.len() > limit as usize;
        customers.truncate(limit as usize);
        if !customers.is_empty() {
            // The ids come from the query above (integers): listed inline, the statement keeps
            // one placeholder style.
            let ids: Vec<String> = customers.iter().map(|c| c.id.to_string()).collect();
            let sums = sqlx::query(&format!(
                "SELECT i.customer_id, i.currency, CAST(SUM(i.open_minor) AS BIGINT) AS open_minor, \
                 CAST(SUM(CASE WHEN i.due_date < $2 AND i.kind = 'invoice' AND i.open_minor > 0 THEN i.open_minor ELSE 0 END) AS BIGINT) AS overdue_minor \
                 FROM items i WHERE i.creditor_id = $1 AND i.open_minor <> 0 AND i.customer_id IN ({}) \
                 GROUP BY i.customer_id, i.currency ORDER BY i.currency",
                ids.join(",")
            ))
            .bind(creditor.0)
            .bind(&as_of)
            .fetch_all(&self.pool)
            .await?;
            for row in &sums {
                let id: i64 = row.try_get("customer_id")?;
                let currency = Currency::parse(&row.try_get::<String, _>("currency")?)?;
                if let Some(c) = customers.iter_mut().find(|c| c.id == id) {
                    c.balances.push(Balance {
                        open: money(row, "open_minor", currency)?,
                        overdue: money(row, "overdue_minor", currency)?,
                    });
                }
            }
        }
        let next = if more {
            customers.last().map(|c| c.cursor(query.sort))
        } else {
            None
        };
        Ok(CustomerPage {
            rows: customers,
            next,
        })
    }

    /// A customer's invoices and credit notes with an open amount (all of them with `all`), by
    /// due date.
    pub async fn customer_items(
        &self,
        creditor: CreditorId,
        customer: CustomerId,
        all: bool,
    ) -> Result<Vec<ItemLine>> {
        let rows = sqlx::query(&format!(
            "SELECT {ITEM_COLUMNS} FROM items i WHERE i.customer_id = $1 AND i.creditor_id = $2 \
             AND ($3 = 1 OR i.open_minor <> 0) ORDER BY i.due_date, i.number"
        ))
        .bind(customer.0)
        .bind(creditor.0)
        .bind(i64::from(all))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(item_from_row).collect()
    }

    /// A customer's whole timeline, newest first.
    pub async fn customer_timeline(
        &self,
        creditor: CreditorId,
        customer: CustomerId,
    ) -> Result<Vec<EventRecord>> {
        let rows = sqlx::query(
            "SELECT e.id, c.code AS customer_code, i.number AS item_number, e.kind, e.occurred_on, \
             e.recorded_at, e.summary, e.data FROM events e JOIN customers c ON c.id = e.customer_id \
             LEFT JOIN items i ON i.id = e.item_id \
             WHERE e.creditor_id = $1 AND e.customer_id = $2 ORDER BY e.occurred_on DESC, e.id DESC",
        )
        .bind(creditor.0)
        .bind(customer.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// The customer's case as the page shows it, if it has one.
    pub async fn case_summary(
        &self,
        creditor: CreditorId,
        customer: CustomerId,
    ) -> Result<Option<CaseSummary>> {
        let row = sqlx::query(
            "SELECT status, cycle, last_step, next_action_on, state FROM cases WHERE creditor_id = $1 AND customer_id = $2",
        )
        .bind(creditor.0)
        .bind(customer.0)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let state: String = row.try_get("state")?;
        let memory: CaseMemoryView = serde_json::from_str(&state).unwrap_or_default();
        let next: Option<String> = row.try_get("next_action_on")?;
        Ok(Some(CaseSummary {
            status: row.try_get("status")?,
            cycle: row.try_get("cycle")?,
            last_step: row.try_get("last_step")?,
            next_action_on: next.map(|n| {
                if n == crate::cases::PENDING {
                    "pending".into()
                } else {
                    n
                }
            }),
            promise: memory.promise,
            holds: memory.holds,
        }))
    }

    /// One invoice or credit note by id, with what the invoice page shows.
    pub async fn invoice_detail(
        &self,
        creditor: CreditorId,
        item: ItemId,
    ) -> Result<Option<InvoiceDetail>> {
        let row = sqlx::query(&format!(
            "SELECT {ITEM_COLUMNS}, i.customer_id FROM items i WHERE i.creditor_id = $1 AND i.id = $2"
        ))
        .bind(creditor.0)
        .bind(item.0)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let line = item_from_row(&row)?;
        let customer_id: i64 = row.try_get("customer_id")?;
        let customer = sqlx::query(&format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE creditor_id = $1 AND id = $2"
        ))
        .bind(creditor.0)
        .bind(customer_id)
        .fetch_one(&self.pool)
        .await?;
        let customer = customer_from_row(&customer)?;
        let currency = line.total.currency;
        let allocations = sqlx::query(
            "SELECT a.allocated_on, a.amount_minor, COALESCE(p.reference, n.number, '') AS source \
             FROM allocations a LEFT JOIN payments p ON p.id = a.payment_id \
             LEFT JOIN items n ON n.id = a.credit_note_id \
             WHERE a.creditor_id = $1 AND a.item_id = $2 ORDER BY a.allocated_on, a.id",
        )
        .bind(creditor.0)
        .bind(item.0)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(AllocationLine {
                allocated_on: r.try_get("allocated_on")?,
                amount: money(r, "amount_minor", currency)?,
                source: r.try_get("source")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let disputes = sqlx::query(
            "SELECT c.code, c.name, i.id AS item_id, i.number, i.currency, i.open_minor, d.opened_on, d.reason \
             FROM disputes d JOIN items i ON i.id = d.item_id JOIN customers c ON c.id = d.customer_id \
             WHERE d.creditor_id = $1 AND d.item_id = $2 ORDER BY d.opened_on, d.id",
        )
        .bind(creditor.0)
        .bind(item.0)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(dispute_from_row)
        .collect::<Result<Vec<_>>>()?;
        let events = sqlx::query(
            "SELECT e.id, c.code AS customer_code, i.number AS item_number, e.kind, e.occurred_on, \
             e.recorded_at, e.summary, e.data FROM events e JOIN customers c ON c.id = e.customer_id \
             JOIN items i ON i.id = e.item_id \
             WHERE e.creditor_id = $1 AND e.customer_id = $2 AND e.item_id = $3 ORDER BY e.occurred_on DESC, e.id DESC",
        )
        .bind(creditor.0)
        .bind(customer_id)
        .bind(item.0)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(event_from_row)
        .collect::<Result<Vec<_>>>()?;
        Ok(Some(InvoiceDetail {
            item: line,
            customer,
            allocations,
            disputes,
            events,
        }))
    }

    /// Appends a free-text note to a customer's timeline.
    pub async fn add_note(
        &self,
        creditor: CreditorId,
        customer: CustomerId,
        text: &str,
        author: &str,
        at: NaiveDate,
    ) -> Result<()> {
        append(
            &self.pool,
            &NewEvent {
                creditor,
                customer: Some(customer),
                item: None,
                kind: "note".into(),
                occurred_on: at,
                summary: text.to_string(),
                data: serde_json::json!({ "author": author }),
            },
        )
        .await
    }
}

/// Above this many full-text matches, a SQLite search walks the list's index instead of
/// sorting the matches.
const FEW_MATCHES: usize = 2000;

/// The words of a customer search: runs of letters and digits (what the full-text index calls
/// words), at most eight. A query of digits and spaces only is one word, so that a SIREN written
/// `552 100 554` finds `552100554`.
pub fn search_words(query: &str) -> Vec<String> {
    let query = query.trim();
    if !query.is_empty() && query.chars().all(|c| c.is_ascii_digit() || c == ' ') {
        return vec![query.replace(' ', "")];
    }
    query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(str::to_string)
        .collect()
}

fn dispute_from_row(row: &sqlx::any::AnyRow) -> Result<DisputeLine> {
    let currency = Currency::parse(&row.try_get::<String, _>("currency")?)?;
    Ok(DisputeLine {
        customer: row.try_get("code")?,
        customer_name: row.try_get("name")?,
        item_id: row.try_get("item_id")?,
        invoice: row.try_get("number")?,
        opened_on: row.try_get("opened_on")?,
        reason: row.try_get("reason")?,
        open_amount: money(row, "open_minor", currency)?,
    })
}
