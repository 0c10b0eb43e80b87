//! What works: for each policy step, how often and how fast customers pay after it.
//!
//! A "case step" is one step carried out for one customer in one cycle (several channels of
//! the same step count once), dated the day it was due. It is *paid* on the first payment the
//! customer makes on or after that day. The share paid within 7 days only counts the steps at
//! least 7 days old on `as_of` (within 14: at least 14 days old), so recent steps do not look
//! like failures; the median is over the steps that were followed by a payment.

use chrono::NaiveDate;
use serde::Serialize;

/// One step carried out, and the first payment after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepOutcome {
    pub step: String,
    pub day: NaiveDate,
    pub paid_on: Option<NaiveDate>,
}

/// The figures of one step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepStats {
    pub step: String,
    /// Case steps carried out (on or before `as_of`).
    pub cases: u64,
    /// Of those at least 7 days old: how many, and the share paid within 7 days (0–1).
    pub seen_7: u64,
    pub paid_within_7: Option<f64>,
    pub seen_14: u64,
    pub paid_within_14: Option<f64>,
    /// Cases followed by a payment, and the median days from the step to it.
    pub paid: u64,
    pub median_days_to_payment: Option<f64>,
}

fn median(values: &mut [i64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2] as f64
    } else {
        (values[n / 2 - 1] + values[n / 2]) as f64 / 2.0
    })
}

/// The figures per step, in the order of `order` (steps not in it follow, by name).
pub fn step_stats(outcomes: &[StepOutcome], order: &[String], as_of: NaiveDate) -> Vec<StepStats> {
    let mut steps: Vec<&str> = outcomes.iter().map(|o| o.step.as_str()).collect();
    steps.sort_unstable();
    steps.dedup();
    steps.sort_by_key(|s| {
        (
            order.iter().position(|o| o == s).unwrap_or(usize::MAX),
            s.to_string(),
        )
    });
    steps
        .into_iter()
        .map(|step| {
            let mine: Vec<&StepOutcome> = outcomes
                .iter()
                .filter(|o| o.step == step && o.day <= as_of)
                .collect();
            let delay = |o: &StepOutcome| {
                o.paid_on
                    .filter(|p| *p <= as_of)
                    .map(|p| (p - o.day).num_days())
            };
            let within = |window: i64| -> (u64, Option<f64>) {
                let old: Vec<&&StepOutcome> = mine
                    .iter()
                    .filter(|o| (as_of - o.day).num_days() >= window)
                    .collect();
                let paid = old
                    .iter()
                    .filter(|o| delay(o).is_some_and(|d| d <= window))
                    .count();
                let n = old.len() as u64;
                (n, (n > 0).then(|| paid as f64 / n as f64))
            };
            let (seen_7, paid_within_7) = within(7);
            let (seen_14, paid_within_14) = within(14);
            let mut delays: Vec<i64> = mine.iter().filter_map(|o| delay(o)).collect();
            StepStats {
                step: step.to_string(),
                cases: mine.len() as u64,
                seen_7,
                paid_within_7,
                seen_14,
                paid_within_14,
                paid: delays.len() as u64,
                median_days_to_payment: median(&mut delays),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).expect("date")
    }

    #[test]
    fn shares_count_only_steps_old_enough_and_the_median_only_paid_cases() {
        let o = |step: &str, day, paid| StepOutcome {
            step: step.into(),
            day,
            paid_on: paid,
        };
        let outcomes = vec![
            o("first_reminder", d(3, 1), Some(d(3, 4))),  // 3 days
            o("first_reminder", d(3, 2), Some(d(3, 12))), // 10 days
            o("first_reminder", d(3, 3), None),
            o("first_reminder", d(3, 28), None), // too recent for both windows
            o("formal_notice", d(3, 10), Some(d(3, 30))), // 20 days
        ];
        let order = vec!["first_reminder".to_string(), "formal_notice".to_string()];
        let stats = step_stats(&outcomes, &order, d(3, 31));
        assert_eq!(stats[0].step, "first_reminder");
        assert_eq!(
            (stats[0].cases, stats[0].seen_7, stats[0].seen_14),
            (4, 3, 3)
        );
        assert_eq!(stats[0].paid_within_7, Some(1.0 / 3.0));
        assert_eq!(stats[0].paid_within_14, Some(2.0 / 3.0));
        assert_eq!(stats[0].median_days_to_payment, Some(6.5));
        assert_eq!(stats[1].paid_within_14, Some(0.0));
        assert_eq!(stats[1].median_days_to_payment, Some(20.0));
    }
}
