//! Importing invoices and credit notes: all-or-nothing, idempotent, and fast.
//!
//! An import is one transaction. Rows arrive in batches; each batch looks up the invoices it
//! names (so a daily import of fifty invoices into a ledger of a million costs fifty lookups,
//! not a million), inserts what is new with multi-row statements, updates what changed and
//! records each change on the timeline. Re-importing the same file changes nothing.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use relance_core::ids::{CreditorId, CustomerId, ItemId};
use relance_core::ledger::{allocate, ItemKind, OpenInvoice};
use relance_core::money::{Currency, Money};
use sqlx::{Any, Row, Transaction};

use crate::bulk::SuspendedIndexes;
use crate::customers::{
    customer_from_row, join_list, split_list, CustomerFields, CustomerRecord, CUSTOMER_COLUMNS,
};
use crate::db::{now_text, placeholder_list, value_rows, IMPORT_PAGE_CACHE};
use crate::error::{Result, StoreError};
use crate::events::{append, NewEvent};
use crate::Store;

mod first_load;

use first_load::FirstLoad;

/// One invoice or credit note read from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceRecord {
    /// Line in the source file, for messages.
    pub line: u64,
    pub kind: ItemKind,
    pub number: String,
    pub customer: CustomerFields,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    /// Negative for a credit note.
    pub total: Money,
    /// Settled outside relance, as the export says.
    pub paid: Money,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub customers_created: u64,
    pub customers_updated: u64,
    /// One line per changed invoice or customer ("F-001: amount 100.00 → 120.00").
    pub changes: Vec<String>,
}

const BATCH: usize = 1000;

struct ExistingItem {
    id: ItemId,
    customer_id: CustomerId,
    issue_date: String,
    due_date: String,
    currency: String,
    total_minor: i64,
    paid_minor: i64,
}

/// An import in progress: holds the transaction until [`InvoiceImport::commit`].
pub struct InvoiceImport {
    backend: crate::Backend,
    tx: Transaction<'static, Any>,
    creditor: CreditorId,
    source: String,
    import_id: i64,
    today: NaiveDate,
    customers: HashMap<String, CustomerRecord>,
    batch: Vec<InvoiceRecord>,
    touched_customers: HashSet<i64>,
    /// Customers whose items or details changed: their cases are planned at the next run
    /// (an unchanged re-import of a whole export leaves the daily run incremental).
    changed_customers: HashSet<i64>,
    summary: ImportSummary,
    /// The creditor had no item when the import began: nothing can exist to compare with, so
    /// batches skip the lookup (the first import of a ledger is the large one).
    ledger_was_empty: bool,
    /// Whether the first full batch looked for empty tables whose indexes to set aside.
    bulk_checked: bool,
    /// Indexes dropped for a first, large load; built again before the commit.
    suspended: Vec<SuspendedIndexes>,
    /// A first load on SQLite: batches written while the next is built (see `first_load`).
    first_load: Option<FirstLoad>,
    /// The one-connection pool of a first load on SQLite (foreign keys unchecked), closed
    /// when the import ends.
    first_load_pool: Option<sqlx::AnyPool>,
}

impl Store {
    /// Starts an import for `creditor`; `today` dates the timeline entries of changes.
    pub async fn begin_invoice_import(
        &self,
        creditor: CreditorId,
        source: &str,
        today: NaiveDate,
    ) -> Result<InvoiceImport> {
        let sqlite = self.backend() == crate::Backend::Sqlite;
        // A first load on SQLite writes through a connection of its own that does not check
        // foreign keys: every customer, creditor and import it points at is one it has just
        // written or read (see `first_load`), and SQLite's lookups of them cost about a
        // quarter of its insert time.
        let mut first_load_pool = if sqlite && self.items_count(creditor).await? == 0 {
            self.first_load_pool().await?
        } else {
            None
        };
        let (mut tx, items_before) = loop {
            let mut tx = match &first_load_pool {
                Some(pool) => pool.begin().await?,
                None => self.pool.begin().await?,
            };
            let items_before: i64 = sqlx::query_scalar(ITEMS_PROBE)
                .bind(creditor.0)
                .fetch_one(&mut *tx)
                .await?;
            if items_before != 0 {
                // Another import wrote this creditor's first invoices in between: this one
                // takes the general path, foreign keys checked.
                if let Some(pool) = first_load_pool.take() {
                    tx.rollback().await?;
                    pool.close().await;
                    continue;
                }
            }
            break (tx, items_before);
        };
        if sqlite {
            sqlx::query(IMPORT_PAGE_CACHE).execute(&mut *tx).await?;
        }
        let rows = sqlx::query(&format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE creditor_id = $1"
        ))
        .bind(creditor.0)
        .fetch_all(&mut *tx)
        .await?;
        let mut customers = HashMap::with_capacity(rows.len());
        for row in &rows {
            let c = customer_from_row(row)?;
            customers.insert(c.code.clone(), c);
        }
        // The import's row comes first so that every item can point at it; its counts are
        // filled in at commit (and vanish with the transaction on rollback).
        let import_id: i64 = sqlx::query_scalar(
            "INSERT INTO imports (creditor_id, kind, source, rows_read, created, updated, unchanged, warnings, imported_at) \
             VALUES ($1, 'invoices', $2, 0, 0, 0, 0, 0, $3) RETURNING id",
        )
        .bind(creditor.0)
        .bind(source)
        .bind(now_text())
        .fetch_one(&mut *tx)
        .await?;
        let first_load = if sqlite && items_before == 0 {
            // Read after the insert above, which took the database's write lock: no other
            // writer can take a customer id until this import ends.
            let next_customer_id: i64 = sqlx::query_scalar(
                "SELECT CAST(MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'customers'), 0), \
                 COALESCE((SELECT MAX(id) FROM customers), 0)) + 1 AS BIGINT)",
            )
            .fetch_one(&mut *tx)
            .await?;
            Some(FirstLoad::new(
                creditor.0,
                import_id,
                next_customer_id,
                &now_text(),
            ))
        } else {
            None
        };
        Ok(InvoiceImport {
            backend: self.backend(),
            import_id,
            tx,
            creditor,
            source: source.to_string(),
            today,
            customers,
            batch: Vec::with_capacity(BATCH),
            touched_customers: HashSet::new(),
            changed_customers: HashSet::new(),
            summary: ImportSummary::default(),
            ledger_was_empty: items_before == 0,
            bulk_checked: false,
            suspended: Vec::new(),
            first_load,
            first_load_pool,
        })
    }

    /// 0 when `creditor` has no invoice or credit note at all, 1 otherwise.
    async fn items_count(&self, creditor: CreditorId) -> Result<i64> {
        Ok(sqlx::query_scalar(ITEMS_PROBE)
            .bind(creditor.0)
            .fetch_one(&self.pool)
            .await?)
    }
}

/// Whether a creditor has any item: 0 or 1.
const ITEMS_PROBE: &str =
    "SELECT CAST(COUNT(*) AS BIGINT) FROM (SELECT 1 FROM items WHERE creditor_id = $1 LIMIT 1) AS probe";

impl InvoiceImport {
    /// Adds one record; writes a batch when it is full.
    pub async fn push(&mut self, record: InvoiceRecord) -> Result<()> {
        self.batch.push(record);
        if self.batch.len() >= BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    /// Writes what is left, applies available credits, logs the import and commits.
    pub async fn commit(mut self, warnings: u64) -> Result<ImportSummary> {
        let started = std::time::Instant::now();
        self.flush().await?;
        self.write_pending().await?;
        for indexes in std::mem::take(&mut self.suspended) {
            indexes.restore(&mut self.tx).await?;
        }
        let indexed = started.elapsed();
        self.apply_credits().await?;
        // Every customer whose ledger changed gets its case planned at the next run.
        let changed: Vec<i64> = self.changed_customers.iter().copied().collect();
        crate::cases::mark_pending(&mut self.tx, self.backend, self.creditor, &changed).await?;
        let planned = started.elapsed();
        sqlx::query(
            "UPDATE imports SET rows_read = $1, created = $2, updated = $3, unchanged = $4, warnings = $5 \
             WHERE id = $6 AND creditor_id = $7",
        )
        .bind(to_i64(self.summary.rows))
        .bind(to_i64(self.summary.created))
        .bind(to_i64(self.summary.updated))
        .bind(to_i64(self.summary.unchanged))
        .bind(to_i64(warnings))
        .bind(self.import_id)
        .bind(self.creditor.0)
        .execute(&mut *self.tx)
        .await?;
        self.tx.commit().await?;
        if let Some(pool) = self.first_load_pool {
            pool.close().await;
        }
        tracing::debug!(
            rows = self.summary.rows,
            indexes_ms = indexed.as_millis(),
            credits_and_cases_ms = (planned - indexed).as_millis(),
            commit_ms = (started.elapsed() - planned).as_millis(),
            "invoice import committed"
        );
        Ok(self.summary)
    }

    /// Abandons the import: the database is left exactly as it was.
    pub async fn rollback(self) -> Result<()> {
        self.tx.rollback().await?;
        if let Some(pool) = self.first_load_pool {
            pool.close().await;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.batch);
        if self.ledger_was_empty && !self.bulk_checked && batch.len() >= BATCH {
            // A large first load: build the indexes once at the end rather than row by row.
            self.bulk_checked = true;
            for table in ["customers", "items"] {
                let indexes =
                    SuspendedIndexes::suspend_if_empty(&mut self.tx, self.backend, table).await?;
                if !indexes.is_empty() {
                    self.suspended.push(indexes);
                }
            }
        }
        if self.first_load.is_some() {
            return self.flush_first_load(batch).await;
        }
        self.summary.rows += batch.len() as u64;
        self.upsert_customers(&batch).await?;
        let existing = if self.ledger_was_empty {
            HashMap::new()
        } else {
            self.existing_items(&batch).await?
        };

        let mut new_rows: Vec<&InvoiceRecord> = Vec::with_capacity(batch.len());
        for record in &batch {
            let customer_id = self.customer_id(&record.customer.code)?;
            self.touched_customers.insert(customer_id.0);
            let old = if existing.is_empty() {
                None
            } else {
                existing.get(&(record.kind.as_str(), record.number.clone()))
            };
            match old {
                None => {
                    self.changed_customers.insert(customer_id.0);
                    new_rows.push(record)
                }
                Some(old) => self.update_if_changed(record, customer_id, old).await?,
            }
        }
        for chunk in new_rows.chunks(BATCH) {
            self.insert_items(chunk).await?;
        }
        self.batch = batch;
        self.batch.clear();
        Ok(())
    }

    /// A batch of a first load on SQLite: the previous batch's statement runs on SQLite's
    /// thread while this one is built (see `first_load`).
    async fn flush_first_load(&mut self, mut batch: Vec<InvoiceRecord>) -> Result<()> {
        use std::future::Future as _;
        let InvoiceImport {
            tx,
            first_load,
            customers,
            summary,
            changed_customers,
            touched_customers,
            ..
        } = self;
        let Some(load) = first_load.as_mut() else {
            return Err(StoreError::Corrupt("a first load without its state".into()));
        };
        let pending = load.pending.take();
        let built = {
            let mut previous = std::pin::pin!(async {
                match pending {
                    Some(statement) => statement.run(tx).await,
                    None => Ok(()),
                }
            });
            // The first poll hands the statement to SQLite's thread; it runs while this
            // thread builds the next batch, and is awaited only then.
            let started =
                std::future::poll_fn(|cx| std::task::Poll::Ready(previous.as_mut().poll(cx))).await;
            let built = load.build(
                &mut batch,
                customers,
                summary,
                [changed_customers, touched_customers],
            );
            match started {
                std::task::Poll::Ready(written) => written?,
                std::task::Poll::Pending => previous.await?,
            }
            built?
        };
        let (statement, updates) = built;
        load.pending = Some(statement);
        if !updates.is_empty() {
            // The customers changed may be created by the statement just built: run it first.
            self.write_pending().await?;
            for update in updates {
                self.update_customer(&update.next, &update.changes, update.line)
                    .await?;
            }
        }
        self.batch = batch;
        self.batch.clear();
        Ok(())
    }

    /// Runs the statement a first load left waiting, if any.
    async fn write_pending(&mut self) -> Result<()> {
        if let Some(statement) = self.first_load.as_mut().and_then(|l| l.pending.take()) {
            statement.run(&mut self.tx).await?;
        }
        Ok(())
    }

    fn customer_id(&self, code: &str) -> Result<CustomerId> {
        self.customers
            .get(code)
            .map(|c| c.id)
            .ok_or_else(|| StoreError::UnknownCustomer(code.to_string()))
    }

    async fn upsert_customers(&mut self, batch: &[InvoiceRecord]) -> Result<()> {
        let mut new: Vec<&CustomerFields> = Vec::new();
        let mut seen_new: HashSet<&str> = HashSet::new();
        for record in batch {
            let fields = &record.customer;
            match self.customers.get(&fields.code) {
                None => {
                    if seen_new.insert(fields.code.as_str()) {
                        new.push(fields);
                    }
                }
                Some(existing) if existing.differs_from(fields) => {
                    let (next, changes) = existing.merged_with(fields);
                    if !changes.is_empty() {
                        self.update_customer(&next, &changes, record.line).await?;
                        self.customers.insert(next.code.clone(), next);
                    }
                }
                Some(_) => {}
            }
        }
        if new.is_empty() {
            return Ok(());
        }
        let now = now_text();
        for chunk in new.chunks(500) {
            let sql = format!(
                "INSERT INTO customers (creditor_id, code, name, kind, language, siren, emails, phones, address, created_at, updated_at) \
                 VALUES {} RETURNING id, code",
                value_rows(self.backend, chunk.len(), 11)
            );
            // The records as written, kept to fill in the ids the insert gives back: a first
            // load creates customers by the hundred thousand, and reading every column of each
            // back through the Any driver only to rebuild the same record was wasted work.
            let mut written: HashMap<&str, CustomerRecord> = HashMap::with_capacity(chunk.len());
            let mut query = sqlx::query(&sql);
            for f in chunk {
                let record = new_customer(f);
                query = query
                    .bind(self.creditor.0)
                    .bind(record.code.clone())
                    .bind(record.name.clone())
                    .bind(record.kind.as_str())
                    .bind(record.language.as_str())
                    .bind(record.siren.clone())
                    .bind(join_list(&f.emails))
                    .bind(f.phone.clone().unwrap_or_default())
                    .bind(record.address.clone())
                    .bind(now.clone())
                    .bind(now.clone());
                written.insert(f.code.as_str(), record);
            }
            let rows = query.fetch_all(&mut *self.tx).await?;
            for row in &rows {
                let code: String = row.try_get("code")?;
                let mut record = written.remove(code.as_str()).ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "customer {code} came back from an insert that did not write it"
                    ))
                })?;
                record.id = CustomerId(row.try_get("id")?);
                self.customers.insert(code, record);
            }
            self.summary.customers_created += rows.len() as u64;
        }
        Ok(())
    }

    async fn update_customer(
        &mut self,
        next: &CustomerRecord,
        changes: &[String],
        line: u64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE customers SET name = $1, kind = $2, language = $3, siren = $4, emails = $5, phones = $6, \
             address = $7, updated_at = $8 WHERE id = $9 AND creditor_id = $10",
        )
        .bind(&next.name)
        .bind(next.kind.as_str())
        .bind(next.language.as_str())
        .bind(&next.siren)
        .bind(join_list(&next.emails))
        .bind(join_list(&next.phones))
        .bind(&next.address)
        .bind(now_text())
        .bind(next.id.0)
        .bind(self.creditor.0)
        .execute(&mut *self.tx)
        .await?;
        let summary = format!("customer {}: {}", next.code, changes.join("; "));
        append(
            &mut *self.tx,
            &NewEvent {
                creditor: self.creditor,
                customer: Some(next.id),
                item: None,
                kind: "customer_changed".into(),
                occurred_on: self.today,
                summary: summary.clone(),
                data: serde_json::json!({ "source": self.source, "line": line, "changes": changes }),
            },
        )
        .await?;
        self.summary.customers_updated += 1;
        self.changed_customers.insert(next.id.0);
        self.summary.changes.push(summary);
        Ok(())
    }

    async fn existing_items(
        &mut self,
        batch: &[InvoiceRecord],
    ) -> Result<HashMap<(&'static str, String), ExistingItem>> {
        let numbers: Vec<&str> = {
            let mut set: Vec<&str> = batch.iter().map(|r| r.number.as_str()).collect();
            set.sort_unstable();
            set.dedup();
            set
        };
        let sql = format!(
            "SELECT id, customer_id, kind, number, issue_date, due_date, currency, total_minor, paid_outside_minor \
             FROM items WHERE creditor_id = {} AND kind IN ('invoice', 'credit_note') AND number IN ({})",
            if self.backend == crate::Backend::Sqlite { "?" } else { "$1" },
            placeholder_list(self.backend, 2, numbers.len())
        );
        let mut query = sqlx::query(&sql).bind(self.creditor.0);
        for n in &numbers {
            query = query.bind(n.to_string());
        }
        let rows = query.fetch_all(&mut *self.tx).await?;
        let mut out = HashMap::with_capacity(rows.len());
        for row in rows {
            let kind: String = row.try_get("kind")?;
            let kind = if kind == "credit_note" {
                "credit_note"
            } else {
                "invoice"
            };
            out.insert(
                (kind, row.try_get::<String, _>("number")?),
                ExistingItem {
                    id: ItemId(row.try_get("id")?),
                    customer_id: CustomerId(row.try_get("customer_id")?),
                    issue_date: row.try_get("issue_date")?,
                    due_date: row.try_get("due_date")?,
                    currency: row.try_get("currency")?,
                    total_minor: row.try_get("total_minor")?,
                    paid_minor: row.try_get("paid_outside_minor")?,
                },
            );
        }
        Ok(out)
    }

    /// Inserts new items with one statement per batch. On PostgreSQL its single parameter is a
    /// JSON array of rows, unpacked by `json_array_elements` (binding ten parameters per row
    /// cost more than the inserts themselves); SQLite binds them (see `insert_items_bound`).
    async fn insert_items(&mut self, rows: &[&InvoiceRecord]) -> Result<()> {
        if self.backend == crate::Backend::Sqlite {
            return self.insert_items_bound(rows).await;
        }
        let sql = "INSERT INTO items (creditor_id, customer_id, kind, number, issue_date, due_date, currency, \
             total_minor, paid_outside_minor, import_id) \
             SELECT $1, CAST(r ->> 0 AS BIGINT), r ->> 1, r ->> 2, r ->> 3, r ->> 4, r ->> 5, \
             CAST(r ->> 6 AS BIGINT), CAST(r ->> 7 AS BIGINT), $2 FROM json_array_elements(CAST($3 AS JSON)) AS r";
        let mut json = String::with_capacity(rows.len() * 96);
        json.push('[');
        for (i, r) in rows.iter().enumerate() {
            let customer_id = self.customer_id(&r.customer.code)?;
            if i > 0 {
                json.push(',');
            }
            json.push_str(&format!(
                "[{},\"{}\",{},\"{}\",\"{}\",\"{}\",{},{}]",
                customer_id.0,
                r.kind.as_str(),
                serde_json::Value::from(r.number.as_str()),
                r.issue_date,
                r.due_date,
                r.total.currency.code(),
                r.total.to_minor()?,
                r.paid.to_minor()?
            ));
        }
        json.push(']');
        sqlx::query(sql)
            .bind(self.creditor.0)
            .bind(self.import_id)
            .bind(json)
            .execute(&mut *self.tx)
            .await?;
        self.summary.created += rows.len() as u64;
        Ok(())
    }

    /// SQLite: one multi-row `INSERT … VALUES` per batch (at most [`BATCH`] rows, 11,000
    /// parameters, under SQLite's limit of 32,766), its parameters bound. The statement of a
    /// full batch is the same every time, so it is prepared once and then only bound and
    /// stepped. Unpacking the same rows from a JSON parameter (`json_each` and eight `->>` per
    /// row) took SQLite about twice the CPU time (200,000 rows, measured outside relance).
    async fn insert_items_bound(&mut self, rows: &[&InvoiceRecord]) -> Result<()> {
        let sql = sqlite_insert_items_sql(rows.len());
        let mut query = sqlx::query(&sql);
        for r in rows {
            let customer_id = self.customer_id(&r.customer.code)?;
            let total = r.total.to_minor()?;
            let paid = r.paid.to_minor()?;
            // The open amount is a plain column on SQLite (see migration 0031): written here,
            // so that its trigger has nothing to correct.
            let open = total.checked_sub(paid).ok_or_else(|| {
                StoreError::Corrupt(format!("invoice {}: amount out of range", r.number))
            })?;
            query = query
                .bind(self.creditor.0)
                .bind(self.import_id)
                .bind(customer_id.0)
                .bind(r.kind.as_str())
                .bind(r.number.as_str())
                .bind(r.issue_date.to_string())
                .bind(r.due_date.to_string())
                .bind(r.total.currency.code())
                .bind(total)
                .bind(paid)
                .bind(open);
        }
        query.execute(&mut *self.tx).await?;
        self.summary.created += rows.len() as u64;
        Ok(())
    }

    async fn update_if_changed(
        &mut self,
        r: &InvoiceRecord,
        customer_id: CustomerId,
        old: &ExistingItem,
    ) -> Result<()> {
        let currency = r.total.currency;
        let total = r.total.to_minor()?;
        let paid = r.paid.to_minor()?;
        let issue = r.issue_date.to_string();
        let due = r.due_date.to_string();
        let mut changes = Vec::new();
        if old.customer_id != customer_id {
            changes.push(format!("customer → {}", r.customer.code));
            // The former owner's case loses the invoice: plan it again too.
            self.touched_customers.insert(old.customer_id.0);
            self.changed_customers.insert(old.customer_id.0);
        }
        if old.issue_date != issue {
            changes.push(format!("issue date {} → {}", old.issue_date, issue));
        }
        if old.due_date != due {
            changes.push(format!("due date {} → {}", old.due_date, due));
        }
        if old.currency != currency.code() {
            changes.push(format!("currency {} → {}", old.currency, currency));
        }
        let old_currency = Currency::parse(&old.currency).unwrap_or(currency);
        if old.total_minor != total {
            changes.push(format!(
                "amount {} → {}",
                Money::from_minor(old.total_minor, old_currency).to_plain_string(),
                r.total.to_plain_string()
            ));
        }
        if old.paid_minor != paid {
            changes.push(format!(
                "paid {} → {}",
                Money::from_minor(old.paid_minor, old_currency).to_plain_string(),
                r.paid.to_plain_string()
            ));
        }
        if changes.is_empty() {
            self.summary.unchanged += 1;
            return Ok(());
        }
        self.changed_customers.insert(customer_id.0);
        sqlx::query(
            "UPDATE items SET customer_id = $1, issue_date = $2, due_date = $3, currency = $4, total_minor = $5, \
             paid_outside_minor = $6, import_id = $7, updated_at = $8 WHERE id = $9 AND creditor_id = $10",
        )
        .bind(customer_id.0)
        .bind(issue)
        .bind(due)
        .bind(currency.code().to_string())
        .bind(total)
        .bind(paid)
        .bind(self.import_id)
        .bind(now_text())
        .bind(old.id.0)
        .bind(self.creditor.0)
        .execute(&mut *self.tx)
        .await?;
        let summary = format!("{}: {}", r.number, changes.join("; "));
        append(
            &mut *self.tx,
            &NewEvent {
                creditor: self.creditor,
                customer: Some(customer_id),
                item: Some(old.id),
                kind: "invoice_changed".into(),
                occurred_on: self.today,
                summary: summary.clone(),
                data: serde_json::json!({ "source": self.source, "line": r.line, "changes": changes }),
            },
        )
        .await?;
        self.summary.updated += 1;
        self.summary.changes.push(summary);
        Ok(())
    }

    /// Applies open credit notes and unallocated payments of the customers this import touched.
    async fn apply_credits(&mut self) -> Result<()> {
        if self.touched_customers.is_empty() {
            return Ok(());
        }
        let rows = sqlx::query(
            "SELECT DISTINCT customer_id FROM items WHERE creditor_id = $1 AND kind = 'credit_note' AND open_minor < 0 \
             UNION SELECT DISTINCT customer_id FROM payments WHERE creditor_id = $1 AND unallocated_minor > 0 \
             AND customer_id IS NOT NULL",
        )
        .bind(self.creditor.0)
        .fetch_all(&mut *self.tx)
        .await?;
        for row in rows {
            let id: i64 = row.try_get(0)?;
            if self.touched_customers.contains(&id)
                && settle_customer(&mut self.tx, self.creditor, CustomerId(id), self.today).await?
            {
                self.changed_customers.insert(id);
            }
        }
        Ok(())
    }
}

/// `INSERT INTO items … VALUES` for `rows` rows, eleven anonymous `?` parameters per row.
///
/// Anonymous, not numbered (`?1`, `?3`…): sqlx finds each parameter's place by asking SQLite
/// its name, and SQLite looks a numbered parameter's name up in a list it walks from the start,
/// so binding a 10,000-parameter statement cost 50 million steps (82 % of an import's time in
/// `sqlite3_bind_parameter_name`, 5,000 lines/s); an anonymous parameter has no name to walk to.
fn sqlite_insert_items_sql(rows: usize) -> String {
    let mut sql = String::with_capacity(200 + rows * 24);
    sql.push_str(
        "INSERT INTO items (creditor_id, import_id, customer_id, kind, number, issue_date, due_date, currency, \
         total_minor, paid_outside_minor, open_minor) VALUES ",
    );
    for r in 0..rows {
        if r > 0 {
            sql.push(',');
        }
        sql.push_str("(?,?,?,?,?,?,?,?,?,?,?)");
    }
    sql
}

/// The customer an import creates from what a file says, as [`customer_from_row`] would read
/// it back: the code stands for a missing name, lists go through their stored form.
fn new_customer(f: &CustomerFields) -> CustomerRecord {
    CustomerRecord {
        id: CustomerId(0),
        code: f.code.clone(),
        name: f
            .name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| f.code.clone()),
        kind: f.kind.unwrap_or_default(),
        language: f.language.unwrap_or_default(),
        siren: f.siren.clone(),
        emails: split_list(&join_list(&f.emails)),
        phones: split_list(f.phone.as_deref().unwrap_or_default()),
        address: f.address.clone().unwrap_or_default(),
    }
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Open invoices of a customer, oldest first, as the allocation rule wants them.
pub(crate) async fn open_invoices(
    tx: &mut Transaction<'static, Any>,
    creditor: CreditorId,
    customer: CustomerId,
) -> Result<Vec<OpenInvoice>> {
    let rows = sqlx::query(
        "SELECT id, number, issue_date, due_date, currency, open_minor FROM items \
         WHERE +creditor_id = $1 AND customer_id = $2 AND kind = 'invoice' AND open_minor > 0 \
         ORDER BY due_date, issue_date, number",
    )
    .bind(creditor.0)
    .bind(customer.0)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(open_invoice_from_row).collect()
}

/// An open invoice from a row with `id, number, issue_date, due_date, currency, open_minor`.
pub(crate) fn open_invoice_from_row(row: &sqlx::any::AnyRow) -> Result<OpenInvoice> {
    let currency = Currency::parse(&row.try_get::<String, _>("currency")?)?;
    Ok(OpenInvoice {
        id: ItemId(row.try_get("id")?),
        number: row.try_get("number")?,
        issue_date: parse_date(&row.try_get::<String, _>("issue_date")?)?,
        due_date: parse_date(&row.try_get::<String, _>("due_date")?)?,
        open: Money::from_minor(row.try_get("open_minor")?, currency),
    })
}

pub(crate) fn parse_date(text: &str) -> Result<NaiveDate> {
    // Stored dates are always `YYYY-MM-DD`: read the digits directly (a full run reads millions
    // of dates, and chrono's format-driven parser showed in its profile); anything else goes
    // through chrono, which names the problem.
    if let [y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2] = text.as_bytes() {
        let digits = [*y1, *y2, *y3, *y4, *m1, *m2, *d1, *d2];
        if digits.iter().all(u8::is_ascii_digit) {
            let n = |range: std::ops::Range<usize>| {
                digits[range]
                    .iter()
                    .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
            };
            let year = i32::try_from(n(0..4)).unwrap_or(0);
            if let Some(date) = NaiveDate::from_ymd_opt(year, n(4..6), n(6..8)) {
                return Ok(date);
            }
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| StoreError::Corrupt(format!("bad stored date {text}")))
}

/// Uses a customer's credits (open credit notes, then unallocated payments, oldest first) to
/// settle their open invoices, oldest first. This is the automatic lettrage of credit notes.
/// Returns whether anything was settled.
pub(crate) async fn settle_customer(
    tx: &mut Transaction<'static, Any>,
    creditor: CreditorId,
    customer: CustomerId,
    today: NaiveDate,
) -> Result<bool> {
    let mut settled_any = false;
    let credit_notes = sqlx::query(
        "SELECT id, number, currency, open_minor FROM items WHERE +creditor_id = $1 AND customer_id = $2 \
         AND kind = 'credit_note' AND open_minor < 0 ORDER BY issue_date, number",
    )
    .bind(creditor.0)
    .bind(customer.0)
    .fetch_all(&mut **tx)
    .await?;
    for row in credit_notes {
        let id: i64 = row.try_get("id")?;
        let number: String = row.try_get("number")?;
        let currency = Currency::parse(&row.try_get::<String, _>("currency")?)?;
        let credit = Money::from_minor(-row.try_get::<i64, _>("open_minor")?, currency);
        let open = open_invoices(tx, creditor, customer).await?;
        let plan = allocate(credit, None, &open);
        let mut used = 0i64;
        for (item, amount) in &plan.allocations {
            let minor = amount.to_minor()?;
            used += minor;
            write_allocation(tx, creditor, *item, None, Some(ItemId(id)), minor, today).await?;
        }
        if used > 0 {
            settled_any = true;
            sqlx::query("UPDATE items SET allocated_minor = allocated_minor - $1 WHERE id = $2 AND creditor_id = $3")
                .bind(used)
                .bind(id)
                .bind(creditor.0)
                .execute(&mut **tx)
                .await?;
            let names: Vec<String> = plan
                .allocations
                .iter()
                .filter_map(|(i, _)| open.iter().find(|o| o.id == *i).map(|o| o.number.clone()))
                .collect();
            append(
                &mut **tx,
                &NewEvent {
                    creditor,
                    customer: Some(customer),
                    item: Some(ItemId(id)),
                    kind: "credit_note_applied".into(),
                    occurred_on: today,
                    summary: format!(
                        "credit note {number} of {} applied to {}",
                        Money::from_minor(used, currency).to_plain_string(),
                        names.join(", ")
                    ),
                    data: serde_json::json!({ "invoices": names }),
                },
            )
            .await?;
        }
    }
    let payments = sqlx::query(
        "SELECT id, currency, unallocated_minor FROM payments WHERE creditor_id = $1 AND customer_id = $2 \
         AND unallocated_minor > 0 ORDER BY received_on, id",
    )
    .bind(creditor.0)
    .bind(customer.0)
    .fetch_all(&mut **tx)
    .await?;
    for row in payments {
        let id: i64 = row.try_get("id")?;
        let currency = Currency::parse(&row.try_get::<String, _>("currency")?)?;
        let credit = Money::from_minor(row.try_get("unallocated_minor")?, currency);
        let open = open_invoices(tx, creditor, customer).await?;
        let plan = allocate(credit, None, &open);
        let mut used = 0i64;
        for (item, amount) in &plan.allocations {
            let minor = amount.to_minor()?;
            used += minor;
            write_allocation(tx, creditor, *item, Some(id), None, minor, today).await?;
        }
        if used > 0 {
            settled_any = true;
            sqlx::query("UPDATE payments SET unallocated_minor = unallocated_minor - $1 WHERE id = $2 AND creditor_id = $3")
                .bind(used)
                .bind(id)
                .bind(creditor.0)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(settled_any)
}

/// Records one allocation and raises the item's allocated amount in the same transaction.
pub(crate) async fn write_allocation(
    tx: &mut Transaction<'static, Any>,
    creditor: CreditorId,
    item: ItemId,
    payment: Option<i64>,
    credit_note: Option<ItemId>,
    minor: i64,
    on: NaiveDate,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO allocations (creditor_id, item_id, payment_id, credit_note_id, amount_minor, allocated_on, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(creditor.0)
    .bind(item.0)
    .bind(payment)
    .bind(credit_note.map(|c| c.0))
    .bind(minor)
    .bind(on.to_string())
    .bind(now_text())
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE items SET allocated_minor = allocated_minor + $1 WHERE id = $2 AND creditor_id = $3")
        .bind(minor)
        .bind(item.0)
        .bind(creditor.0)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The digit-reading path gives what chrono gives, and refuses what chrono refuses.
    #[test]
    fn stored_dates_read_like_chrono_reads_them() {
        for text in [
            "2026-11-26",
            "2024-02-29",
            "0001-01-01",
            "9999-12-31",
            "2026-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-04-31",
            "2026-4-01",
            "2026/04/01",
            "20260401",
            "2026-04-0a",
            "",
        ] {
            let chrono = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
            assert_eq!(parse_date(text).ok(), chrono, "{text:?}");
        }
    }
}
