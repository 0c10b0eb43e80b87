//! Cash forecast: when each open invoice will be paid, from the customer's own payment delays,
//! and the expected cash-in per ISO week with a low/expected/high band.
//!
//! A customer's delays (payment date − due date, in days; negative when early) are kept as sums
//! ([`DelayStats`]) so that the store computes them for every customer in one `GROUP BY`, and
//! segments and the creditor as a whole are sums of sums. The rules:
//!
//! - a promise to pay dated today or later overrides: the invoice is expected on that day;
//! - an invoice in dispute is **excluded** from the cash-in (listed apart, never predicted);
//! - otherwise the delay is the customer's own average and spread when it has at least
//!   [`MIN_HISTORY`] paid invoices, else its segment's (first tag), else the creditor's;
//! - an invoice still open on `as_of` cannot be paid before it: the delay is the mean of the
//!   customer's delay distribution (taken as normal) *given* that it exceeds the days already
//!   elapsed since the due date — a customer who usually pays 10 days late, 25 days past due,
//!   is expected a few days from now, not 15 days ago;
//! - the band is one spread either side (early = low date, late = high date), never before
//!   `as_of`.
//!
//! The weekly sums give three scenarios: `high` if every invoice comes at its early date,
//! `expected`, and `low` if every one comes at its late date; the cumulative columns are ordered
//! low ≤ expected ≤ high at every week.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::money::{Currency, Money};

/// Paid invoices a customer needs before its own delays are trusted.
pub const MIN_HISTORY: u32 = 3;
/// Spread used when the history has no variance (or none at all), in days.
pub const MIN_SPREAD: f64 = 2.0;
/// Spread assumed without any history, in days.
pub const DEFAULT_SPREAD: f64 = 7.0;

/// Sums of payment delays in days (payment date − due date).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DelayStats {
    pub count: u32,
    pub sum: i64,
    pub sum_squares: i64,
}

impl DelayStats {
    pub fn add(&mut self, delay_days: i64) {
        self.count += 1;
        self.sum += delay_days;
        self.sum_squares += delay_days * delay_days;
    }

    pub fn merge(&mut self, other: &DelayStats) {
        self.count += other.count;
        self.sum += other.sum;
        self.sum_squares += other.sum_squares;
    }

    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum as f64 / f64::from(self.count))
    }

    /// Sample standard deviation, at least [`MIN_SPREAD`].
    pub fn spread(&self) -> f64 {
        if self.count < 2 {
            return DEFAULT_SPREAD;
        }
        let n = f64::from(self.count);
        let mean = self.sum as f64 / n;
        let var = (self.sum_squares as f64 - n * mean * mean) / (n - 1.0);
        var.max(0.0).sqrt().max(MIN_SPREAD)
    }
}

/// Where a prediction comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The customer's own paid invoices.
    Customer,
    /// The customer's segment (first tag), its own history being thin.
    Segment,
    /// All of the creditor's customers.
    Creditor,
    /// No paid invoice anywhere: the due date.
    DueDate,
    /// A promise to pay.
    Promise,
}

impl Basis {
    pub fn as_str(&self) -> &'static str {
        match self {
            Basis::Customer => "customer",
            Basis::Segment => "segment",
            Basis::Creditor => "creditor",
            Basis::DueDate => "due_date",
            Basis::Promise => "promise",
        }
    }
}

/// An open invoice to forecast.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenInvoice {
    pub due: NaiveDate,
    pub open: Money,
    /// An active promise to pay for it (or for its customer's case).
    pub promised_for: Option<NaiveDate>,
    pub disputed: bool,
}

/// When an invoice is expected to be paid: `low` is the early date, `high` the late one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Prediction {
    pub low: NaiveDate,
    pub expected: NaiveDate,
    pub high: NaiveDate,
    pub basis: Basis,
}

/// The delay statistics to use for a customer: its own, else its segment's, else the creditor's.
pub fn choose_stats<'a>(
    own: &'a DelayStats,
    segment: Option<&'a DelayStats>,
    creditor: &'a DelayStats,
) -> (Basis, Option<&'a DelayStats>) {
    if own.count >= MIN_HISTORY {
        return (Basis::Customer, Some(own));
    }
    if let Some(s) = segment.filter(|s| s.count >= MIN_HISTORY) {
        return (Basis::Segment, Some(s));
    }
    if creditor.count >= 1 {
        return (Basis::Creditor, Some(creditor));
    }
    (Basis::DueDate, None)
}

/// The predicted payment of one open invoice, `None` for an invoice in dispute (excluded).
pub fn predict(
    invoice: &OpenInvoice,
    basis: Basis,
    stats: Option<&DelayStats>,
    as_of: NaiveDate,
) -> Option<Prediction> {
    if invoice.disputed {
        return None;
    }
    let (mean, spread) = match stats {
        Some(s) => (s.mean().unwrap_or(0.0), s.spread()),
        None => (0.0, DEFAULT_SPREAD),
    };
    if let Some(day) = invoice.promised_for.filter(|d| *d >= as_of) {
        return Some(Prediction {
            low: day,
            expected: day,
            high: add_days(day, spread.round() as i64),
            basis: Basis::Promise,
        });
    }
    // Still open on as_of: the delay is at least the days elapsed since the due date.
    let elapsed = (as_of - invoice.due).num_days() as f64;
    let (cond_mean, cond_spread) = truncated_normal(mean, spread, elapsed - 0.5);
    let expected = add_days(invoice.due, cond_mean.round() as i64).max(as_of);
    let low = add_days(expected, -(cond_spread.round() as i64)).max(as_of);
    let high = add_days(expected, cond_spread.round() as i64);
    Some(Prediction {
        low,
        expected,
        high,
        basis,
    })
}

fn add_days(day: NaiveDate, n: i64) -> NaiveDate {
    if n >= 0 {
        day.checked_add_days(Days::new(n as u64)).unwrap_or(day)
    } else {
        day.checked_sub_days(Days::new(n.unsigned_abs()))
            .unwrap_or(day)
    }
}

/// Mean and standard deviation of a normal(mean, sd) given that it exceeds `lower`.
fn truncated_normal(mean: f64, sd: f64, lower: f64) -> (f64, f64) {
    let a = (lower - mean) / sd;
    let tail = 1.0 - normal_cdf(a);
    if tail < 1e-9 {
        // Far in the tail: about `lower` plus a little.
        return (lower + sd / a.max(1.0), sd / a.max(1.0));
    }
    let lambda = normal_pdf(a) / tail;
    let var = 1.0 + a * lambda - lambda * lambda;
    (mean + sd * lambda, sd * var.max(0.01).sqrt())
}

fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Φ(x) through erf (Abramowitz and Stegun 7.1.26, error below 1.5e-7).
fn normal_cdf(x: f64) -> f64 {
    let z = x / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * z.abs());
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-z * z).exp();
    0.5 * (1.0 + if z >= 0.0 { erf } else { -erf })
}

/// One week of expected cash-in, in one currency. `week` is the ISO week ("2026-W48"), or
/// "later" past the horizon; the first week also holds what is expected on `as_of`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WeekLine {
    pub week: String,
    /// Monday of the week (empty for "later").
    pub starts_on: String,
    pub currency: String,
    pub low: Decimal,
    pub expected: Decimal,
    pub high: Decimal,
    pub cumulative_low: Decimal,
    pub cumulative_expected: Decimal,
    pub cumulative_high: Decimal,
    pub invoices: u64,
}

/// Sums predicted payments by ISO week over `weeks` weeks from `as_of`'s week (the rest in a
/// "later" line), per currency.
pub fn weekly(predictions: &[(Money, Prediction)], as_of: NaiveDate, weeks: u32) -> Vec<WeekLine> {
    let monday = as_of - Days::new(u64::from(as_of.weekday().num_days_from_monday()));
    let index = |day: NaiveDate| -> u32 {
        let w = (day - monday).num_days().max(0) / 7;
        u32::try_from(w).unwrap_or(u32::MAX).min(weeks)
    };
    // (currency, week index) → [low, expected, high], invoices (expected date).
    let mut sums: BTreeMap<(Currency, u32), ([Decimal; 3], u64)> = BTreeMap::new();
    let mut currencies: Vec<Currency> = Vec::new();
    for (amount, p) in predictions {
        if !currencies.contains(&amount.currency) {
            currencies.push(amount.currency);
        }
        // low scenario: every invoice at its late date; high: at its early date.
        for (slot, day) in [(0, p.high), (1, p.expected), (2, p.low)] {
            let entry = sums
                .entry((amount.currency, index(day)))
                .or_insert(([Decimal::ZERO; 3], 0));
            entry.0[slot] += amount.amount;
            if slot == 1 {
                entry.1 += 1;
            }
        }
    }
    currencies.sort();
    let mut out = Vec::new();
    for currency in currencies {
        let mut cumulative = [Decimal::ZERO; 3];
        for w in 0..=weeks {
            let (s, n) = sums
                .get(&(currency, w))
                .copied()
                .unwrap_or(([Decimal::ZERO; 3], 0));
            for i in 0..3 {
                cumulative[i] += s[i];
            }
            let start = monday + Days::new(u64::from(w) * 7);
            let later = w == weeks;
            if later && s == [Decimal::ZERO; 3] {
                continue;
            }
            let iso = start.iso_week();
            out.push(WeekLine {
                week: if later {
                    "later".into()
                } else {
                    format!("{}-W{:02}", iso.year(), iso.week())
                },
                starts_on: if later {
                    String::new()
                } else {
                    start.to_string()
                },
                currency: currency.code().to_string(),
                low: s[0],
                expected: s[1],
                high: s[2],
                cumulative_low: cumulative[0],
                cumulative_expected: cumulative[1],
                cumulative_high: cumulative[2],
                invoices: n,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    fn stats(delays: &[i64]) -> DelayStats {
        let mut s = DelayStats::default();
        delays.iter().for_each(|x| s.add(*x));
        s
    }

    #[test]
    fn normal_cdf_matches_known_values() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-6);
        assert!((normal_cdf(1.0) - 0.841_344_7).abs() < 1e-6);
        assert!((normal_cdf(-1.96) - 0.024_997_9).abs() < 1e-6);
    }

    #[test]
    fn a_customer_paying_ten_days_late_is_expected_ten_days_after_the_due_date() {
        let s = stats(&[8, 10, 12, 10]);
        let inv = OpenInvoice {
            due: d(2026, 7, 31),
            open: Money::eur(Decimal::new(100, 0)),
            promised_for: None,
            disputed: false,
        };
        let p = predict(&inv, Basis::Customer, Some(&s), d(2026, 7, 1)).expect("predicted");
        assert_eq!(p.expected, d(2026, 8, 10));
        assert!(p.low < p.expected && p.expected < p.high);
    }

    #[test]
    fn an_invoice_already_past_its_usual_delay_is_expected_after_today() {
        let s = stats(&[8, 10, 12, 10]);
        let inv = OpenInvoice {
            due: d(2026, 6, 1),
            open: Money::eur(Decimal::new(100, 0)),
            promised_for: None,
            disputed: false,
        };
        let as_of = d(2026, 6, 26);
        let p = predict(&inv, Basis::Customer, Some(&s), as_of).expect("predicted");
        assert!(p.expected >= as_of && p.expected <= d(2026, 7, 3), "{p:?}");
        assert!(p.low >= as_of);
    }

    #[test]
    fn a_promise_overrides_and_a_dispute_excludes() {
        let s = stats(&[30, 30, 30]);
        let mut inv = OpenInvoice {
            due: d(2026, 6, 1),
            open: Money::eur(Decimal::new(100, 0)),
            promised_for: Some(d(2026, 6, 10)),
            disputed: false,
        };
        let p = predict(&inv, Basis::Customer, Some(&s), d(2026, 6, 2)).expect("predicted");
        assert_eq!((p.expected, p.basis), (d(2026, 6, 10), Basis::Promise));
        inv.disputed = true;
        assert_eq!(
            predict(&inv, Basis::Customer, Some(&s), d(2026, 6, 2)),
            None
        );
    }

    #[test]
    fn thin_history_falls_back_to_the_segment_then_the_creditor() {
        let own = stats(&[1, 2]);
        let seg = stats(&[20, 20, 20]);
        let all = stats(&[5]);
        assert_eq!(choose_stats(&own, Some(&seg), &all).0, Basis::Segment);
        assert_eq!(choose_stats(&own, Some(&own), &all).0, Basis::Creditor);
        assert_eq!(choose_stats(&seg, None, &all).0, Basis::Customer);
        assert_eq!(
            choose_stats(&own, None, &DelayStats::default()).0,
            Basis::DueDate
        );
    }

    #[test]
    fn weekly_sums_keep_low_below_expected_below_high_cumulatively() {
        let as_of = d(2026, 11, 25); // a Wednesday, ISO week 48
        let eur = |n| Money::eur(Decimal::new(n, 0));
        let p = |e: NaiveDate, spread: u64| Prediction {
            low: e - Days::new(spread),
            expected: e,
            high: e + Days::new(spread),
            basis: Basis::Customer,
        };
        let preds = vec![
            (eur(100), p(d(2026, 11, 30), 3)),
            (eur(50), p(d(2026, 12, 9), 5)),
        ];
        let lines = weekly(&preds, as_of, 3);
        assert_eq!(lines[0].week, "2026-W48");
        assert_eq!(lines[0].high, Decimal::new(100, 0)); // 100 early on 27/11
        assert_eq!(lines[1].expected, Decimal::new(100, 0));
        for l in &lines {
            assert!(l.cumulative_low <= l.cumulative_expected);
            assert!(l.cumulative_expected <= l.cumulative_high);
        }
        let last = lines.last().expect("a line");
        assert_eq!(last.cumulative_expected, Decimal::new(150, 0));
    }
}
