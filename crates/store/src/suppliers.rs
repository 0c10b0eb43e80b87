//! Suppliers (issue 9): purchase orders and supplier invoices, chased by the same daily run into
//! the same outbox (`actions`, kinds `supplier_delivery` and `supplier_invoice`) and timeline as
//! the dunning cases (migration `0022_suppliers.sql`).
//!
//! A supplier has a *party* row in `customers` (code `supplier:CODE`), kept in step with what
//! the files say of it: outbox rows, events and the dispatcher's delivery context are keyed on
//! customers, so suppliers use them unchanged. The run's supplier half
//! ([`Store::run_suppliers`]) is one transaction: it plans the late orders whose
//! `next_action_on` has come with the pure [`plan_delivery`], checks the invoices not checked
//! yet with [`check_invoice`], and writes outbox rows with `ON CONFLICT DO NOTHING` (a second
//! run of the day writes nothing), events and the new states. Volumes are those of a buyer
//! (thousands), so rows are written one statement each.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::NaiveDate;
use relance_core::ids::{CreditorId, CustomerId};
use relance_core::money::{Currency, Money};
use relance_core::party::Language;
use relance_core::planner::followup::FollowUpDone;
use relance_core::planner::supplier::{
    check_invoice, notice_deadline, plan_delivery, plan_invoice_dispute, DeliveryStatus,
    Discrepancy, OrderFacts, PurchaseOrder, SupplierInvoice, SupplierLadder, Tolerance,
    DELIVERY_KIND, INVOICE_KIND,
};
use relance_core::planner::{Channel, PlannedAction};
use rust_decimal::Decimal;
use sqlx::{Any, AnyConnection, Connection, Row, Transaction};

use crate::cases::{calendar_of, RunOptions};
use crate::db::now_text;
use crate::error::{Result, StoreError};
use crate::events::{append, NewEvent};
use crate::imports::parse_date;
use crate::Store;

type Tx<'c> = Transaction<'c, Any>;

/// The prefix of a supplier's party code in `customers`.
pub const PARTY_PREFIX: &str = "supplier:";

/// A supplier as a file names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupplierInput {
    pub code: String,
    pub name: Option<String>,
    pub email: Option<String>,
    /// Lines separated by `|` or newlines.
    pub address: Option<String>,
    pub language: Option<Language>,
}

/// One purchase order of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchaseOrderInput {
    pub supplier: SupplierInput,
    pub number: String,
    pub ordered_on: NaiveDate,
    pub promised_on: NaiveDate,
    pub amount: Money,
    pub quantity: Decimal,
    pub delivered_on: Option<NaiveDate>,
}

/// One supplier invoice of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupplierInvoiceInput {
    pub supplier: SupplierInput,
    pub number: String,
    pub issued_on: NaiveDate,
    pub po_number: Option<String>,
    pub amount: Money,
    pub quantity: Option<Decimal>,
}

/// What an import of purchase orders or supplier invoices did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SupplierImported {
    pub created: usize,
    /// A known order whose promised or delivery date changed.
    pub updated: usize,
    pub unchanged: usize,
}

/// A purchase order as stored, for the dispatcher and the report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PurchaseOrderRecord {
    pub id: i64,
    pub supplier_code: String,
    pub supplier_name: String,
    pub number: String,
    pub ordered_on: NaiveDate,
    pub promised_on: NaiveDate,
    pub delivered_on: Option<NaiveDate>,
    pub amount: Money,
    pub quantity: Decimal,
    pub status: String,
    /// The steps carried out.
    pub done: Vec<FollowUpDone>,
    pub next_action_on: Option<String>,
}

/// A supplier invoice as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SupplierInvoiceRecord {
    pub id: i64,
    pub supplier_code: String,
    pub supplier_name: String,
    pub number: String,
    pub issued_on: NaiveDate,
    pub po_number: Option<String>,
    pub amount: Money,
    pub quantity: Option<Decimal>,
    pub status: String,
    pub discrepancies: Vec<Discrepancy>,
    /// The order it names, when known (for the letter's comparison).
    pub order: Option<(String, Money, Decimal)>,
}

/// One line of `relance report suppliers`: an order or an invoice that needs attention.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SupplierReportLine {
    pub supplier: String,
    pub supplier_name: String,
    /// `order` or `invoice`.
    pub document: String,
    pub number: String,
    pub date: String,
    pub amount: String,
    pub currency: String,
    pub status: String,
    /// Days late (orders not delivered past their promise); 0 otherwise.
    pub days_late: i64,
    /// The last step carried out, or the discrepancies of an invoice.
    pub detail: String,
}

fn event(
    creditor: CreditorId,
    party: i64,
    kind: &str,
    on: NaiveDate,
    summary: String,
    data: serde_json::Value,
) -> NewEvent {
    NewEvent {
        creditor,
        customer: Some(CustomerId(party)),
        item: None,
        kind: kind.into(),
        occurred_on: on,
        summary,
        data,
    }
}

fn address_text(address: Option<&str>) -> Option<String> {
    address.map(|a| {
        a.split(['|', '\n'])
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// The ids (supplier, party) of a supplier, created or brought up to date from `input`.
async fn ensure_supplier(
    tx: &mut Tx<'_>,
    creditor: CreditorId,
    input: &SupplierInput,
    cache: &mut HashMap<String, (i64, i64)>,
) -> Result<(i64, i64)> {
    if let Some(ids) = cache.get(&input.code) {
        return Ok(*ids);
    }
    let now = now_text();
    let party_code = format!("{PARTY_PREFIX}{}", input.code);
    let existing = sqlx::query(
        "SELECT s.id, s.party_id, s.name, s.email, s.address, c.language FROM suppliers s \
         JOIN customers c ON c.id = s.party_id WHERE s.creditor_id = $1 AND s.code = $2",
    )
    .bind(creditor.0)
    .bind(input.code.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    let address = address_text(input.address.as_deref());
    let ids = if let Some(row) = existing {
        let id: i64 = row.try_get("id")?;
        let party: i64 = row.try_get("party_id")?;
        let name: String = input
            .name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or(row.try_get("name")?);
        let email: String = input.email.clone().unwrap_or(row.try_get("email")?);
        let address: String = address.unwrap_or(row.try_get("address")?);
        let language: String = input
            .language
            .map(|l| l.as_str().to_string())
            .unwrap_or(row.try_get("language")?);
        sqlx::query(
            "UPDATE suppliers SET name = $1, email = $2, address = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(name.as_str())
        .bind(email.as_str())
        .bind(address.as_str())
        .bind(now.as_str())
        .bind(id)
        .execute(&mut **tx)
        .await?;
        sqlx::query(
            "UPDATE customers SET name = $1, emails = $2, address = $3, language = $4, updated_at = $5 \
             WHERE creditor_id = $6 AND id = $7",
        )
        .bind(name.as_str())
        .bind(email.as_str())
        .bind(address.as_str())
        .bind(language.as_str())
        .bind(now.as_str())
        .bind(creditor.0)
        .bind(party)
        .execute(&mut **tx)
        .await?;
        (id, party)
    } else {
        let name = input
            .name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| input.code.clone());
        let email = input.email.clone().unwrap_or_default();
        let address = address.unwrap_or_default();
        let party: i64 = sqlx::query_scalar(
            "INSERT INTO customers (creditor_id, code, name, kind, language, emails, address, created_at, updated_at) \
             VALUES ($1, $2, $3, 'business', $4, $5, $6, $7, $8) \
             ON CONFLICT (creditor_id, code) DO UPDATE SET name = excluded.name RETURNING id",
        )
        .bind(creditor.0)
        .bind(party_code.as_str())
        .bind(name.as_str())
        .bind(input.language.unwrap_or_default().as_str())
        .bind(email.as_str())
        .bind(address.as_str())
        .bind(now.as_str())
        .bind(now.as_str())
        .fetch_one(&mut **tx)
        .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO suppliers (creditor_id, party_id, code, name, email, address, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(creditor.0)
        .bind(party)
        .bind(input.code.as_str())
        .bind(name.as_str())
        .bind(email.as_str())
        .bind(address.as_str())
        .bind(now.as_str())
        .bind(now.as_str())
        .fetch_one(&mut **tx)
        .await?;
        (id, party)
    };
    cache.insert(input.code.clone(), ids);
    Ok(ids)
}

/// Cancels the planned outbox rows about one supplier document.
async fn cancel_planned(
    tx: &mut Tx<'_>,
    creditor: CreditorId,
    kind: &str,
    document: i64,
) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE actions SET status = 'cancelled', claimed_by = NULL, updated_at = $1 \
         WHERE creditor_id = $2 AND kind = $3 AND supplier_document_id = $4 AND status IN ('planned', 'rendered')",
    )
    .bind(now_text())
    .bind(creditor.0)
    .bind(kind)
    .bind(document)
    .execute(&mut **tx)
    .await?
    .rows_affected())
}

fn quantity_of(text: &str) -> Result<Decimal> {
    Decimal::from_str(text).map_err(|e| StoreError::Corrupt(format!("quantity \"{text}\": {e}")))
}

fn json_text<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Marks order `id` delivered on `on`, stops its chase and cancels what it still had planned.
async fn deliver(
    tx: &mut Tx<'_>,
    creditor: CreditorId,
    id: i64,
    party: i64,
    number: &str,
    on: NaiveDate,
    source: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE purchase_orders SET delivered_on = $1, status = 'delivered', next_action_on = NULL, \
         updated_at = $2 WHERE creditor_id = $3 AND id = $4",
    )
    .bind(on.to_string())
    .bind(now_text())
    .bind(creditor.0)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    let cancelled = cancel_planned(tx, creditor, DELIVERY_KIND, id).await?;
    append(
        &mut **tx,
        &event(
            creditor,
            party,
            "supplier_delivered",
            on,
            format!("order {number} delivered on {on}: chase stopped ({cancelled} planned message(s) cancelled)"),
            serde_json::json!({"order": number, "delivered_on": on.to_string(), "source": source,
                "cancelled": cancelled}),
        ),
    )
    .await?;
    Ok(())
}

impl Store {
    /// Imports purchase orders, all or nothing. A known order (same number) takes the file's
    /// promised date (a new promise restarts nothing already sent, only the next date) and its
    /// delivery date when it has one (which stops the chase); otherwise it is left as it is.
    pub async fn import_purchase_orders(
        &self,
        creditor: CreditorId,
        orders: &[PurchaseOrderInput],
        source: &str,
    ) -> Result<SupplierImported> {
        let mut tx = self.pool.begin().await?;
        let mut done = SupplierImported::default();
        let mut cache = HashMap::new();
        for po in orders {
            let (supplier, party) =
                ensure_supplier(&mut tx, creditor, &po.supplier, &mut cache).await?;
            let existing = sqlx::query(
                "SELECT id, supplier_id, promised_on, delivered_on, status FROM purchase_orders \
                 WHERE creditor_id = $1 AND number = $2",
            )
            .bind(creditor.0)
            .bind(po.number.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            let now = now_text();
            let Some(row) = existing else {
                let status = if po.delivered_on.is_some() {
                    "delivered"
                } else {
                    "open"
                };
                sqlx::query(
                    "INSERT INTO purchase_orders (creditor_id, supplier_id, number, ordered_on, promised_on, \
                     delivered_on, amount_minor, currency, quantity, status, next_action_on, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                )
                .bind(creditor.0)
                .bind(supplier)
                .bind(po.number.as_str())
                .bind(po.ordered_on.to_string())
                .bind(po.promised_on.to_string())
                .bind(po.delivered_on.map(|d| d.to_string()))
                .bind(po.amount.to_minor()?)
                .bind(po.amount.currency.code())
                .bind(po.quantity.normalize().to_string())
                .bind(status)
                .bind(po.delivered_on.is_none().then_some("0000-00-00"))
                .bind(now.as_str())
                .bind(now.as_str())
                .execute(&mut *tx)
                .await?;
                append(
                    &mut *tx,
                    &event(
                        creditor,
                        party,
                        "purchase_order",
                        po.ordered_on,
                        format!(
                            "order {} placed: {}, {} unit(s), delivery promised for {}",
                            po.number, po.amount, po.quantity.normalize(), po.promised_on
                        ),
                        serde_json::json!({"order": po.number, "source": source,
                            "promised_on": po.promised_on.to_string(),
                            "amount": po.amount.to_plain_string(), "currency": po.amount.currency.code()}),
                    ),
                )
                .await?;
                done.created += 1;
                continue;
            };
            let id: i64 = row.try_get("id")?;
            let owner: i64 = row.try_get("supplier_id")?;
            if owner != supplier {
                return Err(StoreError::Refused(format!(
                    "order \"{}\" belongs to another supplier than {}",
                    po.number, po.supplier.code
                )));
            }
            let promised: String = row.try_get("promised_on")?;
            let delivered: Option<String> = row.try_get("delivered_on")?;
            let status: String = row.try_get("status")?;
            let mut changed = false;
            if promised != po.promised_on.to_string() && status != "delivered" {
                sqlx::query(
                    "UPDATE purchase_orders SET promised_on = $1, next_action_on = '0000-00-00', updated_at = $2 WHERE id = $3",
                )
                .bind(po.promised_on.to_string())
                .bind(now.as_str())
                .bind(id)
                .execute(&mut *tx)
                .await?;
                append(
                    &mut *tx,
                    &event(
                        creditor,
                        party,
                        "purchase_order_promised",
                        po.promised_on,
                        format!("order {}: delivery now promised for {} (was {promised})", po.number, po.promised_on),
                        serde_json::json!({"order": po.number, "promised_on": po.promised_on.to_string(), "was": promised}),
                    ),
                )
                .await?;
                changed = true;
            }
            if let (Some(on), None) = (po.delivered_on, delivered) {
                deliver(&mut tx, creditor, id, party, &po.number, on, source).await?;
                changed = true;
            }
            if changed {
                done.updated += 1;
            } else {
                done.unchanged += 1;
            }
        }
        tx.commit().await?;
        Ok(done)
    }

    /// Imports supplier invoices, all or nothing; a known invoice (same supplier and number) is
    /// left as it is. The next run checks the new ones against their orders.
    pub async fn import_supplier_invoices(
        &self,
        creditor: CreditorId,
        invoices: &[SupplierInvoiceInput],
        source: &str,
    ) -> Result<SupplierImported> {
        let mut tx = self.pool.begin().await?;
        let mut done = SupplierImported::default();
        let mut cache = HashMap::new();
        for invoice in invoices {
            let (supplier, party) =
                ensure_supplier(&mut tx, creditor, &invoice.supplier, &mut cache).await?;
            let now = now_text();
            let inserted: Option<i64> = sqlx::query_scalar(
                "INSERT INTO supplier_invoices (creditor_id, supplier_id, number, issued_on, po_number, \
                 amount_minor, currency, quantity, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (creditor_id, supplier_id, number) DO NOTHING RETURNING id",
            )
            .bind(creditor.0)
            .bind(supplier)
            .bind(invoice.number.as_str())
            .bind(invoice.issued_on.to_string())
            .bind(invoice.po_number.clone())
            .bind(invoice.amount.to_minor()?)
            .bind(invoice.amount.currency.code())
            .bind(invoice.quantity.map(|q| q.normalize().to_string()))
            .bind(now.as_str())
            .bind(now.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            if inserted.is_none() {
                done.unchanged += 1;
                continue;
            }
            done.created += 1;
            append(
                &mut *tx,
                &event(
                    creditor,
                    party,
                    "supplier_invoice",
                    invoice.issued_on,
                    format!(
                        "supplier invoice {} received: {}{}",
                        invoice.number,
                        invoice.amount,
                        invoice
                            .po_number
                            .as_deref()
                            .map(|p| format!(", order {p}"))
                            .unwrap_or_else(|| ", no order number".into())
                    ),
                    serde_json::json!({"invoice": invoice.number, "order": invoice.po_number, "source": source,
                        "amount": invoice.amount.to_plain_string(), "currency": invoice.amount.currency.code()}),
                ),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(done)
    }

    /// Records that order `number` was delivered on `on`: its chase stops and its planned
    /// messages are cancelled. Returns false when it was already delivered.
    pub async fn supplier_delivered(
        &self,
        creditor: CreditorId,
        number: &str,
        on: NaiveDate,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "SELECT p.id, p.status, s.party_id FROM purchase_orders p JOIN suppliers s ON s.id = p.supplier_id \
             WHERE p.creditor_id = $1 AND p.number = $2",
        )
        .bind(creditor.0)
        .bind(number)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::Refused(format!("unknown purchase order \"{number}\"")))?;
        let status: String = row.try_get("status")?;
        if status == "delivered" {
            tx.commit().await?;
            return Ok(false);
        }
        let id: i64 = row.try_get("id")?;
        let party: i64 = row.try_get("party_id")?;
        deliver(&mut tx, creditor, id, party, number, on, "command").await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The supplier half of the daily run (see the module documentation). Returns the actions
    /// written (with `dry_run`, those that would be).
    pub async fn run_suppliers(
        &self,
        creditor: CreditorId,
        options: RunOptions,
    ) -> Result<Vec<PlannedAction>> {
        let mut conn = self.pool.acquire().await?;
        self.run_suppliers_on(&mut conn, creditor, options).await
    }

    /// [`Store::run_suppliers`] on a connection the caller holds ([`Store::run_daily`]).
    #[tracing::instrument(skip(self, conn))]
    pub(crate) async fn run_suppliers_on(
        &self,
        conn: &mut AnyConnection,
        creditor: CreditorId,
        options: RunOptions,
    ) -> Result<Vec<PlannedAction>> {
        let as_of = options.as_of;
        let ladder = SupplierLadder::default();
        let tolerance = Tolerance::default();
        let mut tx = conn.begin().await?;
        let calendar = calendar_of(&mut tx, creditor).await?;
        let mut written = Vec::new();

        // 1. Late deliveries.
        let rows = sqlx::query(
            "SELECT p.id, p.number, p.ordered_on, p.promised_on, p.delivered_on, p.amount_minor, p.currency, \
             p.quantity, p.status, p.done, s.code, s.party_id, s.email FROM purchase_orders p \
             JOIN suppliers s ON s.id = p.supplier_id \
             WHERE p.creditor_id = $1 AND p.status = 'open' AND ($2 = 1 OR p.next_action_on <= $3) \
             ORDER BY s.code, p.id",
        )
        .bind(creditor.0)
        .bind(i64::from(options.full))
        .bind(as_of.to_string())
        .fetch_all(&mut *tx)
        .await?;
        for row in &rows {
            let id: i64 = row.try_get("id")?;
            let party: i64 = row.try_get("party_id")?;
            let done_text: String = row.try_get("done")?;
            let done: Vec<FollowUpDone> = serde_json::from_str(&done_text)
                .map_err(|e| StoreError::Corrupt(format!("order {id}: done: {e}")))?;
            let currency = Currency::parse(&row.try_get::<String, _>("currency")?)?;
            let po = PurchaseOrder {
                id,
                creditor,
                party: CustomerId(party),
                supplier_code: row.try_get("code")?,
                has_email: !row.try_get::<String, _>("email")?.trim().is_empty(),
                number: row.try_get("number")?,
                ordered_on: parse_date(&row.try_get::<String, _>("ordered_on")?)?,
                promised_on: parse_date(&row.try_get::<String, _>("promised_on")?)?,
                delivered_on: row
                    .try_get::<Option<String>, _>("delivered_on")?
                    .as_deref()
                    .map(parse_date)
                    .transpose()?,
                amount: Money::from_minor(row.try_get("amount_minor")?, currency),
                quantity: quantity_of(&row.try_get::<String, _>("quantity")?)?,
                status: DeliveryStatus::parse(&row.try_get::<String, _>("status")?)
                    .unwrap_or(DeliveryStatus::Open),
                done,
            };
            let decided = plan_delivery(&po, &ladder, &calendar, as_of);
            let mut after = po.done.clone();
            for action in &decided.actions {
                let channel = action.channels.first().copied().unwrap_or(Channel::Email);
                let mut data = serde_json::json!({"key": action.key, "step": action.step,
                    "kind": DELIVERY_KIND, "channel": channel.as_str(), "order": po.number});
                if channel == Channel::RegisteredLetterAr {
                    data["deadline"] =
                        serde_json::json!(notice_deadline(&ladder, &calendar, as_of).to_string());
                }
                let inserted =
                    insert_action(&mut tx, creditor, action, channel, DELIVERY_KIND, id).await?;
                after.push(FollowUpDone {
                    step: action.step.clone(),
                    on: as_of,
                });
                if !inserted {
                    continue;
                }
                append(
                    &mut *tx,
                    &event(
                        creditor,
                        party,
                        "reminder_planned",
                        as_of,
                        format!("{} ({}): {}", action.step, channel.as_str(), action.reason),
                        data,
                    ),
                )
                .await?;
                written.push(action.clone());
            }
            if let Some(why) = &decided.stopped {
                cancel_planned(&mut tx, creditor, DELIVERY_KIND, id).await?;
                append(
                    &mut *tx,
                    &event(
                        creditor,
                        party,
                        "supplier_chase_stopped",
                        as_of,
                        format!("late-delivery chase stopped: {why}"),
                        serde_json::json!({"order": po.number, "status": decided.status.as_str()}),
                    ),
                )
                .await?;
            }
            sqlx::query(
                "UPDATE purchase_orders SET status = $1, done = $2, next_action_on = $3, updated_at = $4 \
                 WHERE creditor_id = $5 AND id = $6",
            )
            .bind(decided.status.as_str())
            .bind(json_text(&after)?)
            .bind(decided.next_action_on.map(|d| d.to_string()))
            .bind(now_text())
            .bind(creditor.0)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }

        // 2. Invoices not checked yet (on business days only: a check that finds a discrepancy
        // plans its letter the same day).
        if calendar.is_business_day(as_of) {
            let orders: HashMap<String, OrderFacts> = sqlx::query(
                "SELECT p.number, p.amount_minor, p.currency, p.quantity, s.code FROM purchase_orders p \
                 JOIN suppliers s ON s.id = p.supplier_id WHERE p.creditor_id = $1 AND p.number IN \
                 (SELECT po_number FROM supplier_invoices WHERE creditor_id = $1 AND status = 'unchecked')",
            )
            .bind(creditor.0)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| {
                let number: String = r.try_get("number")?;
                let currency = Currency::parse(&r.try_get::<String, _>("currency")?)?;
                Ok((
                    number.clone(),
                    OrderFacts {
                        number,
                        supplier_code: r.try_get("code")?,
                        amount: Money::from_minor(r.try_get("amount_minor")?, currency),
                        quantity: quantity_of(&r.try_get::<String, _>("quantity")?)?,
                    },
                ))
            })
            .collect::<Result<_>>()?;
            let rows = sqlx::query(
                "SELECT i.id, i.number, i.issued_on, i.po_number, i.amount_minor, i.currency, i.quantity, \
                 s.code, s.party_id, s.email FROM supplier_invoices i JOIN suppliers s ON s.id = i.supplier_id \
                 WHERE i.creditor_id = $1 AND i.status = 'unchecked' AND i.issued_on <= $2 ORDER BY s.code, i.id",
            )
            .bind(creditor.0)
            .bind(as_of.to_string())
            .fetch_all(&mut *tx)
            .await?;
            for row in &rows {
                let id: i64 = row.try_get("id")?;
                let party: i64 = row.try_get("party_id")?;
                let currency = Currency::parse(&row.try_get::<String, _>("currency")?)?;
                let invoice = SupplierInvoice {
                    id,
                    creditor,
                    party: CustomerId(party),
                    supplier_code: row.try_get("code")?,
                    has_email: !row.try_get::<String, _>("email")?.trim().is_empty(),
                    number: row.try_get("number")?,
                    issued_on: parse_date(&row.try_get::<String, _>("issued_on")?)?,
                    po_number: row.try_get("po_number")?,
                    amount: Money::from_minor(row.try_get("amount_minor")?, currency),
                    quantity: row
                        .try_get::<Option<String>, _>("quantity")?
                        .as_deref()
                        .map(quantity_of)
                        .transpose()?,
                };
                let order = invoice.po_number.as_ref().and_then(|p| orders.get(p));
                let found = check_invoice(&invoice, order, &tolerance);
                let status = if found.is_empty() {
                    "matching"
                } else {
                    "disputed"
                };
                sqlx::query(
                    "UPDATE supplier_invoices SET status = $1, discrepancies = $2, checked_on = $3, updated_at = $4 \
                     WHERE creditor_id = $5 AND id = $6",
                )
                .bind(status)
                .bind(json_text(&found)?)
                .bind(as_of.to_string())
                .bind(now_text())
                .bind(creditor.0)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                let Some(action) = plan_invoice_dispute(&invoice, &found, &calendar, as_of) else {
                    append(
                        &mut *tx,
                        &event(
                            creditor,
                            party,
                            "supplier_invoice_checked",
                            as_of,
                            format!("supplier invoice {} matches its order", invoice.number),
                            serde_json::json!({"invoice": invoice.number, "status": status}),
                        ),
                    )
                    .await?;
                    continue;
                };
                let channel = action.channels.first().copied().unwrap_or(Channel::Email);
                if !insert_action(&mut tx, creditor, &action, channel, INVOICE_KIND, id).await? {
                    continue;
                }
                append(
                    &mut *tx,
                    &event(
                        creditor,
                        party,
                        "reminder_planned",
                        as_of,
                        format!("{} ({}): {}", action.step, channel.as_str(), action.reason),
                        serde_json::json!({"key": action.key, "step": action.step, "kind": INVOICE_KIND,
                            "channel": channel.as_str(), "invoice": invoice.number,
                            "discrepancies": found}),
                    ),
                )
                .await?;
                written.push(action);
            }
        }
        if options.dry_run {
            tx.rollback().await?;
        } else {
            tx.commit().await?;
        }
        Ok(written)
    }

    /// The purchase orders with these ids (for the dispatcher), by id.
    pub async fn purchase_orders_by_id(
        &self,
        creditor: CreditorId,
        ids: &[i64],
    ) -> Result<HashMap<i64, PurchaseOrderRecord>> {
        let mut out = HashMap::new();
        for id in ids {
            let rows = order_rows(self, creditor, Some(*id)).await?;
            for record in rows {
                out.insert(record.id, record);
            }
        }
        Ok(out)
    }

    /// The supplier invoices with these ids (for the dispatcher), by id.
    pub async fn supplier_invoices_by_id(
        &self,
        creditor: CreditorId,
        ids: &[i64],
    ) -> Result<HashMap<i64, SupplierInvoiceRecord>> {
        let mut out = HashMap::new();
        for id in ids {
            for record in invoice_rows(self, creditor, Some(*id)).await? {
                out.insert(record.id, record);
            }
        }
        Ok(out)
    }

    /// Every purchase order of a creditor, by supplier and number.
    pub async fn purchase_orders(&self, creditor: CreditorId) -> Result<Vec<PurchaseOrderRecord>> {
        order_rows(self, creditor, None).await
    }

    /// Every supplier invoice of a creditor, by supplier and number.
    pub async fn supplier_invoices(
        &self,
        creditor: CreditorId,
    ) -> Result<Vec<SupplierInvoiceRecord>> {
        invoice_rows(self, creditor, None).await
    }

    /// `relance report suppliers`: the orders not delivered (late first) and the invoices
    /// disputed or not checked yet.
    pub async fn supplier_report(
        &self,
        creditor: CreditorId,
        as_of: NaiveDate,
    ) -> Result<Vec<SupplierReportLine>> {
        let mut lines = Vec::new();
        for po in self.purchase_orders(creditor).await? {
            if po.status == "delivered" {
                continue;
            }
            let days_late = (as_of - po.promised_on).num_days().max(0);
            lines.push(SupplierReportLine {
                supplier: po.supplier_code.clone(),
                supplier_name: po.supplier_name.clone(),
                document: "order".into(),
                number: po.number.clone(),
                date: po.promised_on.to_string(),
                amount: po.amount.to_plain_string(),
                currency: po.amount.currency.code().to_string(),
                status: if days_late > 0 {
                    "late".into()
                } else {
                    "awaited".into()
                },
                days_late,
                detail: po
                    .done
                    .last()
                    .map(|d| format!("{} on {}", d.step, d.on))
                    .unwrap_or_default(),
            });
        }
        lines.sort_by(|a, b| b.days_late.cmp(&a.days_late).then(a.number.cmp(&b.number)));
        for invoice in self.supplier_invoices(creditor).await? {
            if invoice.status == "matching" {
                continue;
            }
            lines.push(SupplierReportLine {
                supplier: invoice.supplier_code.clone(),
                supplier_name: invoice.supplier_name.clone(),
                document: "invoice".into(),
                number: invoice.number.clone(),
                date: invoice.issued_on.to_string(),
                amount: invoice.amount.to_plain_string(),
                currency: invoice.amount.currency.code().to_string(),
                status: invoice.status.clone(),
                days_late: 0,
                detail: invoice
                    .discrepancies
                    .iter()
                    .map(Discrepancy::describe)
                    .collect::<Vec<_>>()
                    .join("; "),
            });
        }
        Ok(lines)
    }
}

async fn insert_action(
    tx: &mut Tx<'_>,
    creditor: CreditorId,
    action: &PlannedAction,
    channel: Channel,
    kind: &str,
    document: i64,
) -> Result<bool> {
    let inserted: Option<String> = sqlx::query_scalar(
        "INSERT INTO actions (creditor_id, customer_id, idempotency_key, channel, step, notice, cycle, \
         planned_on, due_on, status, invoices, amount_minor, currency, reason, created_at, updated_at, \
         kind, supplier_document_id) \
         VALUES ($1, $2, $3, $4, $5, 0, 1, $6, $7, 'planned', $8, $9, $10, $11, $12, $13, $14, $15) \
         ON CONFLICT (creditor_id, idempotency_key, channel) DO NOTHING RETURNING idempotency_key",
    )
    .bind(creditor.0)
    .bind(action.customer.0)
    .bind(action.key.as_str())
    .bind(channel.as_str())
    .bind(action.step.as_str())
    .bind(action.on.to_string())
    .bind(action.due_on.to_string())
    .bind(json_text(&action.invoices)?)
    .bind(action.amount_due.to_minor()?)
    .bind(action.amount_due.currency.code())
    .bind(action.reason.as_str())
    .bind(now_text())
    .bind(now_text())
    .bind(kind)
    .bind(document)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(inserted.is_some())
}

async fn order_rows(
    store: &Store,
    creditor: CreditorId,
    id: Option<i64>,
) -> Result<Vec<PurchaseOrderRecord>> {
    let rows = sqlx::query(
        "SELECT p.id, s.code, s.name, p.number, p.ordered_on, p.promised_on, p.delivered_on, p.amount_minor, \
         p.currency, p.quantity, p.status, p.done, p.next_action_on FROM purchase_orders p \
         JOIN suppliers s ON s.id = p.supplier_id WHERE p.creditor_id = $1 AND ($2 = 0 OR p.id = $2) \
         ORDER BY s.code, p.number",
    )
    .bind(creditor.0)
    .bind(id.unwrap_or(0))
    .fetch_all(&store.pool)
    .await?;
    rows.iter()
        .map(|row| {
            let id: i64 = row.try_get("id")?;
            let currency = Currency::parse(&row.try_get::<String, _>("currency")?)?;
            let done_text: String = row.try_get("done")?;
            Ok(PurchaseOrderRecord {
                id,
                supplier_code: row.try_get("code")?,
                supplier_name: row.try_get("name")?,
                number: row.try_get("number")?,
                ordered_on: parse_date(&row.try_get::<String, _>("ordered_on")?)?,
                promised_on: parse_date(&row.try_get::<String, _>("promised_on")?)?,
                delivered_on: row
                    .try_get::<Option<String>, _>("delivered_on")?
                    .as_deref()
                    .map(parse_date)
                    .transpose()?,
                amount: Money::from_minor(row.try_get("amount_minor")?, currency),
                quantity: quantity_of(&row.try_get::<String, _>("quantity")?)?,
                status: row.try_get("status")?,
                done: serde_json::from_str(&done_text)
                    .map_err(|e| StoreError::Corrupt(format!("order {id}: done: {e}")))?,
                next_action_on: row.try_get("next_action_on")?,
            })
        })
        .collect()
}

async fn invoice_rows(
    store: &Store,
    creditor: CreditorId,
    id: Option<i64>,
) -> Result<Vec<SupplierInvoiceRecord>> {
    let rows = sqlx::query(
        "SELECT i.id, s.code, s.name, i.number, i.issued_on, i.po_number, i.amount_minor, i.currency, \
         i.quantity, i.status, i.discrepancies, p.number AS order_number, p.amount_minor AS order_minor, \
         p.currency AS order_currency, p.quantity AS order_quantity FROM supplier_invoices i \
         JOIN suppliers s ON s.id = i.supplier_id \
         LEFT JOIN purchase_orders p ON p.creditor_id = i.creditor_id AND p.number = i.po_number \
         AND p.supplier_id = i.supplier_id \
         WHERE i.creditor_id = $1 AND ($2 = 0 OR i.id = $2) ORDER BY s.code, i.number",
    )
    .bind(creditor.0)
    .bind(id.unwrap_or(0))
    .fetch_all(&store.pool)
    .await?;
    rows.iter()
        .map(|row| {
            let id: i64 = row.try_get("id")?;
            let currency = Currency::parse(&row.try_get::<String, _>("currency")?)?;
            let text: String = row.try_get("discrepancies")?;
            let order = match row.try_get::<Option<String>, _>("order_number")? {
                Some(number) => {
                    let currency = Currency::parse(&row.try_get::<String, _>("order_currency")?)?;
                    Some((
                        number,
                        Money::from_minor(row.try_get("order_minor")?, currency),
                        quantity_of(&row.try_get::<String, _>("order_quantity")?)?,
                    ))
                }
                None => None,
            };
            Ok(SupplierInvoiceRecord {
                id,
                supplier_code: row.try_get("code")?,
                supplier_name: row.try_get("name")?,
                number: row.try_get("number")?,
                issued_on: parse_date(&row.try_get::<String, _>("issued_on")?)?,
                po_number: row.try_get("po_number")?,
                amount: Money::from_minor(row.try_get("amount_minor")?, currency),
                quantity: row
                    .try_get::<Option<String>, _>("quantity")?
                    .as_deref()
                    .map(quantity_of)
                    .transpose()?,
                status: row.try_get("status")?,
                discrepancies: serde_json::from_str(&text)
                    .map_err(|e| StoreError::Corrupt(format!("supplier invoice {id}: {e}")))?,
                order,
            })
        })
        .collect()
}

/// The last check of supplier rows before they leave, inside the dispatcher's transaction: the
/// ids (of `actions`) whose order has been delivered meanwhile, with the reason. Invoice
/// disputes always leave (the invoice stays wrong whatever happens to the order).
pub(crate) async fn blocked_suppliers(
    tx: &mut Tx<'_>,
    creditor: CreditorId,
    actions: &[&crate::outbox::ClaimedAction],
) -> Result<HashMap<i64, String>> {
    let mut out = HashMap::new();
    for action in actions {
        if action.kind != DELIVERY_KIND {
            continue;
        }
        let Some(document) = action.supplier_document_id else {
            out.insert(action.id, "its purchase order is not recorded".to_string());
            continue;
        };
        let row = sqlx::query(
            "SELECT number, delivered_on FROM purchase_orders WHERE creditor_id = $1 AND id = $2",
        )
        .bind(creditor.0)
        .bind(document)
        .fetch_optional(&mut **tx)
        .await?;
        match row {
            None => {
                out.insert(action.id, "its purchase order no longer exists".to_string());
            }
            Some(row) => {
                if let Some(on) = row.try_get::<Option<String>, _>("delivered_on")? {
                    let number: String = row.try_get("number")?;
                    out.insert(action.id, format!("order {number} was delivered on {on}"));
                }
            }
        }
    }
    Ok(out)
}
