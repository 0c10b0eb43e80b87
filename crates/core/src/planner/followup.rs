//! Follow-ups beyond receivables — quotes, prospects and dormant customers — on the same
//! planner as the dunning cases: the same [`PlannedAction`]s go to the same outbox and timeline.
//!
//! A follow-up is a small ladder of steps counted from one day (the quote's sending, the first
//! contact, the day the customer became dormant), in business days of the creditor's calendar.
//! Like [`plan`](super::plan::plan), [`plan_followup`] is pure and never reads the clock:
//! - at most one step per run; when runs were missed, the most advanced step whose day has come
//!   is carried out and the earlier ones are skipped (a late catch-up never sends two messages);
//! - a follow-up stops for good when it is answered (quote accepted or refused, prospect
//!   replied), when the quote's validity is over, or when the contact opted out of commercial
//!   messages: these are all commercial, unlike receivables and legal letters, which an opt-out
//!   never blocks (they do not come here);
//! - nothing is carried out on a non-business day.
//!
//! The hour a message leaves varies with its idempotency key within the send window of
//! [`crate::calls`] (08:00–20:00), so a sequence never reads as a routine ([`send_time`]).

use chrono::{Datelike, Months, NaiveDate, NaiveDateTime, NaiveTime};
use serde::{Deserialize, Serialize};

use crate::calendar::{add_days, BusinessCalendar};
use crate::ids::{CreditorId, CustomerId};
use crate::money::Money;
use crate::party::CustomerKind;

use super::plan::PlannedAction;
use super::policy::{Channel, Tone};

/// What a follow-up is about. Receivables are the dunning cases of [`super::plan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowUpKind {
    /// A quote sent and not answered yet.
    Quote,
    /// Someone met once (a fair, a call) who may become a customer.
    Prospect,
    /// A customer who stopped ordering.
    Dormant,
}

impl FollowUpKind {
    pub const ALL: [FollowUpKind; 3] = [
        FollowUpKind::Quote,
        FollowUpKind::Prospect,
        FollowUpKind::Dormant,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            FollowUpKind::Quote => "quote",
            FollowUpKind::Prospect => "prospect",
            FollowUpKind::Dormant => "dormant",
        }
    }

    pub fn parse(text: &str) -> Option<FollowUpKind> {
        let t = text.trim().to_ascii_lowercase();
        FollowUpKind::ALL.into_iter().find(|k| k.as_str() == t)
    }

    /// Commercial messages carry an unsubscribe link and are never sent after an opt-out. All
    /// three kinds are; receivables are not.
    pub fn is_commercial(&self) -> bool {
        true
    }

    /// The default sequence of the kind.
    pub fn sequence(&self) -> &'static [FollowUpStep] {
        match self {
            FollowUpKind::Quote => QUOTE_STEPS,
            FollowUpKind::Prospect => PROSPECT_STEPS,
            FollowUpKind::Dormant => DORMANT_STEPS,
        }
    }
}

/// Where a follow-up stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowUpStatus {
    /// Still followed.
    Open,
    /// The quote was accepted.
    Accepted,
    /// The quote was refused.
    Refused,
    /// The quote's validity is over.
    Expired,
    /// The prospect (or customer) answered.
    Replied,
    /// The contact asked for no more commercial messages.
    OptedOut,
    /// Every step was carried out.
    Done,
}

impl FollowUpStatus {
    pub const ALL: [FollowUpStatus; 7] = [
        FollowUpStatus::Open,
        FollowUpStatus::Accepted,
        FollowUpStatus::Refused,
        FollowUpStatus::Expired,
        FollowUpStatus::Replied,
        FollowUpStatus::OptedOut,
        FollowUpStatus::Done,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            FollowUpStatus::Open => "open",
            FollowUpStatus::Accepted => "accepted",
            FollowUpStatus::Refused => "refused",
            FollowUpStatus::Expired => "expired",
            FollowUpStatus::Replied => "replied",
            FollowUpStatus::OptedOut => "opted_out",
            FollowUpStatus::Done => "done",
        }
    }

    pub fn parse(text: &str) -> Option<FollowUpStatus> {
        let t = text.trim().to_ascii_lowercase();
        FollowUpStatus::ALL.into_iter().find(|s| s.as_str() == t)
    }
}

/// When a step falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepTiming {
    /// This many business days after the start.
    BusinessDaysAfterStart(u32),
    /// Between `min` and `max` calendar days after the start (moved to a business day), the
    /// day chosen from the follow-up's key so that two prospects met the same day are not
    /// written to on the same day.
    DaysAfterStartBetween { min: u32, max: u32 },
    /// This many business days after the previous step was carried out.
    BusinessDaysAfterPrevious(u32),
    /// This many business days before the quote's last valid day.
    BusinessDaysBeforeValidity(u32),
}

/// One step of a follow-up sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FollowUpStep {
    /// Also the template's name (`crates/render/templates/*/followup/STEP.txt`).
    pub name: &'static str,
    pub timing: StepTiming,
    /// `Email` steps go by letter to a contact without an e-mail address; `Task` is a call for a
    /// person to make.
    pub channel: Channel,
    /// What the message is for, in one English phrase (the templates say it in each language).
    pub purpose: &'static str,
}

/// Quotes: a reminder 3 business days after sending, a call task after 7, a last message 3
/// business days before the validity ends.
pub const QUOTE_STEPS: &[FollowUpStep] = &[
    FollowUpStep {
        name: "quote_reminder",
        timing: StepTiming::BusinessDaysAfterStart(3),
        channel: Channel::Email,
        purpose: "check that the quote arrived and answer questions",
    },
    FollowUpStep {
        name: "quote_call",
        timing: StepTiming::BusinessDaysAfterStart(7),
        channel: Channel::Task,
        purpose: "call about the quote",
    },
    FollowUpStep {
        name: "quote_last",
        timing: StepTiming::BusinessDaysBeforeValidity(3),
        channel: Channel::Email,
        purpose: "say the quote is about to lapse",
    },
];

/// Prospects: news of the file the next business day, the offer's reception 7–10 days later,
/// then a call about an agreement before signing.
pub const PROSPECT_STEPS: &[FollowUpStep] = &[
    FollowUpStep {
        name: "prospect_news",
        timing: StepTiming::BusinessDaysAfterStart(1),
        channel: Channel::Email,
        purpose: "news of the file after the first contact",
    },
    FollowUpStep {
        name: "prospect_offer",
        timing: StepTiming::DaysAfterStartBetween { min: 7, max: 10 },
        channel: Channel::Email,
        purpose: "check that the offer was received",
    },
    FollowUpStep {
        name: "prospect_call",
        timing: StepTiming::BusinessDaysAfterPrevious(3),
        channel: Channel::Task,
        purpose: "call to agree before signing",
    },
];

/// Dormant customers: one reactivation message.
pub const DORMANT_STEPS: &[FollowUpStep] = &[FollowUpStep {
    name: "dormant_reactivation",
    timing: StepTiming::BusinessDaysAfterStart(0),
    channel: Channel::Email,
    purpose: "offer to work together again",
}];

/// A step carried out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpDone {
    pub step: String,
    pub on: NaiveDate,
}

/// One follow-up as the planner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUp {
    /// The store's id; part of the idempotency key.
    pub id: i64,
    pub creditor: CreditorId,
    pub customer: CustomerId,
    pub customer_code: String,
    pub customer_kind: CustomerKind,
    pub has_email: bool,
    pub kind: FollowUpKind,
    /// The quote's number; for a prospect or a dormant customer, what the store names it by.
    pub reference: String,
    /// The quote's sending, the first contact, the day the customer became dormant.
    pub started_on: NaiveDate,
    /// A quote's last valid day.
    pub valid_until: Option<NaiveDate>,
    /// A quote's amount (zero otherwise).
    pub amount: Money,
    pub status: FollowUpStatus,
    /// The contact opted out of commercial messages.
    pub opted_out: bool,
    /// Why nothing may be sent today although the follow-up goes on (a dormant customer with an
    /// open dispute or an overdue balance): looked at again the next business day.
    pub hold: Option<String>,
    pub done: Vec<FollowUpDone>,
}

/// What [`plan_followup`] decided on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUpPlan {
    pub as_of: NaiveDate,
    /// The status once the day is over (`Expired`, `OptedOut` or `Done` when it changed).
    pub status: FollowUpStatus,
    /// At most one.
    pub actions: Vec<PlannedAction>,
    /// Steps passed over because a later one's day had come too.
    pub skipped: Vec<String>,
    /// Why the follow-up stopped today, when it did.
    pub stopped: Option<String>,
    /// The next day a step falls, once today's is done; `None` when it is over.
    pub next_action_on: Option<NaiveDate>,
}

/// The day step `index` of `followup` falls on (a business day), given what was done.
pub fn step_day(
    followup: &FollowUp,
    calendar: &BusinessCalendar,
    index: usize,
    previous_done: Option<NaiveDate>,
) -> Option<NaiveDate> {
    let step = followup.kind.sequence().get(index)?;
    let start = followup.started_on;
    let day = match step.timing {
        StepTiming::BusinessDaysAfterStart(0) => calendar.next_business_day_on_or_after(start),
        StepTiming::BusinessDaysAfterStart(n) => calendar.add_business_days(start, i64::from(n)),
        StepTiming::DaysAfterStartBetween { min, max } => {
            let spread = u64::from(max.saturating_sub(min)) + 1;
            let offset = min + u32::try_from(stable_hash(&base_key(followup)) % spread).ok()?;
            calendar.next_business_day_on_or_after(add_days(start, i64::from(offset)))
        }
        StepTiming::BusinessDaysAfterPrevious(n) => {
            calendar.add_business_days(previous_done?, i64::from(n))
        }
        StepTiming::BusinessDaysBeforeValidity(n) => {
            let until = followup.valid_until?;
            let mut day = until;
            let mut left = n;
            while left > 0 {
                day = day.pred_opt()?;
                if calendar.is_business_day(day) {
                    left -= 1;
                }
            }
            if !calendar.is_business_day(day) {
                // Before the lapse, not after it: the previous business day.
                while !calendar.is_business_day(day) {
                    day = day.pred_opt()?;
                }
            }
            day
        }
    };
    Some(day)
}

fn base_key(followup: &FollowUp) -> String {
    format!(
        "{}:{}:{}",
        followup.creditor.0,
        followup.kind.as_str(),
        followup.id
    )
}

/// The idempotency key of a step: unique per creditor, follow-up and step.
pub fn followup_key(followup: &FollowUp, step: &str) -> String {
    format!(
        "fu:{}:{}:{}:{}",
        followup.creditor.0,
        followup.kind.as_str(),
        followup.id,
        step
    )
}

/// FNV-1a: a hash that never changes between builds (the std hasher may), so a replay picks
/// the same days and hours.
pub fn stable_hash(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// When a message planned on `day` with idempotency key `key` leaves, in creditor time: an hour
/// between 09:00 and 18:59 (inside the 08:00–20:00 send window, with room for retries) chosen
/// from the key, so two messages of a sequence do not leave at the same hour.
pub fn send_time(key: &str, day: NaiveDate) -> NaiveDateTime {
    let hash = stable_hash(key);
    let minutes = u32::try_from(hash % (10 * 60)).unwrap_or(0);
    let time = NaiveTime::from_hms_opt(9 + minutes / 60, minutes % 60, 0).unwrap_or(NaiveTime::MIN);
    day.and_time(time)
}

/// Plans `followup` on day `as_of`. Pure: the same inputs always give the same plan.
pub fn plan_followup(
    followup: &FollowUp,
    calendar: &BusinessCalendar,
    as_of: NaiveDate,
) -> FollowUpPlan {
    let mut result = FollowUpPlan {
        as_of,
        status: followup.status,
        actions: Vec::new(),
        skipped: Vec::new(),
        stopped: None,
        next_action_on: None,
    };
    if followup.status != FollowUpStatus::Open {
        return result;
    }
    if followup.opted_out {
        result.status = FollowUpStatus::OptedOut;
        result.stopped = Some("the contact opted out of commercial messages".into());
        return result;
    }
    if let Some(until) = followup.valid_until {
        if as_of > until {
            result.status = FollowUpStatus::Expired;
            result.stopped = Some(format!("the quote's validity ended on {until}"));
            return result;
        }
    }
    if followup.hold.is_some() {
        result.next_action_on = as_of
            .succ_opt()
            .map(|d| calendar.next_business_day_on_or_after(d));
        return result;
    }
    let steps = followup.kind.sequence();
    let first = next_index(followup);
    if first >= steps.len() {
        result.status = FollowUpStatus::Done;
        return result;
    }
    // The most advanced step whose day has come (on a business day only). A step counted from
    // the previous one can only be the first not done: the previous one is not done yet
    // otherwise.
    let mut fire: Option<(usize, NaiveDate)> = None;
    if calendar.is_business_day(as_of) {
        let last_done = followup.done.last().map(|d| d.on);
        for index in first..steps.len() {
            let previous = if index == first { last_done } else { None };
            if let Some(day) = step_day(followup, calendar, index, previous) {
                if day <= as_of {
                    fire = Some((index, day));
                }
            }
        }
    }
    if let Some((index, _)) = fire {
        result.skipped = steps[first..index]
            .iter()
            .map(|s| s.name.to_string())
            .collect();
    }
    let mut after = followup.clone();
    if let Some((index, due_on)) = fire {
        let step = &steps[index];
        result
            .actions
            .push(action(followup, step, index, due_on, as_of));
        for name in &result.skipped {
            after.done.push(FollowUpDone {
                step: name.clone(),
                on: as_of,
            });
        }
        after.done.push(FollowUpDone {
            step: step.name.to_string(),
            on: as_of,
        });
    }
    result.next_action_on = next_day(&after, calendar, as_of);
    if result.next_action_on.is_none() && next_index(&after) >= steps.len() {
        result.status = FollowUpStatus::Done;
    } else if result.next_action_on.is_none() {
        if let Some(until) = after.valid_until {
            // Nothing left before the lapse: look again the day after, to record the expiry.
            result.next_action_on = until.succ_opt();
        }
    }
    result
}

/// The index of the first step not carried out (nor skipped).
fn next_index(followup: &FollowUp) -> usize {
    let steps = followup.kind.sequence();
    followup
        .done
        .iter()
        .filter_map(|d| steps.iter().position(|s| s.name == d.step))
        .max()
        .map_or(0, |i| i + 1)
}

/// The first business day after `today` on which a step of `followup` falls, if any, before the
/// quote's validity ends.
fn next_day(
    followup: &FollowUp,
    calendar: &BusinessCalendar,
    today: NaiveDate,
) -> Option<NaiveDate> {
    let first = next_index(followup);
    let last_done = followup.done.last().map(|d| d.on);
    let day = (first..followup.kind.sequence().len())
        .filter_map(|index| {
            let previous = if index == first { last_done } else { None };
            step_day(followup, calendar, index, previous)
        })
        .min()?;
    let tomorrow = today.succ_opt()?;
    let day = calendar.next_business_day_on_or_after(day.max(tomorrow));
    match followup.valid_until {
        Some(until) if day > until => None,
        _ => Some(day),
    }
}

fn action(
    followup: &FollowUp,
    step: &FollowUpStep,
    index: usize,
    due_on: NaiveDate,
    as_of: NaiveDate,
) -> PlannedAction {
    let channel = match step.channel {
        // Commercial letters are not sent: a person reaches a contact without e-mail.
        Channel::Email if !followup.has_email => Channel::Task,
        other => other,
    };
    let what = match followup.kind {
        FollowUpKind::Quote => format!("quote {}", followup.reference),
        FollowUpKind::Prospect => format!("prospect first met on {}", followup.started_on),
        FollowUpKind::Dormant => format!(
            "no invoice since {}",
            followup
                .reference
                .strip_prefix("dormant-since-")
                .and_then(|rest| rest.get(..10))
                .unwrap_or(&followup.reference)
        ),
    };
    let late = if due_on < as_of {
        format!(" (due {due_on})")
    } else {
        String::new()
    };
    PlannedAction {
        key: followup_key(followup, step.name),
        on: as_of,
        due_on,
        creditor: followup.creditor,
        customer: followup.customer,
        customer_code: followup.customer_code.clone(),
        customer_kind: followup.customer_kind,
        policy: format!("followup:{}", followup.kind.as_str()),
        step: step.name.to_string(),
        step_number: index + 1,
        cycle: 1,
        is_notice: false,
        channels: vec![channel],
        template: step.name.to_string(),
        tone: Tone::Friendly,
        attach_statement: false,
        invoices: vec![followup.reference.clone()],
        item_ids: Vec::new(),
        amount_due: followup.amount,
        reason: format!(
            "{} follow-up, step {} of {}: {} — {what}{late}",
            followup.kind.as_str(),
            index + 1,
            followup.kind.sequence().len(),
            step.purpose
        ),
        experiment: None,
        variant: None,
        send_hour: None,
    }
}

/// When a customer with these invoices counts as dormant: the later of `min_months` after the
/// last invoice and twice their usual ordering interval (the mean gap between their first and
/// last invoices) after it. `None` without any invoice.
pub fn dormant_from(
    first_invoice: NaiveDate,
    last_invoice: NaiveDate,
    invoices: u64,
    min_months: u32,
) -> Option<NaiveDate> {
    let by_months = last_invoice.checked_add_months(Months::new(min_months))?;
    if invoices < 2 {
        return Some(by_months);
    }
    let span = (last_invoice - first_invoice).num_days().max(0);
    let gaps = i64::try_from(invoices - 1).ok()?;
    // Twice the mean interval, rounded up to a whole day.
    let twice = (2 * span + gaps - 1) / gaps;
    Some(by_months.max(add_days(last_invoice, twice)))
}

/// Whether a customer is due a reactivation message on `as_of`: dormant by [`dormant_from`],
/// with no open dispute and nothing overdue.
pub fn is_dormant(
    dormant_from: Option<NaiveDate>,
    open_dispute: bool,
    overdue: bool,
    as_of: NaiveDate,
) -> bool {
    !open_dispute && !overdue && dormant_from.is_some_and(|d| d <= as_of)
}

/// The next day a customer's dormancy must be looked at again, when nothing about their case
/// changes meanwhile: the day they turn dormant (by [`dormant_from`], if still to come) or the
/// issue date of their next invoice dated after `as_of` (from then on it counts), whichever
/// comes first. `None` when only a change of their case (an invoice, a payment, a dispute
/// resolved) can change whether they are due a reactivation message: a daily run then need
/// not look at them at all.
pub fn dormancy_next_check(
    invoices_until_as_of: Option<(NaiveDate, NaiveDate, u64)>,
    next_issue: Option<NaiveDate>,
    min_months: u32,
    as_of: NaiveDate,
) -> Option<NaiveDate> {
    let turns_dormant = invoices_until_as_of
        .filter(|(_, _, count)| *count > 0)
        .and_then(|(first, last, count)| dormant_from(first, last, count, min_months))
        .filter(|day| *day > as_of);
    match (turns_dormant, next_issue.filter(|day| *day > as_of)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The reference of a dormancy: one per last invoice, so a customer who orders again and goes
/// quiet again gets one new message, never two for the same silence.
pub fn dormant_reference(last_invoice: NaiveDate) -> String {
    format!(
        "dormant-since-{:04}-{:02}-{:02}",
        last_invoice.year(),
        last_invoice.month(),
        last_invoice.day()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::Currency;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn next_dormancy_check_is_the_day_they_turn_dormant_or_their_next_invoice() {
        let as_of = d("2026-11-25");
        // Last invoice in October: dormant six months later.
        let history = Some((d("2026-01-10"), d("2026-10-05"), 10));
        assert_eq!(
            dormancy_next_check(history, None, 6, as_of),
            Some(d("2027-04-05"))
        );
        // An invoice dated in December counts from its issue date: look again then.
        assert_eq!(
            dormancy_next_check(history, Some(d("2026-12-01")), 6, as_of),
            Some(d("2026-12-01"))
        );
        // Already dormant: only a change of the case (or the next invoice) matters.
        let quiet = Some((d("2024-01-10"), d("2025-01-05"), 3));
        assert_eq!(dormancy_next_check(quiet, None, 6, as_of), None);
        assert_eq!(
            dormancy_next_check(quiet, Some(d("2027-02-01")), 6, as_of),
            Some(d("2027-02-01"))
        );
        // Turning dormant today is not "to come": today's run looks at them.
        let today = Some((d("2026-05-25"), d("2026-05-25"), 1));
        assert_eq!(dormancy_next_check(today, None, 6, as_of), None);
        // No invoice yet.
        assert_eq!(dormancy_next_check(None, None, 6, as_of), None);
        // Twelve invoices over 669 days: twice the mean interval (122 days) is longer than
        // one month, so it decides.
        let steady = Some((d("2025-01-01"), d("2026-11-01"), 12));
        assert_eq!(
            dormancy_next_check(steady, None, 1, as_of),
            Some(d("2027-03-03"))
        );
    }

    fn followup(kind: FollowUpKind, started: &str, valid: Option<&str>) -> FollowUp {
        FollowUp {
            id: 7,
            creditor: CreditorId(1),
            customer: CustomerId(2),
            customer_code: "C1".into(),
            customer_kind: CustomerKind::Business,
            has_email: true,
            kind,
            reference: "Q-1".into(),
            started_on: d(started),
            valid_until: valid.map(d),
            amount: Money::zero(Currency::EUR),
            status: FollowUpStatus::Open,
            opted_out: false,
            hold: None,
            done: Vec::new(),
        }
    }

    /// Runs every day from `from` to `to`, applying each plan; returns `day step` lines.
    fn replay(mut f: FollowUp, from: &str, to: &str) -> (Vec<String>, FollowUp) {
        let calendar = BusinessCalendar::new(false);
        let mut day = d(from);
        let mut out = Vec::new();
        while day <= d(to) {
            let plan = plan_followup(&f, &calendar, day);
            for a in &plan.actions {
                out.push(format!("{} {} {}", a.on, a.step, a.channels[0].as_str()));
                f.done.push(FollowUpDone {
                    step: a.step.clone(),
                    on: day,
                });
            }
            for s in &plan.skipped {
                f.done.push(FollowUpDone {
                    step: s.clone(),
                    on: day,
                });
            }
            f.status = plan.status;
            day = day.succ_opt().expect("day");
        }
        (out, f)
    }

    #[test]
    fn quote_sequence_by_hand() {
        // Sent Monday 2 March 2026, valid until Tuesday 31 March.
        let f = followup(FollowUpKind::Quote, "2026-03-02", Some("2026-03-31"));
        let (out, f) = replay(f, "2026-03-02", "2026-04-15");
        assert_eq!(
            out,
            vec![
                "2026-03-05 quote_reminder email",
                "2026-03-11 quote_call task",
                "2026-03-26 quote_last email",
            ]
        );
        assert_eq!(f.status, FollowUpStatus::Done);
    }

    #[test]
    fn quote_expires_and_accepted_stops() {
        let mut f = followup(FollowUpKind::Quote, "2026-03-02", Some("2026-03-06"));
        let (out, after) = replay(f.clone(), "2026-03-02", "2026-03-20");
        // Validity ends Friday 6: the last message (3 business days before) is due Tuesday 3,
        // so the reminder of Thursday 5 is passed over; nothing after the lapse.
        assert_eq!(out, vec!["2026-03-03 quote_last email"]);
        assert_eq!(after.status, FollowUpStatus::Done);
        f.status = FollowUpStatus::Accepted;
        let (out, _) = replay(f, "2026-03-02", "2026-03-20");
        assert!(out.is_empty());
    }

    #[test]
    fn quote_expiry_is_recorded() {
        let f = followup(FollowUpKind::Quote, "2026-03-02", Some("2026-04-30"));
        let calendar = BusinessCalendar::new(false);
        let plan = plan_followup(&f, &calendar, d("2026-05-01"));
        assert_eq!(plan.status, FollowUpStatus::Expired);
        assert!(plan.actions.is_empty());
    }

    #[test]
    fn prospect_sequence_and_varying_hours() {
        // First met Thursday 9 April 2026.
        let f = followup(FollowUpKind::Prospect, "2026-04-09", None);
        let (out, _) = replay(f.clone(), "2026-04-09", "2026-05-31");
        assert_eq!(out.len(), 3, "{out:?}");
        assert_eq!(out[0], "2026-04-10 prospect_news email");
        let offer = d(&out[1][..10]);
        assert!(
            offer >= d("2026-04-16") && offer <= d("2026-04-20"),
            "{offer}"
        );
        assert!(out[1].ends_with("prospect_offer email"));
        assert!(out[2].ends_with("prospect_call task"));
        // The hours differ within a sequence and stay inside the window.
        let hours: Vec<_> = ["prospect_news", "prospect_offer"]
            .iter()
            .map(|s| send_time(&followup_key(&f, s), offer))
            .collect();
        assert_ne!(hours[0], hours[1]);
        for h in hours {
            assert!(h.time() >= NaiveTime::from_hms_opt(9, 0, 0).expect("t"));
            assert!(h.time() < NaiveTime::from_hms_opt(19, 0, 0).expect("t"));
        }
        // And the offer's day varies between prospects met the same day.
        let days: std::collections::HashSet<_> = (1..40)
            .map(|id| {
                let mut g = f.clone();
                g.id = id;
                step_day(&g, &BusinessCalendar::new(false), 1, None)
            })
            .collect();
        assert!(days.len() > 1);
    }

    #[test]
    fn opt_out_and_reply_stop_at_once() {
        let mut f = followup(FollowUpKind::Prospect, "2026-04-09", None);
        f.opted_out = true;
        let calendar = BusinessCalendar::new(false);
        let plan = plan_followup(&f, &calendar, d("2026-04-10"));
        assert!(plan.actions.is_empty());
        assert_eq!(plan.status, FollowUpStatus::OptedOut);
        f.opted_out = false;
        f.status = FollowUpStatus::Replied;
        assert!(plan_followup(&f, &calendar, d("2026-04-10"))
            .actions
            .is_empty());
    }

    #[test]
    fn nothing_on_a_sunday_nor_twice() {
        let f = followup(FollowUpKind::Dormant, "2026-04-05", None);
        let calendar = BusinessCalendar::new(false);
        // Easter Sunday, then Easter Monday (holiday): first business day is Tuesday 7.
        assert!(plan_followup(&f, &calendar, d("2026-04-05"))
            .actions
            .is_empty());
        assert!(plan_followup(&f, &calendar, d("2026-04-06"))
            .actions
            .is_empty());
        let (out, f) = replay(f, "2026-04-05", "2026-06-30");
        assert_eq!(out, vec!["2026-04-07 dormant_reactivation email"]);
        assert_eq!(f.status, FollowUpStatus::Done);
    }

    #[test]
    fn dormancy_threshold() {
        // One invoice: six months.
        assert_eq!(
            dormant_from(d("2026-01-15"), d("2026-01-15"), 1, 6),
            Some(d("2026-07-15"))
        );
        // Monthly orders: six months wins.
        assert_eq!(
            dormant_from(d("2025-01-15"), d("2026-01-15"), 13, 6),
            Some(d("2026-07-15"))
        );
        // One order a year: twice the mean interval (731 days: 2024 is a leap year) wins.
        assert_eq!(
            dormant_from(d("2024-01-15"), d("2026-01-15"), 3, 6),
            Some(d("2028-01-16"))
        );
        let from = dormant_from(d("2026-01-15"), d("2026-01-15"), 1, 6);
        assert!(is_dormant(from, false, false, d("2026-07-15")));
        assert!(!is_dormant(from, false, false, d("2026-07-14")));
        assert!(!is_dormant(from, true, false, d("2026-08-01")));
        assert!(!is_dormant(from, false, true, d("2026-08-01")));
    }

    #[test]
    fn no_email_becomes_a_task_and_a_hold_waits() {
        let mut f = followup(FollowUpKind::Dormant, "2026-04-07", None);
        f.has_email = false;
        let plan = plan_followup(&f, &BusinessCalendar::new(false), d("2026-04-07"));
        assert_eq!(plan.actions[0].channels, vec![Channel::Task]);
        f.hold = Some("an invoice is overdue".into());
        let held = plan_followup(&f, &BusinessCalendar::new(false), d("2026-04-10"));
        assert!(held.actions.is_empty());
        assert_eq!(held.next_action_on, Some(d("2026-04-13")));
        assert_eq!(held.status, FollowUpStatus::Open);
        assert!(plan.actions[0]
            .reason
            .contains("offer to work together again"));
    }
}
