//! A payment import's writes, buffered and written in a few set-based statements.
//!
//! A bank statement of 100,000 credits used to cost half a million single-row statements
//! (the payment, each allocation, each invoice's allocated amount, the timeline entry), and on
//! SQLite through sqlx each one is a round trip to the connection's worker thread. The import
//! now decides every allocation in memory, against the customers' open invoices loaded once
//! ([`OpenInvoices`]) and kept current as it allocates, and writes every few thousand payments
//! with one statement per table whose single parameter is a JSON array of rows (the technique of
//! `imports.rs`). Everything stays in the import's one transaction: all or nothing.

use std::collections::HashMap;

use relance_core::ids::{CreditorId, CustomerId, ItemId};
use relance_core::ledger::OpenInvoice;
use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use crate::db::now_text;
use crate::error::Result;
use crate::events::NewEvent;
use crate::imports::open_invoices;
use crate::Backend;

/// Payments buffered before a write.
pub(crate) const FLUSH_EVERY: usize = 2_000;

/// One `payments` row, in the column order of [`PendingWrites::flush`]'s statements.
#[derive(Debug, Serialize)]
pub(crate) struct PaymentRow {
    pub customer_id: Option<i64>,
    pub received_on: String,
    pub currency: String,
    pub amount_minor: i64,
    pub unallocated_minor: i64,
    pub reference: String,
    pub invoice_number: Option<String>,
    pub bank_reference: Option<String>,
    pub fingerprint: String,
    pub payer_name: Option<String>,
    pub payer_iban: Option<String>,
    /// `matched` or `unmatched`.
    pub status: &'static str,
    pub confidence: i64,
    pub match_reason: String,
    pub suggested_customer_id: Option<i64>,
}

impl PaymentRow {
    fn json(&self) -> serde_json::Value {
        serde_json::json!([
            self.customer_id,
            self.received_on,
            self.currency,
            self.amount_minor,
            self.unallocated_minor,
            self.reference,
            self.invoice_number,
            self.bank_reference,
            self.fingerprint,
            self.payer_name,
            self.payer_iban,
            self.status,
            self.confidence,
            self.match_reason,
            self.suggested_customer_id,
        ])
    }
}

/// What waits to be written; the payment's id is known only once its row is inserted, so
/// allocations and events name their payment by fingerprint (unique per creditor).
#[derive(Default)]
pub(crate) struct PendingWrites {
    payments: Vec<PaymentRow>,
    /// (payment fingerprint, invoice, amount in minor units, allocated on).
    allocations: Vec<(String, ItemId, i64, String)>,
    /// Timeline entries; `data.payment_id` is filled in from the fingerprint.
    events: Vec<(String, NewEvent)>,
}

impl PendingWrites {
    pub(crate) fn payment(&mut self, row: PaymentRow) {
        self.payments.push(row);
    }

    pub(crate) fn allocation(&mut self, fingerprint: &str, item: ItemId, minor: i64, on: String) {
        self.allocations
            .push((fingerprint.to_string(), item, minor, on));
    }

    pub(crate) fn event(&mut self, fingerprint: &str, event: NewEvent) {
        self.events.push((fingerprint.to_string(), event));
    }

    pub(crate) fn len(&self) -> usize {
        self.payments.len()
    }

    /// Writes everything buffered, in four statements (plus one per thousand events).
    pub(crate) async fn flush(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        backend: Backend,
        creditor: CreditorId,
        source: &str,
    ) -> Result<()> {
        if self.payments.is_empty() {
            return Ok(());
        }
        let ids = self.insert_payments(tx, backend, creditor, source).await?;
        self.insert_allocations(tx, backend, creditor, &ids).await?;
        let mut events = Vec::with_capacity(self.events.len());
        for (fingerprint, mut event) in self.events.drain(..) {
            if let (Some(id), Some(data)) = (ids.get(&fingerprint), event.data.as_object_mut()) {
                data.insert("payment_id".into(), serde_json::Value::from(*id));
            }
            events.push(event);
        }
        crate::events::append_many(tx, backend, &events).await?;
        self.payments.clear();
        self.allocations.clear();
        Ok(())
    }

    async fn insert_payments(
        &self,
        tx: &mut Transaction<'static, Any>,
        backend: Backend,
        creditor: CreditorId,
        source: &str,
    ) -> Result<HashMap<String, i64>> {
        let sql = match backend {
            Backend::Sqlite => {
                "INSERT INTO payments (creditor_id, customer_id, received_on, currency, amount_minor, unallocated_minor, \
                 reference, invoice_number, bank_reference, fingerprint, source, created_at, payer_name, payer_iban, \
                 status, confidence, match_reason, suggested_customer_id) \
                 SELECT ?1, r.value ->> 0, r.value ->> 1, r.value ->> 2, r.value ->> 3, r.value ->> 4, r.value ->> 5, \
                 r.value ->> 6, r.value ->> 7, r.value ->> 8, ?2, ?3, r.value ->> 9, r.value ->> 10, r.value ->> 11, \
                 r.value ->> 12, r.value ->> 13, r.value ->> 14 FROM json_each(?4) AS r \
                 RETURNING id, fingerprint"
            }
            Backend::Postgres => {
                "INSERT INTO payments (creditor_id, customer_id, received_on, currency, amount_minor, unallocated_minor, \
                 reference, invoice_number, bank_reference, fingerprint, source, created_at, payer_name, payer_iban, \
                 status, confidence, match_reason, suggested_customer_id) \
                 SELECT $1, CAST(r ->> 0 AS BIGINT), r ->> 1, r ->> 2, CAST(r ->> 3 AS BIGINT), CAST(r ->> 4 AS BIGINT), \
                 r ->> 5, r ->> 6, r ->> 7, r ->> 8, $2, $3, r ->> 9, r ->> 10, r ->> 11, CAST(r ->> 12 AS BIGINT), \
                 r ->> 13, CAST(r ->> 14 AS BIGINT) FROM json_array_elements(CAST($4 AS JSON)) AS r \
                 RETURNING id, fingerprint"
            }
        };
        let rows = serde_json::Value::Array(self.payments.iter().map(PaymentRow::json).collect());
        let returned = sqlx::query(sql)
            .bind(creditor.0)
            .bind(source)
            .bind(now_text())
            .bind(rows.to_string())
            .fetch_all(&mut **tx)
            .await?;
        let mut ids = HashMap::with_capacity(returned.len());
        for row in returned {
            ids.insert(row.try_get::<String, _>("fingerprint")?, row.try_get("id")?);
        }
        Ok(ids)
    }

    async fn insert_allocations(
        &self,
        tx: &mut Transaction<'static, Any>,
        backend: Backend,
        creditor: CreditorId,
        ids: &HashMap<String, i64>,
    ) -> Result<()> {
        if self.allocations.is_empty() {
            return Ok(());
        }
        let mut rows = Vec::with_capacity(self.allocations.len());
        // Several payments of one batch may settle the same invoice: one update per invoice.
        let mut per_item: HashMap<i64, i64> = HashMap::new();
        for (fingerprint, item, minor, on) in &self.allocations {
            let payment = ids.get(fingerprint).copied().ok_or_else(|| {
                crate::StoreError::Corrupt(format!("payment {fingerprint} was not written"))
            })?;
            rows.push(serde_json::json!([item.0, payment, minor, on]));
            *per_item.entry(item.0).or_insert(0) += minor;
        }
        let insert = match backend {
            Backend::Sqlite => {
                "INSERT INTO allocations (creditor_id, item_id, payment_id, credit_note_id, amount_minor, allocated_on, created_at) \
                 SELECT ?1, r.value ->> 0, r.value ->> 1, NULL, r.value ->> 2, r.value ->> 3, ?2 FROM json_each(?3) AS r"
            }
            Backend::Postgres => {
                "INSERT INTO allocations (creditor_id, item_id, payment_id, credit_note_id, amount_minor, allocated_on, created_at) \
                 SELECT $1, CAST(r ->> 0 AS BIGINT), CAST(r ->> 1 AS BIGINT), NULL, CAST(r ->> 2 AS BIGINT), r ->> 3, $2 \
                 FROM json_array_elements(CAST($3 AS JSON)) AS r"
            }
        };
        sqlx::query(insert)
            .bind(creditor.0)
            .bind(now_text())
            .bind(serde_json::Value::Array(rows).to_string())
            .execute(&mut **tx)
            .await?;
        let deltas = serde_json::Value::Array(
            per_item
                .into_iter()
                .map(|(item, minor)| serde_json::json!([item, minor]))
                .collect(),
        )
        .to_string();
        match backend {
            Backend::Sqlite => {
                // SQLite's planner may put json_each inside the loop over items (a million
                // parses of the batch); a keyed temporary table makes it one lookup per row.
                sqlx::query(
                    "CREATE TEMP TABLE IF NOT EXISTS allocation_deltas (item_id INTEGER PRIMARY KEY, amount INTEGER NOT NULL)",
                )
                .execute(&mut **tx)
                .await?;
                sqlx::query(
                    "INSERT INTO allocation_deltas (item_id, amount) SELECT r.value ->> 0, r.value ->> 1 FROM json_each(?1) AS r",
                )
                .bind(deltas)
                .execute(&mut **tx)
                .await?;
                sqlx::query(
                    "UPDATE items SET allocated_minor = allocated_minor + \
                     (SELECT d.amount FROM allocation_deltas AS d WHERE d.item_id = items.id), \
                     open_minor = open_minor - \
                     (SELECT d.amount FROM allocation_deltas AS d WHERE d.item_id = items.id) \
                     WHERE items.id IN (SELECT item_id FROM allocation_deltas) AND items.creditor_id = ?1",
                )
                .bind(creditor.0)
                .execute(&mut **tx)
                .await?;
                sqlx::query("DELETE FROM allocation_deltas")
                    .execute(&mut **tx)
                    .await?;
            }
            Backend::Postgres => {
                sqlx::query(
                    "UPDATE items SET allocated_minor = items.allocated_minor + d.amount \
                     FROM (SELECT CAST(r ->> 0 AS BIGINT) AS id, CAST(r ->> 1 AS BIGINT) AS amount \
                     FROM json_array_elements(CAST($2 AS JSON)) AS r) AS d \
                     WHERE items.id = d.id AND items.creditor_id = $1",
                )
                .bind(creditor.0)
                .bind(deltas)
                .execute(&mut **tx)
                .await?;
            }
        }
        Ok(())
    }
}

/// Customers' open invoices, loaded once per import and kept current as payments are allocated
/// in memory (the database learns of the allocations at the next flush).
#[derive(Default)]
pub(crate) struct OpenInvoices {
    by_customer: HashMap<CustomerId, Vec<OpenInvoice>>,
}

impl OpenInvoices {
    /// The customer's open invoices, oldest first, as the allocation rule wants them.
    pub(crate) async fn of(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        creditor: CreditorId,
        customer: CustomerId,
    ) -> Result<&[OpenInvoice]> {
        if let std::collections::hash_map::Entry::Vacant(entry) = self.by_customer.entry(customer) {
            entry.insert(open_invoices(tx, creditor, customer).await?);
        }
        Ok(self
            .by_customer
            .get(&customer)
            .map(Vec::as_slice)
            .unwrap_or_default())
    }

    /// Loads the open invoices of many customers at once (500 customers a query); customers
    /// already loaded are skipped, and a customer without open invoices is remembered as such.
    pub(crate) async fn preload(
        &mut self,
        tx: &mut Transaction<'static, Any>,
        backend: Backend,
        creditor: CreditorId,
        customers: &[CustomerId],
    ) -> Result<()> {
        let mut wanted: Vec<CustomerId> = customers
            .iter()
            .copied()
            .filter(|c| !self.by_customer.contains_key(c))
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let (aggregate, array, cast) = match backend {
            Backend::Sqlite => ("json_group_array", "json_array", ""),
            Backend::Postgres => ("json_agg", "json_build_array", "::text"),
        };
        for chunk in wanted.chunks(500) {
            // One JSON array per query, not a row per invoice (see `MatchIndex::load`).
            let sql = format!(
                "SELECT {aggregate}({array}(customer_id, id, number, issue_date, due_date, currency, open_minor)){cast} \
                 FROM items WHERE +creditor_id = {} AND customer_id IN ({}) AND kind = 'invoice' AND open_minor > 0",
                if backend == Backend::Sqlite { "?" } else { "$1" },
                crate::db::placeholder_list(backend, 2, chunk.len())
            );
            let mut query = sqlx::query_scalar::<_, Option<String>>(&sql).bind(creditor.0);
            for customer in chunk {
                query = query.bind(customer.0);
                self.by_customer.insert(*customer, Vec::new());
            }
            let text = query.fetch_one(&mut **tx).await?;
            type Row = (i64, i64, String, String, String, String, i64);
            let rows: Vec<Row> = crate::matching::parse_json(text.as_deref())?;
            for (customer, id, number, issue, due, currency, open) in rows {
                let currency = relance_core::money::Currency::parse(&currency)?;
                self.by_customer
                    .entry(CustomerId(customer))
                    .or_default()
                    .push(OpenInvoice {
                        id: ItemId(id),
                        number,
                        issue_date: crate::imports::parse_date(&issue)?,
                        due_date: crate::imports::parse_date(&due)?,
                        open: relance_core::money::Money::from_minor(open, currency),
                    });
            }
        }
        // Oldest first, as `open_invoices` orders them (an aggregate's order is not promised).
        for customer in &wanted {
            if let Some(list) = self.by_customer.get_mut(customer) {
                list.sort_by(|a, b| {
                    (a.due_date, a.issue_date, &a.number).cmp(&(
                        b.due_date,
                        b.issue_date,
                        &b.number,
                    ))
                });
            }
        }
        Ok(())
    }

    /// Lowers the open amounts by what was just allocated; settled invoices leave the list.
    pub(crate) fn allocated(&mut self, customer: CustomerId, allocations: &[(ItemId, i64)]) {
        let Some(open) = self.by_customer.get_mut(&customer) else {
            return;
        };
        for (item, minor) in allocations {
            if let Some(invoice) = open.iter_mut().find(|i| i.id == *item) {
                let left = invoice.open.to_minor().unwrap_or(0) - minor;
                invoice.open = relance_core::money::Money::from_minor(left, invoice.open.currency);
            }
        }
        open.retain(|i| i.open.to_minor().unwrap_or(0) > 0);
    }
}
