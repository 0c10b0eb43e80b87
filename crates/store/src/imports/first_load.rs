//! The first load of a ledger on SQLite: each batch is written while the next one is built.
//!
//! A first import into an empty ledger is nothing but inserts: no invoice can exist to compare
//! with, and every customer the file names is either new or already read into memory. The
//! general path still built a batch (looked its customers up, bound its values), then waited
//! for SQLite to write it, then built the next: SQLite's thread sat idle while the builder
//! worked and the other way round (about 3.5 s of building and 5.5 s of writing for a million
//! lines, one after the other).
//!
//! Here a batch becomes **one statement**: its new customers, unpacked by SQLite from a single
//! JSON parameter (so the statement's text is the same for every full batch and is prepared
//! once), then its invoices as a multi-row `VALUES` with their parameters bound. The import
//! hands that statement to SQLite's thread and builds the next batch meanwhile. Customer ids
//! are given here, following the table's own sequence, instead of being read back from an
//! `INSERT … RETURNING`: the import holds the database's write lock from its first statement,
//! so no other writer can take an id in between. For the same reason (every customer, creditor
//! and import an invoice points at was just written or read by the import) the load runs on a
//! connection that does not check foreign keys (`Store::first_load_pool`).
//!
//! PostgreSQL keeps the general path (its inserts go through one JSON parameter already, and
//! its sequences are shared with concurrent sessions).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use sqlx::any::AnyArguments;
use sqlx::{Any, Arguments, Transaction};

use super::{new_customer, ImportSummary, InvoiceRecord};
use crate::customers::{join_list, CustomerRecord};
use crate::error::{Result, StoreError};
use relance_core::ids::CustomerId;

/// A statement ready to run: its text and its bound values.
pub(super) struct Statement {
    sql: Arc<str>,
    args: AnyArguments<'static>,
}

impl Statement {
    /// Runs the statement in `tx`.
    pub(super) async fn run(self, tx: &mut Transaction<'static, Any>) -> Result<()> {
        sqlx::query_with(&self.sql, self.args)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

/// A customer the file describes differently from what is stored (or from an earlier line of
/// the same file): updated, with its timeline entry, once the batch's statement has run.
pub(super) struct CustomerUpdate {
    pub next: CustomerRecord,
    pub changes: Vec<String>,
    pub line: u64,
}

/// The state of a first load: the ids it gives and the statement waiting to run.
pub(super) struct FirstLoad {
    creditor: i64,
    import_id: i64,
    next_customer_id: i64,
    /// The statement of the batch built last, run while the next one is built.
    pub(super) pending: Option<Statement>,
    /// The text of a full batch's statement (the same every time), kept to be reused.
    full_batch_sql: Option<(usize, Arc<str>)>,
    customers_sql: String,
}

impl FirstLoad {
    /// `next_customer_id` is the first id the customers table would give (above its sequence
    /// and its largest id); `now` stamps the customers created.
    pub(super) fn new(creditor: i64, import_id: i64, next_customer_id: i64, now: &str) -> Self {
        // `now` is this process's own RFC 3339 timestamp (digits, '-', ':', '.', 'T', 'Z'):
        // written into the statement as a literal, with quotes doubled all the same.
        let now = now.replace('\'', "''");
        let customers_sql = format!(
            "INSERT INTO customers (id, creditor_id, code, name, kind, language, siren, emails, phones, \
             address, created_at, updated_at) \
             SELECT value ->> 0, {creditor}, value ->> 1, value ->> 2, value ->> 3, value ->> 4, \
             value ->> 5, value ->> 6, value ->> 7, value ->> 8, '{now}', '{now}' FROM json_each(?);"
        );
        FirstLoad {
            creditor,
            import_id,
            next_customer_id,
            pending: None,
            full_batch_sql: None,
            customers_sql,
        }
    }

    /// Builds the statement that writes `batch` (emptied). New customers get their ids and
    /// enter `customers`; those whose details changed come back to be updated after the
    /// statement. `customer_sets` are the import's changed and touched customers.
    pub(super) fn build(
        &mut self,
        batch: &mut Vec<InvoiceRecord>,
        customers: &mut HashMap<String, CustomerRecord>,
        summary: &mut ImportSummary,
        customer_sets: [&mut HashSet<i64>; 2],
    ) -> Result<(Statement, Vec<CustomerUpdate>)> {
        let [changed_customers, touched_customers] = customer_sets;
        let mut updates = Vec::new();
        let mut new_customers = Vec::with_capacity(256);
        new_customers.push(b'[');
        let mut args = AnyArguments::default();
        args.reserve(1 + batch.len() * 9, 0);
        let rows = batch.len();
        for record in batch.iter() {
            let fields = &record.customer;
            match customers.get(&fields.code) {
                None => {
                    let mut created = new_customer(fields);
                    created.id = CustomerId(self.next_customer_id);
                    self.next_customer_id += 1;
                    if new_customers.len() > 1 {
                        new_customers.push(b',');
                    }
                    serde_json::to_writer(
                        &mut new_customers,
                        &(
                            created.id.0,
                            &created.code,
                            &created.name,
                            created.kind.as_str(),
                            created.language.as_str(),
                            &created.siren,
                            join_list(&fields.emails),
                            fields.phone.as_deref().unwrap_or_default(),
                            &created.address,
                        ),
                    )
                    .map_err(|e| StoreError::Corrupt(format!("customer {}: {e}", fields.code)))?;
                    summary.customers_created += 1;
                    customers.insert(created.code.clone(), created);
                }
                Some(existing) if existing.differs_from(fields) => {
                    let (next, changes) = existing.merged_with(fields);
                    if !changes.is_empty() {
                        customers.insert(next.code.clone(), next.clone());
                        updates.push(CustomerUpdate {
                            next,
                            changes,
                            line: record.line,
                        });
                    }
                }
                Some(_) => {}
            }
        }
        new_customers.push(b']');
        let new_customers = String::from_utf8(new_customers)
            .map_err(|e| StoreError::Corrupt(format!("customers of a batch: {e}")))?;
        add(&mut args, new_customers)?;
        for record in batch.drain(..) {
            let customer = customers
                .get(&record.customer.code)
                .map(|c| c.id.0)
                .ok_or_else(|| StoreError::UnknownCustomer(record.customer.code.clone()))?;
            // Every invoice is new: its customer's case is planned at the next run, and its
            // credits are applied at the commit.
            changed_customers.insert(customer);
            touched_customers.insert(customer);
            let total = record.total.to_minor()?;
            let paid = record.paid.to_minor()?;
            // The open amount is a plain column on SQLite (migration 0031), written here.
            let open = total.checked_sub(paid).ok_or_else(|| {
                StoreError::Corrupt(format!("invoice {}: amount out of range", record.number))
            })?;
            add(&mut args, customer)?;
            add(&mut args, record.kind.as_str())?;
            add(&mut args, record.number)?;
            add(&mut args, iso_date(record.issue_date))?;
            add(&mut args, iso_date(record.due_date))?;
            add(&mut args, record.total.currency.code().to_owned())?;
            add(&mut args, total)?;
            add(&mut args, paid)?;
            add(&mut args, open)?;
        }
        summary.rows += rows as u64;
        summary.created += rows as u64;
        let sql = match &self.full_batch_sql {
            Some((size, sql)) if *size == rows => Arc::clone(sql),
            _ => {
                let sql: Arc<str> = self.batch_sql(rows).into();
                self.full_batch_sql = Some((rows, Arc::clone(&sql)));
                sql
            }
        };
        Ok((Statement { sql, args }, updates))
    }

    /// The statement for a batch of `rows` invoices: its new customers, then its invoices, the
    /// creditor and the import written in as numbers (nine parameters a row rather than eleven).
    fn batch_sql(&self, rows: usize) -> String {
        let row = format!("({},{},?,?,?,?,?,?,?,?,?)", self.creditor, self.import_id);
        let mut sql =
            String::with_capacity(self.customers_sql.len() + 200 + rows * (row.len() + 1));
        sql.push_str(&self.customers_sql);
        sql.push_str(
            " INSERT INTO items (creditor_id, import_id, customer_id, kind, number, issue_date, due_date, \
             currency, total_minor, paid_outside_minor, open_minor) VALUES ",
        );
        for r in 0..rows {
            if r > 0 {
                sql.push(',');
            }
            sql.push_str(&row);
        }
        sql
    }
}

fn add<T>(args: &mut AnyArguments<'static>, value: T) -> Result<()>
where
    T: 'static + sqlx::Encode<'static, Any> + sqlx::Type<Any>,
{
    args.add(value)
        .map_err(|e| StoreError::Corrupt(format!("value of an import batch: {e}")))
}

/// `YYYY-MM-DD`, as dates are stored, written digit by digit: chrono's `to_string` goes
/// through its format machinery, which showed in the import's profile at two dates a line.
pub(super) fn iso_date(date: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    let year = date.year();
    if !(0..=9999).contains(&year) {
        return date.to_string();
    }
    let (year, month, day) = (year as u32, date.month(), date.day());
    let digit = |n: u32| char::from(b'0' + (n % 10) as u8);
    let mut text = String::with_capacity(10);
    for n in [year / 1000, year / 100, year / 10, year] {
        text.push(digit(n));
    }
    text.push('-');
    text.push(digit(month / 10));
    text.push(digit(month));
    text.push('-');
    text.push(digit(day / 10));
    text.push(digit(day));
    text
}

#[cfg(test)]
mod tests {
    use super::iso_date;
    use chrono::NaiveDate;

    #[test]
    fn dates_are_written_as_chrono_writes_them() {
        let mut date = NaiveDate::from_ymd_opt(1999, 12, 25).unwrap_or_default();
        for _ in 0..12_000 {
            assert_eq!(iso_date(date), date.to_string());
            date = date.succ_opt().unwrap_or(date);
        }
        let far = NaiveDate::from_ymd_opt(12_345, 1, 2).unwrap_or_default();
        assert_eq!(iso_date(far), far.to_string());
    }
}
