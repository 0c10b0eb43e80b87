//! The cash view's read models (issue 9): payment histories for scoring and the forecast, the
//! open invoices to forecast, monthly flows for the DSO and the steps' outcomes. Each is a
//! handful of set-based statements (`GROUP BY` over the creditor), never one per customer; the
//! rules themselves are the core's (`scoring`, `forecast`, `dso`, `effectiveness`).

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, Days, NaiveDate};
use relance_core::dso::Month;
use relance_core::effectiveness::StepOutcome;
use relance_core::experiment::ArmOutcome;
use relance_core::forecast::{self, DelayStats, OpenInvoice, Prediction};
use relance_core::ids::CreditorId;
use relance_core::money::{Currency, Money};
use relance_core::planner::Variant;
use relance_core::scoring::{score, Grade, PaymentHistory, RECENT_DAYS};
use rust_decimal::Decimal;
use sqlx::Row;

use crate::db::{Backend, JsonBind};
use crate::error::{Result, StoreError};
use crate::Store;

/// `later − earlier` in days for two ISO date expressions, on either engine.
pub(crate) fn days_between(backend: Backend, later: &str, earlier: &str) -> String {
    match backend {
        Backend::Sqlite => format!("CAST(julianday({later}) - julianday({earlier}) AS BIGINT)"),
        Backend::Postgres => {
            format!("CAST(CAST({later} AS DATE) - CAST({earlier} AS DATE) AS BIGINT)")
        }
    }
}

/// [`crate::db::json_rows`] on the store's pool.
async fn json_rows<T: serde::de::DeserializeOwned>(
    store: &Store,
    inner: &str,
    columns: &str,
    binds: &[JsonBind<'_>],
) -> Result<Vec<T>> {
    crate::db::json_rows(&store.pool, store.backend(), inner, columns, binds).await
}

fn date(text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|e| StoreError::Corrupt(format!("date \"{text}\": {e}")))
}

fn back(as_of: NaiveDate, days: u64) -> String {
    as_of
        .checked_sub_days(Days::new(days))
        .unwrap_or(as_of)
        .to_string()
}

/// A customer with what its payments say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerCash {
    pub id: i64,
    pub code: String,
    pub name: String,
    /// The first tag, if any: the customer's segment.
    pub segment: Option<String>,
    pub grade: Option<Grade>,
    pub history: PaymentHistory,
    /// Signed delays of the paid invoices (payment − due date).
    pub delays: DelayStats,
}

/// An open invoice as the forecast sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForecastItem {
    pub customer_id: i64,
    pub number: String,
    pub due: NaiveDate,
    pub open: Money,
    /// The latest promise to pay made for it, when its date is `as_of` or later.
    pub promised_for: Option<NaiveDate>,
    pub disputed: bool,
}

/// One customer's aged balance in one currency, in minor units (`Store::aging_by_customer`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerAging {
    pub customer_id: i64,
    pub currency: Currency,
    pub buckets: [i64; 5],
}

/// A customer's billing and collections of one month (amounts in minor units).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthFlow {
    pub customer_id: i64,
    pub currency: Currency,
    /// `YYYY-MM`.
    pub month: String,
    /// Invoices issued in the month (their totals).
    pub sales_minor: i64,
    /// Of those, what was paid outside relance (no date known: counted as never owed).
    pub paid_outside_minor: i64,
    /// Allocations to invoices (payments, credit notes) dated in the month.
    pub collected_minor: i64,
}

impl Store {
    /// Every customer of the creditor with its payment history on `as_of`: paid invoices
    /// (fully settled, the last allocation on or before `as_of` being the payment date), open
    /// balance and overdue share, promises kept and broken, disputes of the last 12 months.
    #[tracing::instrument(skip(self))]
    pub async fn payer_histories(
        &self,
        creditor: CreditorId,
        as_of: NaiveDate,
    ) -> Result<Vec<CustomerCash>> {
        let backend = self.backend();
        let as_of_text = as_of.to_string();
        type CustomerRow = (i64, String, String, String, Option<String>);
        let mut customers: Vec<CustomerRow> = json_rows(
            self,
            "SELECT id, code, name, tags, grade FROM customers WHERE creditor_id = $1 \
             AND code NOT LIKE 'supplier:%'",
            "id, code, name, tags, grade",
            &[JsonBind::Int(creditor.0)],
        )
        .await?;
        customers.sort_unstable_by(|a, b| a.1.cmp(&b.1));
        let mut out: Vec<CustomerCash> = Vec::with_capacity(customers.len());
        let mut index: HashMap<i64, usize> = HashMap::with_capacity(customers.len());
        for (id, code, name, tags, grade) in customers {
            index.insert(id, out.len());
            out.push(CustomerCash {
                id,
                code,
                name,
                segment: crate::customers::split_list(&tags).into_iter().next(),
                grade: grade.as_deref().and_then(Grade::parse),
                history: PaymentHistory::default(),
                delays: DelayStats::default(),
            });
        }

        // Paid invoices: one row per customer with the sums scoring and the forecast need.
        let delay = days_between(backend, "MAX(a.allocated_on)", "i.due_date");
        let sql = format!(
            "SELECT p.customer_id, CAST(COUNT(*) AS BIGINT) AS n, CAST(SUM(p.d) AS BIGINT) AS s, \
             CAST(SUM(p.d * p.d) AS BIGINT) AS s2, \
             CAST(SUM(CASE WHEN p.d > 0 THEN p.d ELSE 0 END) AS BIGINT) AS late, \
             CAST(MAX(CASE WHEN p.d > 0 THEN p.d ELSE 0 END) AS BIGINT) AS worst, \
             CAST(SUM(CASE WHEN p.due_date > $3 THEN 1 ELSE 0 END) AS BIGINT) AS rn, \
             CAST(SUM(CASE WHEN p.due_date > $3 AND p.d > 0 THEN p.d ELSE 0 END) AS BIGINT) AS rlate \
             FROM (SELECT i.customer_id, i.due_date, {delay} AS d FROM items i \
                   JOIN allocations a ON a.item_id = i.id \
                   WHERE i.creditor_id = $1 AND i.kind = 'invoice' AND i.open_minor <= 0 AND i.total_minor > 0 \
                   GROUP BY i.id, i.customer_id, i.due_date HAVING MAX(a.allocated_on) <= $2) p \
             GROUP BY p.customer_id"
        );
        let recent = back(as_of, RECENT_DAYS);
        /// Customer, paid count, sum and sum of squares of delays, late days, worst, recent
        /// count and recent late days.
        type PaidRow = (i64, i64, i64, i64, i64, i64, i64, i64);
        let rows: Vec<PaidRow> = json_rows(
            self,
            &sql,
            "customer_id, n, s, s2, late, worst, rn, rlate",
            &[
                JsonBind::Int(creditor.0),
                JsonBind::Text(&as_of_text),
                JsonBind::Text(&recent),
            ],
        )
        .await?;
        for (customer, n, sum, sum_squares, late, worst, recent_n, recent_late) in rows {
            let Some(&i) = index.get(&customer) else {
                continue;
            };
            let c = &mut out[i];
            let count = u32::try_from(n).unwrap_or(u32::MAX);
            c.delays = DelayStats {
                count,
                sum,
                sum_squares,
            };
            c.history.paid = count;
            c.history.late_days = late;
            c.history.worst_late = worst;
            c.history.recent_paid = u32::try_from(recent_n).unwrap_or(0);
            c.history.recent_late_days = recent_late;
        }

        // Open balance, its overdue part and the oldest overdue due date.
        let rows: Vec<(i64, i64, i64, String)> = json_rows(
            self,
            "SELECT customer_id, CAST(SUM(open_minor) AS BIGINT) AS open_minor, \
             CAST(SUM(CASE WHEN due_date < $2 THEN open_minor ELSE 0 END) AS BIGINT) AS overdue, \
             MIN(due_date) AS oldest FROM items \
             WHERE creditor_id = $1 AND kind = 'invoice' AND open_minor > 0 GROUP BY customer_id",
            "customer_id, open_minor, overdue, oldest",
            &[JsonBind::Int(creditor.0), JsonBind::Text(&as_of_text)],
        )
        .await?;
        for (customer, open_minor, overdue, oldest) in rows {
            let Some(&i) = index.get(&customer) else {
                continue;
            };
            let h = &mut out[i].history;
            h.open_minor = open_minor;
            h.overdue_minor = overdue;
            let oldest = date(&oldest)?;
            if oldest < as_of {
                h.oldest_overdue_days = (as_of - oldest).num_days();
            }
        }

        // Disputes opened in the last 12 months.
        let rows = sqlx::query(
            "SELECT customer_id, CAST(COUNT(*) AS BIGINT) AS n FROM disputes \
             WHERE creditor_id = $1 AND opened_on > $2 AND opened_on <= $3 GROUP BY customer_id",
        )
        .bind(creditor.0)
        .bind(back(as_of, 365))
        .bind(&as_of_text)
        .fetch_all(&self.pool)
        .await?;
        for row in &rows {
            if let Some(&i) = index.get(&row.try_get::<i64, _>("customer_id")?) {
                out[i].history.disputes = u32::try_from(row.try_get::<i64, _>("n")?).unwrap_or(0);
            }
        }

        // Promises: kept when the invoice was settled by the promised day, broken when that
        // day has passed without it.
        for p in self.promises(creditor, as_of).await? {
            let Some(&i) = index.get(&p.customer_id) else {
                continue;
            };
            let h = &mut out[i].history;
            match p.settled_on {
                Some(day) if day <= p.promised_for => h.promises_kept += 1,
                _ if p.promised_for < as_of => h.promises_broken += 1,
                _ => {}
            }
        }
        Ok(out)
    }

    /// Promises to pay made on or before `as_of` (from the timeline), with the day their
    /// invoice was settled, if it was by `as_of`.
    async fn promises(&self, creditor: CreditorId, as_of: NaiveDate) -> Result<Vec<Promise>> {
        let rows = sqlx::query(
            "SELECT e.customer_id, e.item_id, e.data, i.open_minor, \
             (SELECT MAX(a.allocated_on) FROM allocations a WHERE a.item_id = e.item_id) AS settled_on \
             FROM events e JOIN items i ON i.id = e.item_id \
             WHERE e.creditor_id = $1 AND e.kind = 'promise' AND e.occurred_on <= $2 ORDER BY e.id",
        )
        .bind(creditor.0)
        .bind(as_of.to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let data: String = row.try_get("data")?;
            let data: serde_json::Value = serde_json::from_str(&data)
                .map_err(|e| StoreError::Corrupt(format!("promise event: {e}")))?;
            let Some(promised_for) = data.get("promised_for").and_then(|v| v.as_str()) else {
                continue;
            };
            let open: i64 = row.try_get("open_minor")?;
            let settled: Option<String> = row.try_get("settled_on")?;
            let settled_on = match settled {
                Some(s) if open <= 0 => Some(date(&s)?).filter(|d| *d <= as_of),
                _ => None,
            };
            out.push(Promise {
                customer_id: row.try_get("customer_id")?,
                item_id: row.try_get("item_id")?,
                promised_for: date(promised_for)?,
                settled_on,
            });
        }
        Ok(out)
    }

    /// The open invoices to forecast, with their open dispute flag and active promise.
    #[tracing::instrument(skip(self))]
    pub async fn forecast_items(
        &self,
        creditor: CreditorId,
        as_of: NaiveDate,
    ) -> Result<Vec<ForecastItem>> {
        let mut promised: HashMap<i64, NaiveDate> = HashMap::new();
        for p in self.promises(creditor, as_of).await? {
            if p.promised_for >= as_of {
                // Latest promise wins (events come in order).
                promised.insert(p.item_id, p.promised_for);
            } else {
                promised.remove(&p.item_id);
            }
        }
        type ItemRow = (i64, i64, String, String, String, i64, i64);
        let mut rows: Vec<ItemRow> = json_rows(
            self,
            "SELECT i.id, i.customer_id, i.number, i.due_date, i.currency, i.open_minor, \
             CAST(CASE WHEN EXISTS (SELECT 1 FROM disputes d WHERE d.creditor_id = i.creditor_id \
                 AND d.item_id = i.id AND d.resolved_on IS NULL) THEN 1 ELSE 0 END AS BIGINT) AS disputed \
             FROM items i WHERE i.creditor_id = $1 AND i.kind = 'invoice' AND i.open_minor > 0",
            "id, customer_id, number, due_date, currency, open_minor, disputed",
            &[JsonBind::Int(creditor.0)],
        )
        .await?;
        // The order the row-by-row read gave: the items' ids.
        rows.sort_unstable_by_key(|r| r.0);
        let mut currencies: HashMap<String, Currency> = HashMap::new();
        let mut out = Vec::with_capacity(rows.len());
        for (id, customer_id, number, due, code, open_minor, disputed) in rows {
            let currency = match currencies.get(&code) {
                Some(c) => *c,
                None => {
                    let c = Currency::parse(&code)?;
                    currencies.insert(code, c);
                    c
                }
            };
            out.push(ForecastItem {
                customer_id,
                number,
                due: date(&due)?,
                open: Money::from_minor(open_minor, currency),
                promised_for: promised.get(&id).copied(),
                disputed: disputed != 0,
            });
        }
        Ok(out)
    }

    /// Sales and collections of the whole creditor per currency and month, up to `as_of`: what
    /// [`dso_months`] needs for the creditor's DSO, a few rows instead of one per customer and
    /// month (`customer_id` is 0).
    #[tracing::instrument(skip(self))]
    pub async fn creditor_month_flows(
        &self,
        creditor: CreditorId,
        as_of: NaiveDate,
    ) -> Result<Vec<MonthFlow>> {
        let rows = sqlx::query(
            "SELECT currency, month, CAST(SUM(sales) AS BIGINT) AS sales, \
             CAST(SUM(outside) AS BIGINT) AS outside, CAST(SUM(collected) AS BIGINT) AS collected FROM ( \
               SELECT currency, substr(issue_date, 1, 7) AS month, total_minor AS sales, \
                      paid_outside_minor AS outside, 0 AS collected \
               FROM items WHERE creditor_id = $1 AND kind = 'invoice' AND issue_date <= $2 \
               UNION ALL \
               SELECT i.currency, substr(a.allocated_on, 1, 7), 0, 0, a.amount_minor \
               FROM allocations a JOIN items i ON i.id = a.item_id \
               WHERE a.creditor_id = $1 AND i.kind = 'invoice' AND i.issue_date <= $2 AND a.allocated_on <= $2 \
             ) f GROUP BY currency, month ORDER BY month",
        )
        .bind(creditor.0)
        .bind(as_of.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(MonthFlow {
                    customer_id: 0,
                    currency: Currency::parse(&row.try_get::<String, _>("currency")?)?,
                    month: row.try_get("month")?,
                    sales_minor: row.try_get("sales")?,
                    paid_outside_minor: row.try_get("outside")?,
                    collected_minor: row.try_get("collected")?,
                })
            })
            .collect()
    }

    /// Sales and collections per customer, currency and month, up to `as_of` (one statement).
    #[tracing::instrument(skip(self))]
    pub async fn month_flows(
        &self,
        creditor: CreditorId,
        as_of: NaiveDate,
    ) -> Result<Vec<MonthFlow>> {
        let rows = sqlx::query(
            "SELECT customer_id, currency, month, CAST(SUM(sales) AS BIGINT) AS sales, \
             CAST(SUM(outside) AS BIGINT) AS outside, CAST(SUM(collected) AS BIGINT) AS collected FROM ( \
               SELECT customer_id, currency, substr(issue_date, 1, 7) AS month, total_minor AS sales, \
                      paid_outside_minor AS outside, 0 AS collected \
               FROM items WHERE creditor_id = $1 AND kind = 'invoice' AND issue_date <= $2 \
               UNION ALL \
               SELECT i.customer_id, i.currency, substr(a.allocated_on, 1, 7), 0, 0, a.amount_minor \
               FROM allocations a JOIN items i ON i.id = a.item_id \
               WHERE a.creditor_id = $1 AND i.kind = 'invoice' AND i.issue_date <= $2 AND a.allocated_on <= $2 \
             ) f GROUP BY customer_id, currency, month ORDER BY month",
        )
        .bind(creditor.0)
        .bind(as_of.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(MonthFlow {
                    customer_id: row.try_get("customer_id")?,
                    currency: Currency::parse(&row.try_get::<String, _>("currency")?)?,
                    month: row.try_get("month")?,
                    sales_minor: row.try_get("sales")?,
                    paid_outside_minor: row.try_get("outside")?,
                    collected_minor: row.try_get("collected")?,
                })
            })
            .collect()
    }

    /// Each step carried out (sent, one per customer, cycle and step, on the day it was due)
    /// up to `as_of`, with the customer's first payment received on or after that day.
    #[tracing::instrument(skip(self))]
    pub async fn step_outcomes(
        &self,
        creditor: CreditorId,
        as_of: NaiveDate,
    ) -> Result<Vec<StepOutcome>> {
        let rows = sqlx::query(
            "SELECT x.step, x.day, (SELECT MIN(p.received_on) FROM payments p \
                 WHERE p.creditor_id = $1 AND p.customer_id = x.customer_id \
                 AND p.received_on >= x.day AND p.received_on <= $2) AS paid_on \
             FROM (SELECT customer_id, cycle, step, MIN(due_on) AS day FROM actions \
                   WHERE creditor_id = $1 AND status = 'sent' AND due_on <= $2 \
                   GROUP BY customer_id, cycle, step) x",
        )
        .bind(creditor.0)
        .bind(as_of.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let paid: Option<String> = row.try_get("paid_on")?;
                Ok(StepOutcome {
                    step: row.try_get("step")?,
                    day: date(&row.try_get::<String, _>("day")?)?,
                    paid_on: paid.as_deref().map(date).transpose()?,
                })
            })
            .collect()
    }

    /// The outcomes of the steps carried out under `experiment` (sent, due on or before
    /// `as_of`), one per customer, cycle and step, with the customer's arm and first payment
    /// on or after the step: the input of [`relance_core::experiment::compare`].
    pub async fn experiment_outcomes(
        &self,
        creditor: CreditorId,
        experiment: &str,
        as_of: NaiveDate,
    ) -> Result<Vec<ArmOutcome>> {
        let rows = sqlx::query(
            "SELECT x.variant, x.day, (SELECT MIN(p.received_on) FROM payments p \
                 WHERE p.creditor_id = $1 AND p.customer_id = x.customer_id \
                 AND p.received_on >= x.day AND p.received_on <= $2) AS paid_on \
             FROM (SELECT customer_id, cycle, step, MIN(variant) AS variant, MIN(due_on) AS day \
                   FROM actions WHERE creditor_id = $1 AND experiment = $3 AND status = 'sent' \
                   AND due_on <= $2 AND variant IS NOT NULL \
                   GROUP BY customer_id, cycle, step) x",
        )
        .bind(creditor.0)
        .bind(as_of.to_string())
        .bind(experiment)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let paid: Option<String> = row.try_get("paid_on")?;
                let variant: String = row.try_get("variant")?;
                Ok(ArmOutcome {
                    variant: Variant::parse(&variant).ok_or_else(|| {
                        StoreError::Corrupt(format!("action variant {variant:?}"))
                    })?,
                    day: date(&row.try_get::<String, _>("day")?)?,
                    paid_on: paid.as_deref().map(date).transpose()?,
                })
            })
            .collect()
    }

    /// Every customer's aged balance on `as_of` per currency, in minor units (credit notes and
    /// unallocated payments included as in [`Store::aging`]): what the aged balance by payer
    /// grade sums. Two `GROUP BY`s over the creditor, read as one JSON aggregate each.
    #[tracing::instrument(skip(self))]
    pub async fn aging_by_customer(
        &self,
        creditor: CreditorId,
        as_of: NaiveDate,
    ) -> Result<Vec<CustomerAging>> {
        let (d30, d60, d90) = (back(as_of, 30), back(as_of, 60), back(as_of, 90));
        let as_of_text = as_of.to_string();
        type Row = (i64, String, i64, i64, i64, i64, i64);
        let mut rows: Vec<Row> = json_rows(
            self,
            "SELECT i.customer_id, i.currency, \
             CAST(SUM(CASE WHEN i.due_date >= $2 THEN i.open_minor ELSE 0 END) AS BIGINT) AS b0, \
             CAST(SUM(CASE WHEN i.due_date < $2 AND i.due_date >= $3 THEN i.open_minor ELSE 0 END) AS BIGINT) AS b1, \
             CAST(SUM(CASE WHEN i.due_date < $3 AND i.due_date >= $4 THEN i.open_minor ELSE 0 END) AS BIGINT) AS b2, \
             CAST(SUM(CASE WHEN i.due_date < $4 AND i.due_date >= $5 THEN i.open_minor ELSE 0 END) AS BIGINT) AS b3, \
             CAST(SUM(CASE WHEN i.due_date < $5 THEN i.open_minor ELSE 0 END) AS BIGINT) AS b4 \
             FROM items i WHERE i.creditor_id = $1 AND i.open_minor <> 0 \
             GROUP BY i.customer_id, i.currency",
            "customer_id, currency, b0, b1, b2, b3, b4",
            &[
                JsonBind::Int(creditor.0),
                JsonBind::Text(&as_of_text),
                JsonBind::Text(&d30),
                JsonBind::Text(&d60),
                JsonBind::Text(&d90),
            ],
        )
        .await?;
        rows.sort_unstable_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        let credits: Vec<(i64, String, i64)> = json_rows(
            self,
            "SELECT customer_id, currency, CAST(SUM(unallocated_minor) AS BIGINT) AS credit \
             FROM payments WHERE creditor_id = $1 AND unallocated_minor > 0 AND customer_id IS NOT NULL \
             GROUP BY customer_id, currency",
            "customer_id, currency, credit",
            &[JsonBind::Int(creditor.0)],
        )
        .await?;
        let mut currencies: HashMap<String, Currency> = HashMap::new();
        let mut out = Vec::with_capacity(rows.len());
        for (customer_id, code, b0, b1, b2, b3, b4) in rows {
            let currency = match currencies.get(&code) {
                Some(c) => *c,
                None => {
                    let c = Currency::parse(&code)?;
                    currencies.insert(code, c);
                    c
                }
            };
            out.push(CustomerAging {
                customer_id,
                currency,
                buckets: [b0, b1, b2, b3, b4],
            });
        }
        // Unallocated payments lower the not-yet-due column of the customer's line in that
        // currency, when there is one, as in the per-customer aged balance.
        for (customer_id, code, credit) in credits {
            if let Ok(i) = out.binary_search_by(|l| {
                (l.customer_id, l.currency.code()).cmp(&(customer_id, code.as_str()))
            }) {
                out[i].buckets[0] -= credit;
            }
        }
        Ok(out)
    }

    /// Scores every customer on `as_of` and stores the grades that changed (their cases are
    /// planned again, as their policy may change). Returns how many changed.
    #[tracing::instrument(skip(self))]
    pub async fn refresh_grades(&self, creditor: CreditorId, as_of: NaiveDate) -> Result<usize> {
        let histories = self.payer_histories(creditor, as_of).await?;
        let mut changed: HashMap<Grade, Vec<i64>> = HashMap::new();
        for c in &histories {
            let s = score(&c.history);
            if c.grade != Some(s.grade) {
                changed.entry(s.grade).or_default().push(c.id);
            }
        }
        let mut tx = self.pool.begin().await?;
        let mut ids_all = Vec::new();
        for (grade, ids) in &changed {
            for chunk in ids.chunks(500) {
                let list = chunk
                    .iter()
                    .map(|id| id.to_string())
                    .collect::<Vec<_>>()
                    .join(",");
                sqlx::query(&format!(
                    "UPDATE customers SET grade = $1 WHERE creditor_id = $2 AND id IN ({list})"
                ))
                .bind(grade.as_str())
                .bind(creditor.0)
                .execute(&mut *tx)
                .await?;
            }
            ids_all.extend_from_slice(ids);
        }
        crate::cases::mark_pending(&mut tx, self.backend(), creditor, &ids_all).await?;
        tx.commit().await?;
        Ok(ids_all.len())
    }
}

/// Each open invoice's prediction (`None`: in dispute, excluded), from the customers' histories:
/// the customer's own delays when it has enough, else its segment's, else the creditor's
/// (`relance report forecast`, the web's forecast page).
pub fn predict_all(
    customers: &[CustomerCash],
    items: &[ForecastItem],
    as_of: NaiveDate,
) -> Vec<Option<Prediction>> {
    let mut creditor = DelayStats::default();
    let mut segments: HashMap<&str, DelayStats> = HashMap::new();
    let mut by_id: HashMap<i64, &CustomerCash> = HashMap::with_capacity(customers.len());
    for c in customers {
        creditor.merge(&c.delays);
        if let Some(s) = &c.segment {
            segments.entry(s.as_str()).or_default().merge(&c.delays);
        }
        by_id.insert(c.id, c);
    }
    let none = DelayStats::default();
    items
        .iter()
        .map(|item| {
            let customer = by_id.get(&item.customer_id);
            let own = customer.map(|c| &c.delays).unwrap_or(&none);
            let segment = customer
                .and_then(|c| c.segment.as_deref())
                .and_then(|s| segments.get(s));
            let (basis, stats) = forecast::choose_stats(own, segment, &creditor);
            forecast::predict(
                &OpenInvoice {
                    due: item.due,
                    open: item.open,
                    promised_for: item.promised_for,
                    disputed: item.disputed,
                },
                basis,
                stats,
                as_of,
            )
        })
        .collect()
}

/// The weekly cash-in of a forecast, and what it leaves out.
#[derive(Debug, Clone, PartialEq)]
pub struct CashForecast {
    pub weeks: Vec<forecast::WeekLine>,
    /// Invoices in dispute, left out: per currency code, how many and their open amount
    /// (major units).
    pub excluded: BTreeMap<String, (usize, Decimal)>,
}

/// Sums `predictions` (those of [`predict_all`] for `items`) by week: the table of
/// `relance report forecast` and the web's forecast page.
pub fn weekly_forecast(
    items: &[ForecastItem],
    predictions: &[Option<Prediction>],
    as_of: NaiveDate,
    weeks: u32,
) -> CashForecast {
    let mut excluded: BTreeMap<String, (usize, Decimal)> = BTreeMap::new();
    let mut paired = Vec::with_capacity(items.len());
    for (item, p) in items.iter().zip(predictions) {
        match p {
            Some(p) => paired.push((item.open, *p)),
            None => {
                let e = excluded
                    .entry(item.open.currency.code().to_string())
                    .or_insert((0, Decimal::ZERO));
                e.0 += 1;
                e.1 += item.open.amount;
            }
        }
    }
    CashForecast {
        weeks: forecast::weekly(&paired, as_of, weeks),
        excluded,
    }
}

/// `date + days` (an SQL integer expression) as ISO text, on either engine.
fn add_days_sql(backend: Backend, date: &str, days: &str) -> String {
    match backend {
        Backend::Sqlite => format!("date({date}, ({days}) || ' days')"),
        Backend::Postgres => {
            format!("CAST(CAST({date} AS DATE) + CAST({days} AS INTEGER) AS TEXT)")
        }
    }
}

impl Store {
    /// For `relance bench forecast` only: settles the generated invoices whose payment falls
    /// before `as_of`, each customer paying with its own fixed habit (between 5 days early and
    /// 35 days late, ± 5 days), in two set-based statements. Returns the invoices settled.
    pub async fn bench_settle_history(
        &self,
        creditor: CreditorId,
        as_of: NaiveDate,
    ) -> Result<u64> {
        let delay = "((customer_id * 7919) % 41) - 10 + ((id * 31) % 11)";
        let paid_on = add_days_sql(self.backend(), "due_date", delay);
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(&format!(
            "INSERT INTO allocations (creditor_id, item_id, amount_minor, allocated_on, created_at) \
             SELECT creditor_id, id, open_minor, {paid_on}, '' FROM items \
             WHERE creditor_id = $1 AND kind = 'invoice' AND open_minor > 0 AND {paid_on} < $2"
        ))
        .bind(creditor.0)
        .bind(as_of.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query(
            "UPDATE items SET allocated_minor = allocated_minor + open_minor \
             WHERE creditor_id = $1 AND kind = 'invoice' AND open_minor > 0 \
             AND id IN (SELECT item_id FROM allocations WHERE creditor_id = $1 AND created_at = '')",
        )
        .bind(creditor.0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(inserted)
    }
}

/// A promise to pay from the timeline.
struct Promise {
    customer_id: i64,
    item_id: i64,
    promised_for: NaiveDate,
    settled_on: Option<NaiveDate>,
}

/// Calendar months from `first` (`YYYY-MM`) to `as_of`'s month, with their days (elapsed for
/// `as_of`'s month).
pub fn month_range(first: &str, as_of: NaiveDate) -> Vec<(String, u32)> {
    let parse = |m: &str| -> Option<(i32, u32)> {
        let (y, mo) = m.split_once('-')?;
        Some((y.parse().ok()?, mo.parse().ok()?))
    };
    let Some((mut y, mut m)) = parse(first) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    while (y, m) <= (as_of.year(), as_of.month()) {
        let days = if (y, m) == (as_of.year(), as_of.month()) {
            as_of.day()
        } else {
            let next = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            NaiveDate::from_ymd_opt(next.0, next.1, 1)
                .and_then(|d| d.pred_opt())
                .map_or(30, |d| d.day())
        };
        out.push((format!("{y:04}-{m:02}"), days));
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    out
}

/// The months of a group of flows (one currency), receivables carried from month to month:
/// what `relance_core::dso` computes DSO from (`relance report dso`, the reports page).
pub fn months_of<'a>(flows: impl Iterator<Item = &'a MonthFlow>, as_of: NaiveDate) -> Vec<Month> {
    let mut by_month: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for f in flows {
        let e = by_month.entry(f.month.as_str()).or_insert((0, 0));
        e.0 += f.sales_minor;
        e.1 += f.sales_minor - f.paid_outside_minor - f.collected_minor;
    }
    let Some(first) = by_month.keys().next().map(|s| s.to_string()) else {
        return Vec::new();
    };
    let mut receivables = 0i64;
    month_range(&first, as_of)
        .into_iter()
        .map(|(label, days)| {
            let (sales, delta) = by_month.get(label.as_str()).copied().unwrap_or((0, 0));
            receivables += delta;
            Month {
                label,
                days,
                sales: Decimal::from(sales),
                receivables_end: Decimal::from(receivables),
            }
        })
        .collect()
}

/// An amount in minor units (as the flows carry them) in major units of `currency`.
pub fn major(minor: Decimal, currency: Currency) -> Decimal {
    minor / Decimal::from(10i64.pow(currency.minor_units()))
}
