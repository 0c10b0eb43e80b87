//! Which customers the follow-up run looks at for dormancy, and what it remembers afterwards
//! (migration 0032).
//!
//! A full look reads the first and last invoice dates of every customer (one `GROUP BY` over
//! the ledger's invoices: about 0.6 s at a million invoices). A daily run need not: whether a
//! customer is due a reactivation message only changes when a date comes (the day they turn
//! dormant, the issue date of an invoice dated ahead) or when their case changes (an invoice,
//! a payment, a dispute resolved: each has the planner write the case again). So the planning
//! run lists the customers whose case it wrote (`dormancy_pending`), each case keeps the next
//! day it must be looked at (`cases.dormancy_check_on`), and a daily look reads those customers'
//! invoices only. The first run, a run with another number of months, and `relance run --full`
//! look at everyone, and the tests check that both looks decide the same.

use std::collections::HashMap;

use chrono::NaiveDate;
use relance_core::ids::CreditorId;
use relance_core::planner::followup::dormancy_next_check;
use sqlx::{Any, Transaction};

use crate::cases::RunOptions;
use crate::db::{json_rows, param, placeholder_list, value_rows, Backend, JsonBind};
use crate::error::Result;
use crate::imports::parse_date;

type Tx<'c> = Transaction<'c, Any>;

/// Customers per `IN (…)` list.
const BATCH: usize = 1000;

/// A customer's invoices as a dormancy look reads them.
pub(crate) struct Activity {
    pub customer: i64,
    /// First and last issue dates and count of the invoices issued up to the run's day.
    pub invoices: Option<(NaiveDate, NaiveDate, u64)>,
    /// The first issue date after the run's day (an invoice dated ahead).
    pub next_issue: Option<NaiveDate>,
    /// The case's `dormancy_check_on` as the look found it.
    pub check_on: Option<String>,
}

/// What a look read, and how.
pub(crate) struct Look {
    pub activities: Vec<Activity>,
    /// Everyone was looked at (first run, other months, `--full`).
    pub everyone: bool,
    /// The `dormancy_pending` rows read, to clear once handled.
    pending: Vec<i64>,
}

/// An aggregate row: customer, first, last, count.
type DatesRow = (i64, String, String, i64);

/// A customer's invoice dates as the incremental look reads them: customer id, first and last
/// issue dates up to the day, how many, and the first issue date after it.
type InvoiceDatesRow = (i64, Option<String>, Option<String>, i64, Option<String>);

/// Reads the customers to look at on `options.as_of` with `months` of silence. A dry run of
/// everyone only needs the customers silent for `months` already (`cutoff`), as before the
/// incremental look: it writes nothing, so the others' next check dates do not matter.
pub(crate) async fn look(
    tx: &mut Tx<'_>,
    backend: Backend,
    creditor: CreditorId,
    options: RunOptions,
    months: u32,
    cutoff: NaiveDate,
) -> Result<Look> {
    let as_of = options.as_of.to_string();
    let watched: Option<i64> =
        sqlx::query_scalar("SELECT months FROM dormancy_watch WHERE creditor_id = $1")
            .bind(creditor.0)
            .fetch_optional(&mut **tx)
            .await?;
    let everyone = options.full || watched != Some(i64::from(months));
    if everyone {
        let dates: Vec<DatesRow> = if options.dry_run {
            json_rows(
                &mut **tx,
                backend,
                "SELECT customer_id, MIN(issue_date) AS first, MAX(issue_date) AS last, COUNT(*) AS n \
                 FROM items WHERE creditor_id = $1 AND kind = 'invoice' AND issue_date <= $2 \
                 GROUP BY customer_id HAVING MAX(issue_date) <= $3",
                "customer_id, first, last, n",
                &[
                    JsonBind::Int(creditor.0),
                    JsonBind::Text(&as_of),
                    JsonBind::Text(&cutoff.to_string()),
                ],
            )
            .await?
        } else {
            json_rows(
                &mut **tx,
                backend,
                "SELECT customer_id, MIN(issue_date) AS first, MAX(issue_date) AS last, COUNT(*) AS n \
                 FROM items WHERE creditor_id = $1 AND kind = 'invoice' AND issue_date <= $2 \
                 GROUP BY customer_id",
                "customer_id, first, last, n",
                &[JsonBind::Int(creditor.0), JsonBind::Text(&as_of)],
            )
            .await?
        };
        let (ahead, checks) = if options.dry_run {
            (Vec::new(), Vec::new())
        } else {
            let ahead: Vec<(i64, String)> = json_rows(
                &mut **tx,
                backend,
                "SELECT customer_id, MIN(issue_date) AS next FROM items WHERE creditor_id = $1 \
                 AND kind = 'invoice' AND issue_date > $2 GROUP BY customer_id",
                "customer_id, next",
                &[JsonBind::Int(creditor.0), JsonBind::Text(&as_of)],
            )
            .await?;
            let checks: Vec<(i64, String)> = json_rows(
                &mut **tx,
                backend,
                "SELECT customer_id, dormancy_check_on FROM cases WHERE creditor_id = $1 \
                 AND dormancy_check_on IS NOT NULL",
                "customer_id, dormancy_check_on",
                &[JsonBind::Int(creditor.0)],
            )
            .await?;
            (ahead, checks)
        };
        let mut customers: Vec<i64> = dates.iter().map(|r| r.0).collect();
        customers.extend(ahead.iter().map(|r| r.0));
        customers.extend(checks.iter().map(|r| r.0));
        return Ok(Look {
            activities: assemble(customers, dates, ahead, checks)?,
            everyone: true,
            pending: Vec::new(),
        });
    }

    // The customers whose case the planner wrote since the last look, and those whose day came.
    // Read as JSON aggregates (`json_rows`): a daily run's thousands of ids, one row each,
    // would cost a hand-over between threads per row.
    let ids_of = |rows: Vec<(i64,)>| rows.into_iter().map(|(id,)| id).collect::<Vec<i64>>();
    let pending: Vec<i64> = ids_of(
        json_rows(
            &mut **tx,
            backend,
            "SELECT customer_id FROM dormancy_pending WHERE creditor_id = $1",
            "customer_id",
            &[JsonBind::Int(creditor.0)],
        )
        .await?,
    );
    let mut customers = pending.clone();
    customers.extend(ids_of(
        json_rows(
            &mut **tx,
            backend,
            "SELECT customer_id FROM cases WHERE creditor_id = $1 AND dormancy_check_on <= $2",
            "customer_id",
            &[JsonBind::Int(creditor.0), JsonBind::Text(&as_of)],
        )
        .await?,
    ));
    if options.dry_run {
        // The planning half of a dry run wrote no `dormancy_pending` rows: the cases it
        // planned are those due.
        customers.extend(ids_of(
            json_rows(
                &mut **tx,
                backend,
                "SELECT customer_id FROM cases WHERE creditor_id = $1 AND next_action_on <= $2",
                "customer_id",
                &[JsonBind::Int(creditor.0), JsonBind::Text(&as_of)],
            )
            .await?,
        ));
    }
    customers.sort_unstable();
    customers.dedup();
    let (mut dates, mut ahead, mut checks) = (Vec::new(), Vec::new(), Vec::new());
    for part in customers.chunks(BATCH) {
        // One pass over each customer's invoice dates (`items_invoice_dates`) gives both the
        // dates up to today and the first one ahead of it.
        let mut binds = vec![JsonBind::Text(&as_of), JsonBind::Int(creditor.0)];
        binds.extend(part.iter().map(|id| JsonBind::Int(*id)));
        let rows: Vec<InvoiceDatesRow> = json_rows(
            &mut **tx,
            backend,
            &format!(
                "SELECT i.customer_id, \
                 MIN(CASE WHEN i.issue_date <= d.day THEN i.issue_date END) AS first, \
                 MAX(CASE WHEN i.issue_date <= d.day THEN i.issue_date END) AS last, \
                 COUNT(CASE WHEN i.issue_date <= d.day THEN 1 END) AS n, \
                 MIN(CASE WHEN i.issue_date > d.day THEN i.issue_date END) AS next \
                 FROM (SELECT {} AS day) d CROSS JOIN items i \
                 WHERE i.creditor_id = {} AND i.kind = 'invoice' AND i.customer_id IN ({}) \
                 GROUP BY i.customer_id",
                text_param(backend, 1),
                param(backend, 2),
                placeholder_list(backend, 3, part.len())
            ),
            "customer_id, first, last, n, next",
            &binds,
        )
        .await?;
        for (customer, first, last, n, next) in rows {
            if let (Some(first), Some(last)) = (first, last) {
                dates.push((customer, first, last, n));
            }
            if let Some(next) = next {
                ahead.push((customer, next));
            }
        }
        let first = param(backend, 1);
        let mut case_binds = vec![JsonBind::Int(creditor.0)];
        case_binds.extend(part.iter().map(|id| JsonBind::Int(*id)));
        // No `dormancy_check_on IS NOT NULL` here: SQLite would then walk the dates' index
        // (every dated case of the creditor, for each batch) instead of the case key.
        let dated: Vec<(i64, Option<String>)> = json_rows(
            &mut **tx,
            backend,
            &format!(
                "SELECT customer_id, dormancy_check_on FROM cases WHERE creditor_id = {first} \
                 AND customer_id IN ({})",
                placeholder_list(backend, 2, part.len())
            ),
            "customer_id, dormancy_check_on",
            &case_binds,
        )
        .await?;
        checks.extend(
            dated
                .into_iter()
                .filter_map(|(customer, day)| day.map(|day| (customer, day))),
        );
    }
    Ok(Look {
        activities: assemble(customers, dates, ahead, checks)?,
        everyone: false,
        pending,
    })
}

/// The `n`th parameter as text (PostgreSQL cannot tell a bare parameter's type in a select list).
fn text_param(backend: Backend, n: usize) -> String {
    match backend {
        Backend::Sqlite => param(backend, n),
        Backend::Postgres => format!("CAST(${n} AS TEXT)"),
    }
}

/// One [`Activity`] per customer named, from the three reads.
fn assemble(
    mut customers: Vec<i64>,
    dates: Vec<DatesRow>,
    ahead: Vec<(i64, String)>,
    checks: Vec<(i64, String)>,
) -> Result<Vec<Activity>> {
    customers.sort_unstable();
    customers.dedup();
    let mut dates: HashMap<i64, (NaiveDate, NaiveDate, u64)> = dates
        .into_iter()
        .map(|(customer, first, last, n)| {
            Ok((
                customer,
                (
                    parse_date(&first)?,
                    parse_date(&last)?,
                    u64::try_from(n).unwrap_or(0),
                ),
            ))
        })
        .collect::<Result<_>>()?;
    let mut ahead: HashMap<i64, NaiveDate> = ahead
        .into_iter()
        .map(|(customer, next)| Ok((customer, parse_date(&next)?)))
        .collect::<Result<_>>()?;
    let mut checks: HashMap<i64, String> = checks.into_iter().collect();
    Ok(customers
        .into_iter()
        .map(|customer| Activity {
            customer,
            invoices: dates.remove(&customer),
            next_issue: ahead.remove(&customer),
            check_on: checks.remove(&customer),
        })
        .collect())
}

/// After a real run's look: stores each customer's next check day where it changed, clears
/// the pending customers handled and notes the look's months and day.
pub(crate) async fn remember(
    tx: &mut Tx<'_>,
    backend: Backend,
    creditor: CreditorId,
    as_of: NaiveDate,
    months: u32,
    look: &Look,
) -> Result<()> {
    let mut changed: Vec<(i64, Option<String>)> = Vec::new();
    for activity in &look.activities {
        let next = dormancy_next_check(activity.invoices, activity.next_issue, months, as_of)
            .map(|day| day.to_string());
        if next != activity.check_on {
            changed.push((activity.customer, next));
        }
    }
    let now = crate::db::now_text();
    for part in changed.chunks(BATCH) {
        // An upsert on the case key writes a different date to each row in one statement;
        // every customer with invoices has a case row already.
        let sql = format!(
            "INSERT INTO cases (creditor_id, customer_id, dormancy_check_on, updated_at) VALUES {} \
             ON CONFLICT (creditor_id, customer_id) DO UPDATE SET dormancy_check_on = excluded.dormancy_check_on",
            value_rows(backend, part.len(), 4)
        );
        let mut query = sqlx::query(&sql);
        for (customer, next) in part {
            query = query
                .bind(creditor.0)
                .bind(*customer)
                .bind(next.clone())
                .bind(now.as_str());
        }
        query.execute(&mut **tx).await?;
    }
    if look.everyone {
        sqlx::query("DELETE FROM dormancy_pending WHERE creditor_id = $1")
            .bind(creditor.0)
            .execute(&mut **tx)
            .await?;
    } else {
        for part in look.pending.chunks(BATCH) {
            let sql = format!(
                "DELETE FROM dormancy_pending WHERE creditor_id = {} AND customer_id IN ({})",
                param(backend, 1),
                placeholder_list(backend, 2, part.len())
            );
            let mut query = sqlx::query(&sql).bind(creditor.0);
            for id in part {
                query = query.bind(*id);
            }
            query.execute(&mut **tx).await?;
        }
    }
    sqlx::query(
        "INSERT INTO dormancy_watch (creditor_id, months, checked_on) VALUES ($1, $2, $3) \
         ON CONFLICT (creditor_id) DO UPDATE SET months = excluded.months, checked_on = excluded.checked_on",
    )
    .bind(creditor.0)
    .bind(i64::from(months))
    .bind(as_of.to_string())
    .execute(&mut **tx)
    .await?;
    tracing::debug!(
        looked_at = look.activities.len(),
        everyone = look.everyone,
        dates_changed = changed.len(),
        "dormancy look remembered"
    );
    Ok(())
}
