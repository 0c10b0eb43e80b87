//! The pure planner: what a case is due on a given day, and the next day it will need attention.
//!
//! One function decides when the next step of a case falls ([`case_step_due`]) and one when an
//! invoice's before-due notice falls; both take a lower bound `from`. `plan` fires what falls on
//! `as_of`, and `next_action_on` is the smallest date they give from the next day on. Because the
//! two share that code, a daily run over every case and an incremental run over the cases whose
//! `next_action_on` has come give the same actions (tested in `tests/planner_properties.rs`).
//!
//! Rules (DESIGN.md, "Rules that always hold"):
//! - at most one case step per run, the next one in the ladder, if its date has come;
//! - the first step counts from the oldest chased invoice's due date, later ones from the day the
//!   previous one was carried out; dates move to the next business day; runs on non-business days
//!   carry out nothing;
//! - chased = open, not disputed, overdue invoices in the case currency, less available credits;
//!   below the policy minimum (or nothing) the case is not chased and its cycle ends;
//! - a promise pauses the case from the day it was made until the business day after the promised
//!   date; if not kept, the next step is due that day; holds pause likewise; a step whose date
//!   falls in a pause waits for its end;
//! - when resolving a dispute ends a pause, the next step is due on the day of resolution.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::calendar::{add_days, BusinessCalendar};
use crate::ids::{CreditorId, CustomerId, ItemId};
use crate::ledger::ItemKind;
use crate::money::Money;
use crate::party::CustomerKind;

use super::case::{CaseItem, CaseState};
use super::policy::{Anchor, Channel, Policy, Step, Tone, Variant};

/// One thing a run does: a message on one or more channels, a call or a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedAction {
    /// Unique per creditor, customer (and invoice for per-invoice cases), step and dunning
    /// cycle; the store puts a unique constraint on it.
    pub key: String,
    /// The day of the run that carries it out (`date` in `relance run --json`).
    pub on: NaiveDate,
    /// The day it fell due; earlier than `on` when runs were missed or a pause delayed it.
    pub due_on: NaiveDate,
    pub creditor: CreditorId,
    pub customer: CustomerId,
    pub customer_code: String,
    pub customer_kind: CustomerKind,
    pub policy: String,
    pub step: String,
    /// 1-based position of the step in the policy, as people see it when editing it.
    pub step_number: usize,
    /// Dunning cycle of a case step; for a before-due notice, the case's current cycle number.
    pub cycle: u32,
    /// A before-due notice (belongs to its invoice), not a case step.
    pub is_notice: bool,
    pub channels: Vec<Channel>,
    pub template: String,
    pub tone: Tone,
    /// Numbers of the invoices the message lists, oldest due first.
    pub invoices: Vec<String>,
    pub item_ids: Vec<ItemId>,
    /// Open principal of the listed invoices (penalties excluded).
    pub amount_due: Money,
    /// Why, in one English sentence, for the timeline and `--dry-run`.
    pub reason: String,
    /// The step sends the customer's statement of account with its message
    /// ([`Step::attach_statement`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub attach_statement: bool,
    /// The experiment the step runs and the customer's arm in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<Variant>,
    /// The hour (creditor time) the messages wait for, set by an experiment's variant B.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_hour: Option<u8>,
}

impl PlannedAction {
    /// One line for logs, dry runs and scenario tests:
    /// `2026-03-11 C001 first_reminder email F-1 1200.00 EUR`.
    pub fn summary(&self) -> String {
        let channels: Vec<&str> = self.channels.iter().map(|c| c.as_str()).collect();
        format!(
            "{} {} {} {} {} {}",
            self.on,
            self.customer_code,
            self.step,
            channels.join("+"),
            self.invoices.join(","),
            self.amount_due
        )
    }
}

/// Where a case stands on the day of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// No open overdue amount (paid, credited, written off, or not yet due): closed.
    NothingOverdue,
    /// Something is overdue but the customer total is under the policy minimum: not chased.
    BelowMinimum,
    /// Only disputed invoices are overdue: paused until a dispute is resolved.
    Disputed,
    /// Being chased; its next step waits for its date (or a promise, or a hold).
    Active,
    /// Being chased and every step of the ladder was carried out.
    Exhausted,
}

/// What `plan` decided for one case on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CasePlan {
    pub as_of: NaiveDate,
    pub status: CaseStatus,
    /// Notices first, then at most one case step.
    pub actions: Vec<PlannedAction>,
    /// The current dunning cycle is over (nothing left to chase): forget its history.
    pub ends_cycle: bool,
    /// The next day anything is due once these actions are carried out, assuming nothing
    /// changes meanwhile (any import, payment, promise, dispute or hold calls
    /// [`CaseState::refresh`] again). `None`: nothing will ever be due as things stand.
    pub next_action_on: Option<NaiveDate>,
}

/// Plans the runs of day `as_of` for one case. Pure: the same inputs always give the same plan.
pub fn plan(
    case: &CaseState,
    policy: &Policy,
    calendar: &BusinessCalendar,
    as_of: NaiveDate,
) -> CasePlan {
    let mut actions = Vec::new();
    for (number, step) in policy.notice_steps() {
        for item in sorted_items(case) {
            let due = notice_due(case, policy, calendar, step, item, as_of);
            if let Some((due_on, on)) = due {
                if on == as_of {
                    actions.push(notice_action(
                        case, policy, number, step, item, due_on, as_of,
                    ));
                }
            }
        }
    }
    let status = status_on(case, policy, as_of);
    let ends_cycle = matches!(
        status,
        CaseStatus::NothingOverdue | CaseStatus::BelowMinimum
    ) && !case.history.is_empty();
    if status == CaseStatus::Active {
        if let Some(due) = case_step_due(case, policy, calendar, as_of) {
            if due.on == as_of {
                actions.extend(case_action(case, policy, &due, as_of));
            }
        }
    }
    let mut result = CasePlan {
        as_of,
        status,
        actions,
        ends_cycle,
        next_action_on: None,
    };
    let mut after = case.clone();
    after.apply_plan(&result);
    result.next_action_on = as_of
        .succ_opt()
        .and_then(|tomorrow| next_action_on(&after, policy, calendar, tomorrow));
    result
}

/// The first day on or after `from` on which [`plan`] would produce an action for `case` as it
/// stands (call [`CaseState::refresh`] rather than this after a change, so that a finished
/// cycle is forgotten first).
pub fn next_action_on(
    case: &CaseState,
    policy: &Policy,
    calendar: &BusinessCalendar,
    from: NaiveDate,
) -> Option<NaiveDate> {
    let notices = policy.notice_steps().flat_map(|(_, step)| {
        case.items
            .iter()
            .filter_map(move |item| notice_due(case, policy, calendar, step, item, from))
            .map(|(_, on)| on)
    });
    let step = case_step_due(case, policy, calendar, from).map(|due| due.on);
    notices.chain(step).min()
}

/// Where the case stands on `day`.
pub fn status_on(case: &CaseState, policy: &Policy, day: NaiveDate) -> CaseStatus {
    if is_chasing(case, policy, day) {
        return if next_step(case, policy).is_some() {
            CaseStatus::Active
        } else {
            CaseStatus::Exhausted
        };
    }
    let disputed = case.items.iter().any(|i| {
        i.kind == ItemKind::Invoice
            && i.open.currency == case.currency
            && i.open.is_positive()
            && i.disputed
            && i.due_date < day
    });
    if disputed {
        CaseStatus::Disputed
    } else if overdue_total(case, day) > Decimal::ZERO {
        CaseStatus::BelowMinimum
    } else {
        CaseStatus::NothingOverdue
    }
}

/// The next rung of the ladder for this case, with its 1-based position in the policy.
pub fn next_step<'p>(case: &CaseState, policy: &'p Policy) -> Option<(usize, &'p Step)> {
    let steps: Vec<(usize, &Step)> = policy.case_steps().collect();
    match case.history.last() {
        None => steps.first().copied(),
        Some(last) => {
            // A history written under another version of the policy: go by count.
            let index = steps
                .iter()
                .position(|(_, s)| s.id == last.step)
                .unwrap_or(case.history.len().saturating_sub(1));
            steps.get(index + 1).copied()
        }
    }
}

/// Why a case step falls on its date; shown in the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueCause {
    /// The ladder's own delays.
    Schedule,
    /// A promise to pay for this date was not kept.
    BrokenPromise(NaiveDate),
    /// Resolving a dispute ended a pause.
    DisputeResolved,
}

/// When the next case step falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepDue {
    pub step_number: usize,
    /// The first day it could be carried out.
    pub due_on: NaiveDate,
    /// The first day on or after the `from` bound it can be carried out.
    pub on: NaiveDate,
    pub cause: DueCause,
}

/// When the next case step falls, not before `from`; `None` when no step will come as
/// things stand (ladder finished, nothing worth chasing now or later).
pub fn case_step_due(
    case: &CaseState,
    policy: &Policy,
    calendar: &BusinessCalendar,
    from: NaiveDate,
) -> Option<StepDue> {
    let (step_number, step) = next_step(case, policy)?;
    let start = chase_start(case, policy)?;
    let oldest_due = case
        .items
        .iter()
        .filter(|i| chaseable(case, i))
        .map(|i| i.due_date)
        .min()?;
    let last = case.history.last().map(|h| h.on);
    let offset_days = step
        .as_variant(step.variant_for(&case.customer.code))
        .0
        .offset_days;
    let mut base = match (step.anchor, last) {
        (Anchor::PreviousStep, Some(l)) => add_days(l, offset_days),
        _ => add_days(oldest_due, offset_days),
    };
    if let Some(l) = last {
        // Never two steps on one day, whatever the policy says.
        base = base.max(add_days(l, 1));
    }
    base = calendar.next_business_day_on_or_after(base);
    let mut cause = DueCause::Schedule;
    // A pause only concerns the chase under way: one that ended before the oldest chased
    // invoice was even due (left over from a case since paid) is ignored.
    let current = |r: &NaiveDate| *r > oldest_due && last.is_none_or(|l| *r > l);
    let resume = case.resume_on.filter(current);
    if let Some(r) = resume {
        base = r;
        cause = DueCause::DisputeResolved;
    }
    let promise = case
        .promise
        .as_ref()
        .map(|p| (p, p.resumes_on(calendar)))
        .filter(|(_, r)| current(r));
    let mut blocks: Vec<(NaiveDate, NaiveDate)> =
        case.holds.iter().map(|h| (h.from, h.until)).collect();
    if let Some((p, r)) = promise {
        blocks.push((p.made_on, r));
        if p.is_kept() {
            base = base.max(r);
        } else {
            base = resume.map_or(r, |x| x.max(r));
            cause = DueCause::BrokenPromise(p.promised_for);
        }
    }
    let earliest = base.max(start);
    Some(StepDue {
        step_number,
        due_on: first_open_day(calendar, earliest, &blocks),
        on: first_open_day(calendar, earliest.max(from), &blocks),
        cause,
    })
}

/// True when the case has something worth chasing on `day`: overdue, undisputed, net of
/// credits, positive and at least the policy minimum.
pub fn is_chasing(case: &CaseState, policy: &Policy, day: NaiveDate) -> bool {
    let total = overdue_total(case, day);
    total > Decimal::ZERO && meets_minimum(case, policy, total)
}

fn meets_minimum(case: &CaseState, policy: &Policy, amount: Decimal) -> bool {
    policy.minimum_amount.currency != case.currency || amount >= policy.minimum_amount.amount
}

/// An invoice the case may chase once it is overdue.
fn chaseable(case: &CaseState, item: &CaseItem) -> bool {
    item.kind == ItemKind::Invoice
        && item.open.currency == case.currency
        && item.open.is_positive()
        && !item.disputed
}

/// Credits still available (credit notes, overpaid invoices): they lower what is owed.
fn credits(case: &CaseState) -> Decimal {
    case.items
        .iter()
        .filter(|i| i.open.currency == case.currency && i.open.is_negative() && !i.disputed)
        .map(|i| i.open.amount)
        .sum()
}

fn overdue_total(case: &CaseState, day: NaiveDate) -> Decimal {
    let overdue: Decimal = case
        .items
        .iter()
        .filter(|i| chaseable(case, i) && i.due_date < day)
        .map(|i| i.open.amount)
        .sum();
    overdue + credits(case)
}

/// The first day the case is worth chasing, if no payment, import or dispute comes: the day
/// after the due date that brings the overdue total to the minimum.
fn chase_start(case: &CaseState, policy: &Policy) -> Option<NaiveDate> {
    let mut dues: Vec<(NaiveDate, Decimal)> = case
        .items
        .iter()
        .filter(|i| chaseable(case, i))
        .map(|i| (i.due_date, i.open.amount))
        .collect();
    dues.sort();
    let mut total = credits(case);
    let mut index = 0;
    while index < dues.len() {
        let due = dues[index].0;
        while index < dues.len() && dues[index].0 == due {
            total += dues[index].1;
            index += 1;
        }
        if total > Decimal::ZERO && meets_minimum(case, policy, total) {
            return Some(add_days(due, 1));
        }
    }
    None
}

/// The first business day on or after `day` outside every pause `[from, until)`.
fn first_open_day(
    calendar: &BusinessCalendar,
    day: NaiveDate,
    blocks: &[(NaiveDate, NaiveDate)],
) -> NaiveDate {
    let mut d = day;
    loop {
        d = calendar.next_business_day_on_or_after(d);
        let end = blocks
            .iter()
            .filter(|(start, until)| *start <= d && d < *until)
            .map(|(_, until)| *until)
            .max();
        match end {
            Some(until) => d = until,
            None => return d,
        }
    }
}

/// When an invoice's before-due notice falls (first day, first day not before `from`), if it
/// is still to be sent: undisputed, open, worth the minimum, not sent yet, a channel for the
/// customer, and a day left before the due date.
fn notice_due(
    case: &CaseState,
    policy: &Policy,
    calendar: &BusinessCalendar,
    step: &Step,
    item: &CaseItem,
    from: NaiveDate,
) -> Option<(NaiveDate, NaiveDate)> {
    if !chaseable(case, item)
        || !meets_minimum(case, policy, item.open.amount)
        || step.channels_for(case.customer.has_email).is_empty()
        || case
            .notices
            .iter()
            .any(|n| n.step == step.id && n.invoice == item.number)
    {
        return None;
    }
    let blocks: Vec<(NaiveDate, NaiveDate)> =
        case.holds.iter().map(|h| (h.from, h.until)).collect();
    let base = add_days(item.due_date, step.offset_days);
    let due_on = first_open_day(calendar, base, &blocks);
    let on = first_open_day(calendar, base.max(from), &blocks);
    (on < item.due_date).then_some((due_on, on))
}

fn sorted_items(case: &CaseState) -> Vec<&CaseItem> {
    let mut items: Vec<&CaseItem> = case.items.iter().collect();
    items.sort_by(|a, b| (a.due_date, &a.number).cmp(&(b.due_date, &b.number)));
    items
}

fn days(n: i64) -> String {
    if n == 1 {
        "1 day".to_string()
    } else {
        format!("{n} days")
    }
}

fn notice_key(case: &CaseState, step: &Step, invoice: &str) -> String {
    format!(
        "{}/{}/notice/{}/{}",
        case.creditor, case.customer.id, step.id, invoice
    )
}

/// The idempotency key of a case step: creditor, customer, dunning cycle, step (and the
/// invoice for per-invoice cases).
pub fn case_step_key(case: &CaseState, step: &str, cycle: u32) -> String {
    let base = format!(
        "{}/{}/cycle{}/{}",
        case.creditor, case.customer.id, cycle, step
    );
    match &case.invoice_scope {
        Some(invoice) => format!("{base}/{invoice}"),
        None => base,
    }
}

fn notice_action(
    case: &CaseState,
    policy: &Policy,
    step_number: usize,
    step: &Step,
    item: &CaseItem,
    due_on: NaiveDate,
    as_of: NaiveDate,
) -> PlannedAction {
    let ahead = (item.due_date - as_of).num_days();
    let reason = format!(
        "invoice {} ({}) falls due on {}, in {}; step {} ({}) of policy {} is due",
        item.number,
        item.open,
        item.due_date,
        days(ahead),
        step_number,
        step.id,
        policy.name
    );
    PlannedAction {
        key: notice_key(case, step, &item.number),
        on: as_of,
        due_on,
        creditor: case.creditor,
        customer: case.customer.id,
        customer_code: case.customer.code.clone(),
        customer_kind: case.customer.kind,
        policy: policy.id.clone(),
        step: step.id.clone(),
        step_number,
        cycle: case.cycle,
        is_notice: true,
        channels: step.channels_for(case.customer.has_email),
        template: step.template.clone(),
        tone: step.tone,
        attach_statement: step.attach_statement,
        invoices: vec![item.number.clone()],
        item_ids: vec![item.id],
        amount_due: item.open,
        reason,
        experiment: None,
        variant: None,
        send_hour: None,
    }
}

fn case_action(
    case: &CaseState,
    policy: &Policy,
    due: &StepDue,
    as_of: NaiveDate,
) -> Option<PlannedAction> {
    let written = policy.steps.get(due.step_number.checked_sub(1)?)?;
    let variant = written.variant_for(&case.customer.code);
    let (step, send_hour) = written.as_variant(variant);
    let step = &step;
    let listed: Vec<&CaseItem> = sorted_items(case)
        .into_iter()
        .filter(|i| chaseable(case, i) && i.due_date < as_of)
        .collect();
    let amount: Decimal = listed.iter().map(|i| i.open.amount).sum();
    let oldest = listed
        .first()
        .map(|i| (as_of - i.due_date).num_days())
        .unwrap_or(0);
    let numbers: Vec<String> = listed.iter().map(|i| i.number.clone()).collect();
    let mut reason = if numbers.len() == 1 {
        format!("invoice {} is {} overdue", numbers[0], days(oldest))
    } else {
        format!(
            "invoices {} are overdue, the oldest by {}",
            numbers.join(", "),
            days(oldest)
        )
    };
    reason.push_str(&format!(
        "; step {} ({}) of policy {} is due",
        due.step_number, step.id, policy.name
    ));
    if due.due_on < as_of {
        reason.push_str(&format!(" since {}", due.due_on));
    }
    match due.cause {
        DueCause::Schedule => {}
        DueCause::BrokenPromise(promised) => {
            reason.push_str(&format!(
                "; the payment promised for {promised} has not arrived"
            ));
        }
        DueCause::DisputeResolved => reason.push_str("; the dispute that paused it is resolved"),
    }
    let experiment = written.experiment.as_ref().map(|e| e.name.clone());
    if let (Some(name), Some(v)) = (&experiment, variant) {
        reason.push_str(&format!("; experiment {name}: variant {v}"));
    }
    let mut channels = step.channels_for(case.customer.has_email);
    if channels.is_empty() {
        channels.push(Channel::Task);
    }
    let cycle = case.next_step_cycle();
    Some(PlannedAction {
        key: case_step_key(case, &step.id, cycle),
        on: as_of,
        due_on: due.due_on,
        creditor: case.creditor,
        customer: case.customer.id,
        customer_code: case.customer.code.clone(),
        customer_kind: case.customer.kind,
        policy: policy.id.clone(),
        step: step.id.clone(),
        step_number: due.step_number,
        cycle,
        is_notice: false,
        channels,
        template: step.template.clone(),
        tone: step.tone,
        attach_statement: step.attach_statement,
        invoices: numbers,
        item_ids: listed.iter().map(|i| i.id).collect(),
        amount_due: Money::new(amount, case.currency),
        reason,
        experiment,
        variant,
        send_hour,
    })
}
