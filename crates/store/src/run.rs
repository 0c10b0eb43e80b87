//! The daily run (`relance run`), batched: set-based reads and multi-row writes per chunk of
//! customers, the pure core planner in memory in between.
//!
//! A run reads the list of cases to plan (due ones, or all with `--full`) in code order, then
//! handles them in chunks of [`CHUNK`] customers, on one connection, in transactions of up to
//! [`CHUNKS_PER_TRANSACTION`] chunks (a daily run is one transaction). For each chunk:
//!
//! 1. lock the chunk's case rows and read their memory (a SQLite transaction's first statement
//!    writes, so it holds the database's write lock from then on; PostgreSQL locks the chunk's
//!    rows; a case planned meanwhile by another run is then skipped);
//! 2. read the open items, the open disputes, the unallocated credits and the planned outbox
//!    rows of the whole chunk in one query each;
//! 3. plan each case with [`relance_core::planner::plan`];
//! 4. cancel the planned outbox rows that are settled (one update), insert the new
//!    actions (`INSERT … ON CONFLICT DO NOTHING RETURNING`, so a second run writes nothing), the
//!    events, and the new case states (an upsert on the case key), each as multi-row statements.
//!
//! A dry run (`--dry-run`) reads the chunk's cases instead of locking them, plans them the same
//! way, and looks up which of the planned actions are already in the outbox instead of
//! inserting them: it writes nothing, so it costs reads only.
//!
//! A real run leaves its writes in SQLite's write-ahead log: copying them into the database
//! file (a checkpoint) is done after the run, by `Store::checkpoint` or `Store::close`.
//!
//! The result is the same as planning each case in its own transaction (the tests of
//! `tests/cases.rs` and `cli/tests/run.rs` hold on both engines); the cost is a handful of
//! statements per thousand customers, so a daily run costs in proportion to the cases due.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use futures_util::stream::{FuturesOrdered, StreamExt};
use relance_core::calendar::BusinessCalendar;
use relance_core::ids::{CreditorId, CustomerId, ItemId};
use relance_core::ledger::ItemKind;
use relance_core::money::{Currency, Money};
use relance_core::party::CustomerKind;
use relance_core::planner::{
    plan, status_on, CaseCustomer, CaseItem, CaseState, CaseStatus, PlannedAction, Policy,
};
use sqlx::{AnyConnection, Connection, Row};

use crate::cases::{
    calendar_of, cancel_event, reminder_planned_event, status_text, CaseMemory, RunOptions, PENDING,
};
use crate::db::{
    json_rows, json_text, now_text, param, placeholder_list, statement_parts, value_rows, Backend,
    JsonBind,
};
use crate::error::{Result, StoreError};
use crate::events::{append_many, NewEvent};
use crate::imports::parse_date;
use crate::Store;

/// Customers planned per transaction.
const CHUNK: usize = 1000;
/// The page cache of a dry run's connections (SQLite, 8 MiB), see `dry_run_chunk`.
const DRY_RUN_PAGE_CACHE: &str = "PRAGMA cache_size = -8192";
/// Chunks of a real run per transaction (10,000 customers: a daily run commits once).
const CHUNKS_PER_TRANSACTION: usize = 10;

/// Keeps a real run's changed pages in its connection's cache until the commit, up to 64 MiB
/// (16,384 pages). A daily run at 200,000 customers changes about 12,000 pages, more than the
/// pool's 32 MiB cache holds: SQLite then wrote changed pages to the write-ahead log in the
/// middle of the transaction (6,000 writes), wrote some of them again when they changed once
/// more, and at the commit read every frame back from the first rewritten one to recompute
/// the log's checksums (9,700 reads). Bounded rather than off, and only for a run of one
/// transaction: with it, a first run at 200,000 customers (twenty transactions) peaked at
/// 426 MB instead of 345 MB (the freed pages stay with the allocator).
const NO_CACHE_SPILL: &str = "PRAGMA cache_spill = 16384";
/// The pool's default, put back when the run is over.
const CACHE_SPILL: &str = "PRAGMA cache_spill = ON";
/// Chunks of a dry run planned at once, each on its own connection (the SQLite pool has four:
/// these three and the one the run keeps from its listing).
const DRY_RUN_CHUNKS_IN_FLIGHT: usize = 3;
/// Rows per multi-row statement (then fewer, see [`statement_parts`]; 21 columns: 5,376
/// parameters, under both engines' limits).
const INSERT_ROWS: usize = 256;

/// A case to plan, as listed at the start of the run.
struct DueCustomer<'p> {
    id: i64,
    code: String,
    kind: CustomerKind,
    has_email: bool,
    policy: &'p Policy,
}

/// A case loaded in a chunk, with what the planner decided.
struct ChunkCase<'c, 'p> {
    customer: &'c DueCustomer<'p>,
    state: CaseState,
}

/// A case to plan as the run's JSON aggregate gives it: customer id, code, kind, e-mails, tags,
/// grade, named policy.
type DueRow = (
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

/// An open item as the run's JSON aggregate gives it: customer id, id, kind, number, due date,
/// currency, open amount in minor units. The strings are borrowed from the aggregate's text
/// (copied only when they hold an escape): a full run reads a million items, and allocating
/// three strings of each only to parse them was a tenth of its allocations.
#[derive(serde::Deserialize)]
struct ItemRow<'a>(
    i64,
    i64,
    #[serde(borrow)] Cow<'a, str>,
    String,
    #[serde(borrow)] Cow<'a, str>,
    #[serde(borrow)] Cow<'a, str>,
    i64,
);

/// A case as the run's JSON aggregate gives it: id, customer id, memory, next action date.
type CaseRow = (i64, i64, String, Option<String>);

/// A planned outbox row as the run's JSON aggregate gives it: id, customer id, key, step,
/// notice flag, invoices (JSON text).
type QueuedRow = (i64, i64, String, String, i64, String);

/// A planned outbox row of a case, read to see whether it is to be cancelled.
struct QueuedAction {
    id: i64,
    key: String,
    step: String,
    notice: i64,
    invoices: Vec<String>,
}

/// What [`Store::read_chunk`] read for a chunk.
struct ChunkReads {
    /// Case id, memory and next action date, by customer id.
    memories: HashMap<i64, (i64, String, Option<String>)>,
    /// Open items, by customer id.
    items: HashMap<i64, Vec<CaseItem>>,
    /// Planned outbox rows in id order, by customer id (a real run only).
    outbox: HashMap<i64, Vec<QueuedAction>>,
    /// How long the reads took.
    read: std::time::Duration,
}

/// Takes SQLite's write lock for the rest of the transaction: its first statement that writes
/// does, so a no-op write to one row is enough (rewriting a chunk's thousand case rows for it,
/// and again with their new state, cost a tenth of a daily run). From then on no other
/// connection or process can commit until this transaction ends, and a busy database makes
/// the run wait (up to the busy timeout) rather than plan from rows about to change.
async fn take_write_lock(tx: &mut AnyConnection) -> Result<()> {
    sqlx::query("UPDATE data_revision SET n = n WHERE id = 3")
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// What [`Store::run_daily`] wrote (with `dry_run`, would write), half by half.
#[derive(Debug, Clone, Default)]
pub struct DailyRun {
    pub receivables: Vec<PlannedAction>,
    pub followups: Vec<PlannedAction>,
    pub suppliers: Vec<PlannedAction>,
    /// How long the receivables half took (the rest is the follow-ups and the suppliers).
    pub receivables_took: std::time::Duration,
}

impl DailyRun {
    /// Every action, receivables first.
    pub fn into_actions(self) -> Vec<PlannedAction> {
        let mut all = self.receivables;
        all.extend(self.followups);
        all.extend(self.suppliers);
        all
    }
}

/// A case's new memory, status and next date, to write.
struct CaseUpdate {
    customer: i64,
    cycle: i64,
    memory: String,
    status: String,
    last_step: Option<String>,
    next_action_on: Option<String>,
}

impl Store {
    /// Plans and carries out the runs of day `as_of`: for each case due (or every case with
    /// `full`), plans it with the core planner, writes its actions to the outbox (one row per
    /// channel, once), records a `reminder_planned` event per action and stores the case's new
    /// state and `next_action_on`. Cases are handled in chunks of 1,000, in transactions of
    /// up to ten chunks (`CHUNKS_PER_TRANSACTION`; see the module documentation). Returns the
    /// actions written (with `dry_run`, those that would be), by customer code.
    pub async fn run_day(
        &self,
        creditor: CreditorId,
        options: RunOptions,
    ) -> Result<Vec<PlannedAction>> {
        let mut conn = self.pool.acquire().await?;
        self.run_day_on(&mut conn, creditor, options).await
    }

    /// The whole daily run of a creditor: its receivables ([`Store::run_day`]), then its
    /// follow-ups ([`Store::run_followups`]) and its suppliers ([`Store::run_suppliers`]), all
    /// on one connection. The follow-ups read the cases and customers the receivables half
    /// just read and wrote: on the same connection they are in its page cache, where another
    /// connection would read them from the file again (SQLite empties a connection's cache
    /// when another one has written); at 200,000 customers that halved the follow-ups' reads.
    pub async fn run_daily(
        &self,
        creditor: CreditorId,
        options: RunOptions,
        dormant_months: u32,
    ) -> Result<DailyRun> {
        let started = std::time::Instant::now();
        let mut conn = self.pool.acquire().await?;
        let receivables = self.run_day_on(&mut conn, creditor, options).await?;
        let receivables_took = started.elapsed();
        let followups = self
            .run_followups_on(&mut conn, creditor, options, dormant_months)
            .await?;
        let suppliers = self.run_suppliers_on(&mut conn, creditor, options).await?;
        Ok(DailyRun {
            receivables,
            followups,
            suppliers,
            receivables_took,
        })
    }

    /// [`Store::run_day`] on a connection the caller holds.
    #[tracing::instrument(skip(self, conn))]
    async fn run_day_on(
        &self,
        conn: &mut AnyConnection,
        creditor: CreditorId,
        options: RunOptions,
    ) -> Result<Vec<PlannedAction>> {
        let as_of = options.as_of;
        let backend = self.backend();
        if !options.dry_run
            && crate::policies::load_policies(&self.pool, creditor)
                .await?
                .iter()
                .any(|p| p.uses_grades())
        {
            // A policy routes by payer grade: grades as of today first (changed ones re-plan).
            let changed = self.refresh_grades(creditor, as_of).await?;
            tracing::info!(changed, "payer grades refreshed");
        }
        // One connection for the whole run: SQLite empties a connection's page cache whenever
        // another connection has written since its last transaction, so chunks spread over the
        // pool's connections (which hands them out in turn) each read their pages from the file
        // again; on one connection, a chunk finds in cache what the previous ones read and wrote.
        let listing = std::time::Instant::now();
        let mut tx = conn.begin().await?;
        let calendar = calendar_of(&mut tx, creditor).await?;
        let policies = crate::policies::load_policies(&mut *tx, creditor).await?;
        if options.full && !options.dry_run {
            // Customers with items but no case yet (none, when every import went through the
            // store): give them one.
            sqlx::query(
                "INSERT INTO cases (creditor_id, customer_id, next_action_on, updated_at) \
                 SELECT DISTINCT i.creditor_id, i.customer_id, $2, $3 FROM items i WHERE i.creditor_id = $1 \
                 AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.creditor_id = i.creditor_id AND c.customer_id = i.customer_id)",
            )
            .bind(creditor.0)
            .bind(PENDING)
            .bind(now_text())
            .execute(&mut *tx)
            .await?;
        }
        // The cases to plan, as one JSON aggregate (see `json_rows`: at 200,000 customers the
        // row-by-row hand-over cost more time and memory than the query), in code order.
        let select = "SELECT k.customer_id, c.code, c.kind, c.emails, c.tags, c.grade, c.policy_id \
                      FROM cases k JOIN customers c ON c.id = k.customer_id WHERE k.creditor_id = $1";
        let columns = "customer_id, code, kind, emails, tags, grade, policy_id";
        let as_of_text = as_of.to_string();
        let mut due: Vec<DueRow> = if options.full {
            json_rows(
                &mut *tx,
                backend,
                select,
                columns,
                &[JsonBind::Int(creditor.0)],
            )
            .await?
        } else {
            json_rows(
                &mut *tx,
                backend,
                &format!("{select} AND k.next_action_on <= $2"),
                columns,
                &[JsonBind::Int(creditor.0), JsonBind::Text(&as_of_text)],
            )
            .await?
        };
        tx.commit().await?;
        tracing::debug!(
            cases = due.len(),
            elapsed_us = listing.elapsed().as_micros(),
            "cases to plan listed"
        );
        due.sort_unstable_by(|x, y| x.1.cmp(&y.1));
        let mut customers = Vec::with_capacity(due.len());
        for (id, code, kind, emails, tags, grade, named) in due {
            let kind =
                CustomerKind::parse(&kind).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let tags = crate::customers::split_list(&tags);
            let grade = grade
                .as_deref()
                .and_then(relance_core::scoring::Grade::parse);
            customers.push(DueCustomer {
                id,
                code,
                kind,
                has_email: emails.lines().any(|l| !l.trim().is_empty()),
                policy: crate::policies::policy_for(
                    &policies,
                    kind,
                    &tags,
                    grade,
                    named.as_deref(),
                ),
            });
        }
        let mut out = Vec::new();
        if options.dry_run {
            // A dry run writes nothing, so its chunks need no order between them: a few are in
            // flight at once, each on its own connection, so that SQLite reads the next chunks'
            // rows (on their connections' threads) while the planner works on one (on this
            // task), and neither core waits for the slower half of a pair. The actions come
            // back in chunk order all the same.
            let mut in_flight = FuturesOrdered::new();
            for chunk in customers.chunks(CHUNK) {
                if in_flight.len() >= DRY_RUN_CHUNKS_IN_FLIGHT {
                    if let Some(done) = in_flight.next().await {
                        out.extend(done?);
                    }
                }
                in_flight.push_back(self.dry_run_chunk(creditor, chunk, &calendar, options));
            }
            while let Some(done) = in_flight.next().await {
                out.extend(done?);
            }
            return Ok(out);
        }
        // A real run commits every [`CHUNKS_PER_TRANSACTION`] chunks: a commit rewrites every
        // page the transaction touched into the write-ahead log, and the pages of the cases,
        // the outbox and the timeline that one chunk touches are touched again by the next
        // ones (a daily run's six chunks in six transactions wrote 17,000 pages for 10,000
        // distinct ones).
        // A run of one transaction (a daily run) keeps its changed pages until its commit; a
        // longer one (a first run, a full real run) lets SQLite write them out as it goes, so
        // that its memory does not keep the high-water mark of every transaction.
        let keep_changed_pages =
            backend == Backend::Sqlite && customers.len() <= CHUNK * CHUNKS_PER_TRANSACTION;
        if keep_changed_pages {
            sqlx::query(NO_CACHE_SPILL).execute(&mut *conn).await?;
        }
        let written = self
            .run_groups(conn, creditor, &customers, &calendar, options)
            .await;
        if keep_changed_pages {
            sqlx::query(CACHE_SPILL).execute(&mut *conn).await?;
        }
        out.extend(written?);
        // No checkpoint here: the commits only appended to the write-ahead log, and copying it
        // into the database (writing each page a second time, two fsyncs) is the caller's to
        // do once its work is over (`Store::checkpoint`; `Store::close` does it).
        Ok(out)
    }

    /// The writing part of a real run: the cases in transactions of up to
    /// [`CHUNKS_PER_TRANSACTION`] chunks, on the run's one connection.
    async fn run_groups(
        &self,
        conn: &mut AnyConnection,
        creditor: CreditorId,
        customers: &[DueCustomer<'_>],
        calendar: &BusinessCalendar,
        options: RunOptions,
    ) -> Result<Vec<PlannedAction>> {
        let backend = self.backend();
        let mut out = Vec::new();
        for group in customers.chunks(CHUNK * CHUNKS_PER_TRANSACTION) {
            let mut tx = conn.begin().await?;
            if backend == Backend::Sqlite {
                take_write_lock(&mut tx).await?;
            }
            for chunk in group.chunks(CHUNK) {
                if backend == Backend::Postgres {
                    self.lock_cases(&mut tx, creditor, chunk).await?;
                }
                let reads = self.read_chunk(&mut tx, creditor, chunk, options).await?;
                out.extend(
                    self.run_chunk(&mut tx, creditor, chunk, reads, calendar, options)
                        .await?,
                );
            }
            let committing = std::time::Instant::now();
            tx.commit().await?;
            tracing::debug!(
                cases = group.len(),
                commit_us = committing.elapsed().as_micros(),
                "transaction committed"
            );
        }
        Ok(out)
    }

    /// Plans one chunk of a dry run in a transaction of its own, rolled back.
    async fn dry_run_chunk(
        &self,
        creditor: CreditorId,
        chunk: &[DueCustomer<'_>],
        calendar: &BusinessCalendar,
        options: RunOptions,
    ) -> Result<Vec<PlannedAction>> {
        let mut tx = self.pool.begin().await?;
        if self.backend() == Backend::Sqlite {
            // A dry run reads each page once: a small page cache per connection keeps the
            // process's memory down (the system's file cache holds the rest). An import
            // raises it again on its connection (`IMPORT_PAGE_CACHE`).
            sqlx::query(DRY_RUN_PAGE_CACHE).execute(&mut *tx).await?;
        }
        let reads = self.read_chunk(&mut tx, creditor, chunk, options).await?;
        let written = self
            .run_chunk(&mut tx, creditor, chunk, reads, calendar, options)
            .await?;
        tx.rollback().await?;
        Ok(written)
    }

    /// Reads what planning a chunk needs: the cases' memory, their open items (disputes
    /// marked, unallocated payments as credits) and, for a real run, their planned outbox rows.
    async fn read_chunk(
        &self,
        conn: &mut AnyConnection,
        creditor: CreditorId,
        chunk: &[DueCustomer<'_>],
        options: RunOptions,
    ) -> Result<ChunkReads> {
        let backend = self.backend();
        let started = std::time::Instant::now();
        let ids: Vec<i64> = chunk.iter().map(|c| c.id).collect();
        // The chunk's rows come back as one JSON aggregate per query (`json_rows`) rather than
        // a row each: sqlx hands SQLite rows over one by one between threads, and at 200,000
        // cases and a million items that hand-over cost more than SQLite's own work.
        let mut binds = Vec::with_capacity(ids.len() + 1);
        binds.push(JsonBind::Int(creditor.0));
        binds.extend(ids.iter().map(|id| JsonBind::Int(*id)));
        let case_rows: Vec<CaseRow> = json_rows(
            &mut *conn,
            backend,
            &format!(
                "SELECT id, customer_id, state, next_action_on FROM cases \
                 WHERE creditor_id = {} AND customer_id IN ({})",
                param(backend, 1),
                placeholder_list(backend, 2, ids.len())
            ),
            "id, customer_id, state, next_action_on",
            &binds,
        )
        .await?;
        let mut memories: HashMap<i64, (i64, String, Option<String>)> =
            HashMap::with_capacity(case_rows.len());
        for (id, customer, state, next_action_on) in case_rows {
            memories.insert(customer, (id, state, next_action_on));
        }

        // 2. The ledger half: open items, the items in dispute, then unallocated credits.
        // `+creditor_id` keeps SQLite off the indexes that lead with the creditor (the partial
        // `items_open_due` would scan every open item of the creditor for each batch): the
        // batch's customers are found through `items_customer` / `payments_customer`, which
        // holds every column read here (on SQLite, since `open_minor` is a plain column).
        let item_text = json_text(
            &mut *conn,
            backend,
            &format!(
                "SELECT i.customer_id, i.id, i.kind, i.number, i.due_date, i.currency, i.open_minor \
                 FROM items i WHERE +i.creditor_id = {} AND i.open_minor <> 0 AND i.customer_id IN ({})",
                param(backend, 1),
                placeholder_list(backend, 2, ids.len())
            ),
            "customer_id, id, kind, number, due_date, currency, open_minor",
            &binds,
        )
        .await?;
        // Open disputes are few: read the creditor's in one go rather than probing the
        // disputes for each open item (a third of a full run's reads).
        let disputed: HashSet<i64> = sqlx::query_scalar(
            "SELECT item_id FROM disputes WHERE creditor_id = $1 AND resolved_on IS NULL",
        )
        .bind(creditor.0)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .collect();
        let mut items: HashMap<i64, Vec<CaseItem>> = HashMap::with_capacity(ids.len());
        let item_rows: Vec<ItemRow> = match &item_text {
            Some(text) => serde_json::from_str(text)
                .map_err(|e| StoreError::Corrupt(format!("open items: {e}")))?,
            None => Vec::new(),
        };
        for ItemRow(customer, id, kind, number, due_date, currency, open_minor) in item_rows {
            let currency = Currency::parse(&currency)?;
            items.entry(customer).or_default().push(CaseItem {
                id: ItemId(id),
                kind: ItemKind::parse(&kind)
                    .ok_or_else(|| StoreError::Corrupt(format!("item kind {kind}")))?,
                number,
                due_date: parse_date(&due_date)?,
                open: Money::from_minor(open_minor, currency),
                disputed: disputed.contains(&id),
            });
        }
        for list in items.values_mut() {
            // In due-date then number order, as the planner reads them (an aggregate's order
            // is not guaranteed).
            list.sort_by(|x, y| {
                (x.due_date, x.number.as_str(), x.id.0).cmp(&(
                    y.due_date,
                    y.number.as_str(),
                    y.id.0,
                ))
            });
        }
        // Money received but not allocated is a credit of the customer, as in the planner's replay.
        let sql = format!(
            "SELECT customer_id, id, received_on, currency, unallocated_minor FROM payments \
             WHERE +creditor_id = {} AND unallocated_minor > 0 AND customer_id IN ({}) \
             ORDER BY customer_id, received_on, id",
            param(backend, 1),
            placeholder_list(backend, 2, ids.len())
        );
        let mut query = sqlx::query(&sql).bind(creditor.0);
        for id in &ids {
            query = query.bind(*id);
        }
        for row in query.fetch_all(&mut *conn).await? {
            let payment: i64 = row.try_get("id")?;
            let currency = Currency::parse(&row.try_get::<String, _>("currency")?)?;
            items
                .entry(row.try_get("customer_id")?)
                .or_default()
                .push(CaseItem {
                    id: ItemId(-payment),
                    kind: ItemKind::CreditNote,
                    number: format!("unallocated-payment-{payment}"),
                    due_date: parse_date(&row.try_get::<String, _>("received_on")?)?,
                    open: Money::from_minor(-row.try_get::<i64, _>("unallocated_minor")?, currency),
                    disputed: false,
                });
        }

        let mut outbox: HashMap<i64, Vec<QueuedAction>> = HashMap::new();
        if !options.dry_run {
            // The planned outbox rows, to see which are settled.
            // No ORDER BY in SQL: SQLite would then walk `actions_creditor_id` to get the id order,
            // reading every outbox row of the creditor for each chunk (a cost that grows with the
            // outbox, not with the cases due), instead of seeking `actions_customer_status`. The
            // rows are put in id order below.
            let sql = format!(
                "SELECT id, customer_id, idempotency_key, step, notice, invoices FROM actions \
                 WHERE creditor_id = {} AND status = 'planned' AND kind = 'receivable' AND customer_id IN ({})",
                param(backend, 1),
                placeholder_list(backend, 2, ids.len())
            );
            let queued_rows: Vec<QueuedRow> = json_rows(
                &mut *conn,
                backend,
                &sql,
                "id, customer_id, idempotency_key, step, notice, invoices",
                &binds,
            )
            .await?;
            for (id, customer, key, step, notice, invoices) in queued_rows {
                let invoices: Vec<String> = serde_json::from_str(&invoices)
                    .map_err(|e| StoreError::Corrupt(format!("action {id}: invoices: {e}")))?;
                outbox.entry(customer).or_default().push(QueuedAction {
                    id,
                    key,
                    step,
                    notice,
                    invoices,
                });
            }
            for rows in outbox.values_mut() {
                rows.sort_unstable_by_key(|queued| queued.id);
            }
        }
        Ok(ChunkReads {
            memories,
            items,
            outbox,
            read: started.elapsed(),
        })
    }

    /// Locks a chunk's case rows for the rest of the transaction (PostgreSQL), so that a case
    /// planned meanwhile by another run is read as that run left it. On SQLite the whole
    /// transaction holds the database's write lock from its first write on
    /// ([`take_write_lock`]).
    async fn lock_cases(
        &self,
        tx: &mut AnyConnection,
        creditor: CreditorId,
        chunk: &[DueCustomer<'_>],
    ) -> Result<()> {
        let backend = self.backend();
        let sql = format!(
            "UPDATE cases SET updated_at = {} WHERE creditor_id = {} AND customer_id IN ({})",
            param(backend, 1),
            param(backend, 2),
            placeholder_list(backend, 3, chunk.len())
        );
        let mut query = sqlx::query(&sql).bind(now_text()).bind(creditor.0);
        for customer in chunk {
            query = query.bind(customer.id);
        }
        query.execute(&mut *tx).await?;
        Ok(())
    }

    /// Plans one chunk of cases inside `tx` from what [`Store::read_chunk`] read, and records
    /// what was decided.
    async fn run_chunk(
        &self,
        tx: &mut AnyConnection,
        creditor: CreditorId,
        chunk: &[DueCustomer<'_>],
        reads: ChunkReads,
        calendar: &BusinessCalendar,
        options: RunOptions,
    ) -> Result<Vec<PlannedAction>> {
        let backend = self.backend();
        let as_of = options.as_of;
        let as_of_text = as_of.to_string();
        let ChunkReads {
            mut memories,
            mut items,
            mut outbox,
            read,
        } = reads;
        // Where a chunk's time goes, for `-vv` (`relance_store=debug`).
        let started = std::time::Instant::now();
        // 3. Build and plan each case, in code order.
        let mut cases: Vec<ChunkCase> = Vec::with_capacity(chunk.len());
        let mut case_ids: Vec<i64> = Vec::with_capacity(chunk.len());
        for customer in chunk {
            let Some((case_id, state_text, next_action_on)) = memories.remove(&customer.id) else {
                continue;
            };
            let due = next_action_on
                .as_deref()
                .is_some_and(|next| next <= as_of_text.as_str());
            if !options.full && !due {
                // Planned meanwhile by another run.
                continue;
            }
            let memory: CaseMemory = serde_json::from_str(&state_text)
                .map_err(|e| StoreError::Corrupt(format!("case {case_id}: state: {e}")))?;
            let case_items = items.remove(&customer.id).unwrap_or_default();
            let currency = case_items
                .iter()
                .find(|i| i.kind == ItemKind::Invoice && i.open.is_positive())
                .or(case_items.first())
                .map_or(Currency::EUR, |i| i.open.currency);
            let mut state = CaseState::new(
                creditor,
                CaseCustomer {
                    id: CustomerId(customer.id),
                    code: customer.code.clone(),
                    kind: customer.kind,
                    has_email: customer.has_email,
                    tags: Vec::new(),
                },
                currency,
            );
            state.items = case_items;
            memory.restore(&mut state);
            if let Some(promise) = state.promise.as_mut() {
                // What the customer paid on the case's items since the promise was made (rare:
                // one query per case with a promise).
                let received: i64 = sqlx::query_scalar(
                    "SELECT CAST(COALESCE(SUM(a.amount_minor), 0) AS BIGINT) FROM allocations a \
                     JOIN payments p ON p.id = a.payment_id JOIN items i ON i.id = a.item_id \
                     WHERE a.creditor_id = $1 AND i.customer_id = $2 AND p.received_on >= $3 AND i.currency = $4",
                )
                .bind(creditor.0)
                .bind(customer.id)
                .bind(promise.made_on.to_string())
                .bind(promise.amount.currency.code().to_string())
                .fetch_one(&mut *tx)
                .await?;
                promise.received = Money::from_minor(received, promise.amount.currency);
            }
            case_ids.push(case_id);
            cases.push(ChunkCase { customer, state });
        }
        if cases.is_empty() {
            return Ok(Vec::new());
        }
        let plans: Vec<_> = cases
            .iter()
            .map(|c| plan(&c.state, c.customer.policy, calendar, as_of))
            .collect();

        if options.dry_run {
            // What a real run would write: the actions not already in the outbox. Nothing is
            // written (cancellations, events and case states only matter to a real run), so a
            // dry run costs reads only.
            let mut rows: Vec<(&PlannedAction, &'static str)> = Vec::new();
            let mut seen: HashSet<(&str, &'static str)> = HashSet::new();
            for decided in &plans {
                for action in &decided.actions {
                    for channel in &action.channels {
                        if seen.insert((action.key.as_str(), channel.as_str())) {
                            rows.push((action, channel.as_str()));
                        }
                    }
                }
            }
            let existing = existing_actions(tx, backend, creditor, &rows).await?;
            let mut written = Vec::new();
            for decided in plans {
                for mut action in decided.actions {
                    action
                        .channels
                        .retain(|c| !has_channel(&existing, &action.key, c.as_str()));
                    if !action.channels.is_empty() {
                        written.push(action);
                    }
                }
            }
            return Ok(written);
        }

        let planned = started.elapsed();
        // 4a. Cancel the planned outbox rows that are settled (before the new ones go in).
        let mut cancelled_ids: Vec<i64> = Vec::new();
        let mut cancel_events: Vec<Vec<NewEvent>> = Vec::with_capacity(cases.len());
        for (case, decided) in cases.iter().zip(&plans) {
            let mut events = Vec::new();
            if let Some(rows) = outbox.remove(&case.customer.id) {
                let closed = matches!(
                    decided.status,
                    CaseStatus::NothingOverdue | CaseStatus::BelowMinimum
                );
                // The invoices still to chase: open, undisputed (as the ledger half says).
                let open: HashSet<&str> = case
                    .state
                    .items
                    .iter()
                    .filter(|i| i.kind == ItemKind::Invoice && i.open.is_positive() && !i.disputed)
                    .map(|i| i.number.as_str())
                    .collect();
                let mut keys: Vec<(String, String, Vec<String>)> = Vec::new();
                for queued in rows {
                    let settled = !queued.invoices.iter().any(|n| open.contains(n.as_str()));
                    if settled || (closed && queued.notice == 0) {
                        cancelled_ids.push(queued.id);
                        if !keys.iter().any(|(k, _, _)| *k == queued.key) {
                            keys.push((queued.key, queued.step, queued.invoices));
                        }
                    }
                }
                for (key, step, invoices) in keys {
                    events.push(cancel_event(
                        creditor,
                        CustomerId(case.customer.id),
                        closed,
                        as_of,
                        key,
                        step,
                        invoices,
                    ));
                }
            }
            cancel_events.push(events);
        }
        // On SQLite the `+` keeps the planner on the row ids whatever its version: SQLite 3.40
        // (Debian's) took `creditor_id = ? AND status = 'planned'` as index terms and walked
        // `actions_due` over every planned row of the creditor for each batch (90 ms at 200,000
        // planned rows, against 20 ms by id); the bundled 3.46 already goes by id.
        let unindexed = match backend {
            Backend::Sqlite => "+",
            Backend::Postgres => "",
        };
        for ids in statement_parts(&cancelled_ids, INSERT_ROWS) {
            let sql = format!(
                "UPDATE actions SET status = 'cancelled', updated_at = {} WHERE {unindexed}creditor_id = {} \
                 AND {unindexed}status = 'planned' AND id IN ({})",
                param(backend, 1),
                param(backend, 2),
                placeholder_list(backend, 3, ids.len())
            );
            let mut query = sqlx::query(&sql).bind(now_text()).bind(creditor.0);
            for id in ids {
                query = query.bind(*id);
            }
            query.execute(&mut *tx).await?;
        }

        let cancelled = started.elapsed();
        // 4b. The new actions, a row per channel, unless already there.
        let mut rows: Vec<(&PlannedAction, &'static str)> = Vec::new();
        let mut seen: HashSet<(&str, &'static str)> = HashSet::new();
        for decided in &plans {
            for action in &decided.actions {
                for channel in &action.channels {
                    if seen.insert((action.key.as_str(), channel.as_str())) {
                        rows.push((action, channel.as_str()));
                    }
                }
            }
        }
        let inserted = insert_actions(tx, backend, &rows).await?;
        let actions_written = started.elapsed();

        // 4c. Events in the order a case-by-case run writes them, then the cases' new state.
        let mut events: Vec<NewEvent> = Vec::new();
        let mut written: Vec<PlannedAction> = Vec::new();
        let mut upserts: Vec<CaseUpdate> = Vec::with_capacity(cases.len());
        for ((mut case, decided), cancels) in cases.into_iter().zip(&plans).zip(cancel_events) {
            events.extend(cancels);
            for action in &decided.actions {
                let mut done = action.clone();
                done.channels
                    .retain(|c| has_channel(&inserted, &action.key, c.as_str()));
                if done.channels.is_empty() {
                    continue;
                }
                events.push(reminder_planned_event(
                    creditor,
                    CustomerId(case.customer.id),
                    as_of,
                    &done,
                ));
                written.push(done);
            }
            case.state.apply_plan(decided);
            // Where the case stands once the day's actions are done (a last step makes it exhausted).
            let status = status_on(&case.state, case.customer.policy, as_of);
            let memory = serde_json::to_string(&CaseMemory::of(&case.state))
                .map_err(|e| StoreError::Corrupt(format!("case {}: {e}", case.customer.code)))?;
            upserts.push(CaseUpdate {
                customer: case.customer.id,
                cycle: i64::from(case.state.cycle),
                memory,
                status: status_text(status),
                last_step: case.state.history.last().map(|s| s.step.clone()),
                next_action_on: decided.next_action_on.map(|d| d.to_string()),
            });
        }
        append_many(tx, backend, &events).await?;
        let events_written = started.elapsed();
        let now = now_text();
        for part in statement_parts(&upserts, INSERT_ROWS) {
            let sql = format!(
                "INSERT INTO cases (creditor_id, customer_id, cycle, state, status, last_step, \
                 next_action_on, updated_at) VALUES {} \
                 ON CONFLICT (creditor_id, customer_id) DO UPDATE SET cycle = excluded.cycle, \
                 state = excluded.state, status = excluded.status, last_step = excluded.last_step, \
                 next_action_on = excluded.next_action_on, updated_at = excluded.updated_at",
                value_rows(backend, part.len(), 8)
            );
            let mut query = sqlx::query(&sql);
            for update in part {
                query = query
                    .bind(creditor.0)
                    .bind(update.customer)
                    .bind(update.cycle)
                    .bind(update.memory.as_str())
                    .bind(update.status.as_str())
                    .bind(update.last_step.clone())
                    .bind(update.next_action_on.clone())
                    .bind(now.as_str());
            }
            query.execute(&mut *tx).await?;
        }
        // The follow-up half of the run looks at these customers' dormancy again (see
        // migration 0032): what changed their case may have changed it.
        for part in statement_parts(&upserts, INSERT_ROWS) {
            let sql = format!(
                "INSERT INTO dormancy_pending (creditor_id, customer_id) VALUES {} \
                 ON CONFLICT (creditor_id, customer_id) DO NOTHING",
                value_rows(backend, part.len(), 2)
            );
            let mut query = sqlx::query(&sql);
            for update in part {
                query = query.bind(creditor.0).bind(update.customer);
            }
            query.execute(&mut *tx).await?;
        }
        tracing::debug!(
            cases = upserts.len(),
            actions = rows.len(),
            events = events.len(),
            read_us = read.as_micros(),
            plan_us = planned.as_micros(),
            cancel_us = (cancelled - planned).as_micros(),
            actions_us = (actions_written - cancelled).as_micros(),
            events_us = (events_written - actions_written).as_micros(),
            cases_us = (started.elapsed() - events_written).as_micros(),
            "chunk planned"
        );
        Ok(written)
    }
}

/// Outbox rows by idempotency key: their channels.
type KeyChannels = HashMap<String, Vec<String>>;

/// Whether `rows` holds the row of `key` on `channel` (looked up without building a key: a
/// full run looks up some 200,000 actions).
fn has_channel(rows: &KeyChannels, key: &str, channel: &str) -> bool {
    rows.get(key)
        .is_some_and(|channels| channels.iter().any(|c| c == channel))
}

/// The (key, channel) pairs of `rows` already in the outbox.
async fn existing_actions(
    tx: &mut AnyConnection,
    backend: Backend,
    creditor: CreditorId,
    rows: &[(&PlannedAction, &'static str)],
) -> Result<KeyChannels> {
    let mut existing = KeyChannels::new();
    let mut keys: Vec<&str> = rows.iter().map(|(a, _)| a.key.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    for part in statement_parts(&keys, INSERT_ROWS) {
        let sql = format!(
            "SELECT idempotency_key, channel FROM actions WHERE creditor_id = {} \
             AND idempotency_key IN ({})",
            param(backend, 1),
            placeholder_list(backend, 2, part.len())
        );
        let mut query = sqlx::query(&sql).bind(creditor.0);
        for key in part {
            query = query.bind(*key);
        }
        for row in query.fetch_all(&mut *tx).await? {
            existing
                .entry(row.try_get("idempotency_key")?)
                .or_default()
                .push(row.try_get("channel")?);
        }
    }
    Ok(existing)
}

/// Inserts outbox rows (action, channel) unless already there; returns the (key, channel)
/// pairs actually inserted.
async fn insert_actions(
    tx: &mut AnyConnection,
    backend: Backend,
    rows: &[(&PlannedAction, &'static str)],
) -> Result<KeyChannels> {
    let mut inserted = KeyChannels::with_capacity(rows.len());
    let now = now_text();
    // An experiment's variant B may set the hour its messages leave (creditor time).
    let tz: Option<chrono_tz::Tz> = match rows.iter().find(|(a, _)| a.send_hour.is_some()) {
        Some((first, _)) => {
            let zone: String = sqlx::query_scalar("SELECT time_zone FROM creditors WHERE id = $1")
                .bind(first.creditor.0)
                .fetch_one(&mut *tx)
                .await?;
            Some(zone.parse().unwrap_or(chrono_tz::Europe::Paris))
        }
        None => None,
    };
    for part in statement_parts(rows, INSERT_ROWS) {
        let sql = format!(
            "INSERT INTO actions (creditor_id, customer_id, idempotency_key, channel, step, notice, cycle, \
             planned_on, due_on, status, invoices, amount_minor, currency, reason, created_at, updated_at, \
             attach_statement, experiment, variant, send_after, next_attempt_at) \
             VALUES {} ON CONFLICT (creditor_id, idempotency_key, channel) DO NOTHING \
             RETURNING idempotency_key, channel",
            value_rows(backend, part.len(), 21)
        );
        let mut query = sqlx::query(&sql);
        for (action, channel) in part {
            let invoices = serde_json::to_string(&action.invoices)
                .map_err(|e| StoreError::Corrupt(format!("action {}: {e}", action.key)))?;
            let local = match (tz, action.send_hour) {
                (Some(_), Some(hour)) => action.on.and_hms_opt(u32::from(hour), 0, 0),
                _ => None,
            };
            let not_before = match (tz, local) {
                (Some(tz), Some(local)) => Some(crate::followups::utc_text(tz, local)),
                _ => None,
            };
            query = query
                .bind(action.creditor.0)
                .bind(action.customer.0)
                .bind(action.key.as_str())
                .bind(*channel)
                .bind(action.step.as_str())
                .bind(i64::from(action.is_notice))
                .bind(i64::from(action.cycle))
                .bind(action.on.to_string())
                .bind(action.due_on.to_string())
                .bind("planned")
                .bind(invoices)
                .bind(action.amount_due.to_minor()?)
                .bind(action.amount_due.currency.code())
                .bind(action.reason.as_str())
                .bind(now.as_str())
                .bind(now.as_str())
                .bind(i64::from(action.attach_statement))
                .bind(action.experiment.clone())
                .bind(action.variant.map(|v| v.as_str()))
                .bind(local.map(|l| l.format("%Y-%m-%dT%H:%M").to_string()))
                .bind(not_before);
        }
        for row in query.fetch_all(&mut *tx).await? {
            inserted
                .entry(row.try_get("idempotency_key")?)
                .or_default()
                .push(row.try_get("channel")?);
        }
    }
    Ok(inserted)
}
