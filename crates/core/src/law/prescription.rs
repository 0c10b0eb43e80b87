//! Prescription of claims: 5 years between merchants (Code de commerce L110-4), 2 years against a consumer (Code de la consommation L218-2).
//!
//! Both run from the due date here. The date returned is the last day on which the claim can
//! still be brought: a term in years ends on the same-numbered day of the last year, or the last
//! day of the month when there is none (29 February → 28 February), and the prescription is
//! acquired once that day is over (Code civil 2228, 2229). Counting to that day, rather than to
//! the day after, is the cautious side of a one-day ambiguity.
//!
//! Only the debtor's acknowledgement (Code civil 2240), a court claim (2241) or an enforcement
//! measure (2244) interrupts the prescription; a mise en demeure does not.

use chrono::{Months, NaiveDate};
use serde::Serialize;

use crate::party::CustomerKind;

/// Days before the prescription date that raise the first warning.
pub const PRESCRIPTION_NOTICE_DAYS: i64 = 90;
/// Days before the prescription date that raise the urgent warning.
pub const PRESCRIPTION_URGENT_DAYS: i64 = 30;

/// How close the prescription is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrescriptionLevel {
    /// 90 days or less left.
    Within90Days,
    /// 30 days or less left.
    Within30Days,
    /// The last day to act has passed.
    Prescribed,
}

/// A claim close to prescription, or prescribed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrescriptionWarning {
    pub level: PrescriptionLevel,
    /// The last day on which the claim can be brought.
    pub prescription_date: NaiveDate,
    /// Days from `as_of` to the prescription date (negative once prescribed).
    pub days_left: i64,
    /// A sentence in English for a person.
    pub message: String,
}

fn years_and_rule(kind: CustomerKind) -> (u32, &'static str) {
    match kind {
        // Code de commerce L110-4: 5 years for obligations between merchants (the same 5 years
        // as the general civil rule of Code civil 2224 for a business that is not a merchant).
        CustomerKind::Business => (
            5,
            "5 years for a claim against a business (Code de commerce L110-4)",
        ),
        // Code de la consommation L218-2: 2 years for a professional's claim for goods or
        // services supplied to a consumer.
        CustomerKind::Consumer => (
            2,
            "2 years for a professional's claim against a consumer (Code de la consommation L218-2)",
        ),
    }
}

/// The last day on which a claim due on `due_date` can be brought: due date + 5 years for a
/// business (L110-4), + 2 years for a consumer (L218-2).
pub fn prescription_date(kind: CustomerKind, due_date: NaiveDate) -> NaiveDate {
    let (years, _) = years_and_rule(kind);
    // chrono clamps 29 February to 28 February, as Code de procédure civile 641 does for terms
    // in months or years. Past chrono's range the claim is, in effect, never prescribed.
    due_date
        .checked_add_months(Months::new(12 * years))
        .unwrap_or(NaiveDate::MAX)
}

/// A warning when the prescription date is 90 days away or less, a stronger one at 30 days or
/// less, and a statement once the claim is prescribed. `None` when it is further away.
pub fn prescription_warning(
    kind: CustomerKind,
    due_date: NaiveDate,
    as_of: NaiveDate,
) -> Option<PrescriptionWarning> {
    let (_, rule) = years_and_rule(kind);
    let date = prescription_date(kind, due_date);
    let days_left = (date - as_of).num_days();
    let interrupt = "only a written acknowledgement by the debtor (Code civil 2240) or a court \
                     claim (Code civil 2241) interrupts it; a mise en demeure does not";
    let (level, message) = if days_left < 0 {
        (
            PrescriptionLevel::Prescribed,
            format!(
                "The claim due {due_date} is prescribed: the last day to act was {date} ({rule}), \
                 unless it was interrupted before then ({interrupt})."
            ),
        )
    } else if days_left <= PRESCRIPTION_URGENT_DAYS {
        (
            PrescriptionLevel::Within30Days,
            format!(
                "The claim due {due_date} will be prescribed after {date}, in {days_left} days \
                 ({rule}); act now: {interrupt}."
            ),
        )
    } else if days_left <= PRESCRIPTION_NOTICE_DAYS {
        (
            PrescriptionLevel::Within90Days,
            format!(
                "The claim due {due_date} will be prescribed after {date}, in {days_left} days \
                 ({rule}); {interrupt}."
            ),
        )
    } else {
        return None;
    };
    Some(PrescriptionWarning {
        level,
        prescription_date: date,
        days_left,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    #[test]
    fn a_business_claim_is_prescribed_five_years_after_the_due_date() {
        assert_eq!(
            prescription_date(CustomerKind::Business, d(2021, 3, 15)),
            d(2026, 3, 15)
        );
    }

    #[test]
    fn a_consumer_claim_is_prescribed_two_years_after_the_due_date() {
        assert_eq!(
            prescription_date(CustomerKind::Consumer, d(2024, 3, 15)),
            d(2026, 3, 15)
        );
    }

    #[test]
    fn a_claim_due_on_29_february_ends_on_28_february() {
        assert_eq!(
            prescription_date(CustomerKind::Consumer, d(2024, 2, 29)),
            d(2026, 2, 28)
        );
    }

    #[test]
    fn warnings_come_at_ninety_days_then_thirty_days_then_once_prescribed() {
        let due = d(2024, 6, 30); // consumer: last day 2026-06-30
        let k = CustomerKind::Consumer;
        assert_eq!(prescription_warning(k, due, d(2026, 3, 31)), None); // 91 days left
        let w = prescription_warning(k, due, d(2026, 4, 1)).expect("90 days left");
        assert_eq!(
            (w.level, w.days_left),
            (PrescriptionLevel::Within90Days, 90)
        );
        let w = prescription_warning(k, due, d(2026, 5, 31)).expect("30 days left");
        assert_eq!(
            (w.level, w.days_left),
            (PrescriptionLevel::Within30Days, 30)
        );
        let w = prescription_warning(k, due, d(2026, 6, 30)).expect("last day");
        assert_eq!((w.level, w.days_left), (PrescriptionLevel::Within30Days, 0));
        let w = prescription_warning(k, due, d(2026, 7, 1)).expect("prescribed");
        assert_eq!(w.level, PrescriptionLevel::Prescribed);
        assert!(w.message.contains("L218-2"), "{}", w.message);
        assert!(
            w.message.contains("mise en demeure does not"),
            "{}",
            w.message
        );
    }

    #[test]
    fn a_recent_business_claim_raises_no_warning() {
        assert_eq!(
            prescription_warning(CustomerKind::Business, d(2025, 1, 31), d(2026, 4, 1)),
            None
        );
        let w = prescription_warning(CustomerKind::Business, d(2021, 5, 1), d(2026, 4, 1))
            .expect("30 days left");
        assert_eq!(w.level, PrescriptionLevel::Within30Days);
        assert!(w.message.contains("L110-4"), "{}", w.message);
    }
}
