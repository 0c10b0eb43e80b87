//! Calls and texts to a person: what a collector's call can end with, and when a debtor may be
//! called or texted at all.
//!
//! The send window protects the debtor and the creditor alike: no call task and no SMS before
//! 08:00 or after 20:00 creditor time, nor on a Sunday or a public holiday (the French rules on
//! debt collection by telephone, and plain courtesy). E-mails and letters are not bound by it.

use chrono::{Datelike, NaiveDateTime, NaiveTime, Weekday};
use serde::Serialize;

use crate::calendar::BusinessCalendar;

/// How a call to a debtor ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// The debtor promised to pay on a date: the case pauses until then.
    Promised,
    /// The debtor disputes an invoice: it leaves the case until resolved.
    Dispute,
    /// Nobody answered: the task stays open for another try.
    NoAnswer,
    /// The number reached someone else: the task stays open, the number is suspect.
    WrongNumber,
    /// The debtor says they already paid: the case waits for the bank statement.
    Paid,
}

impl CallOutcome {
    pub const ALL: [CallOutcome; 5] = [
        CallOutcome::Promised,
        CallOutcome::Dispute,
        CallOutcome::NoAnswer,
        CallOutcome::WrongNumber,
        CallOutcome::Paid,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            CallOutcome::Promised => "promised",
            CallOutcome::Dispute => "dispute",
            CallOutcome::NoAnswer => "no_answer",
            CallOutcome::WrongNumber => "wrong_number",
            CallOutcome::Paid => "paid",
        }
    }

    pub fn parse(text: &str) -> Option<CallOutcome> {
        let text = text.trim().to_ascii_lowercase().replace('-', "_");
        CallOutcome::ALL.into_iter().find(|o| o.as_str() == text)
    }

    /// Whether the call reached the debtor, and so carried out the call step.
    pub fn reached_someone(&self) -> bool {
        !matches!(self, CallOutcome::NoAnswer | CallOutcome::WrongNumber)
    }
}

/// The first and last minute of the window in which a debtor may be called or texted.
pub const WINDOW_OPENS: NaiveTime = match NaiveTime::from_hms_opt(8, 0, 0) {
    Some(t) => t,
    None => NaiveTime::MIN,
};
pub const WINDOW_CLOSES: NaiveTime = match NaiveTime::from_hms_opt(20, 0, 0) {
    Some(t) => t,
    None => NaiveTime::MIN,
};

/// Whether `local` (creditor time) is inside the call and SMS window: 08:00 to 20:00, not on a
/// Sunday nor on a public holiday of `calendar`. Saturdays are allowed.
pub fn within_send_window(local: NaiveDateTime, calendar: &BusinessCalendar) -> bool {
    let day = local.date();
    let time = local.time();
    day.weekday() != Weekday::Sun
        && !calendar.is_holiday(day)
        && time >= WINDOW_OPENS
        && time < WINDOW_CLOSES
}

/// The first moment at or after `local` inside the window.
pub fn next_send_window(local: NaiveDateTime, calendar: &BusinessCalendar) -> NaiveDateTime {
    if within_send_window(local, calendar) {
        return local;
    }
    let mut day = if local.time() < WINDOW_OPENS {
        local.date()
    } else {
        local.date().succ_opt().unwrap_or(local.date())
    };
    // At most a few days: a Sunday next to holidays (Christmas, Easter Monday, 1 and 8 May).
    for _ in 0..10 {
        if day.weekday() != Weekday::Sun && !calendar.is_holiday(day) {
            break;
        }
        day = day.succ_opt().unwrap_or(day);
    }
    day.and_time(WINDOW_OPENS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|day| day.and_hms_opt(h, min, 0))
            .unwrap_or_default()
    }

    #[test]
    fn the_window_is_eight_to_eight_except_sundays_and_holidays() {
        let cal = BusinessCalendar::new(false);
        // Tuesday 2026-03-10.
        assert!(!within_send_window(at(2026, 3, 10, 7, 59), &cal));
        assert!(within_send_window(at(2026, 3, 10, 8, 0), &cal));
        assert!(within_send_window(at(2026, 3, 10, 19, 59), &cal));
        assert!(!within_send_window(at(2026, 3, 10, 20, 0), &cal));
        // Saturday yes, Sunday no.
        assert!(within_send_window(at(2026, 3, 14, 10, 0), &cal));
        assert!(!within_send_window(at(2026, 3, 15, 10, 0), &cal));
        // Easter Monday 2026-04-06 and 14 July are holidays.
        assert!(!within_send_window(at(2026, 4, 6, 10, 0), &cal));
        assert!(!within_send_window(at(2026, 7, 14, 10, 0), &cal));
    }

    #[test]
    fn the_next_window_skips_nights_sundays_and_holidays() {
        let cal = BusinessCalendar::new(false);
        assert_eq!(
            next_send_window(at(2026, 3, 10, 21, 30), &cal),
            at(2026, 3, 11, 8, 0)
        );
        assert_eq!(
            next_send_window(at(2026, 3, 10, 6, 0), &cal),
            at(2026, 3, 10, 8, 0)
        );
        // Saturday evening before Easter (2026-04-04): Sunday and Easter Monday are skipped.
        assert_eq!(
            next_send_window(at(2026, 4, 4, 20, 15), &cal),
            at(2026, 4, 7, 8, 0)
        );
        // Alsace-Moselle: 26 December is a holiday there, not elsewhere.
        let alsace = BusinessCalendar::new(true);
        assert_eq!(
            next_send_window(at(2026, 12, 25, 9, 0), &alsace),
            at(2026, 12, 28, 8, 0)
        );
        assert_eq!(
            next_send_window(at(2026, 12, 25, 9, 0), &cal),
            at(2026, 12, 26, 8, 0)
        );
    }

    #[test]
    fn outcomes_parse_as_the_command_line_writes_them() {
        assert_eq!(CallOutcome::parse("no-answer"), Some(CallOutcome::NoAnswer));
        assert_eq!(CallOutcome::parse("PROMISED"), Some(CallOutcome::Promised));
        assert_eq!(CallOutcome::parse("maybe"), None);
        assert!(!CallOutcome::WrongNumber.reached_someone());
        assert!(CallOutcome::Paid.reached_someone());
    }
}
