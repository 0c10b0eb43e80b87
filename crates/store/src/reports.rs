//! Read models for reports: the list of invoices and the aged balance, computed in SQL so that
//! they stay fast on a million invoices.

use chrono::{Days, NaiveDate};
use relance_core::aging::AgingLine;
use relance_core::ids::CreditorId;
use relance_core::money::{Currency, Money};
use rust_decimal::Decimal;
use sqlx::Row;

use crate::error::Result;
use crate::Store;

/// One invoice or credit note, as `relance report invoices` prints it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InvoiceLine {
    pub number: String,
    pub kind: String,
    pub customer: String,
    pub customer_name: String,
    pub issue_date: String,
    pub due_date: String,
    pub amount: String,
    pub paid: String,
    pub open_amount: String,
    pub currency: String,
}

/// One payment as recorded, as `relance export payments` writes it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PaymentLine {
    pub received_on: String,
    /// Empty while the payment waits in the reconciliation queue.
    pub customer: String,
    pub customer_name: String,
    pub amount: String,
    pub unallocated: String,
    pub currency: String,
    pub reference: String,
    pub invoice_number: String,
    pub bank_reference: String,
    pub source: String,
}

/// One line of a customer's statement of account: an open invoice or credit note, or a payment
/// not yet allocated. Amounts in minor units of `currency`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StatementEntry {
    /// `invoice`, `credit_note` or `payment`.
    pub kind: String,
    pub date: String,
    pub reference: String,
    pub due_date: Option<String>,
    pub currency: String,
    pub total_minor: i64,
    /// Already paid or credited on the item (0 for a payment).
    pub settled_minor: i64,
    /// What is still open: positive for an invoice, negative for a credit (a credit note or
    /// the unallocated part of a payment).
    pub open_minor: i64,
}

/// A page of the aged balance: the lines of up to `limit` customers, by code, and the cursor
/// of the next page (the last customer's code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgingPage {
    pub lines: Vec<AgingLine>,
    pub next: Option<String>,
}

/// Filters of the invoice list.
#[derive(Debug, Clone, Default)]
pub struct InvoiceFilter {
    pub customer: Option<String>,
    pub open_only: bool,
}

impl Store {
    /// What a customer's statement of account lists: the open invoices and credit notes by due
    /// date, then the payments not yet allocated by date of receipt.
    pub async fn statement_entries(
        &self,
        creditor: CreditorId,
        customer: relance_core::ids::CustomerId,
    ) -> Result<Vec<StatementEntry>> {
        let items = sqlx::query(
            "SELECT kind, number, issue_date, due_date, currency, total_minor, \
             paid_outside_minor + allocated_minor AS settled_minor, open_minor FROM items \
             WHERE +creditor_id = $1 AND customer_id = $2 AND open_minor <> 0 ORDER BY due_date, number",
        )
        .bind(creditor.0)
        .bind(customer.0)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(items.len());
        for row in &items {
            out.push(StatementEntry {
                kind: row.try_get("kind")?,
                date: row.try_get("issue_date")?,
                reference: row.try_get("number")?,
                due_date: Some(row.try_get("due_date")?),
                currency: row.try_get("currency")?,
                total_minor: row.try_get("total_minor")?,
                settled_minor: row.try_get("settled_minor")?,
                open_minor: row.try_get("open_minor")?,
            });
        }
        let payments = sqlx::query(
            "SELECT id, received_on, reference, currency, amount_minor, unallocated_minor FROM payments \
             WHERE creditor_id = $1 AND customer_id = $2 AND unallocated_minor > 0 ORDER BY received_on, id",
        )
        .bind(creditor.0)
        .bind(customer.0)
        .fetch_all(&self.pool)
        .await?;
        for row in &payments {
            let reference: String = row.try_get("reference")?;
            let id: i64 = row.try_get("id")?;
            out.push(StatementEntry {
                kind: "payment".into(),
                date: row.try_get("received_on")?,
                reference: if reference.is_empty() {
                    format!("#{id}")
                } else {
                    reference
                },
                due_date: None,
                currency: row.try_get("currency")?,
                total_minor: row.try_get("amount_minor")?,
                settled_minor: 0,
                open_minor: -row.try_get::<i64, _>("unallocated_minor")?,
            });
        }
        Ok(out)
    }

    /// Invoices and credit notes, by customer then due date.
    pub async fn invoice_lines(
        &self,
        creditor: CreditorId,
        filter: &InvoiceFilter,
    ) -> Result<Vec<InvoiceLine>> {
        let sql = "SELECT i.number, i.kind, c.code, c.name, i.issue_date, i.due_date, i.currency, i.total_minor, \
                   i.paid_outside_minor + i.allocated_minor AS settled_minor, i.open_minor \
                   FROM items i JOIN customers c ON c.id = i.customer_id \
                   WHERE i.creditor_id = $1 AND ($2 = '' OR c.code = $2) AND ($3 = 0 OR i.open_minor <> 0) \
                   ORDER BY c.code, i.due_date, i.number";
        let rows = sqlx::query(sql)
            .bind(creditor.0)
            .bind(filter.customer.clone().unwrap_or_default())
            .bind(i64::from(filter.open_only))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let currency = Currency::parse(&row.try_get::<String, _>("currency")?)?;
                let money = |col: &str| -> Result<String> {
                    Ok(Money::from_minor(row.try_get(col)?, currency).to_plain_string())
                };
                Ok(InvoiceLine {
                    number: row.try_get("number")?,
                    kind: row.try_get("kind")?,
                    customer: row.try_get("code")?,
                    customer_name: row.try_get("name")?,
                    issue_date: row.try_get("issue_date")?,
                    due_date: row.try_get("due_date")?,
                    amount: money("total_minor")?,
                    paid: money("settled_minor")?,
                    open_amount: money("open_minor")?,
                    currency: currency.code().to_string(),
                })
            })
            .collect()
    }

    /// Payments, oldest first (those without a customer are the reconciliation queue's).
    pub async fn payment_lines(
        &self,
        creditor: CreditorId,
        customer: Option<&str>,
    ) -> Result<Vec<PaymentLine>> {
        let sql =
            "SELECT p.received_on, COALESCE(c.code, '') AS code, COALESCE(c.name, '') AS name, \
                   p.currency, p.amount_minor, p.unallocated_minor, p.reference, \
                   COALESCE(p.invoice_number, '') AS invoice_number, \
                   COALESCE(p.bank_reference, '') AS bank_reference, p.source \
                   FROM payments p LEFT JOIN customers c ON c.id = p.customer_id \
                   WHERE p.creditor_id = $1 AND ($2 = '' OR c.code = $2) \
                   ORDER BY p.received_on, p.id";
        let rows = sqlx::query(sql)
            .bind(creditor.0)
            .bind(customer.unwrap_or(""))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let currency = Currency::parse(&row.try_get::<String, _>("currency")?)?;
                let money = |col: &str| -> Result<String> {
                    Ok(Money::from_minor(row.try_get(col)?, currency).to_plain_string())
                };
                Ok(PaymentLine {
                    received_on: row.try_get("received_on")?,
                    customer: row.try_get("code")?,
                    customer_name: row.try_get("name")?,
                    amount: money("amount_minor")?,
                    unallocated: money("unallocated_minor")?,
                    currency: currency.code().to_string(),
                    reference: row.try_get("reference")?,
                    invoice_number: row.try_get("invoice_number")?,
                    bank_reference: row.try_get("bank_reference")?,
                    source: row.try_get("source")?,
                })
            })
            .collect()
    }

    /// The aged balance on `as_of`: each customer's open amounts (credit notes and unallocated
    /// payments included, so the total is what the customer really owes) by lateness bucket.
    pub async fn aging(
        &self,
        creditor: CreditorId,
        as_of: NaiveDate,
        customer: Option<&str>,
    ) -> Result<Vec<AgingLine>> {
        // Bucket limits as ISO dates: TEXT comparison orders them correctly on both engines.
        let back = |days: u64| {
            as_of
                .checked_sub_days(Days::new(days))
                .unwrap_or(as_of)
                .to_string()
        };
        let sql = "SELECT c.code, c.name, i.currency, \
             CAST(SUM(CASE WHEN i.due_date >= $2 THEN i.open_minor ELSE 0 END) AS BIGINT) AS b0, \
             CAST(SUM(CASE WHEN i.due_date < $2 AND i.due_date >= $3 THEN i.open_minor ELSE 0 END) AS BIGINT) AS b1, \
             CAST(SUM(CASE WHEN i.due_date < $3 AND i.due_date >= $4 THEN i.open_minor ELSE 0 END) AS BIGINT) AS b2, \
             CAST(SUM(CASE WHEN i.due_date < $4 AND i.due_date >= $5 THEN i.open_minor ELSE 0 END) AS BIGINT) AS b3, \
             CAST(SUM(CASE WHEN i.due_date < $5 THEN i.open_minor ELSE 0 END) AS BIGINT) AS b4 \
             FROM items i JOIN customers c ON c.id = i.customer_id \
             WHERE i.creditor_id = $1 AND i.open_minor <> 0 AND ($6 = '' OR c.code = $6) \
             GROUP BY c.code, c.name, i.currency ORDER BY c.code, i.currency";
        let rows = sqlx::query(sql)
            .bind(creditor.0)
            .bind(as_of.to_string())
            .bind(back(30))
            .bind(back(60))
            .bind(back(90))
            .bind(customer.unwrap_or(""))
            .fetch_all(&self.pool)
            .await?;
        let credits = sqlx::query(
            "SELECT c.code, p.currency, CAST(SUM(p.unallocated_minor) AS BIGINT) AS credit FROM payments p \
             JOIN customers c ON c.id = p.customer_id WHERE p.creditor_id = $1 AND p.unallocated_minor > 0 \
             AND ($2 = '' OR c.code = $2) GROUP BY c.code, p.currency",
        )
        .bind(creditor.0)
        .bind(customer.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        let mut lines = Vec::with_capacity(rows.len());
        for row in &rows {
            let currency = Currency::parse(&row.try_get::<String, _>("currency")?)?;
            let mut buckets = [Decimal::ZERO; 5];
            for (i, b) in buckets.iter_mut().enumerate() {
                *b = Money::from_minor(row.try_get(format!("b{i}").as_str())?, currency).amount;
            }
            lines.push(AgingLine {
                customer: row.try_get("code")?,
                customer_name: row.try_get("name")?,
                currency: currency.code().to_string(),
                buckets,
            });
        }
        // Unallocated payments lower the not-yet-due column: money in hand, not yet lettered.
        for row in &credits {
            let code: String = row.try_get("code")?;
            let currency = Currency::parse(&row.try_get::<String, _>("currency")?)?;
            let credit = Money::from_minor(row.try_get("credit")?, currency).amount;
            if let Some(line) = lines
                .iter_mut()
                .find(|l| l.customer == code && l.currency == currency.code())
            {
                line.buckets[0] -= credit;
            }
        }
        Ok(lines)
    }

    /// One page of [`Store::aging`]: the customers with an open amount whose code comes after
    /// `after`, `limit` of them, with the same lines (credits included) as the whole report.
    /// A keyset page: the customers are found by walking the (creditor, code) index from the
    /// cursor, then only their items and payments are summed, so the last page of 200,000
    /// customers costs what the first does.
    pub async fn aging_page(
        &self,
        creditor: CreditorId,
        as_of: NaiveDate,
        after: Option<&str>,
        limit: u32,
    ) -> Result<AgingPage> {
        let limit = limit.clamp(1, 10_000);
        let rows = sqlx::query(
            "SELECT c.id, c.code, c.name FROM customers c WHERE c.creditor_id = $1 AND c.code > $2 \
             AND EXISTS (SELECT 1 FROM items i WHERE i.customer_id = c.id AND i.open_minor <> 0) \
             ORDER BY c.code LIMIT $3",
        )
        .bind(creditor.0)
        .bind(after.unwrap_or(""))
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.pool)
        .await?;
        let mut customers: Vec<(i64, String, String)> = Vec::with_capacity(rows.len());
        for row in &rows {
            customers.push((
                row.try_get("id")?,
                row.try_get("code")?,
                row.try_get("name")?,
            ));
        }
        let more = customers.len() > limit as usize;
        customers.truncate(limit as usize);
        if customers.is_empty() {
            return Ok(AgingPage {
                lines: Vec::new(),
                next: None,
            });
        }
        let back = |days: u64| {
            as_of
                .checked_sub_days(Days::new(days))
                .unwrap_or(as_of)
                .to_string()
        };
        // The ids come from the query above (integers): listed inline. The unary plus keeps
        // SQLite on the customer index rather than all the creditor's open items.
        let ids: Vec<String> = customers.iter().map(|c| c.0.to_string()).collect();
        let ids = ids.join(",");
        let sums = sqlx::query(&format!(
            "SELECT i.customer_id, i.currency, \
             CAST(SUM(CASE WHEN i.due_date >= $2 THEN i.open_minor ELSE 0 END) AS BIGINT) AS b0, \
             CAST(SUM(CASE WHEN i.due_date < $2 AND i.due_date >= $3 THEN i.open_minor ELSE 0 END) AS BIGINT) AS b1, \
             CAST(SUM(CASE WHEN i.due_date < $3 AND i.due_date >= $4 THEN i.open_minor ELSE 0 END) AS BIGINT) AS b2, \
             CAST(SUM(CASE WHEN i.due_date < $4 AND i.due_date >= $5 THEN i.open_minor ELSE 0 END) AS BIGINT) AS b3, \
             CAST(SUM(CASE WHEN i.due_date < $5 THEN i.open_minor ELSE 0 END) AS BIGINT) AS b4 \
             FROM items i WHERE +i.creditor_id = $1 AND i.open_minor <> 0 AND i.customer_id IN ({ids}) \
             GROUP BY i.customer_id, i.currency"
        ))
        .bind(creditor.0)
        .bind(as_of.to_string())
        .bind(back(30))
        .bind(back(60))
        .bind(back(90))
        .fetch_all(&self.pool)
        .await?;
        let credits = sqlx::query(&format!(
            "SELECT p.customer_id, p.currency, CAST(SUM(p.unallocated_minor) AS BIGINT) AS credit \
             FROM payments p WHERE p.creditor_id = $1 AND p.unallocated_minor > 0 \
             AND p.customer_id IN ({ids}) GROUP BY p.customer_id, p.currency"
        ))
        .bind(creditor.0)
        .fetch_all(&self.pool)
        .await?;
        // Customer id → currency → buckets in minor units.
        type Buckets = std::collections::BTreeMap<String, [i64; 5]>;
        let mut by_customer: std::collections::HashMap<i64, Buckets> =
            std::collections::HashMap::with_capacity(customers.len());
        for row in &sums {
            let mut buckets = [0i64; 5];
            for (i, b) in buckets.iter_mut().enumerate() {
                *b = row.try_get(format!("b{i}").as_str())?;
            }
            by_customer
                .entry(row.try_get("customer_id")?)
                .or_default()
                .insert(row.try_get("currency")?, buckets);
        }
        // Unallocated payments lower the not-yet-due column, as in the whole report.
        for row in &credits {
            let id: i64 = row.try_get("customer_id")?;
            let currency: String = row.try_get("currency")?;
            let credit: i64 = row.try_get("credit")?;
            if let Some(buckets) = by_customer.get_mut(&id).and_then(|m| m.get_mut(&currency)) {
                buckets[0] -= credit;
            }
        }
        let mut lines = Vec::with_capacity(customers.len());
        for (id, code, name) in &customers {
            let Some(per_currency) = by_customer.get(id) else {
                continue;
            };
            for (cur, minor) in per_currency {
                let currency = Currency::parse(cur)?;
                let mut buckets = [Decimal::ZERO; 5];
                for (b, m) in buckets.iter_mut().zip(minor) {
                    *b = Money::from_minor(*m, currency).amount;
                }
                lines.push(AgingLine {
                    customer: code.clone(),
                    customer_name: name.clone(),
                    currency: currency.code().to_string(),
                    buckets,
                });
            }
        }
        let next = if more {
            customers.last().map(|c| c.1.clone())
        } else {
            None
        };
        Ok(AgingPage { lines, next })
    }
}
