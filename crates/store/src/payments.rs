//! Importing payments and allocating them (lettrage) to open invoices, all in one transaction.

use chrono::NaiveDate;
use relance_core::ids::{CreditorId, CustomerId, ItemId};
use relance_core::ledger::allocate_to;
use relance_core::matching::AUTO_ALLOCATE_AT;

use crate::matching::{match_credit, queued_row, MatchIndex};
use crate::payment_writes::{OpenInvoices, PaymentRow, PendingWrites, FLUSH_EVERY};
use relance_core::money::Money;
use sqlx::Row;

use crate::db::now_text;
use crate::error::{Result, StoreError};
use crate::events::NewEvent;
use crate::Store;

/// One payment read from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    pub line: u64,
    pub date: NaiveDate,
    pub amount: Money,
    pub reference: String,
    pub customer_code: Option<String>,
    pub invoice_number: Option<String>,
    /// The bank's own entry reference: the strongest guard against importing twice.
    pub bank_reference: Option<String>,
    /// Who paid, as the bank statement says (used to match, and learnt for next time).
    pub payer_name: Option<String>,
    pub payer_iban: Option<String>,
}

/// A row the store refuses, with the column to blame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    pub line: u64,
    pub column: &'static str,
    pub value: String,
    pub message: String,
}

/// What a payment import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PaymentSummary {
    pub rows: u64,
    pub created: u64,
    /// Already imported earlier (same bank reference or same row): skipped.
    pub duplicates: u64,
    pub allocated_minor: i64,
    pub unallocated_minor: i64,
    /// Credits matched by the rules (invoice number, IBAN, name, amount) and allocated.
    pub matched_automatically: u64,
    /// Credits left for a person in the reconciliation queue (`relance reconcile`).
    pub to_reconcile: u64,
    /// One line per payment ("2026-03-02 1200.00 EUR from C001 → F-001 (paid)").
    pub lines: Vec<String>,
}

/// Outcome of a payment import: done, or refused with every problem found.
#[derive(Debug)]
pub enum PaymentImport {
    Done(PaymentSummary),
    Refused(Vec<RowProblem>),
}

impl Store {
    /// Imports payments: each goes to the invoice it names, else to the customer's oldest open
    /// invoices; an overpayment stays as an unallocated credit on the customer. A payment
    /// already imported (same bank reference, or the same row of the same content) is skipped.
    /// Any unknown customer or invoice refuses the whole import.
    #[tracing::instrument(skip(self, records), fields(rows = records.len()))]
    pub async fn import_payments(
        &self,
        creditor: CreditorId,
        source: &str,
        records: &[PaymentRecord],
        today: NaiveDate,
    ) -> Result<PaymentImport> {
        let mut tx = self.pool.begin().await?;
        let mut problems = Vec::new();
        let mut summary = PaymentSummary::default();
        // Fingerprints first, then one set-based look-up of those already stored (a statement
        // of 100,000 credits is 200 queries, not 100,000).
        let mut occurrences: std::collections::HashMap<String, u32> =
            std::collections::HashMap::new();
        let mut fingerprints = Vec::with_capacity(records.len());
        for record in records {
            // The same row of the same content is the same payment, whatever the file is called.
            let content = format!(
                "{}|{}|{}|{}|{}",
                record.date,
                record.amount,
                record.customer_code.as_deref().unwrap_or(""),
                record.invoice_number.as_deref().unwrap_or(""),
                record.reference,
            );
            let n = occurrences.entry(content.clone()).or_insert(0);
            *n += 1;
            fingerprints.push(match &record.bank_reference {
                Some(r) if !r.is_empty() => format!("bank:{r}"),
                _ => format!("row:{content}#{n}"),
            });
        }
        let mut stored = self
            .stored_fingerprints(&mut tx, creditor, &fingerprints)
            .await?;
        // Loaded on the first credit that names neither customer nor invoice (bank statements).
        let mut index: Option<MatchIndex> = None;
        let mut cache = OpenInvoices::default();
        let mut pending = PendingWrites::default();
        let backend = self.backend();
        let mut touched: Vec<CustomerId> = Vec::new();
        let mut touched_set: std::collections::HashSet<CustomerId> =
            std::collections::HashSet::new();
        for (record, fingerprint) in records.iter().zip(fingerprints) {
            summary.rows += 1;
            if !stored.insert(fingerprint.clone()) {
                summary.duplicates += 1;
                continue;
            }
            if pending.len() >= FLUSH_EVERY {
                pending.flush(&mut tx, backend, creditor, source).await?;
            }
            let named_in_file = record
                .customer_code
                .as_deref()
                .is_some_and(|c| !c.is_empty())
                || record
                    .invoice_number
                    .as_deref()
                    .is_some_and(|n| !n.is_empty());
            let (customer, named, confidence, reason) = if named_in_file {
                let Some(customer) =
                    resolve_customer(&mut tx, creditor, record, &mut problems).await?
                else {
                    continue;
                };
                let named: Vec<String> = record.invoice_number.iter().cloned().collect();
                (customer, named, 100u8, "named in the file".to_string())
            } else {
                if index.is_none() {
                    // The IBANs learnt so far include this import's payments: write them first.
                    pending.flush(&mut tx, backend, creditor, source).await?;
                    let loaded = MatchIndex::load(&mut tx, backend, creditor).await?;
                    // The customers the rules will look at, found in memory: their open
                    // invoices come in a few queries instead of one per credit.
                    let mut named = Vec::new();
                    for later in records.iter().skip(summary.rows as usize - 1) {
                        loaded.customers_named_by(later, &mut named);
                    }
                    cache.preload(&mut tx, backend, creditor, &named).await?;
                    index = Some(loaded);
                }
                let Some(index) = index.as_ref() else {
                    continue;
                };
                match match_credit(&mut tx, creditor, index, &mut cache, record).await? {
                    Some(m) if m.decision.confidence >= AUTO_ALLOCATE_AT => {
                        summary.matched_automatically += 1;
                        (
                            m.customer,
                            m.decision.invoices,
                            m.decision.confidence,
                            m.decision.reason,
                        )
                    }
                    suggestion => {
                        if problems.is_empty() {
                            pending.payment(queued_row(record, &fingerprint, suggestion)?);
                            summary.to_reconcile += 1;
                            summary.created += 1;
                        }
                        continue;
                    }
                }
            };
            if !problems.is_empty() {
                // Keep checking the other rows, but write nothing more: the import is refused.
                continue;
            }
            if touched_set.insert(customer.0) {
                touched.push(customer.0);
            }
            if let (Some(index), Some(iban)) = (index.as_mut(), record.payer_iban.as_deref()) {
                index.learn_iban(iban, customer.0);
            }
            let open = cache.of(&mut tx, creditor, customer.0).await?.to_vec();
            let named_refs: Vec<&str> = named.iter().map(String::as_str).collect();
            let plan = allocate_to(record.amount, &named_refs, &open);
            let unallocated = plan.unallocated.to_minor()?;
            pending.payment(PaymentRow {
                customer_id: Some(customer.0 .0),
                received_on: record.date.to_string(),
                currency: record.amount.currency.code().to_string(),
                amount_minor: record.amount.to_minor()?,
                unallocated_minor: unallocated,
                reference: record.reference.clone(),
                invoice_number: record.invoice_number.clone(),
                bank_reference: record.bank_reference.clone(),
                fingerprint: fingerprint.clone(),
                payer_name: record.payer_name.clone(),
                payer_iban: record.payer_iban.clone(),
                status: "matched",
                confidence: i64::from(confidence),
                match_reason: reason.clone(),
                suggested_customer_id: None,
            });
            let mut described = Vec::new();
            let mut allocated = Vec::with_capacity(plan.allocations.len());
            for (item, amount) in &plan.allocations {
                let minor = amount.to_minor()?;
                pending.allocation(&fingerprint, *item, minor, record.date.to_string());
                allocated.push((*item, minor));
                summary.allocated_minor += minor;
                if let Some(inv) = open.iter().find(|o| o.id == *item) {
                    let settled = amount.amount >= inv.open.amount;
                    described.push(format!(
                        "{} {}{}",
                        inv.number,
                        amount.to_plain_string(),
                        if settled { " (paid)" } else { " (partial)" }
                    ));
                }
            }
            cache.allocated(customer.0, &allocated);
            summary.unallocated_minor += unallocated;
            let mut text = format!(
                "payment of {} received from {} (ref. {})",
                record.amount, customer.1, record.reference
            );
            if !described.is_empty() {
                text.push_str(&format!(" → {}", described.join(", ")));
            }
            if unallocated > 0 {
                text.push_str(&format!("; {} kept as credit", plan.unallocated));
            }
            if !named_in_file {
                text.push_str(&format!(" [matched {confidence} %: {reason}]"));
            }
            pending.event(
                &fingerprint,
                NewEvent {
                    creditor,
                    customer: Some(customer.0),
                    item: plan.allocations.first().map(|(i, _)| *i),
                    kind: "payment_received".into(),
                    occurred_on: record.date,
                    summary: text.clone(),
                    data: serde_json::json!({
                        "payment_id": serde_json::Value::Null,
                        "amount": record.amount.to_plain_string(),
                        "currency": record.amount.currency.code(),
                        "allocations": plan.allocations.iter().map(|(i, m)| serde_json::json!({"item_id": i.0, "amount": m.to_plain_string()})).collect::<Vec<_>>(),
                        "unallocated": plan.unallocated.to_plain_string(),
                        "confidence": confidence,
                        "match": reason,
                    }),
                },
            );
            summary.created += 1;
            summary.lines.push(format!("{} {text}", record.date));
        }
        pending.flush(&mut tx, backend, creditor, source).await?;
        if !problems.is_empty() {
            tx.rollback().await?;
            return Ok(PaymentImport::Refused(problems));
        }
        // Actions queued for invoices now paid are cancelled at once; the cases are planned
        // again at the next run.
        let planned = customers_with_planned_actions(&mut tx, creditor).await?;
        for customer in touched.iter().filter(|c| planned.contains(c)) {
            crate::cases::cancel_settled(&mut tx, creditor, *customer, false, today).await?;
        }
        let ids: Vec<i64> = touched.iter().map(|c| c.0).collect();
        crate::cases::mark_pending(&mut tx, self.backend(), creditor, &ids).await?;
        sqlx::query(
            "INSERT INTO imports (creditor_id, kind, source, rows_read, created, updated, unchanged, warnings, imported_at) \
             VALUES ($1, 'payments', $2, $3, $4, 0, $5, 0, $6)",
        )
        .bind(creditor.0)
        .bind(source)
        .bind(i64::try_from(summary.rows).unwrap_or(i64::MAX))
        .bind(i64::try_from(summary.created).unwrap_or(i64::MAX))
        .bind(i64::try_from(summary.duplicates).unwrap_or(i64::MAX))
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(PaymentImport::Done(summary))
    }
}

impl Store {
    /// Which of `fingerprints` are already stored, by chunks of 500.
    async fn stored_fingerprints(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        creditor: CreditorId,
        fingerprints: &[String],
    ) -> Result<std::collections::HashSet<String>> {
        let mut stored = std::collections::HashSet::new();
        for chunk in fingerprints.chunks(500) {
            let sql = format!(
                "SELECT fingerprint FROM payments WHERE creditor_id = {} AND fingerprint IN ({})",
                if self.backend() == crate::Backend::Sqlite {
                    "?"
                } else {
                    "$1"
                },
                crate::db::placeholder_list(self.backend(), 2, chunk.len())
            );
            let mut query = sqlx::query(&sql).bind(creditor.0);
            for f in chunk {
                query = query.bind(f.clone());
            }
            for row in query.fetch_all(&mut **tx).await? {
                stored.insert(row.try_get::<String, _>("fingerprint")?);
            }
        }
        Ok(stored)
    }
}

/// Customers that have planned actions (only their actions can need cancelling).
async fn customers_with_planned_actions(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    creditor: CreditorId,
) -> Result<std::collections::HashSet<CustomerId>> {
    let rows = sqlx::query(
        "SELECT DISTINCT customer_id FROM actions WHERE creditor_id = $1 AND status = 'planned'",
    )
    .bind(creditor.0)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|row| Ok(CustomerId(row.try_get("customer_id")?)))
        .collect()
}

/// Finds who paid: the customer named, else the owner of the invoice named.
async fn resolve_customer(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    creditor: CreditorId,
    record: &PaymentRecord,
    problems: &mut Vec<RowProblem>,
) -> Result<Option<(CustomerId, String)>> {
    if let Some(code) = record.customer_code.as_deref().filter(|c| !c.is_empty()) {
        let row =
            sqlx::query("SELECT id, code FROM customers WHERE creditor_id = $1 AND code = $2")
                .bind(creditor.0)
                .bind(code)
                .fetch_optional(&mut **tx)
                .await?;
        return match row {
            Some(row) => Ok(Some((CustomerId(row.try_get("id")?), row.try_get("code")?))),
            None => {
                problems.push(RowProblem {
                    line: record.line,
                    column: "customer_id",
                    value: code.to_string(),
                    message: "is an unknown customer: import their invoices first".into(),
                });
                Ok(None)
            }
        };
    }
    if let Some(number) = record.invoice_number.as_deref().filter(|n| !n.is_empty()) {
        let row = sqlx::query(
            "SELECT c.id, c.code FROM items i JOIN customers c ON c.id = i.customer_id \
             WHERE i.creditor_id = $1 AND i.number = $2 AND i.kind = 'invoice'",
        )
        .bind(creditor.0)
        .bind(number)
        .fetch_optional(&mut **tx)
        .await?;
        return match row {
            Some(row) => Ok(Some((CustomerId(row.try_get("id")?), row.try_get("code")?))),
            None => {
                problems.push(RowProblem {
                    line: record.line,
                    column: "invoice_number",
                    value: number.to_string(),
                    message: "is an unknown invoice, and no customer_id says who paid".into(),
                });
                Ok(None)
            }
        };
    }
    problems.push(RowProblem {
        line: record.line,
        column: "customer_id",
        value: String::new(),
        message: "neither customer_id nor invoice_number: cannot tell who paid".into(),
    });
    Ok(None)
}

/// Looks up an invoice's id by number (used by commands that name an invoice).
impl Store {
    pub async fn invoice_id(&self, creditor: CreditorId, number: &str) -> Result<ItemId> {
        let id: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM items WHERE creditor_id = $1 AND number = $2 AND kind = 'invoice'",
        )
        .bind(creditor.0)
        .bind(number)
        .fetch_optional(&self.pool)
        .await?;
        id.map(ItemId)
            .ok_or_else(|| StoreError::UnknownInvoice(number.to_string()))
    }
}
