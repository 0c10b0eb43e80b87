//! Matching bank credits that name neither customer nor invoice, and the reconciliation queue.
//!
//! The rules and their confidence are pure (`relance_core::matching`); this module looks up what
//! they need: open invoice numbers (indexed once per import), the IBANs learnt from earlier
//! payments, customers' names. A credit below the confidence threshold is stored unallocated
//! with status `unmatched` and its best suggestion, for `relance reconcile`.

use std::collections::HashMap;

use chrono::NaiveDate;
use relance_core::ids::{CreditorId, CustomerId};
use relance_core::ledger::allocate_to;
use relance_core::matching::{
    candidate_keys, decide, normalise_name, normalise_reference, Candidate, CustomerEvidence,
    MatchDecision,
};
use relance_core::money::{Currency, Money};
use sqlx::{Any, Row, Transaction};

use crate::error::{Result, StoreError};
use crate::events::{append, NewEvent};
use crate::imports::{open_invoices, write_allocation};
use crate::payment_writes::{OpenInvoices, PaymentRow};
use crate::payments::PaymentRecord;
use crate::{Backend, Store};

/// Open invoice numbers and customer names of one creditor, for lookups by remittance text.
pub(crate) struct MatchIndex {
    /// Normalised invoice number → (number as written, customer).
    by_number: HashMap<String, Vec<(String, CustomerId)>>,
    /// Normalised customer name → customers with that name.
    by_name: HashMap<String, Vec<CustomerId>>,
    /// Payer IBAN → the customers earlier payments from it went to (learnt as the import goes).
    by_iban: HashMap<String, Vec<CustomerId>>,
    codes: HashMap<CustomerId, String>,
}

impl MatchIndex {
    pub(crate) async fn load(
        tx: &mut Transaction<'static, Any>,
        backend: Backend,
        creditor: CreditorId,
    ) -> Result<MatchIndex> {
        // One JSON array per query rather than a row per invoice: sqlx hands SQLite rows over
        // between threads one by one, and for a million invoices that hand-over was most of the
        // time of a statement's import.
        let (aggregate, array, cast) = match backend {
            Backend::Sqlite => ("json_group_array", "json_array", ""),
            Backend::Postgres => ("json_agg", "json_build_array", "::text"),
        };
        let numbers: Option<String> = sqlx::query_scalar(&format!(
            "SELECT {aggregate}({array}(number, customer_id)){cast} FROM items \
             WHERE creditor_id = $1 AND kind = 'invoice' AND open_minor > 0"
        ))
        .bind(creditor.0)
        .fetch_one(&mut **tx)
        .await?;
        let numbers: Vec<(String, i64)> = parse_json(numbers.as_deref())?;
        let mut by_number: HashMap<String, Vec<(String, CustomerId)>> =
            HashMap::with_capacity(numbers.len());
        for (number, customer) in numbers {
            by_number
                .entry(normalise_reference(&number))
                .or_default()
                .push((number, CustomerId(customer)));
        }
        let customers: Option<String> = sqlx::query_scalar(&format!(
            "SELECT {aggregate}({array}(id, code, name)){cast} FROM customers WHERE creditor_id = $1"
        ))
        .bind(creditor.0)
        .fetch_one(&mut **tx)
        .await?;
        let customers: Vec<(i64, String, String)> = parse_json(customers.as_deref())?;
        let mut by_name: HashMap<String, Vec<CustomerId>> = HashMap::new();
        let mut codes = HashMap::with_capacity(customers.len());
        for (id, code, name) in customers {
            let id = CustomerId(id);
            by_name.entry(normalise_name(&name)).or_default().push(id);
            codes.insert(id, code);
        }
        let rows = sqlx::query(
            "SELECT DISTINCT payer_iban, customer_id FROM payments WHERE creditor_id = $1 \
             AND payer_iban IS NOT NULL AND payer_iban <> '' AND customer_id IS NOT NULL",
        )
        .bind(creditor.0)
        .fetch_all(&mut **tx)
        .await?;
        let mut index = MatchIndex {
            by_number,
            by_name,
            by_iban: HashMap::new(),
            codes,
        };
        for row in rows {
            index.learn_iban(
                &row.try_get::<String, _>("payer_iban")?,
                CustomerId(row.try_get("customer_id")?),
            );
        }
        Ok(index)
    }

    /// Remembers that a payment from `iban` went to `customer` (the payments of this import
    /// count for the next credits, as they would have if each had been committed on its own).
    pub(crate) fn learn_iban(&mut self, iban: &str, customer: CustomerId) {
        if iban.is_empty() {
            return;
        }
        let customers = self.by_iban.entry(iban.to_string()).or_default();
        if !customers.contains(&customer) {
            customers.push(customer);
        }
    }

    /// The customers [`match_credit`] may look at for `record` (the rules' candidates, found
    /// in memory), so that an import can load their open invoices in a few queries.
    pub(crate) fn customers_named_by(&self, record: &PaymentRecord, out: &mut Vec<CustomerId>) {
        for key in candidate_keys(&record.reference) {
            if let Some(found) = self.by_number.get(&key) {
                out.extend(found.iter().map(|(_, c)| *c));
            }
        }
        if let Some(iban) = record.payer_iban.as_deref() {
            if let Some([customer]) = self.by_iban.get(iban).map(Vec::as_slice) {
                out.push(*customer);
            }
        }
        if let Some(name) = record.payer_name.as_deref() {
            if let Some([customer]) = self.by_name.get(&normalise_name(name)).map(Vec::as_slice) {
                out.push(*customer);
            }
        }
    }
}

/// A JSON array aggregated by the database (`NULL` when there was no row).
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(text: Option<&str>) -> Result<Vec<T>> {
    match text {
        None => Ok(Vec::new()),
        Some(text) => serde_json::from_str(text)
            .map_err(|e| StoreError::Corrupt(format!("aggregated rows: {e}"))),
    }
}

/// A customer found for a credit, with the decision about its invoices.
pub(crate) struct Match {
    pub customer: (CustomerId, String),
    pub decision: MatchDecision,
}

/// Applies the rules, strongest first; `None` when nothing points at any customer.
pub(crate) async fn match_credit(
    tx: &mut Transaction<'static, Any>,
    creditor: CreditorId,
    index: &MatchIndex,
    cache: &mut OpenInvoices,
    record: &PaymentRecord,
) -> Result<Option<Match>> {
    let code = |id: CustomerId| index.codes.get(&id).cloned().unwrap_or_default();
    // 1. Invoice numbers in the remittance, all of one customer.
    let mut named: Vec<(String, CustomerId)> = Vec::new();
    for key in candidate_keys(&record.reference) {
        if let Some(found) = index.by_number.get(&key) {
            for hit in found {
                if !named.iter().any(|(n, _)| *n == hit.0) {
                    named.push(hit.clone());
                }
            }
        }
    }
    let customers: Vec<CustomerId> = {
        let mut c: Vec<CustomerId> = named.iter().map(|(_, c)| *c).collect();
        c.sort();
        c.dedup();
        c
    };
    if customers.len() == 1 {
        let customer = customers[0];
        let numbers: Vec<String> = named.into_iter().map(|(n, _)| n).collect();
        let candidates = candidates(tx, creditor, cache, customer).await?;
        let decision = decide(
            CustomerEvidence::InvoiceNumbers,
            record.amount,
            &numbers,
            &candidates,
        );
        return Ok(Some(Match {
            customer: (customer, code(customer)),
            decision,
        }));
    }
    // 2. The payer's IBAN, learnt from this customer's earlier payments.
    if let Some(iban) = record.payer_iban.as_deref().filter(|i| !i.is_empty()) {
        if let Some([customer]) = index.by_iban.get(iban).map(Vec::as_slice) {
            let customer = *customer;
            let candidates = candidates(tx, creditor, cache, customer).await?;
            let decision = decide(
                CustomerEvidence::LearntIban,
                record.amount,
                &[],
                &candidates,
            );
            return Ok(Some(Match {
                customer: (customer, code(customer)),
                decision,
            }));
        }
    }
    // 3. The payer's name, when it is one customer's only.
    if let Some(name) = record.payer_name.as_deref() {
        if let Some([customer]) = index.by_name.get(&normalise_name(name)).map(Vec::as_slice) {
            let candidates = candidates(tx, creditor, cache, *customer).await?;
            let decision = decide(CustomerEvidence::PayerName, record.amount, &[], &candidates);
            return Ok(Some(Match {
                customer: (*customer, code(*customer)),
                decision,
            }));
        }
    }
    if customers.len() > 1 {
        // Numbers of several customers: a person decides; suggest the first.
        let customer = customers[0];
        return Ok(Some(Match {
            customer: (customer, code(customer)),
            decision: MatchDecision {
                invoices: Vec::new(),
                confidence: 40,
                reason: "the remittance names invoices of several customers".into(),
            },
        }));
    }
    Ok(None)
}

async fn candidates(
    tx: &mut Transaction<'static, Any>,
    creditor: CreditorId,
    cache: &mut OpenInvoices,
    customer: CustomerId,
) -> Result<Vec<Candidate>> {
    Ok(cache
        .of(tx, creditor, customer)
        .await?
        .iter()
        .map(|i| Candidate {
            number: i.number.clone(),
            open: i.open,
        })
        .collect())
}

/// The row of a credit nobody could match with enough confidence: unallocated, status
/// `unmatched`, with the best suggestion for the person who will decide.
pub(crate) fn queued_row(
    record: &PaymentRecord,
    fingerprint: &str,
    suggestion: Option<Match>,
) -> Result<PaymentRow> {
    let amount = record.amount.to_minor()?;
    let (suggested, confidence, reason) = match &suggestion {
        Some(m) => (
            Some(m.customer.0 .0),
            i64::from(m.decision.confidence),
            format!("suggested {}: {}", m.customer.1, m.decision.reason),
        ),
        None => (
            None,
            0,
            "no invoice number, known IBAN or customer name in the entry".to_string(),
        ),
    };
    Ok(PaymentRow {
        customer_id: None,
        received_on: record.date.to_string(),
        currency: record.amount.currency.code().to_string(),
        amount_minor: amount,
        unallocated_minor: amount,
        reference: record.reference.clone(),
        invoice_number: None,
        bank_reference: record.bank_reference.clone(),
        fingerprint: fingerprint.to_string(),
        payer_name: record.payer_name.clone(),
        payer_iban: record.payer_iban.clone(),
        status: "unmatched",
        confidence,
        match_reason: reason,
        suggested_customer_id: suggested,
    })
}

/// A payment waiting in the reconciliation queue.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UnmatchedPayment {
    pub id: i64,
    pub date: String,
    pub amount: String,
    pub currency: String,
    pub reference: String,
    pub payer_name: Option<String>,
    pub payer_iban: Option<String>,
    pub suggested_customer: Option<String>,
    pub confidence: i64,
    pub reason: String,
}

impl Store {
    /// The reconciliation queue, oldest first.
    pub async fn unmatched_payments(&self, creditor: CreditorId) -> Result<Vec<UnmatchedPayment>> {
        let rows = sqlx::query(
            "SELECT p.id, p.received_on, p.currency, p.amount_minor, p.reference, p.payer_name, p.payer_iban, \
             c.code AS suggested, p.confidence, p.match_reason FROM payments p \
             LEFT JOIN customers c ON c.id = p.suggested_customer_id \
             WHERE p.creditor_id = $1 AND p.status = 'unmatched' ORDER BY p.received_on, p.id",
        )
        .bind(creditor.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let currency = Currency::parse(&row.try_get::<String, _>("currency")?)?;
                Ok(UnmatchedPayment {
                    id: row.try_get("id")?,
                    date: row.try_get("received_on")?,
                    amount: Money::from_minor(row.try_get("amount_minor")?, currency)
                        .to_plain_string(),
                    currency: currency.code().to_string(),
                    reference: row.try_get("reference")?,
                    payer_name: row.try_get("payer_name")?,
                    payer_iban: row.try_get("payer_iban")?,
                    suggested_customer: row.try_get("suggested")?,
                    confidence: row.try_get::<Option<i64>, _>("confidence")?.unwrap_or(0),
                    reason: row.try_get("match_reason")?,
                })
            })
            .collect()
    }

    /// A person confirms who paid (and optionally which invoice): the payment is allocated like
    /// any other, and the payer's IBAN is learnt for next time.
    pub async fn confirm_payment(
        &self,
        creditor: CreditorId,
        payment_id: i64,
        customer_code: &str,
        invoice: Option<&str>,
        today: NaiveDate,
    ) -> Result<String> {
        let mut tx = self.pool.begin().await?;
        let payment = sqlx::query(
            "SELECT received_on, currency, amount_minor, reference FROM payments \
             WHERE creditor_id = $1 AND id = $2 AND status = 'unmatched'",
        )
        .bind(creditor.0)
        .bind(payment_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| {
            StoreError::Unsupported(format!(
                "payment {payment_id} is not waiting in the reconciliation queue"
            ))
        })?;
        let customer: i64 =
            sqlx::query_scalar("SELECT id FROM customers WHERE creditor_id = $1 AND code = $2")
                .bind(creditor.0)
                .bind(customer_code)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::UnknownCustomer(customer_code.to_string()))?;
        let customer = CustomerId(customer);
        let currency = Currency::parse(&payment.try_get::<String, _>("currency")?)?;
        let amount = Money::from_minor(payment.try_get("amount_minor")?, currency);
        let received_on =
            crate::imports::parse_date(&payment.try_get::<String, _>("received_on")?)?;
        let open = open_invoices(&mut tx, creditor, customer).await?;
        if let Some(number) = invoice {
            if !open.iter().any(|i| i.number == number) {
                return Err(StoreError::UnknownInvoice(format!(
                    "{number} (not an open invoice of {customer_code})"
                )));
            }
        }
        let named: Vec<&str> = invoice.into_iter().collect();
        let plan = allocate_to(amount, &named, &open);
        let mut used = 0;
        for (item, part) in &plan.allocations {
            let minor = part.to_minor()?;
            used += minor;
            write_allocation(
                &mut tx,
                creditor,
                *item,
                Some(payment_id),
                None,
                minor,
                received_on,
            )
            .await?;
        }
        sqlx::query(
            "UPDATE payments SET customer_id = $1, status = 'confirmed', unallocated_minor = amount_minor - $2, \
             confidence = 100, match_reason = 'confirmed by a person' WHERE id = $3 AND creditor_id = $4",
        )
        .bind(customer.0)
        .bind(used)
        .bind(payment_id)
        .bind(creditor.0)
        .execute(&mut *tx)
        .await?;
        let names: Vec<String> = plan
            .allocations
            .iter()
            .filter_map(|(id, m)| {
                open.iter()
                    .find(|o| o.id == *id)
                    .map(|o| format!("{} {}", o.number, m.to_plain_string()))
            })
            .collect();
        let summary = format!(
            "payment of {amount} (ref. {}) confirmed as {customer_code}'s{}",
            payment.try_get::<String, _>("reference")?,
            if names.is_empty() {
                String::new()
            } else {
                format!(" → {}", names.join(", "))
            }
        );
        append(
            &mut *tx,
            &NewEvent {
                creditor,
                customer: Some(customer),
                item: plan.allocations.first().map(|(i, _)| *i),
                kind: "payment_received".into(),
                occurred_on: received_on,
                summary: summary.clone(),
                data: serde_json::json!({ "payment_id": payment_id, "confirmed_on": today.to_string() }),
            },
        )
        .await?;
        // As for any payment: reminders queued for what it settled are cancelled at once.
        crate::cases::cancel_settled(&mut tx, creditor, customer, false, today).await?;
        crate::cases::mark_pending(&mut tx, self.backend(), creditor, &[customer.0]).await?;
        tx.commit().await?;
        Ok(summary)
    }
}

/// How one bank credit ended up: who it went to and which invoices it settled (benchmarks and
/// audits compare this with what was expected).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PaymentOutcome {
    pub bank_reference: String,
    /// The customer it was allocated to; `None` while it waits in the reconciliation queue.
    pub customer: Option<String>,
    /// `matched`, `unmatched` or `confirmed`.
    pub status: String,
    /// Invoices it was allocated to, by number.
    pub invoices: Vec<String>,
}

impl Store {
    /// Every payment that has a bank reference, with its allocations (two set-based queries).
    pub async fn payment_outcomes(&self, creditor: CreditorId) -> Result<Vec<PaymentOutcome>> {
        let rows = sqlx::query(
            "SELECT p.id, p.bank_reference, c.code, p.status FROM payments p \
             LEFT JOIN customers c ON c.id = p.customer_id \
             WHERE p.creditor_id = $1 AND p.bank_reference IS NOT NULL ORDER BY p.id",
        )
        .bind(creditor.0)
        .fetch_all(&self.pool)
        .await?;
        let mut index: HashMap<i64, usize> = HashMap::with_capacity(rows.len());
        let mut outcomes = Vec::with_capacity(rows.len());
        for row in &rows {
            index.insert(row.try_get("id")?, outcomes.len());
            outcomes.push(PaymentOutcome {
                bank_reference: row.try_get("bank_reference")?,
                customer: row.try_get("code")?,
                status: row.try_get("status")?,
                invoices: Vec::new(),
            });
        }
        let allocations = sqlx::query(
            "SELECT a.payment_id, i.number FROM allocations a JOIN items i ON i.id = a.item_id \
             WHERE a.creditor_id = $1 AND a.payment_id IS NOT NULL ORDER BY a.id",
        )
        .bind(creditor.0)
        .fetch_all(&self.pool)
        .await?;
        for row in &allocations {
            let payment: i64 = row.try_get("payment_id")?;
            if let Some(&at) = index.get(&payment) {
                outcomes[at].invoices.push(row.try_get("number")?);
            }
        }
        Ok(outcomes)
    }
}
