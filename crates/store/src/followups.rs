//! Follow-ups beyond receivables (quotes, prospects, dormant customers) and opt-outs, stored
//! next to the dunning cases and planned by the same daily run into the same outbox.
//!
//! The run's follow-up half ([`Store::run_followups`]) is one transaction: it finds the
//! customers who became dormant (their invoices' dates, read for the customers whose case or
//! day came, or for everyone: see `dormancy.rs`), plans the follow-ups whose
//! `next_action_on` has come with the pure [`plan_followup`], and writes the outbox rows
//! (`INSERT … ON CONFLICT DO NOTHING`, so a second run of the day writes nothing), the events
//! and the follow-ups' new state. A dry run does the same and rolls back, so it reports exactly
//! the rows a real run would add. Volumes are those of a sales team (thousands, not millions):
//! rows are written one statement each.
//!
//! An opt-out ([`Store::opt_out`]) stops the contact's open follow-ups and cancels their
//! planned commercial messages at once; receivable rows (`kind = 'receivable'`) are untouched.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use relance_core::ids::{CreditorId, CustomerId};
use relance_core::money::{Currency, Money};
use relance_core::party::{CustomerKind, Language};
use relance_core::planner::followup::{
    dormant_from, dormant_reference, is_dormant, send_time, FollowUpDone,
};
use relance_core::planner::{
    plan_followup, Channel, FollowUp, FollowUpKind, FollowUpStatus, PlannedAction,
};
use sqlx::{Any, AnyConnection, Connection, Row, Transaction};

use crate::cases::{calendar_of, RunOptions};
use crate::db::now_text;
use crate::error::{Result, StoreError};
use crate::events::{append, NewEvent};
use crate::imports::parse_date;
use crate::Store;

type Tx<'c> = Transaction<'c, Any>;

/// Months without an invoice before a customer counts as dormant, unless twice their usual
/// ordering interval is longer.
pub const DEFAULT_DORMANT_MONTHS: u32 = 6;

/// A contact named by a quote file or `relance prospect add`: created when the code is new,
/// left as it is otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactInput {
    pub code: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub language: Option<Language>,
    pub kind: Option<CustomerKind>,
}

/// One quote of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteInput {
    pub contact: ContactInput,
    pub number: String,
    pub sent_on: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub amount: Money,
}

/// One prospect of an import (`relance import prospects`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProspectInput {
    pub contact: ContactInput,
    pub phone: Option<String>,
    pub met_on: NaiveDate,
    /// The purpose of the follow-up or notes from the meeting, kept on the timeline.
    pub notes: Option<String>,
}

/// What an import of prospects did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ProspectsImported {
    pub created: usize,
    /// Already followed as a prospect met that day (a second import of the file): left alone.
    pub unchanged: usize,
    /// Contacts who opted out of commercial messages: not followed.
    pub opted_out: usize,
}

/// What an import of quotes did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct QuotesImported {
    pub created: usize,
    /// Already known (same number): left as they are.
    pub unchanged: usize,
}

/// A follow-up as stored, for the dispatcher and `relance followup list`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FollowUpRecord {
    pub id: i64,
    pub customer_id: i64,
    pub customer_code: String,
    pub kind: FollowUpKind,
    pub reference: String,
    pub started_on: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub amount: Money,
    pub status: FollowUpStatus,
    pub next_action_on: Option<String>,
}

fn event(
    creditor: CreditorId,
    customer: i64,
    kind: &str,
    on: NaiveDate,
    summary: String,
    data: serde_json::Value,
) -> NewEvent {
    NewEvent {
        creditor,
        customer: Some(CustomerId(customer)),
        item: None,
        kind: kind.into(),
        occurred_on: on,
        summary,
        data,
    }
}

/// The id of the customer with this code, created from `contact` when new.
async fn ensure_contact(
    tx: &mut Tx<'_>,
    creditor: CreditorId,
    contact: &ContactInput,
) -> Result<i64> {
    let existing: Option<i64> =
        sqlx::query_scalar("SELECT id FROM customers WHERE creditor_id = $1 AND code = $2")
            .bind(creditor.0)
            .bind(contact.code.as_str())
            .fetch_optional(&mut **tx)
            .await?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let now = now_text();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO customers (creditor_id, code, name, kind, language, emails, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(creditor.0)
    .bind(contact.code.as_str())
    .bind(
        contact
            .name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| contact.code.clone()),
    )
    .bind(contact.kind.unwrap_or_default().as_str())
    .bind(contact.language.unwrap_or_default().as_str())
    .bind(contact.email.clone().unwrap_or_default())
    .bind(now.as_str())
    .bind(now.as_str())
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

async fn customer_id(tx: &mut Tx<'_>, creditor: CreditorId, code: &str) -> Result<i64> {
    sqlx::query_scalar("SELECT id FROM customers WHERE creditor_id = $1 AND code = $2")
        .bind(creditor.0)
        .bind(code)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::UnknownCustomer(code.to_string()))
}

/// Closes the open follow-ups of `kinds` of a customer and cancels their planned rows; returns
/// how many follow-ups it closed.
async fn close_followups(
    tx: &mut Tx<'_>,
    creditor: CreditorId,
    customer: i64,
    kinds: &[FollowUpKind],
    status: FollowUpStatus,
    on: NaiveDate,
) -> Result<usize> {
    let mut closed = 0;
    for kind in kinds {
        let ids: Vec<i64> = sqlx::query_scalar(
            "UPDATE followups SET status = $1, closed_on = $2, next_action_on = NULL, updated_at = $3 \
             WHERE creditor_id = $4 AND customer_id = $5 AND kind = $6 AND status = 'open' RETURNING id",
        )
        .bind(status.as_str())
        .bind(on.to_string())
        .bind(now_text())
        .bind(creditor.0)
        .bind(customer)
        .bind(kind.as_str())
        .fetch_all(&mut **tx)
        .await?;
        for id in &ids {
            cancel_planned(tx, creditor, *id).await?;
        }
        closed += ids.len();
    }
    Ok(closed)
}

/// Cancels the planned outbox rows of one follow-up.
async fn cancel_planned(tx: &mut Tx<'_>, creditor: CreditorId, followup: i64) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE actions SET status = 'cancelled', claimed_by = NULL, updated_at = $1 \
         WHERE creditor_id = $2 AND followup_id = $3 AND status IN ('planned', 'rendered')",
    )
    .bind(now_text())
    .bind(creditor.0)
    .bind(followup)
    .execute(&mut **tx)
    .await?
    .rows_affected())
}

impl Store {
    /// Imports quotes, all or nothing: a quote whose number is known is left as it is (a second
    /// import of the same file changes nothing); contacts are created when their code is new.
    pub async fn import_quotes(
        &self,
        creditor: CreditorId,
        quotes: &[QuoteInput],
        source: &str,
    ) -> Result<QuotesImported> {
        let mut tx = self.pool.begin().await?;
        let mut done = QuotesImported::default();
        for quote in quotes {
            let customer = ensure_contact(&mut tx, creditor, &quote.contact).await?;
            let now = now_text();
            let inserted: Option<i64> = sqlx::query_scalar(
                "INSERT INTO followups (creditor_id, customer_id, kind, reference, started_on, valid_until, \
                 amount_minor, currency, next_action_on, created_at, updated_at) \
                 VALUES ($1, $2, 'quote', $3, $4, $5, $6, $7, '0000-00-00', $8, $9) \
                 ON CONFLICT (creditor_id, kind, reference) DO NOTHING RETURNING id",
            )
            .bind(creditor.0)
            .bind(customer)
            .bind(quote.number.as_str())
            .bind(quote.sent_on.to_string())
            .bind(quote.valid_until.map(|d| d.to_string()))
            .bind(quote.amount.to_minor()?)
            .bind(quote.amount.currency.code())
            .bind(now.as_str())
            .bind(now.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            if inserted.is_some() {
                done.created += 1;
                let until = quote
                    .valid_until
                    .map(|d| format!(", valid until {d}"))
                    .unwrap_or_default();
                append(
                    &mut *tx,
                    &event(
                        creditor,
                        customer,
                        "quote_sent",
                        quote.sent_on,
                        format!("quote {} sent: {}{until}", quote.number, quote.amount),
                        serde_json::json!({"quote": quote.number, "source": source,
                            "amount": quote.amount.to_plain_string(), "currency": quote.amount.currency.code()}),
                    ),
                )
                .await?;
            } else {
                done.unchanged += 1;
            }
        }
        tx.commit().await?;
        Ok(done)
    }

    /// Records that quote `number` was accepted (or refused) on `on`: its follow-up stops and
    /// its planned messages are cancelled.
    pub async fn quote_decision(
        &self,
        creditor: CreditorId,
        number: &str,
        accepted: bool,
        on: NaiveDate,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "SELECT id, customer_id, status FROM followups WHERE creditor_id = $1 AND kind = 'quote' AND reference = $2",
        )
        .bind(creditor.0)
        .bind(number)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::Refused(format!("unknown quote \"{number}\"")))?;
        let id: i64 = row.try_get("id")?;
        let customer: i64 = row.try_get("customer_id")?;
        let status: String = row.try_get("status")?;
        let (new, word) = if accepted {
            (FollowUpStatus::Accepted, "accepted")
        } else {
            (FollowUpStatus::Refused, "refused")
        };
        if status != "open" && status != "done" && status != "expired" {
            return Err(StoreError::Refused(format!(
                "quote \"{number}\" is already {status}"
            )));
        }
        sqlx::query(
            "UPDATE followups SET status = $1, closed_on = $2, next_action_on = NULL, updated_at = $3 WHERE id = $4",
        )
        .bind(new.as_str())
        .bind(on.to_string())
        .bind(now_text())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let cancelled = cancel_planned(&mut tx, creditor, id).await?;
        append(
            &mut *tx,
            &event(
                creditor,
                customer,
                &format!("quote_{word}"),
                on,
                format!("quote {number} {word}; its follow-up stops ({cancelled} planned message(s) cancelled)"),
                serde_json::json!({"quote": number}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Imports prospects, all or nothing (one transaction): each contact is created when its
    /// code is new (with its phone), and followed up from its first contact unless it opted
    /// out or is already followed as a prospect met that day.
    pub async fn import_prospects(
        &self,
        creditor: CreditorId,
        prospects: &[ProspectInput],
        source: &str,
    ) -> Result<ProspectsImported> {
        let mut tx = self.pool.begin().await?;
        let mut done = ProspectsImported::default();
        for prospect in prospects {
            if prospect.contact.code.trim().is_empty() {
                // Dropping the transaction rolls back the prospects before this one.
                return Err(StoreError::Refused(format!(
                    "{source}: a prospect without a contact code; nothing was imported"
                )));
            }
            let customer = ensure_contact(&mut tx, creditor, &prospect.contact).await?;
            if let Some(phone) = &prospect.phone {
                sqlx::query(
                    "UPDATE customers SET phones = $1 WHERE id = $2 AND creditor_id = $3 AND phones = ''",
                )
                .bind(phone.as_str())
                .bind(customer)
                .bind(creditor.0)
                .execute(&mut *tx)
                .await?;
            }
            if opted_out(&mut tx, creditor, customer).await? {
                done.opted_out += 1;
                continue;
            }
            let met_on = prospect.met_on;
            let reference = format!("prospect-{}-{met_on}", prospect.contact.code);
            let now = now_text();
            let inserted: Option<i64> = sqlx::query_scalar(
                "INSERT INTO followups (creditor_id, customer_id, kind, reference, started_on, next_action_on, created_at, updated_at) \
                 VALUES ($1, $2, 'prospect', $3, $4, '0000-00-00', $5, $6) \
                 ON CONFLICT (creditor_id, kind, reference) DO NOTHING RETURNING id",
            )
            .bind(creditor.0)
            .bind(customer)
            .bind(reference.as_str())
            .bind(met_on.to_string())
            .bind(now.as_str())
            .bind(now.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            if inserted.is_none() {
                done.unchanged += 1;
                continue;
            }
            done.created += 1;
            let notes = prospect
                .notes
                .as_deref()
                .map(|n| format!(" — {n}"))
                .unwrap_or_default();
            append(
                &mut *tx,
                &event(
                    creditor,
                    customer,
                    "prospect_added",
                    met_on,
                    format!("prospect first met on {met_on}: follow-up started{notes}"),
                    serde_json::json!({"reference": reference, "source": source,
                        "notes": prospect.notes}),
                ),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(done)
    }

    /// Adds a prospect first met on `met_on` (the contact is created when new). Fails when the
    /// contact opted out or already has an open prospect follow-up.
    pub async fn add_prospect(
        &self,
        creditor: CreditorId,
        contact: &ContactInput,
        met_on: NaiveDate,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let customer = ensure_contact(&mut tx, creditor, contact).await?;
        if opted_out(&mut tx, creditor, customer).await? {
            return Err(StoreError::Refused(format!(
                "{} opted out of commercial messages",
                contact.code
            )));
        }
        let now = now_text();
        let reference = format!("prospect-{}-{met_on}", contact.code);
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO followups (creditor_id, customer_id, kind, reference, started_on, next_action_on, created_at, updated_at) \
             VALUES ($1, $2, 'prospect', $3, $4, '0000-00-00', $5, $6) \
             ON CONFLICT (creditor_id, kind, reference) DO NOTHING RETURNING id",
        )
        .bind(creditor.0)
        .bind(customer)
        .bind(reference.as_str())
        .bind(met_on.to_string())
        .bind(now.as_str())
        .bind(now.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        if inserted.is_none() {
            return Err(StoreError::Refused(format!(
                "{} is already followed as a prospect met on {met_on}",
                contact.code
            )));
        }
        append(
            &mut *tx,
            &event(
                creditor,
                customer,
                "prospect_added",
                met_on,
                format!("prospect first met on {met_on}: follow-up started"),
                serde_json::json!({"reference": reference}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records an answer from contact `code`: its prospect and reactivation follow-ups stop.
    /// Returns how many stopped.
    pub async fn contact_reply(
        &self,
        creditor: CreditorId,
        code: &str,
        on: NaiveDate,
    ) -> Result<usize> {
        let mut tx = self.pool.begin().await?;
        let customer = customer_id(&mut tx, creditor, code).await?;
        let closed = close_followups(
            &mut tx,
            creditor,
            customer,
            &[FollowUpKind::Prospect, FollowUpKind::Dormant],
            FollowUpStatus::Replied,
            on,
        )
        .await?;
        append(
            &mut *tx,
            &event(
                creditor,
                customer,
                "contact_replied",
                on,
                format!("the contact answered; {closed} follow-up(s) stopped"),
                serde_json::json!({"stopped": closed}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(closed)
    }

    /// Records at once that contact `code` wants no more commercial messages (`source`: how it
    /// was asked, `link` or `command`): its open follow-ups stop and their planned messages are
    /// cancelled. Receivables are not affected. Returns false when it had already opted out.
    pub async fn opt_out(
        &self,
        creditor: CreditorId,
        code: &str,
        on: NaiveDate,
        source: &str,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let customer = customer_id(&mut tx, creditor, code).await?;
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO optouts (creditor_id, customer_id, opted_out_on, source, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (creditor_id, customer_id) DO NOTHING RETURNING id",
        )
        .bind(creditor.0)
        .bind(customer)
        .bind(on.to_string())
        .bind(source)
        .bind(now_text())
        .fetch_optional(&mut *tx)
        .await?;
        if inserted.is_none() {
            tx.commit().await?;
            return Ok(false);
        }
        let closed = close_followups(
            &mut tx,
            creditor,
            customer,
            &FollowUpKind::ALL,
            FollowUpStatus::OptedOut,
            on,
        )
        .await?;
        append(
            &mut *tx,
            &event(
                creditor,
                customer,
                "opted_out",
                on,
                format!(
                    "opted out of commercial messages ({source}); {closed} follow-up(s) stopped; \
                     reminders of unpaid invoices go on"
                ),
                serde_json::json!({"source": source, "stopped": closed}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Whether the customer opted out of commercial messages.
    pub async fn is_opted_out(&self, creditor: CreditorId, customer: CustomerId) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let out = opted_out(&mut tx, creditor, customer.0).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// The follow-ups of a creditor (of one customer when `customer` is given), newest first.
    pub async fn followups(
        &self,
        creditor: CreditorId,
        customer: Option<&str>,
    ) -> Result<Vec<FollowUpRecord>> {
        let rows = sqlx::query(
            "SELECT f.id, f.customer_id, c.code, f.kind, f.reference, f.started_on, f.valid_until, \
             f.amount_minor, f.currency, f.status, f.next_action_on FROM followups f \
             JOIN customers c ON c.id = f.customer_id WHERE f.creditor_id = $1 \
             AND ($2 = '' OR c.code = $2) ORDER BY f.id DESC",
        )
        .bind(creditor.0)
        .bind(customer.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(record_of).collect()
    }

    /// The follow-ups with these ids (for the dispatcher), by id.
    pub async fn followups_by_id(
        &self,
        creditor: CreditorId,
        ids: &[i64],
    ) -> Result<HashMap<i64, FollowUpRecord>> {
        let mut out = HashMap::new();
        for id in ids {
            let row = sqlx::query(
                "SELECT f.id, f.customer_id, c.code, f.kind, f.reference, f.started_on, f.valid_until, \
                 f.amount_minor, f.currency, f.status, f.next_action_on FROM followups f \
                 JOIN customers c ON c.id = f.customer_id WHERE f.creditor_id = $1 AND f.id = $2",
            )
            .bind(creditor.0)
            .bind(*id)
            .fetch_optional(&self.pool)
            .await?;
            if let Some(row) = row {
                out.insert(*id, record_of(&row)?);
            }
        }
        Ok(out)
    }

    /// The follow-up half of the daily run (see the module documentation). Returns the actions
    /// written (with `dry_run`, those that would be).
    pub async fn run_followups(
        &self,
        creditor: CreditorId,
        options: RunOptions,
        dormant_months: u32,
    ) -> Result<Vec<PlannedAction>> {
        let mut conn = self.pool.acquire().await?;
        self.run_followups_on(&mut conn, creditor, options, dormant_months)
            .await
    }

    /// [`Store::run_followups`] on a connection the caller holds: the daily run's own, whose
    /// page cache holds the cases and customers its receivables half just read and wrote
    /// ([`Store::run_daily`]).
    #[tracing::instrument(skip(self, conn))]
    pub(crate) async fn run_followups_on(
        &self,
        conn: &mut AnyConnection,
        creditor: CreditorId,
        options: RunOptions,
        dormant_months: u32,
    ) -> Result<Vec<PlannedAction>> {
        let as_of = options.as_of;
        let mut tx = conn.begin().await?;
        let calendar = calendar_of(&mut tx, creditor).await?;
        let time_zone: String = sqlx::query_scalar("SELECT time_zone FROM creditors WHERE id = $1")
            .bind(creditor.0)
            .fetch_one(&mut *tx)
            .await?;
        let tz: chrono_tz::Tz = time_zone.parse().unwrap_or(chrono_tz::Europe::Paris);

        // Who may not get a reactivation message today.
        let disputed: HashSet<i64> = sqlx::query_scalar(
            "SELECT DISTINCT customer_id FROM disputes WHERE creditor_id = $1 AND resolved_on IS NULL",
        )
        .bind(creditor.0)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect();
        let opted: HashSet<i64> =
            sqlx::query_scalar("SELECT customer_id FROM optouts WHERE creditor_id = $1")
                .bind(creditor.0)
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .collect();

        // 1. Customers who became dormant: their invoices' first and last dates and count,
        // for everyone or for the customers whose case or day came (see `dormancy`).
        let started = std::time::Instant::now();
        let cutoff = as_of
            .checked_sub_months(chrono::Months::new(dormant_months))
            .unwrap_or(as_of);
        let look = crate::dormancy::look(
            &mut tx,
            self.backend(),
            creditor,
            options,
            dormant_months,
            cutoff,
        )
        .await?;
        // Silent for `dormant_months` at least: the others cannot be dormant yet.
        let candidates: Vec<(i64, NaiveDate, NaiveDate, u64)> = look
            .activities
            .iter()
            .filter_map(|a| {
                a.invoices
                    .map(|(first, last, n)| (a.customer, first, last, n))
            })
            .filter(|(_, _, last, _)| *last <= cutoff)
            .collect();
        // Which of the customers concerned (the dormant candidates, and those of the open
        // dormant follow-ups) have an overdue invoice: looked up for them only, so a daily run
        // does not read every open item of the ledger.
        let mut concerned: Vec<i64> = sqlx::query_scalar(
            "SELECT customer_id FROM followups WHERE creditor_id = $1 AND kind = 'dormant' AND status = 'open'",
        )
        .bind(creditor.0)
        .fetch_all(&mut *tx)
        .await?;
        concerned.extend(candidates.iter().map(|c| c.0));
        let overdue = overdue_among(&mut tx, self.backend(), creditor, as_of, concerned).await?;
        tracing::debug!(
            looked_at = look.activities.len(),
            everyone = look.everyone,
            candidates = candidates.len(),
            overdue = overdue.len(),
            elapsed_us = started.elapsed().as_micros(),
            "dormant customers looked up"
        );
        for &(customer, first, last, count) in &candidates {
            let from = dormant_from(first, last, count, dormant_months);
            if opted.contains(&customer)
                || !is_dormant(
                    from,
                    disputed.contains(&customer),
                    overdue.contains(&customer),
                    as_of,
                )
            {
                continue;
            }
            let reference = dormant_reference(last);
            let now = now_text();
            let inserted: Option<i64> = sqlx::query_scalar(
                "INSERT INTO followups (creditor_id, customer_id, kind, reference, started_on, next_action_on, created_at, updated_at) \
                 VALUES ($1, $2, 'dormant', $3, $4, $5, $6, $7) \
                 ON CONFLICT (creditor_id, kind, reference) DO NOTHING RETURNING id",
            )
            .bind(creditor.0)
            .bind(customer)
            .bind(format!("{reference}-c{customer}"))
            .bind(as_of.to_string())
            .bind(as_of.to_string())
            .bind(now.as_str())
            .bind(now.as_str())
            .fetch_optional(&mut *tx)
            .await?;
            if inserted.is_some() {
                append(
                    &mut *tx,
                    &event(
                        creditor,
                        customer,
                        "followup_started",
                        as_of,
                        format!(
                            "no invoice since {last}: dormant customer, one reactivation message"
                        ),
                        serde_json::json!({"kind": "dormant", "last_invoice": last.to_string()}),
                    ),
                )
                .await?;
            }
        }

        if !options.dry_run {
            crate::dormancy::remember(
                &mut tx,
                self.backend(),
                creditor,
                as_of,
                dormant_months,
                &look,
            )
            .await?;
        }

        // A dormant customer who ordered again since is not dormant any more (their follow-up
        // may have waited on a dispute or an overdue invoice meanwhile).
        let last_invoice: HashMap<i64, String> = sqlx::query(
            "SELECT customer_id, MAX(issue_date) AS last FROM items WHERE creditor_id = $1 \
             AND kind = 'invoice' AND customer_id IN (SELECT customer_id FROM followups \
             WHERE creditor_id = $1 AND kind = 'dormant' AND status = 'open') GROUP BY customer_id",
        )
        .bind(creditor.0)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("customer_id")?, r.try_get("last")?)))
        .collect::<Result<_>>()?;

        // 2. The follow-ups due today.
        let rows = sqlx::query(
            "SELECT f.id, f.customer_id, c.code, c.kind AS customer_kind, c.emails, f.kind, f.reference, \
             f.started_on, f.valid_until, f.amount_minor, f.currency, f.status, f.done, f.next_action_on \
             FROM followups f JOIN customers c ON c.id = f.customer_id \
             WHERE f.creditor_id = $1 AND f.status = 'open' AND ($2 = 1 OR f.next_action_on <= $3) \
             ORDER BY c.code, f.id",
        )
        .bind(creditor.0)
        .bind(i64::from(options.full))
        .bind(as_of.to_string())
        .fetch_all(&mut *tx)
        .await?;
        let mut written = Vec::new();
        for row in &rows {
            let id: i64 = row.try_get("id")?;
            let customer: i64 = row.try_get("customer_id")?;
            let kind_text: String = row.try_get("kind")?;
            let kind = FollowUpKind::parse(&kind_text)
                .ok_or_else(|| StoreError::Corrupt(format!("follow-up {id}: kind {kind_text}")))?;
            let reference: String = row.try_get("reference")?;
            if kind == FollowUpKind::Dormant {
                let since = reference
                    .strip_prefix("dormant-since-")
                    .and_then(|rest| rest.get(..10))
                    .unwrap_or_default();
                if let Some(last) = last_invoice.get(&customer).filter(|l| l.as_str() > since) {
                    sqlx::query(
                        "UPDATE followups SET status = 'done', closed_on = $1, next_action_on = NULL, \
                         updated_at = $2 WHERE id = $3",
                    )
                    .bind(as_of.to_string())
                    .bind(now_text())
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    cancel_planned(&mut tx, creditor, id).await?;
                    append(
                        &mut *tx,
                        &event(
                            creditor,
                            customer,
                            "followup_stopped",
                            as_of,
                            format!("dormant follow-up stopped: the customer ordered again ({last})"),
                            serde_json::json!({"kind": "dormant", "reference": reference, "status": "done"}),
                        ),
                    )
                    .await?;
                    continue;
                }
            }
            let done_text: String = row.try_get("done")?;
            let done: Vec<FollowUpDone> = serde_json::from_str(&done_text)
                .map_err(|e| StoreError::Corrupt(format!("follow-up {id}: done: {e}")))?;
            let currency = Currency::parse(&row.try_get::<String, _>("currency")?)?;
            let emails: String = row.try_get("emails")?;
            let hold = if kind == FollowUpKind::Dormant && disputed.contains(&customer) {
                Some("an invoice is in dispute".to_string())
            } else if kind == FollowUpKind::Dormant && overdue.contains(&customer) {
                Some("an invoice is overdue".to_string())
            } else {
                None
            };
            let followup = FollowUp {
                id,
                creditor,
                customer: CustomerId(customer),
                customer_code: row.try_get("code")?,
                customer_kind: CustomerKind::parse(&row.try_get::<String, _>("customer_kind")?)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                has_email: emails.lines().any(|l| !l.trim().is_empty()),
                kind,
                reference,
                started_on: parse_date(&row.try_get::<String, _>("started_on")?)?,
                valid_until: row
                    .try_get::<Option<String>, _>("valid_until")?
                    .as_deref()
                    .map(parse_date)
                    .transpose()?,
                amount: Money::from_minor(row.try_get("amount_minor")?, currency),
                status: FollowUpStatus::parse(&row.try_get::<String, _>("status")?)
                    .unwrap_or(FollowUpStatus::Open),
                opted_out: opted.contains(&customer),
                hold,
                done,
            };
            let decided = plan_followup(&followup, &calendar, as_of);
            let mut after = followup.done.clone();
            for name in &decided.skipped {
                after.push(FollowUpDone {
                    step: name.clone(),
                    on: as_of,
                });
            }
            for action in &decided.actions {
                let channel = action.channels.first().copied().unwrap_or(Channel::Task);
                let local = send_time(&action.key, as_of);
                let not_before = (channel != Channel::Task && channel != Channel::PhoneCall)
                    .then(|| utc_text(tz, local));
                let inserted: Option<String> = sqlx::query_scalar(
                    "INSERT INTO actions (creditor_id, customer_id, idempotency_key, channel, step, notice, cycle, \
                     planned_on, due_on, status, invoices, amount_minor, currency, reason, created_at, updated_at, \
                     kind, followup_id, send_after, next_attempt_at) \
                     VALUES ($1, $2, $3, $4, $5, 0, 1, $6, $7, 'planned', $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
                     ON CONFLICT (creditor_id, idempotency_key, channel) DO NOTHING RETURNING idempotency_key",
                )
                .bind(creditor.0)
                .bind(customer)
                .bind(action.key.as_str())
                .bind(channel.as_str())
                .bind(action.step.as_str())
                .bind(as_of.to_string())
                .bind(action.due_on.to_string())
                .bind(
                    serde_json::to_string(&action.invoices)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                )
                .bind(action.amount_due.to_minor()?)
                .bind(action.amount_due.currency.code())
                .bind(action.reason.as_str())
                .bind(now_text())
                .bind(now_text())
                .bind(kind.as_str())
                .bind(id)
                .bind(local.format("%Y-%m-%dT%H:%M").to_string())
                .bind(not_before)
                .fetch_optional(&mut *tx)
                .await?;
                after.push(FollowUpDone {
                    step: action.step.clone(),
                    on: as_of,
                });
                if inserted.is_none() {
                    continue;
                }
                append(
                    &mut *tx,
                    &event(
                        creditor,
                        customer,
                        "followup_planned",
                        as_of,
                        format!(
                            "{} ({}, around {}): {}",
                            action.step,
                            channel.as_str(),
                            local.format("%H:%M"),
                            action.reason
                        ),
                        serde_json::json!({"key": action.key, "step": action.step, "kind": kind.as_str(),
                            "channel": channel.as_str(), "reference": followup.reference,
                            "send_after": local.format("%Y-%m-%dT%H:%M").to_string()}),
                    ),
                )
                .await?;
                written.push(action.clone());
            }
            if let Some(why) = &decided.stopped {
                append(
                    &mut *tx,
                    &event(
                        creditor,
                        customer,
                        "followup_stopped",
                        as_of,
                        format!(
                            "{} follow-up {} stopped: {why}",
                            kind.as_str(),
                            followup.reference
                        ),
                        serde_json::json!({"kind": kind.as_str(), "reference": followup.reference,
                            "status": decided.status.as_str()}),
                    ),
                )
                .await?;
                cancel_planned(&mut tx, creditor, id).await?;
            }
            let closed = decided.status != FollowUpStatus::Open;
            sqlx::query(
                "UPDATE followups SET status = $1, done = $2, next_action_on = $3, \
                 closed_on = CASE WHEN $4 = 1 THEN $5 ELSE closed_on END, updated_at = $6 WHERE id = $7",
            )
            .bind(decided.status.as_str())
            .bind(serde_json::to_string(&after).map_err(|e| StoreError::Corrupt(e.to_string()))?)
            .bind(decided.next_action_on.map(|d| d.to_string()))
            .bind(i64::from(closed))
            .bind(as_of.to_string())
            .bind(now_text())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        if options.dry_run {
            tx.rollback().await?;
        } else {
            tx.commit().await?;
        }
        Ok(written)
    }
}

/// The last check of follow-up rows before they leave, inside the dispatcher's transaction:
/// the ids (of `actions`) whose contact opted out, whose follow-up is closed (accepted, refused,
/// replied, expired), or whose customer (dormant) now has a dispute or an overdue invoice, with
/// the reason. Receivable rows are not looked at.
pub(crate) async fn blocked_followups(
    tx: &mut Tx<'_>,
    creditor: CreditorId,
    actions: &[&crate::outbox::ClaimedAction],
    today: NaiveDate,
) -> Result<HashMap<i64, String>> {
    let mut out = HashMap::new();
    for action in actions {
        let Some(followup) = action.followup_id else {
            continue;
        };
        let row = sqlx::query(
            "SELECT f.kind, f.status, \
             (SELECT COUNT(*) FROM optouts o WHERE o.creditor_id = f.creditor_id AND o.customer_id = f.customer_id) AS opted, \
             (SELECT COUNT(*) FROM disputes d WHERE d.creditor_id = f.creditor_id AND d.customer_id = f.customer_id AND d.resolved_on IS NULL) AS disputes, \
             (SELECT COUNT(*) FROM items i WHERE i.creditor_id = f.creditor_id AND i.customer_id = f.customer_id \
              AND i.kind = 'invoice' AND i.open_minor > 0 AND i.due_date < $3) AS overdue \
             FROM followups f WHERE f.creditor_id = $1 AND f.id = $2",
        )
        .bind(creditor.0)
        .bind(followup)
        .bind(today.to_string())
        .fetch_optional(&mut **tx)
        .await?;
        let Some(row) = row else {
            out.insert(action.id, "its follow-up no longer exists".to_string());
            continue;
        };
        let kind: String = row.try_get("kind")?;
        let status: String = row.try_get("status")?;
        let reason = if row.try_get::<i64, _>("opted")? > 0 {
            Some("the contact opted out of commercial messages".to_string())
        } else if status != "open" && status != "done" {
            Some(format!("the follow-up is {status}"))
        } else if kind == "dormant" && row.try_get::<i64, _>("disputes")? > 0 {
            Some("the customer has an invoice in dispute".to_string())
        } else if kind == "dormant" && row.try_get::<i64, _>("overdue")? > 0 {
            Some("the customer has an overdue invoice".to_string())
        } else {
            None
        };
        if let Some(reason) = reason {
            out.insert(action.id, reason);
        }
    }
    Ok(out)
}

async fn opted_out(tx: &mut Tx<'_>, creditor: CreditorId, customer: i64) -> Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM optouts WHERE creditor_id = $1 AND customer_id = $2",
    )
    .bind(creditor.0)
    .bind(customer)
    .fetch_one(&mut **tx)
    .await?;
    Ok(n > 0)
}

/// `local` (creditor time) as the RFC 3339 UTC text the outbox compares (`next_attempt_at`).
pub(crate) fn utc_text(tz: chrono_tz::Tz, local: NaiveDateTime) -> String {
    let instant = tz
        .from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&chrono::Utc))
        .unwrap_or_else(|| chrono::Utc.from_utc_datetime(&local));
    instant.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn record_of(row: &sqlx::any::AnyRow) -> Result<FollowUpRecord> {
    let id: i64 = row.try_get("id")?;
    let kind: String = row.try_get("kind")?;
    let currency = Currency::parse(&row.try_get::<String, _>("currency")?)?;
    Ok(FollowUpRecord {
        id,
        customer_id: row.try_get("customer_id")?,
        customer_code: row.try_get("code")?,
        kind: FollowUpKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("follow-up {id}: kind {kind}")))?,
        reference: row.try_get("reference")?,
        started_on: parse_date(&row.try_get::<String, _>("started_on")?)?,
        valid_until: row
            .try_get::<Option<String>, _>("valid_until")?
            .as_deref()
            .map(parse_date)
            .transpose()?,
        amount: Money::from_minor(row.try_get("amount_minor")?, currency),
        status: FollowUpStatus::parse(&row.try_get::<String, _>("status")?)
            .unwrap_or(FollowUpStatus::Open),
        next_action_on: row.try_get("next_action_on")?,
    })
}

/// The customers of `customers` with an overdue invoice on `as_of` (one indexed lookup per
/// thousand customers, through `items_customer`).
async fn overdue_among(
    tx: &mut Tx<'_>,
    backend: crate::db::Backend,
    creditor: CreditorId,
    as_of: NaiveDate,
    mut customers: Vec<i64>,
) -> Result<HashSet<i64>> {
    customers.sort_unstable();
    customers.dedup();
    let mut overdue = HashSet::new();
    let as_of = as_of.to_string();
    for part in customers.chunks(1000) {
        let (first, second) = (crate::db::param(backend, 1), crate::db::param(backend, 2));
        let sql = format!(
            "SELECT DISTINCT customer_id FROM items WHERE +creditor_id = {first} AND due_date < {second} \
             AND kind = 'invoice' AND open_minor > 0 AND customer_id IN ({})",
            crate::db::placeholder_list(backend, 3, part.len())
        );
        let mut query = sqlx::query_scalar::<_, i64>(&sql)
            .bind(creditor.0)
            .bind(as_of.as_str());
        for id in part {
            query = query.bind(*id);
        }
        overdue.extend(query.fetch_all(&mut **tx).await?);
    }
    Ok(overdue)
}
