//! The aged balance (balance âgée): open amounts by lateness bucket, per customer and in total.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

/// Lateness buckets used by French credit managers: not yet due, 1–30, 31–60, 61–90, over 90 days.
pub const BUCKET_LABELS: [&str; 5] = ["not_due", "1_30", "31_60", "61_90", "over_90"];

/// Index in [`BUCKET_LABELS`] of an item due on `due` seen on `as_of`.
pub fn bucket_of(due: NaiveDate, as_of: NaiveDate) -> usize {
    let late = (as_of - due).num_days();
    match late {
        i64::MIN..=0 => 0,
        1..=30 => 1,
        31..=60 => 2,
        61..=90 => 3,
        _ => 4,
    }
}

/// One line of the aged balance: a customer's open amounts by bucket, in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgingLine {
    pub customer: String,
    pub customer_name: String,
    pub currency: String,
    pub buckets: [Decimal; 5],
}

impl AgingLine {
    pub fn total(&self) -> Decimal {
        self.buckets.iter().copied().sum()
    }

    pub fn overdue(&self) -> Decimal {
        self.buckets[1..].iter().copied().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_follow_days_late() {
        let due = NaiveDate::from_ymd_opt(2026, 1, 31).expect("date");
        let on = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");
        assert_eq!(bucket_of(due, on(2026, 1, 31)), 0);
        assert_eq!(bucket_of(due, on(2026, 2, 1)), 1);
        assert_eq!(bucket_of(due, on(2026, 3, 2)), 1); // 30 days
        assert_eq!(bucket_of(due, on(2026, 3, 3)), 2);
        assert_eq!(bucket_of(due, on(2026, 5, 1)), 3); // 90 days
        assert_eq!(bucket_of(due, on(2026, 5, 2)), 4);
    }
}
