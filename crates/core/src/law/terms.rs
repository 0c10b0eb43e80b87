//! Payment-term caps of Code de commerce L441-10 I: 60 days from the invoice date, or 45 days end of month.
//!
//! L441-10 I caps agreed payment terms at 60 days from the invoice date or, if expressly agreed
//! and not manifestly abusive, 45 days end of month. Two readings of "45 jours fin de mois" are in
//! use, and both are accepted in practice:
//! - end of the invoice's month, then 45 days ("fin de mois + 45 jours");
//! - 45 days from the invoice date, then the end of that month ("45 jours + fin de mois").
//!
//! relance cannot know whether the 45-days-end-of-month term was expressly agreed, so a due date
//! within the most generous of the three limits passes; anything later is flagged (a warning, not
//! an error: the invoice is still owed). The default term of 30 days after delivery and the 45 days
//! of periodic invoices are not checked here (they need dates relance does not have).

use chrono::{Datelike, Months, NaiveDate, TimeDelta};
use serde::Serialize;

/// A payment term longer than L441-10 I allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TermWarning {
    /// Days from the invoice date to the due date.
    pub term_days: i64,
    /// The latest due date any reading of the cap allows.
    pub latest_due_date: NaiveDate,
    /// A sentence in English for a person.
    pub message: String,
}

fn end_of_month(date: NaiveDate) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(date.year(), date.month(), 1)?
        .checked_add_months(Months::new(1))?
        .pred_opt()
}

/// Flags a due date beyond the caps of Code de commerce L441-10 I (see the module notes for the
/// two readings of "45 days end of month"). `None` when the term is within them.
pub fn check_payment_terms(issue_date: NaiveDate, due_date: NaiveDate) -> Option<TermWarning> {
    // L441-10 I: 60 days from the invoice date.
    let sixty_days = issue_date.checked_add_signed(TimeDelta::days(60))?;
    // L441-10 I: 45 days end of month, reading 1: end of the invoice's month, then 45 days.
    let eom_then_45 = end_of_month(issue_date)?.checked_add_signed(TimeDelta::days(45))?;
    // Reading 2: 45 days from the invoice date, then the end of that month.
    let plus_45_then_eom = end_of_month(issue_date.checked_add_signed(TimeDelta::days(45))?)?;
    let eom_limit = eom_then_45.max(plus_45_then_eom);
    let latest = sixty_days.max(eom_limit);
    if due_date <= latest {
        return None;
    }
    let term_days = (due_date - issue_date).num_days();
    Some(TermWarning {
        term_days,
        latest_due_date: latest,
        message: format!(
            "The payment term of {term_days} days (invoice dated {issue_date}, due {due_date}) \
             exceeds the cap of Code de commerce L441-10 I: 60 days from the invoice date \
             ({sixty_days}), or 45 days end of month if expressly agreed (at the latest \
             {eom_limit})."
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    #[test]
    fn sixty_days_from_the_invoice_date_is_accepted_and_sixty_one_is_not_when_month_ends_do_not_help(
    ) {
        // Invoice 2025-01-31: 60 days → 2025-04-01; end of January + 45 → 2025-03-17;
        // 2025-01-31 + 45 = 2025-03-17 → end of March 2025-03-31. Latest: 2025-04-01.
        assert_eq!(check_payment_terms(d(2025, 1, 31), d(2025, 4, 1)), None);
        let w = check_payment_terms(d(2025, 1, 31), d(2025, 4, 2)).expect("61 days is too long");
        assert_eq!(w.term_days, 61);
        assert_eq!(w.latest_due_date, d(2025, 4, 1));
        assert!(w.message.contains("61 days"), "{}", w.message);
        assert!(w.message.contains("L441-10 I"), "{}", w.message);
    }

    #[test]
    fn end_of_month_then_forty_five_days_is_accepted() {
        // Invoice 2025-01-02: end of month 2025-01-31 + 45 days = 2025-03-17 (74 days), beyond
        // the 60 days (2025-03-03) but within reading 1.
        assert_eq!(check_payment_terms(d(2025, 1, 2), d(2025, 3, 17)), None);
        // Reading 2: 2025-01-02 + 45 = 2025-02-16 → end of February 2025-02-28: less generous.
        assert!(check_payment_terms(d(2025, 1, 2), d(2025, 3, 18)).is_some());
    }

    #[test]
    fn forty_five_days_then_end_of_month_is_accepted() {
        // Invoice 2025-03-20: + 45 days = 2025-05-04 → end of May 2025-05-31 (72 days). Reading 1:
        // end of March + 45 = 2025-05-15; 60 days: 2025-05-19. Reading 2 is the most generous.
        assert_eq!(check_payment_terms(d(2025, 3, 20), d(2025, 5, 31)), None);
        let w = check_payment_terms(d(2025, 3, 20), d(2025, 6, 1)).expect("beyond every reading");
        assert_eq!(w.term_days, 73);
        assert_eq!(w.latest_due_date, d(2025, 5, 31));
    }

    #[test]
    fn short_terms_and_due_dates_before_the_invoice_are_not_flagged() {
        assert_eq!(check_payment_terms(d(2025, 6, 1), d(2025, 7, 1)), None);
        assert_eq!(check_payment_terms(d(2025, 6, 1), d(2025, 5, 1)), None);
    }
}
