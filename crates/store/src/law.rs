//! What the late-payment law needs from the ledger: imported rate tables, each late invoice's
//! principal and payment history, and the waivers a person decided.

use chrono::NaiveDate;
use relance_core::ids::{CreditorId, ItemId};
use relance_core::money::{Currency, Money};
use relance_core::party::CustomerKind;
use sqlx::Row;

use crate::db::now_text;
use crate::error::{Result, StoreError};
use crate::events::{append, NewEvent};
use crate::imports::parse_date;
use crate::Store;

/// A late invoice as the penalty computation sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LateInvoice {
    pub item: ItemId,
    pub number: String,
    pub customer: String,
    pub customer_name: String,
    pub customer_kind: CustomerKind,
    pub due_date: NaiveDate,
    /// Total less what was settled outside relance (taken as settled by the due date: the export
    /// does not say when).
    pub principal: Money,
    /// Allocations (payments and credit notes) with the day they settled the invoice.
    pub payments: Vec<(NaiveDate, Money)>,
    pub open: Money,
    /// The waiver's date and reason, when a person waived the penalties.
    pub waived: Option<(NaiveDate, String)>,
}

impl Store {
    /// Keeps a rate table (TOML, already validated by the caller) for every later computation.
    pub async fn save_rate_table(&self, source: &str, content: &str) -> Result<()> {
        sqlx::query("INSERT INTO rate_tables (source, content, imported_at) VALUES ($1, $2, $3)")
            .bind(source)
            .bind(content)
            .bind(now_text())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Imported rate tables, oldest first (later ones complete or correct earlier ones).
    pub async fn rate_tables(&self) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query("SELECT source, content FROM rate_tables ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("source")?, r.try_get("content")?)))
            .collect()
    }

    /// Invoices due before `as_of` that were paid late or are still open: what penalties can
    /// be claimed on. An invoice paid late stays here after it is paid.
    pub async fn late_invoices(
        &self,
        creditor: CreditorId,
        as_of: NaiveDate,
        customer: Option<&str>,
    ) -> Result<Vec<LateInvoice>> {
        let rows = sqlx::query(
            "SELECT i.id, i.number, i.due_date, i.currency, i.total_minor, i.paid_outside_minor, i.open_minor, \
             c.code, c.name, c.kind, w.waived_on, w.reason \
             FROM items i JOIN customers c ON c.id = i.customer_id \
             LEFT JOIN penalty_waivers w ON w.item_id = i.id AND w.creditor_id = i.creditor_id \
             WHERE i.creditor_id = $1 AND i.kind = 'invoice' AND i.due_date < $2 AND ($3 = '' OR c.code = $3) \
             AND (i.open_minor > 0 OR EXISTS (SELECT 1 FROM allocations a WHERE a.item_id = i.id AND a.allocated_on > i.due_date)) \
             ORDER BY c.code, i.due_date, i.number",
        )
        .bind(creditor.0)
        .bind(as_of.to_string())
        .bind(customer.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        // All allocations of those invoices in one query (not one per invoice).
        let allocation_rows = sqlx::query(
            "SELECT a.item_id, a.allocated_on, a.amount_minor FROM allocations a JOIN items i ON i.id = a.item_id \
             WHERE a.creditor_id = $1 AND i.kind = 'invoice' AND i.due_date < $2 ORDER BY a.item_id, a.allocated_on, a.id",
        )
        .bind(creditor.0)
        .bind(as_of.to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut allocations: std::collections::HashMap<i64, Vec<(String, i64)>> =
            std::collections::HashMap::new();
        for a in allocation_rows {
            allocations
                .entry(a.try_get("item_id")?)
                .or_default()
                .push((a.try_get("allocated_on")?, a.try_get("amount_minor")?));
        }
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let item = ItemId(row.try_get("id")?);
            let currency = Currency::parse(&row.try_get::<String, _>("currency")?)?;
            let total: i64 = row.try_get("total_minor")?;
            let paid_outside: i64 = row.try_get("paid_outside_minor")?;
            let kind: String = row.try_get("kind")?;
            let mut payments = Vec::new();
            for (on, minor) in allocations.remove(&item.0).unwrap_or_default() {
                payments.push((parse_date(&on)?, Money::from_minor(minor, currency)));
            }
            let waived = match (
                row.try_get::<Option<String>, _>("waived_on")?,
                row.try_get::<Option<String>, _>("reason")?,
            ) {
                (Some(on), Some(reason)) => Some((parse_date(&on)?, reason)),
                _ => None,
            };
            out.push(LateInvoice {
                item,
                number: row.try_get("number")?,
                customer: row.try_get("code")?,
                customer_name: row.try_get("name")?,
                customer_kind: CustomerKind::parse(&kind)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                due_date: parse_date(&row.try_get::<String, _>("due_date")?)?,
                principal: Money::from_minor(total - paid_outside, currency),
                payments,
                open: Money::from_minor(row.try_get("open_minor")?, currency),
                waived,
            });
        }
        Ok(out)
    }

    /// A person waives the penalties and indemnity of an invoice, with a reason (kept on the
    /// timeline). Waiving twice is refused.
    pub async fn waive_penalties(
        &self,
        creditor: CreditorId,
        number: &str,
        reason: &str,
        on: NaiveDate,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query("SELECT id, customer_id FROM items WHERE creditor_id = $1 AND number = $2 AND kind = 'invoice'")
            .bind(creditor.0)
            .bind(number)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::UnknownInvoice(number.to_string()))?;
        let item: i64 = row.try_get("id")?;
        let customer: i64 = row.try_get("customer_id")?;
        let inserted = sqlx::query(
            "INSERT INTO penalty_waivers (creditor_id, item_id, waived_on, reason, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (creditor_id, item_id) DO NOTHING",
        )
        .bind(creditor.0)
        .bind(item)
        .bind(on.to_string())
        .bind(reason)
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::Unsupported(format!(
                "the penalties of {number} are already waived"
            )));
        }
        append(
            &mut *tx,
            &NewEvent {
                creditor,
                customer: Some(relance_core::ids::CustomerId(customer)),
                item: Some(ItemId(item)),
                kind: "penalties_waived".into(),
                occurred_on: on,
                summary: format!(
                    "late-payment penalties and indemnity of {number} waived: {reason}"
                ),
                data: serde_json::json!({ "reason": reason }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
