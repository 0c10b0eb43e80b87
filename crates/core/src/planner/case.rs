//! The state of one dunning case (dossier de relance) as the planner sees it, and its pure transitions.
//!
//! A case is made of two halves. The ledger half (`items`) is rebuilt by the store from its
//! invoice tables at each run: open amounts, due dates, dispute flags. The memory half is what
//! only the case knows and the store keeps in its `cases` row: dunning cycle, steps carried out
//! in that cycle, promise to pay, holds, the day a dispute pause ended, notices already sent.
//! Every rule that changes the memory lives here or in `plan.rs`, so that the store, the replay
//! helper and `relance run --full` all move a case the same way.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::calendar::BusinessCalendar;
use crate::ids::{CreditorId, CustomerId, ItemId};
use crate::ledger::ItemKind;
use crate::money::{Currency, Money};
use crate::party::CustomerKind;

use super::plan::{self, CasePlan, CaseStatus};
use super::policy::Policy;

/// What the planner needs to know of the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseCustomer {
    pub id: CustomerId,
    /// The customer's code in the creditor's books ("C001"), as printed in reasons and JSON.
    pub code: String,
    pub kind: CustomerKind,
    /// Without one, e-mail steps fall back to their `without_email` channels.
    pub has_email: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// An invoice or credit note of the customer, as the ledger stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseItem {
    pub id: ItemId,
    pub kind: ItemKind,
    pub number: String,
    pub due_date: NaiveDate,
    /// Open amount (`ledger::Item::open`): positive for what is owed, negative for a credit
    /// still available, which lowers the amount worth chasing.
    pub open: Money,
    /// An open dispute takes the invoice out of the case until it is resolved.
    #[serde(default)]
    pub disputed: bool,
}

/// A step of the ladder carried out in the current cycle, on the day it was actually done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepDone {
    pub step: String,
    pub on: NaiveDate,
}

/// A before-due notice already sent for an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeSent {
    pub step: String,
    pub invoice: String,
    pub on: NaiveDate,
}

/// A promise to pay (promesse de paiement): pauses the case until the business day after
/// `promised_for`; if `received` has not reached `amount` by then, the case resumes that day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromiseToPay {
    /// The day the promise was made (the pause starts then).
    pub made_on: NaiveDate,
    pub promised_for: NaiveDate,
    pub amount: Money,
    /// Payments on the case's items received on or after `made_on`, kept up to date by
    /// [`CaseState::record_payment`] (or by the store the same way).
    pub received: Money,
}

impl PromiseToPay {
    pub fn new(made_on: NaiveDate, promised_for: NaiveDate, amount: Money) -> Self {
        PromiseToPay {
            made_on,
            promised_for,
            amount,
            received: Money::zero(amount.currency),
        }
    }

    pub fn is_kept(&self) -> bool {
        self.received.currency == self.amount.currency && self.received.amount >= self.amount.amount
    }

    /// The first day the case may act again: the business day after the promised date.
    pub fn resumes_on(&self, calendar: &BusinessCalendar) -> NaiveDate {
        calendar.next_business_day_after(self.promised_for)
    }
}

/// A hold set by a person: nothing is sent on days `from <= d < until`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    pub from: NaiveDate,
    /// The first day the case may act again.
    pub until: NaiveDate,
    #[serde(default)]
    pub reason: String,
}

/// One dunning case: a customer (or, with per-invoice grouping, one invoice) under one policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseState {
    pub creditor: CreditorId,
    pub customer: CaseCustomer,
    /// With [`super::Grouping::PerInvoice`], the invoice this case follows (it is then part of
    /// the idempotency key); `None` for a per-customer case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_scope: Option<String>,
    /// Items in another currency are ignored: a customer owing in two currencies has one case
    /// per currency.
    pub currency: Currency,
    pub items: Vec<CaseItem>,
    /// Number of the current dunning cycle, or of the last one when none is running (0: never
    /// chased). A cycle starts with its first step and ends when nothing is left to chase.
    #[serde(default)]
    pub cycle: u32,
    /// Steps carried out in the current cycle, oldest first; empty between cycles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<StepDone>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promise: Option<PromiseToPay>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holds: Vec<Hold>,
    /// Set when resolving a dispute ends a pause: the next step is due that day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<NoticeSent>,
}

impl CaseState {
    /// A case never chased yet.
    pub fn new(creditor: CreditorId, customer: CaseCustomer, currency: Currency) -> Self {
        CaseState {
            creditor,
            customer,
            invoice_scope: None,
            currency,
            items: Vec::new(),
            cycle: 0,
            history: Vec::new(),
            promise: None,
            holds: Vec::new(),
            resume_on: None,
            notices: Vec::new(),
        }
    }

    /// The dunning cycle the next case step belongs to (a new one when none is running).
    pub fn next_step_cycle(&self) -> u32 {
        if self.history.is_empty() {
            self.cycle.saturating_add(1)
        } else {
            self.cycle
        }
    }

    /// Forgets the finished cycle: the case was paid (or fell below the minimum). Its number
    /// stays, so the next overdue invoice opens cycle `cycle + 1` with fresh idempotency keys.
    pub fn end_cycle(&mut self) {
        self.history.clear();
        self.promise = None;
        self.resume_on = None;
    }

    /// Records what a run carried out: the plan's actions are taken as done on `plan.as_of`
    /// (a call task counts as carried out the day it is issued).
    pub fn apply_plan(&mut self, plan: &CasePlan) {
        if plan.ends_cycle && !self.history.is_empty() {
            self.end_cycle();
        }
        for action in &plan.actions {
            if action.is_notice {
                for invoice in &action.invoices {
                    self.notices.push(NoticeSent {
                        step: action.step.clone(),
                        invoice: invoice.clone(),
                        on: plan.as_of,
                    });
                }
            } else {
                if self.history.is_empty() {
                    self.cycle = action.cycle;
                }
                self.history.push(StepDone {
                    step: action.step.clone(),
                    on: plan.as_of,
                });
            }
        }
    }

    /// To call after any change to the case (import, payment, promise, dispute, hold): ends
    /// the cycle when nothing is left to chase, and returns the case's new `next_action_on`
    /// counted from `today` included.
    pub fn refresh(
        &mut self,
        policy: &Policy,
        calendar: &BusinessCalendar,
        today: NaiveDate,
    ) -> Option<NaiveDate> {
        let status = plan::status_on(self, policy, today);
        if matches!(
            status,
            CaseStatus::NothingOverdue | CaseStatus::BelowMinimum
        ) && !self.history.is_empty()
        {
            self.end_cycle();
        }
        plan::next_action_on(self, policy, calendar, today)
    }

    /// Applies a payment's allocations (invoice number, amount) received on `on`, and counts it
    /// towards the promise to pay made on or before that day.
    pub fn record_payment(&mut self, allocations: &[(String, Money)], on: NaiveDate) {
        for (number, amount) in allocations {
            let mut applied = false;
            for item in self.items.iter_mut().filter(|i| &i.number == number) {
                if item.open.currency == amount.currency {
                    item.open.amount -= amount.amount;
                    applied = true;
                }
            }
            if let Some(promise) = self.promise.as_mut() {
                if applied && on >= promise.made_on && promise.received.currency == amount.currency
                {
                    promise.received.amount += amount.amount;
                }
            }
        }
    }

    /// A new promise replaces the previous one.
    pub fn promise_to_pay(&mut self, promise: PromiseToPay) {
        self.promise = Some(promise);
    }

    pub fn open_dispute(&mut self, invoice: &str) {
        for item in self.items.iter_mut().filter(|i| i.number == invoice) {
            item.disputed = true;
        }
    }

    /// Ends a dispute on `on`. When the case was paused for want of anything else to chase and
    /// now has something again, its next step is due that day (next business day if not one).
    pub fn resolve_dispute(
        &mut self,
        invoice: &str,
        on: NaiveDate,
        policy: &Policy,
        calendar: &BusinessCalendar,
    ) {
        let was_chasing = plan::is_chasing(self, policy, on);
        let mut changed = false;
        for item in self
            .items
            .iter_mut()
            .filter(|i| i.number == invoice && i.disputed)
        {
            item.disputed = false;
            changed = true;
        }
        if changed && !was_chasing && plan::is_chasing(self, policy, on) {
            self.resume_on = Some(calendar.next_business_day_on_or_after(on));
        }
    }

    pub fn add_hold(&mut self, hold: Hold) {
        self.holds.push(hold);
    }

    /// Sum of the open amounts of the items in the case currency (what the customer owes net,
    /// due or not).
    pub fn balance(&self) -> Money {
        let total: Decimal = self
            .items
            .iter()
            .filter(|i| i.open.currency == self.currency)
            .map(|i| i.open.amount)
            .sum();
        Money::new(total, self.currency)
    }
}
