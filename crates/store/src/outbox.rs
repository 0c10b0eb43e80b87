//! The outbox seen from the dispatcher: claiming due actions, checking them again just before
//! they leave, recording what happened, and the commands a person uses on it.
//!
//! Exactly once, or visibly not (DESIGN.md, principle 2):
//! 1. [`Store::claim_due`] takes a lease on a batch of due rows (`claimed_by`, `claimed_at`):
//!    one statement, with `FOR UPDATE SKIP LOCKED` on PostgreSQL so that several dispatchers
//!    never claim the same row; a lease older than the timeout may be taken over while the row is
//!    still planned or rendered (its worker died before sending).
//! 2. [`Store::begin_sending`] moves the claimed rows to `sending` in the transaction that checks
//!    again that their invoices are still owed (open, not disputed) and that the case is not on
//!    hold: a payment imported a second earlier cancels the message.
//! 3. [`Store::record_deliveries`] records sent, temporary (back to planned with an exponential
//!    backoff, failed after N attempts) and permanent outcomes (failed, address rejected),
//!    in one transaction per batch.
//!
//! A row left in `sending` longer than the lease timeout (its worker crashed between the send
//! and the record) is flagged `in_doubt` by [`Store::flag_in_doubt`] and never sent again
//! automatically: a person decides (`relance outbox retry|cancel`).
//!
//! Every transition appends an event to the customer's timeline.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{NaiveDate, SecondsFormat, Utc};
use relance_core::ids::{CreditorId, CustomerId};
use relance_core::planner::Hold;
use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use crate::customers::{customer_from_row, CustomerRecord, CUSTOMER_COLUMNS};
use crate::db::now_text;
use crate::error::{Result, StoreError};
use crate::events::{append, EventRecord, NewEvent};
use crate::reports::InvoiceLine;
use crate::{Backend, Store};

type Tx = Transaction<'static, Any>;

/// Channels a dispatcher may send itself (calls, tasks and SMS are left to others).
pub const SENDABLE_CHANNELS: [&str; 4] = [
    "email",
    "letter",
    "registered_letter",
    "registered_letter_ar",
];

/// An action claimed by a dispatcher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClaimedAction {
    pub id: i64,
    pub customer_id: CustomerId,
    pub key: String,
    pub channel: String,
    pub step: String,
    pub invoices: Vec<String>,
    pub amount_minor: i64,
    pub currency: String,
    pub due_on: String,
    pub attempts: i64,
    /// `receivable`, or the follow-up kind (`quote`, `prospect`, `dormant`).
    pub kind: String,
    /// The follow-up a commercial message belongs to.
    pub followup_id: Option<i64>,
    /// The customer's statement of account goes with the message (the policy step's
    /// `attach_statement`, copied by the run).
    pub attach_statement: bool,
    /// The purchase order or supplier invoice a supplier message is about.
    pub supplier_document_id: Option<i64>,
}

/// What the last check before sending decided for a claimed action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendDecision {
    /// Now `sending`: send it, then record the outcome.
    Send,
    /// Nothing it lists is owed any more: cancelled (reason).
    Cancelled(String),
    /// The case is on hold: released, to be tried again on that day.
    Postponed(NaiveDate),
    /// No longer ours (taken over, cancelled or retried by a person meanwhile): left alone.
    Lost,
}

/// What happened when an action was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent {
        message_id: Option<String>,
        document_sha256: String,
        document_path: Option<String>,
        /// A letter handed to a postal provider: the reference it gave (a tracking number),
        /// also recorded as the registered-letter number of a registered letter.
        carrier_reference: Option<String>,
    },
    /// Worth trying again later (SMTP 4xx, connection trouble).
    Temporary { error: String },
    /// Will never work as it is (SMTP 5xx, nothing to render): failed, and the address is
    /// recorded as rejected on the customer when one is named.
    Permanent {
        error: String,
        rejected_address: Option<String>,
    },
}

/// How temporary errors are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// After this many attempts, a temporary error fails the action.
    pub max_attempts: i64,
    /// Delay before the second attempt; doubled at each later one.
    pub base: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// The delay after `attempts` failed attempts (1 → base, 2 → 2 × base, …, capped at a day).
    pub fn delay(&self, attempts: i64) -> Duration {
        let exponent = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
        let delay = self.base.saturating_mul(1u32 << exponent);
        delay.min(Duration::from_secs(86_400))
    }
}

/// Counts of one batch's outcomes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryCounts {
    pub sent: usize,
    pub deferred: usize,
    pub failed: usize,
}

/// An outbox row as `relance outbox list` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxLine {
    pub id: i64,
    pub customer: String,
    pub step: String,
    pub channel: String,
    pub status: String,
    pub in_doubt: bool,
    pub attempts: i64,
    pub due_on: String,
    pub next_attempt_at: Option<String>,
    pub last_error: Option<String>,
    pub sent_at: Option<String>,
    pub message_id: Option<String>,
    pub document_path: Option<String>,
    pub document_sha256: Option<String>,
    pub invoices: Vec<String>,
    pub key: String,
}

/// What a message needs to know about its customer, loaded for a whole batch at once.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerContext {
    pub customer: CustomerRecord,
    /// Open invoices and credit notes (open amount not zero), by due date.
    pub open_items: Vec<InvoiceLine>,
    /// `reminder_planned`, `reminder_sent` and `call` events, oldest first.
    pub contacts: Vec<EventRecord>,
}

/// Placeholders for statements built at run time: `?` on SQLite, `$N` on PostgreSQL (never
/// mixed in one statement, see `db::value_rows`).
struct Params {
    backend: Backend,
    n: usize,
}

impl Params {
    fn new(backend: Backend) -> Params {
        Params { backend, n: 0 }
    }
    fn next(&mut self) -> String {
        self.n += 1;
        match self.backend {
            Backend::Sqlite => "?".to_string(),
            Backend::Postgres => format!("${}", self.n),
        }
    }
    fn list(&mut self, count: usize) -> String {
        (0..count)
            .map(|_| self.next())
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn time_text(at: chrono::DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn ago(lease: Duration) -> String {
    let lease = chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::days(1));
    time_text(Utc::now() - lease)
}

fn invoices_of(id: i64, text: &str) -> Result<Vec<String>> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("action {id}: invoices: {e}")))
}

fn claimed_from_row(row: &sqlx::any::AnyRow) -> Result<ClaimedAction> {
    let id: i64 = row.try_get("id")?;
    Ok(ClaimedAction {
        id,
        customer_id: CustomerId(row.try_get("customer_id")?),
        key: row.try_get("idempotency_key")?,
        channel: row.try_get("channel")?,
        step: row.try_get("step")?,
        invoices: invoices_of(id, &row.try_get::<String, _>("invoices")?)?,
        amount_minor: row.try_get("amount_minor")?,
        currency: row.try_get("currency")?,
        due_on: row.try_get("due_on")?,
        attempts: row.try_get("attempts")?,
        kind: row.try_get("kind")?,
        followup_id: row.try_get("followup_id")?,
        attach_statement: row.try_get::<i64, _>("attach_statement")? != 0,
        supplier_document_id: row.try_get("supplier_document_id")?,
    })
}

const CLAIMED_COLUMNS: &str =
    "id, customer_id, idempotency_key, channel, step, invoices, amount_minor, currency, due_on, attempts, kind, followup_id, attach_statement, supplier_document_id";

/// An event about one action.
fn action_event(
    creditor: CreditorId,
    action: &ClaimedAction,
    kind: &str,
    on: NaiveDate,
    summary: String,
    extra: serde_json::Value,
) -> NewEvent {
    let mut data = serde_json::json!({
        "action": action.id,
        "key": action.key,
        "step": action.step,
        "channels": [action.channel],
        "invoices": action.invoices,
    });
    if let (Some(map), serde_json::Value::Object(more)) = (data.as_object_mut(), extra) {
        map.extend(more);
    }
    NewEvent {
        creditor,
        customer: Some(action.customer_id),
        item: None,
        kind: kind.into(),
        occurred_on: on,
        summary,
        data,
    }
}

impl Store {
    /// Flags the rows left in `sending` for longer than `lease` (their dispatcher died between
    /// sending and recording): `in_doubt`, for a person to check. Returns their ids.
    pub async fn flag_in_doubt(
        &self,
        creditor: CreditorId,
        lease: Duration,
        on: NaiveDate,
    ) -> Result<Vec<i64>> {
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(&format!(
            "UPDATE actions SET in_doubt = 1, updated_at = $1 WHERE creditor_id = $2 AND status = 'sending' \
             AND in_doubt = 0 AND claimed_at < $3 RETURNING {CLAIMED_COLUMNS}, claimed_by"
        ))
        .bind(now_text())
        .bind(creditor.0)
        .bind(ago(lease))
        .fetch_all(&mut *tx)
        .await?;
        let mut ids = Vec::with_capacity(rows.len());
        for row in &rows {
            let action = claimed_from_row(row)?;
            let worker: Option<String> = row.try_get("claimed_by")?;
            append(
                &mut *tx,
                &action_event(
                    creditor,
                    &action,
                    "delivery_in_doubt",
                    on,
                    format!(
                        "{} ({}) for {}: sending started but never confirmed (worker {}): check whether it left before retrying or cancelling it",
                        action.step,
                        action.channel,
                        action.invoices.join(", "),
                        worker.as_deref().unwrap_or("?")
                    ),
                    serde_json::json!({ "worker": worker }),
                ),
            )
            .await?;
            ids.push(action.id);
        }
        tx.commit().await?;
        if !ids.is_empty() {
            tracing::warn!(
                count = ids.len(),
                "actions in doubt: relance outbox list --in-doubt"
            );
        }
        Ok(ids)
    }

    /// Claims up to `limit` due actions of these channels for `worker`: planned or rendered, due
    /// on or before `today`, past their `next_attempt_at`, and not claimed by a live lease.
    pub async fn claim_due(
        &self,
        creditor: CreditorId,
        worker: &str,
        today: NaiveDate,
        limit: usize,
        lease: Duration,
        channels: &[&str],
    ) -> Result<Vec<ClaimedAction>> {
        self.claim(creditor, worker, today, limit, lease, channels, None)
            .await
    }

    /// Claims the one action `id` for `worker` when [`Store::claim_due`] could claim it, its
    /// retry time aside (a person asks to send it now: the work queue's "send now"). `None`
    /// when it is not due, not planned any more, of another channel or creditor, or claimed by
    /// a live lease (a dispatcher is sending it).
    pub async fn claim_action(
        &self,
        creditor: CreditorId,
        worker: &str,
        id: i64,
        today: NaiveDate,
        lease: Duration,
        channels: &[&str],
    ) -> Result<Option<ClaimedAction>> {
        Ok(self
            .claim(creditor, worker, today, 1, lease, channels, Some(id))
            .await?
            .pop())
    }

    #[allow(clippy::too_many_arguments)]
    async fn claim(
        &self,
        creditor: CreditorId,
        worker: &str,
        today: NaiveDate,
        limit: usize,
        lease: Duration,
        channels: &[&str],
        only: Option<i64>,
    ) -> Result<Vec<ClaimedAction>> {
        if channels.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let now = now_text();
        let mut p = Params::new(self.backend());
        let set_worker = p.next();
        let set_at = p.next();
        let creditor_p = p.next();
        let today_p = p.next();
        let now_p = p.next();
        let cutoff_p = p.next();
        let channel_list = p.list(channels.len());
        let lock = match self.backend() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        // One action asked for by a person: by its id, whatever its retry time.
        let (which, retry_until) = match only {
            Some(id) => (
                format!(" AND id = {id}"),
                "9999-12-31T23:59:59Z".to_string(),
            ),
            None => (String::new(), now.clone()),
        };
        let sql = format!(
            "UPDATE actions SET claimed_by = {set_worker}, claimed_at = {set_at} WHERE id IN (\
             SELECT id FROM actions WHERE creditor_id = {creditor_p} AND status IN ('planned', 'rendered') \
             AND due_on <= {today_p} AND (next_attempt_at IS NULL OR next_attempt_at <= {now_p}){which} \
             AND (claimed_by IS NULL OR claimed_at < {cutoff_p}) AND channel IN ({channel_list}) \
             ORDER BY id LIMIT {limit}{lock}) RETURNING {CLAIMED_COLUMNS}"
        );
        let mut query = sqlx::query(&sql)
            .bind(worker)
            .bind(now.clone())
            .bind(creditor.0)
            .bind(today.to_string())
            .bind(retry_until)
            .bind(ago(lease));
        for channel in channels {
            query = query.bind(*channel);
        }
        let rows = query.fetch_all(&self.pool).await?;
        let mut claimed = rows
            .iter()
            .map(claimed_from_row)
            .collect::<Result<Vec<_>>>()?;
        claimed.sort_by_key(|a| a.id);
        Ok(claimed)
    }

    /// The last check before these claimed actions leave, in one transaction: each still owned by
    /// `worker` and still owed (at least one of its invoices open and undisputed) and whose case
    /// is not on hold on `today` moves to `sending`; the others are cancelled or postponed.
    pub async fn begin_sending(
        &self,
        creditor: CreditorId,
        worker: &str,
        actions: &[ClaimedAction],
        today: NaiveDate,
    ) -> Result<Vec<(i64, SendDecision)>> {
        let mut decisions: HashMap<i64, SendDecision> =
            actions.iter().map(|a| (a.id, SendDecision::Lost)).collect();
        if actions.is_empty() {
            return Ok(Vec::new());
        }
        let backend = self.backend();
        let now = now_text();
        let mut tx = self.pool.begin().await?;
        // Write first: SQLite takes its write lock now (waiting up to the busy timeout), and
        // PostgreSQL locks the rows until commit.
        let mut p = Params::new(backend);
        let sql = format!(
            "UPDATE actions SET updated_at = {} WHERE creditor_id = {} AND claimed_by = {} \
             AND status IN ('planned', 'rendered') AND id IN ({}) RETURNING id",
            p.next(),
            p.next(),
            p.next(),
            p.list(actions.len())
        );
        let mut query = sqlx::query(&sql)
            .bind(now.clone())
            .bind(creditor.0)
            .bind(worker);
        for a in actions {
            query = query.bind(a.id);
        }
        let mine: HashSet<i64> = query
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get::<i64, _>("id"))
            .collect::<std::result::Result<_, _>>()?;
        let ours: Vec<&ClaimedAction> = actions.iter().filter(|a| mine.contains(&a.id)).collect();
        if ours.is_empty() {
            tx.commit().await?;
            return Ok(actions.iter().map(|a| (a.id, SendDecision::Lost)).collect());
        }
        let customers: Vec<i64> = ours
            .iter()
            .map(|a| a.customer_id.0)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let owed = owed_invoices(&mut tx, backend, creditor, &customers).await?;
        let holds = holds_of(&mut tx, backend, creditor, &customers).await?;
        // Commercial follow-ups: not after an opt-out, nor once answered (see `followups`).
        let mut blocked =
            crate::followups::blocked_followups(&mut tx, creditor, &ours, today).await?;
        // Suppliers: not once the order was delivered (see `suppliers`).
        blocked.extend(crate::suppliers::blocked_suppliers(&mut tx, creditor, &ours).await?);
        let mut to_send = Vec::new();
        for action in ours {
            let still_owed = if action.followup_id.is_some() || action.kind != "receivable" {
                !blocked.contains_key(&action.id)
            } else {
                action
                    .invoices
                    .iter()
                    .any(|n| owed.contains(&(action.customer_id.0, n.clone())))
            };
            let hold = holds
                .get(&action.customer_id.0)
                .filter(|_| action.followup_id.is_none() && action.kind == "receivable")
                .and_then(|hs| hs.iter().find(|h| h.from <= today && today < h.until));
            if !still_owed {
                let reason = blocked.get(&action.id).map_or(
                    "the invoices it lists are no longer owed (paid, credited or disputed)",
                    String::as_str,
                );
                sqlx::query(
                    "UPDATE actions SET status = 'cancelled', claimed_by = NULL, last_error = $1, updated_at = $2 \
                     WHERE id = $3 AND creditor_id = $4",
                )
                .bind(reason)
                .bind(now.clone())
                .bind(action.id)
                .bind(creditor.0)
                .execute(&mut *tx)
                .await?;
                append(
                    &mut *tx,
                    &action_event(
                        creditor,
                        action,
                        "reminder_cancelled",
                        today,
                        format!(
                            "{} ({}) for {} cancelled before sending: {reason}",
                            action.step,
                            action.channel,
                            action.invoices.join(", ")
                        ),
                        serde_json::json!({ "reason": reason }),
                    ),
                )
                .await?;
                decisions.insert(action.id, SendDecision::Cancelled(reason.to_string()));
            } else if let Some(hold) = hold {
                let until = hold
                    .until
                    .and_hms_opt(0, 0, 0)
                    .map(|t| time_text(t.and_utc()))
                    .unwrap_or_else(|| now.clone());
                sqlx::query(
                    "UPDATE actions SET claimed_by = NULL, claimed_at = NULL, next_attempt_at = $1, updated_at = $2 \
                     WHERE id = $3 AND creditor_id = $4",
                )
                .bind(until)
                .bind(now.clone())
                .bind(action.id)
                .bind(creditor.0)
                .execute(&mut *tx)
                .await?;
                append(
                    &mut *tx,
                    &action_event(
                        creditor,
                        action,
                        "reminder_postponed",
                        today,
                        format!(
                            "{} ({}) held back until {}: {}",
                            action.step, action.channel, hold.until, hold.reason
                        ),
                        serde_json::json!({ "until": hold.until.to_string() }),
                    ),
                )
                .await?;
                decisions.insert(action.id, SendDecision::Postponed(hold.until));
            } else {
                to_send.push(action.id);
            }
        }
        for chunk in to_send.chunks(500) {
            let mut p = Params::new(backend);
            let sql = format!(
                "UPDATE actions SET status = 'sending', claimed_at = {}, updated_at = {} \
                 WHERE creditor_id = {} AND id IN ({})",
                p.next(),
                p.next(),
                p.next(),
                p.list(chunk.len())
            );
            let mut query = sqlx::query(&sql)
                .bind(now.clone())
                .bind(now.clone())
                .bind(creditor.0);
            for id in chunk {
                query = query.bind(*id);
            }
            query.execute(&mut *tx).await?;
            for id in chunk {
                decisions.insert(*id, SendDecision::Send);
            }
        }
        tx.commit().await?;
        Ok(actions
            .iter()
            .map(|a| (a.id, decisions.remove(&a.id).unwrap_or(SendDecision::Lost)))
            .collect())
    }

    /// Records the outcome of actions in `sending`, in one transaction.
    pub async fn record_deliveries(
        &self,
        creditor: CreditorId,
        outcomes: &[(ClaimedAction, Delivery)],
        today: NaiveDate,
        retry: RetryPolicy,
    ) -> Result<DeliveryCounts> {
        let mut counts = DeliveryCounts::default();
        if outcomes.is_empty() {
            return Ok(counts);
        }
        let now = now_text();
        let mut tx = self.pool.begin().await?;
        for (action, delivery) in outcomes {
            match delivery {
                Delivery::Sent {
                    message_id,
                    document_sha256,
                    document_path,
                    carrier_reference,
                } => {
                    let registered = carrier_reference
                        .as_ref()
                        .filter(|_| action.channel.starts_with("registered_letter"));
                    sqlx::query(
                        "UPDATE actions SET status = 'sent', sent_at = $1, message_id = $2, document_sha256 = $3, \
                         document_path = $4, attempts = attempts + 1, claimed_by = NULL, in_doubt = 0, \
                         last_error = NULL, next_attempt_at = NULL, updated_at = $5, sent_on = $8, \
                         carrier_reference = $9, registered_number = COALESCE($10, registered_number) \
                         WHERE id = $6 AND creditor_id = $7 AND status = 'sending'",
                    )
                    .bind(now.clone())
                    .bind(message_id.clone())
                    .bind(document_sha256.clone())
                    .bind(document_path.clone())
                    .bind(now.clone())
                    .bind(action.id)
                    .bind(creditor.0)
                    .bind(today.to_string())
                    .bind(carrier_reference.clone())
                    .bind(registered.cloned())
                    .execute(&mut *tx)
                    .await?;
                    append(
                        &mut *tx,
                        &action_event(
                            creditor,
                            action,
                            "reminder_sent",
                            today,
                            format!(
                                "{} sent by {} for {}",
                                action.step,
                                action.channel,
                                action.invoices.join(", ")
                            ),
                            serde_json::json!({
                                "message_id": message_id,
                                "document_sha256": document_sha256,
                                "document_path": document_path,
                                "carrier_reference": carrier_reference,
                            }),
                        ),
                    )
                    .await?;
                    counts.sent += 1;
                }
                Delivery::Temporary { error } => {
                    let attempts = action.attempts + 1;
                    if attempts >= retry.max_attempts {
                        fail(&mut tx, creditor, action, attempts, error, &now).await?;
                        append(
                            &mut *tx,
                            &action_event(
                                creditor,
                                action,
                                "delivery_failed",
                                today,
                                format!(
                                    "{} ({}) failed after {attempts} attempts: {error}",
                                    action.step, action.channel
                                ),
                                serde_json::json!({ "error": error, "attempts": attempts }),
                            ),
                        )
                        .await?;
                        counts.failed += 1;
                    } else {
                        let next = Utc::now()
                            + chrono::Duration::from_std(retry.delay(attempts))
                                .unwrap_or(chrono::Duration::hours(1));
                        let next = time_text(next);
                        sqlx::query(
                            "UPDATE actions SET status = 'planned', attempts = $1, next_attempt_at = $2, last_error = $3, \
                             claimed_by = NULL, claimed_at = NULL, updated_at = $4 \
                             WHERE id = $5 AND creditor_id = $6 AND status = 'sending'",
                        )
                        .bind(attempts)
                        .bind(next.clone())
                        .bind(error.clone())
                        .bind(now.clone())
                        .bind(action.id)
                        .bind(creditor.0)
                        .execute(&mut *tx)
                        .await?;
                        append(
                            &mut *tx,
                            &action_event(
                                creditor,
                                action,
                                "delivery_deferred",
                                today,
                                format!(
                                    "{} ({}) not delivered yet (attempt {attempts}): {error}; next attempt at {next}",
                                    action.step, action.channel
                                ),
                                serde_json::json!({ "error": error, "attempts": attempts, "next_attempt_at": next }),
                            ),
                        )
                        .await?;
                        counts.deferred += 1;
                    }
                }
                Delivery::Permanent {
                    error,
                    rejected_address,
                } => {
                    fail(&mut tx, creditor, action, action.attempts + 1, error, &now).await?;
                    if let Some(address) = rejected_address {
                        sqlx::query(
                            "INSERT INTO rejected_addresses (creditor_id, customer_id, address, reason, at) \
                             VALUES ($1, $2, $3, $4, $5)",
                        )
                        .bind(creditor.0)
                        .bind(action.customer_id.0)
                        .bind(address)
                        .bind(error)
                        .bind(now.clone())
                        .execute(&mut *tx)
                        .await?;
                    }
                    append(
                        &mut *tx,
                        &action_event(
                            creditor,
                            action,
                            "delivery_failed",
                            today,
                            match rejected_address {
                                Some(address) => format!(
                                    "{} ({}) refused for good, address {address} rejected: {error}",
                                    action.step, action.channel
                                ),
                                None => format!(
                                    "{} ({}) failed: {error}",
                                    action.step, action.channel
                                ),
                            },
                            serde_json::json!({ "error": error, "rejected_address": rejected_address }),
                        ),
                    )
                    .await?;
                    counts.failed += 1;
                }
            }
        }
        tx.commit().await?;
        Ok(counts)
    }

    /// Releases claimed actions that were not sent (a dispatcher stopping early).
    pub async fn release_claims(
        &self,
        creditor: CreditorId,
        worker: &str,
        ids: &[i64],
    ) -> Result<()> {
        for id in ids {
            sqlx::query(
                "UPDATE actions SET claimed_by = NULL, claimed_at = NULL WHERE id = $1 AND creditor_id = $2 \
                 AND claimed_by = $3 AND status IN ('planned', 'rendered')",
            )
            .bind(*id)
            .bind(creditor.0)
            .bind(worker)
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }

    /// The customers, open items and earlier contacts that the messages of a batch need, in
    /// three statements whatever the batch's size.
    pub async fn delivery_context(
        &self,
        creditor: CreditorId,
        customers: &[CustomerId],
    ) -> Result<HashMap<CustomerId, CustomerContext>> {
        let mut ids: Vec<i64> = customers
            .iter()
            .map(|c| c.0)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        ids.sort_unstable();
        let mut out = HashMap::new();
        let backend = self.backend();
        for chunk in ids.chunks(500) {
            let mut p = Params::new(backend);
            let sql = format!(
                "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE creditor_id = {} AND id IN ({})",
                p.next(),
                p.list(chunk.len())
            );
            let mut query = sqlx::query(&sql).bind(creditor.0);
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&self.pool).await? {
                let customer = customer_from_row(&row)?;
                out.insert(
                    customer.id,
                    CustomerContext {
                        customer,
                        open_items: Vec::new(),
                        contacts: Vec::new(),
                    },
                );
            }
            let mut p = Params::new(backend);
            let sql = format!(
                "SELECT i.customer_id, i.number, i.kind, c.code, c.name, i.issue_date, i.due_date, i.currency, \
                 i.total_minor, i.paid_outside_minor + i.allocated_minor AS settled_minor, i.open_minor \
                 FROM items i JOIN customers c ON c.id = i.customer_id \
                 WHERE i.creditor_id = {} AND i.open_minor <> 0 AND i.customer_id IN ({}) \
                 ORDER BY i.customer_id, i.due_date, i.number",
                p.next(),
                p.list(chunk.len())
            );
            let mut query = sqlx::query(&sql).bind(creditor.0);
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&self.pool).await? {
                let customer = CustomerId(row.try_get("customer_id")?);
                let currency =
                    relance_core::money::Currency::parse(&row.try_get::<String, _>("currency")?)?;
                let money = |col: &str| -> Result<String> {
                    Ok(
                        relance_core::money::Money::from_minor(row.try_get(col)?, currency)
                            .to_plain_string(),
                    )
                };
                let line = InvoiceLine {
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
                };
                if let Some(ctx) = out.get_mut(&customer) {
                    ctx.open_items.push(line);
                }
            }
            let mut p = Params::new(backend);
            let sql = format!(
                "SELECT e.id, e.customer_id, e.kind, e.occurred_on, e.recorded_at, e.summary, e.data \
                 FROM events e WHERE e.creditor_id = {} AND e.kind IN ('reminder_planned', 'reminder_sent', 'call') \
                 AND e.customer_id IN ({}) ORDER BY e.occurred_on, e.id",
                p.next(),
                p.list(chunk.len())
            );
            let mut query = sqlx::query(&sql).bind(creditor.0);
            for id in chunk {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&self.pool).await? {
                let customer = CustomerId(row.try_get("customer_id")?);
                let data: String = row.try_get("data")?;
                if let Some(ctx) = out.get_mut(&customer) {
                    ctx.contacts.push(EventRecord {
                        id: row.try_get("id")?,
                        customer: Some(ctx.customer.code.clone()),
                        item: None,
                        kind: row.try_get("kind")?,
                        occurred_on: row.try_get("occurred_on")?,
                        recorded_at: row.try_get("recorded_at")?,
                        summary: row.try_get("summary")?,
                        data: serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
                    });
                }
            }
        }
        Ok(out)
    }

    /// The outbox, oldest first, optionally only one status or only the rows in doubt.
    pub async fn outbox_lines(
        &self,
        creditor: CreditorId,
        status: Option<&str>,
        in_doubt_only: bool,
    ) -> Result<Vec<OutboxLine>> {
        let rows = sqlx::query(
            "SELECT a.id, c.code, a.step, a.channel, a.status, a.in_doubt, a.attempts, a.due_on, a.next_attempt_at, \
             a.last_error, a.sent_at, a.message_id, a.document_path, a.document_sha256, a.invoices, a.idempotency_key \
             FROM actions a JOIN customers c ON c.id = a.customer_id \
             WHERE a.creditor_id = $1 AND ($2 = '' OR a.status = $2) AND ($3 = 0 OR a.in_doubt = 1) ORDER BY a.id",
        )
        .bind(creditor.0)
        .bind(status.unwrap_or(""))
        .bind(i64::from(in_doubt_only))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let id: i64 = row.try_get("id")?;
                Ok(OutboxLine {
                    id,
                    customer: row.try_get("code")?,
                    step: row.try_get("step")?,
                    channel: row.try_get("channel")?,
                    status: row.try_get("status")?,
                    in_doubt: row.try_get::<i64, _>("in_doubt")? != 0,
                    attempts: row.try_get("attempts")?,
                    due_on: row.try_get("due_on")?,
                    next_attempt_at: row.try_get("next_attempt_at")?,
                    last_error: row.try_get("last_error")?,
                    sent_at: row.try_get("sent_at")?,
                    message_id: row.try_get("message_id")?,
                    document_path: row.try_get("document_path")?,
                    document_sha256: row.try_get("document_sha256")?,
                    invoices: invoices_of(id, &row.try_get::<String, _>("invoices")?)?,
                    key: row.try_get("idempotency_key")?,
                })
            })
            .collect()
    }

    /// The addresses refused for good for a customer (or all): (customer code, address, reason, at).
    pub async fn rejected_addresses(
        &self,
        creditor: CreditorId,
        customer_code: Option<&str>,
    ) -> Result<Vec<(String, String, String, String)>> {
        let rows = sqlx::query(
            "SELECT c.code, r.address, r.reason, r.at FROM rejected_addresses r JOIN customers c ON c.id = r.customer_id \
             WHERE r.creditor_id = $1 AND ($2 = '' OR c.code = $2) ORDER BY r.id",
        )
        .bind(creditor.0)
        .bind(customer_code.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("code")?,
                    r.try_get("address")?,
                    r.try_get("reason")?,
                    r.try_get("at")?,
                ))
            })
            .collect()
    }

    /// A failed or in-doubt action back to planned, for the next dispatch; the note goes on the
    /// timeline. Returns a sentence saying what was done.
    pub async fn outbox_retry(
        &self,
        creditor: CreditorId,
        id: i64,
        note: &str,
        on: NaiveDate,
    ) -> Result<String> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(&format!(
            "UPDATE actions SET updated_at = $1 WHERE id = $2 AND creditor_id = $3 RETURNING {CLAIMED_COLUMNS}, status, in_doubt"
        ))
        .bind(now_text())
        .bind(id)
        .bind(creditor.0)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::Refused(format!("no outbox action {id}")))?;
        let action = claimed_from_row(&row)?;
        let status: String = row.try_get("status")?;
        let in_doubt = row.try_get::<i64, _>("in_doubt")? != 0;
        if !(status == "failed" || (status == "sending" && in_doubt)) {
            return Err(StoreError::Refused(format!(
                "action {id} is {status}{}: only a failed action or one in doubt can be retried",
                if in_doubt { " (in doubt)" } else { "" }
            )));
        }
        sqlx::query(
            "UPDATE actions SET status = 'planned', in_doubt = 0, attempts = 0, claimed_by = NULL, claimed_at = NULL, \
             next_attempt_at = NULL, updated_at = $1 WHERE id = $2 AND creditor_id = $3",
        )
        .bind(now_text())
        .bind(id)
        .bind(creditor.0)
        .execute(&mut *tx)
        .await?;
        let summary = format!(
            "{} ({}) for {} put back to send ({}): {note}",
            action.step,
            action.channel,
            action.invoices.join(", "),
            if in_doubt {
                "was in doubt"
            } else {
                "had failed"
            }
        );
        append(
            &mut *tx,
            &action_event(
                creditor,
                &action,
                "delivery_retry",
                on,
                summary.clone(),
                serde_json::json!({ "note": note, "was": status, "in_doubt": in_doubt }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(summary)
    }

    /// Cancels an action that has not left: never one that is `sending` and not in doubt
    /// (a dispatcher holds it), nor one already sent or cancelled.
    pub async fn outbox_cancel(
        &self,
        creditor: CreditorId,
        id: i64,
        note: &str,
        on: NaiveDate,
    ) -> Result<String> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(&format!(
            "UPDATE actions SET updated_at = $1 WHERE id = $2 AND creditor_id = $3 RETURNING {CLAIMED_COLUMNS}, status, in_doubt"
        ))
        .bind(now_text())
        .bind(id)
        .bind(creditor.0)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::Refused(format!("no outbox action {id}")))?;
        let action = claimed_from_row(&row)?;
        let status: String = row.try_get("status")?;
        let in_doubt = row.try_get::<i64, _>("in_doubt")? != 0;
        match status.as_str() {
            "sent" | "cancelled" => {
                return Err(StoreError::Refused(format!("action {id} is already {status}")))
            }
            "sending" if !in_doubt => {
                return Err(StoreError::Refused(format!(
                    "action {id} is being sent right now: it cannot be cancelled (if its dispatcher died, it will be flagged in doubt after the lease timeout)"
                )))
            }
            _ => {}
        }
        sqlx::query(
            "UPDATE actions SET status = 'cancelled', in_doubt = 0, claimed_by = NULL, last_error = $1, updated_at = $2 \
             WHERE id = $3 AND creditor_id = $4",
        )
        .bind(format!("cancelled by hand: {note}"))
        .bind(now_text())
        .bind(id)
        .bind(creditor.0)
        .execute(&mut *tx)
        .await?;
        let summary = format!(
            "{} ({}) for {} cancelled by hand: {note}",
            action.step,
            action.channel,
            action.invoices.join(", ")
        );
        append(
            &mut *tx,
            &action_event(
                creditor,
                &action,
                "reminder_cancelled",
                on,
                summary.clone(),
                serde_json::json!({ "note": note, "was": status, "in_doubt": in_doubt }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(summary)
    }
}

async fn fail(
    tx: &mut Tx,
    creditor: CreditorId,
    action: &ClaimedAction,
    attempts: i64,
    error: &str,
    now: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE actions SET status = 'failed', attempts = $1, last_error = $2, claimed_by = NULL, \
         next_attempt_at = NULL, updated_at = $3 WHERE id = $4 AND creditor_id = $5 AND status = 'sending'",
    )
    .bind(attempts)
    .bind(error)
    .bind(now)
    .bind(action.id)
    .bind(creditor.0)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// (customer id, invoice number) of the open, undisputed invoices of these customers.
async fn owed_invoices(
    tx: &mut Tx,
    backend: Backend,
    creditor: CreditorId,
    customers: &[i64],
) -> Result<HashSet<(i64, String)>> {
    let mut owed = HashSet::new();
    for chunk in customers.chunks(500) {
        let mut p = Params::new(backend);
        let sql = format!(
            "SELECT i.customer_id, i.number FROM items i WHERE i.creditor_id = {} AND i.kind = 'invoice' \
             AND i.open_minor > 0 AND NOT EXISTS (SELECT 1 FROM disputes d WHERE d.creditor_id = i.creditor_id \
             AND d.item_id = i.id AND d.resolved_on IS NULL) AND i.customer_id IN ({})",
            p.next(),
            p.list(chunk.len())
        );
        let mut query = sqlx::query(&sql).bind(creditor.0);
        for id in chunk {
            query = query.bind(*id);
        }
        for row in query.fetch_all(&mut **tx).await? {
            owed.insert((row.try_get("customer_id")?, row.try_get("number")?));
        }
    }
    Ok(owed)
}

/// The holds of these customers' cases.
async fn holds_of(
    tx: &mut Tx,
    backend: Backend,
    creditor: CreditorId,
    customers: &[i64],
) -> Result<HashMap<i64, Vec<Hold>>> {
    #[derive(serde::Deserialize)]
    struct Memory {
        #[serde(default)]
        holds: Vec<Hold>,
    }
    let mut out = HashMap::new();
    for chunk in customers.chunks(500) {
        let mut p = Params::new(backend);
        let sql = format!(
            "SELECT customer_id, state FROM cases WHERE creditor_id = {} AND customer_id IN ({})",
            p.next(),
            p.list(chunk.len())
        );
        let mut query = sqlx::query(&sql).bind(creditor.0);
        for id in chunk {
            query = query.bind(*id);
        }
        for row in query.fetch_all(&mut **tx).await? {
            let customer: i64 = row.try_get("customer_id")?;
            let state: String = row.try_get("state")?;
            let memory: Memory = serde_json::from_str(&state).map_err(|e| {
                StoreError::Corrupt(format!("case of customer {customer}: state: {e}"))
            })?;
            if !memory.holds.is_empty() {
                out.insert(customer, memory.holds);
            }
        }
    }
    Ok(out)
}

impl Store {
    /// For benchmarks and load tests: one planned action (`step`, `channel`, due `on`) per open
    /// invoice of the creditor, in one statement, as a run would have written them.
    pub async fn fill_outbox_for_bench(
        &self,
        creditor: CreditorId,
        on: NaiveDate,
        step: &str,
        channel: &str,
    ) -> Result<u64> {
        let now = now_text();
        let done = sqlx::query(
            "INSERT INTO actions (creditor_id, customer_id, idempotency_key, channel, step, notice, cycle, \
             planned_on, due_on, status, invoices, amount_minor, currency, reason, created_at, updated_at) \
             SELECT i.creditor_id, i.customer_id, 'bench-' || CAST(i.id AS TEXT), $1, $2, 0, 1, $3, $3, 'planned', \
             '[\"' || i.number || '\"]', i.open_minor, i.currency, 'benchmark', $4, $4 \
             FROM items i WHERE i.creditor_id = $5 AND i.kind = 'invoice' AND i.open_minor > 0 ORDER BY i.id \
             ON CONFLICT (creditor_id, idempotency_key, channel) DO NOTHING",
        )
        .bind(channel)
        .bind(step)
        .bind(on.to_string())
        .bind(now)
        .bind(creditor.0)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}
