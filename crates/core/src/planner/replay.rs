//! Replaying a timeline: runs the planner day after day over a small in-memory world and carries out what it plans.
//!
//! Why: scenario tests, simulations (`relance run --as-of … --dry-run` over a period) and the
//! check that an incremental run gives what a full recomputation gives all need the same loop
//! the store performs: apply the day's events (imports, payments, promises, disputes, holds),
//! refresh the touched cases, then run the planner on the cases due and record what it did.
//! The ledger truth (items) lives here apart from the cases, as in the store, and is copied into
//! each case before it is planned.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::BusinessCalendar;
use crate::ids::{CreditorId, ItemId};
use crate::ledger::{allocate, ItemKind, OpenInvoice};
use crate::money::{Currency, Money};

use super::case::{CaseCustomer, CaseItem, CaseState, Hold, PromiseToPay};
use super::plan::{plan, PlannedAction};
use super::policy::{select_policy, Grouping, Policy, PolicyError};

/// The fixed part of a replay: who the creditor is, its customers and policies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplaySetup {
    pub creditor: CreditorId,
    /// The currency cases are followed in.
    pub currency: Currency,
    pub calendar: BusinessCalendar,
    /// Each customer follows the first policy whose conditions accept it; none, not chased.
    pub policies: Vec<Policy>,
    pub customers: Vec<CaseCustomer>,
}

/// Something that happens to the ledger or to a case (customers and invoices by code/number).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Input {
    /// An invoice imported that day (possibly late, after its due date).
    Invoice {
        customer: String,
        number: String,
        due_date: NaiveDate,
        amount: Money,
    },
    /// A credit note, set against the named invoice or the oldest ones; what is left stays
    /// as a credit.
    CreditNote {
        customer: String,
        number: String,
        amount: Money,
        invoice: Option<String>,
    },
    /// A payment received, allocated by [`crate::ledger::allocate`]; an overpayment stays as a
    /// credit on the customer.
    Payment {
        customer: String,
        amount: Money,
        invoice: Option<String>,
    },
    Promise {
        invoice: String,
        promised_for: NaiveDate,
        amount: Money,
    },
    Dispute {
        invoice: String,
    },
    Resolve {
        invoice: String,
    },
    /// Nothing sent to the customer from that day until `until` (excluded).
    Hold {
        customer: String,
        until: NaiveDate,
        reason: String,
    },
}

/// An input on the day it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub on: NaiveDate,
    pub input: Input,
}

/// Which days the replay runs the planner on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RunDays {
    /// Every calendar day, every case (the planner does nothing on non-business days).
    EveryDay,
    /// Business days, every case (`relance run --full` on a working schedule).
    BusinessDays,
    /// Every day, only the cases whose `next_action_on` has come: what the store does.
    WhenDue,
    /// Only these days, every case (to simulate missed runs).
    On(Vec<NaiveDate>),
}

/// What a replay did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayOutcome {
    /// Every action carried out, in run order.
    pub actions: Vec<PlannedAction>,
    /// The cases at the end, by customer code then invoice.
    pub cases: Vec<CaseState>,
}

impl ReplayOutcome {
    /// One [`PlannedAction::summary`] line per action.
    pub fn schedule(&self) -> String {
        let mut out = String::new();
        for action in &self.actions {
            out.push_str(&action.summary());
            out.push('\n');
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    #[error("unknown customer {0}")]
    UnknownCustomer(String),
    #[error("unknown invoice {0}")]
    UnknownInvoice(String),
    #[error("invoice {0} imported twice")]
    DuplicateInvoice(String),
    #[error("policy {0}: {1}")]
    Policy(String, PolicyError),
}

type CaseKey = (String, Option<String>);

struct Tracked {
    state: CaseState,
    next: Option<NaiveDate>,
}

struct World<'a> {
    setup: &'a ReplaySetup,
    ledger: BTreeMap<String, Vec<CaseItem>>,
    holds: BTreeMap<String, Vec<Hold>>,
    cases: BTreeMap<CaseKey, Tracked>,
    next_item: i64,
}

/// Runs the planner over `from..=to` (events dated earlier are applied first, without runs;
/// later ones are ignored) and returns everything it carried out. Deterministic.
pub fn replay(
    setup: &ReplaySetup,
    events: &[Event],
    from: NaiveDate,
    to: NaiveDate,
    days: RunDays,
) -> Result<ReplayOutcome, ReplayError> {
    for policy in &setup.policies {
        policy
            .validate()
            .map_err(|e| ReplayError::Policy(policy.id.clone(), e))?;
    }
    let mut world = World {
        setup,
        ledger: BTreeMap::new(),
        holds: BTreeMap::new(),
        cases: BTreeMap::new(),
        next_item: 1,
    };
    let mut ordered: Vec<&Event> = events.iter().filter(|e| e.on <= to).collect();
    ordered.sort_by_key(|e| e.on);
    let start = ordered.first().map_or(from, |e| e.on.min(from));
    let mut actions = Vec::new();
    let mut pending = ordered.into_iter().peekable();
    for day in start.iter_days().take_while(|d| *d <= to) {
        while let Some(event) = pending.next_if(|e| e.on == day) {
            world.apply(event)?;
        }
        let runs = day >= from
            && match &days {
                RunDays::EveryDay | RunDays::WhenDue => true,
                RunDays::BusinessDays => setup.calendar.is_business_day(day),
                RunDays::On(list) => list.contains(&day),
            };
        if runs {
            world.run(day, days == RunDays::WhenDue, &mut actions);
        }
    }
    Ok(ReplayOutcome {
        actions,
        cases: world.cases.into_values().map(|t| t.state).collect(),
    })
}

impl<'a> World<'a> {
    fn customer(&self, code: &str) -> Result<&'a CaseCustomer, ReplayError> {
        self.setup
            .customers
            .iter()
            .find(|c| c.code == code)
            .ok_or_else(|| ReplayError::UnknownCustomer(code.to_string()))
    }

    fn policy_of(&self, customer: &CaseCustomer) -> Option<&'a Policy> {
        select_policy(&self.setup.policies, customer.kind, &customer.tags)
    }

    fn owner_of(&self, invoice: &str) -> Result<String, ReplayError> {
        self.ledger
            .iter()
            .find(|(_, items)| items.iter().any(|i| i.number == invoice))
            .map(|(code, _)| code.clone())
            .ok_or_else(|| ReplayError::UnknownInvoice(invoice.to_string()))
    }

    /// The case an invoice belongs to under the customer's policy.
    fn case_key(&self, customer: &CaseCustomer, invoice: &str) -> Option<CaseKey> {
        let policy = self.policy_of(customer)?;
        Some(match policy.grouping {
            Grouping::PerCustomer => (customer.code.clone(), None),
            Grouping::PerInvoice => (customer.code.clone(), Some(invoice.to_string())),
        })
    }

    fn keys_of(&self, code: &str) -> Vec<CaseKey> {
        self.cases
            .keys()
            .filter(|(c, _)| c == code)
            .cloned()
            .collect()
    }

    /// Copies the ledger truth (items, holds) into a case.
    fn sync(&mut self, key: &CaseKey) {
        let items: Vec<CaseItem> = self
            .ledger
            .get(&key.0)
            .map(|items| {
                items
                    .iter()
                    .filter(|i| key.1.as_ref().is_none_or(|n| &i.number == n))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        let holds = self.holds.get(&key.0).cloned().unwrap_or_default();
        if let Some(tracked) = self.cases.get_mut(key) {
            tracked.state.items = items;
            tracked.state.holds = holds;
        }
    }

    fn refresh(&mut self, keys: &[CaseKey], day: NaiveDate) -> Result<(), ReplayError> {
        for key in keys {
            self.sync(key);
            let customer = self.customer(&key.0)?;
            let Some(policy) = self.policy_of(customer) else {
                continue;
            };
            let calendar = self.setup.calendar;
            if let Some(tracked) = self.cases.get_mut(key) {
                tracked.next = tracked.state.refresh(policy, &calendar, day);
            }
        }
        Ok(())
    }

    fn push_item(&mut self, code: &str, item: CaseItem) {
        self.ledger.entry(code.to_string()).or_default().push(item);
    }

    fn new_item_id(&mut self) -> ItemId {
        let id = ItemId(self.next_item);
        self.next_item += 1;
        id
    }

    /// Allocates an amount over the customer's undisputed open invoices (or the named one) and
    /// returns the allocations by invoice number and what is left.
    fn settle(
        &mut self,
        code: &str,
        amount: Money,
        named: Option<&str>,
    ) -> (Vec<(String, Money)>, Money) {
        let items = self.ledger.entry(code.to_string()).or_default();
        let open: Vec<OpenInvoice> = items
            .iter()
            .filter(|i| {
                i.kind == ItemKind::Invoice
                    && i.open.is_positive()
                    && (!i.disputed || Some(i.number.as_str()) == named)
            })
            .map(|i| OpenInvoice {
                id: i.id,
                number: i.number.clone(),
                issue_date: i.due_date,
                due_date: i.due_date,
                open: i.open,
            })
            .collect();
        let plan = allocate(amount, named, &open);
        let mut by_number = Vec::new();
        for (id, part) in plan.allocations {
            if let Some(item) = items.iter_mut().find(|i| i.id == id) {
                by_number.push((item.number.clone(), part));
            }
        }
        (by_number, plan.unallocated)
    }

    fn apply(&mut self, event: &Event) -> Result<(), ReplayError> {
        let day = event.on;
        let calendar = self.setup.calendar;
        match &event.input {
            Input::Invoice {
                customer,
                number,
                due_date,
                amount,
            } => {
                let who = self.customer(customer)?;
                if self.owner_of(number).is_ok() {
                    return Err(ReplayError::DuplicateInvoice(number.clone()));
                }
                let id = self.new_item_id();
                self.push_item(
                    customer,
                    CaseItem {
                        id,
                        kind: ItemKind::Invoice,
                        number: number.clone(),
                        due_date: *due_date,
                        open: *amount,
                        disputed: false,
                    },
                );
                if let Some(key) = self.case_key(who, number) {
                    if !self.cases.contains_key(&key) {
                        let mut state =
                            CaseState::new(self.setup.creditor, who.clone(), self.setup.currency);
                        state.invoice_scope = key.1.clone();
                        self.cases
                            .insert(key.clone(), Tracked { state, next: None });
                    }
                    self.refresh(&[key], day)?;
                }
            }
            Input::CreditNote {
                customer,
                number,
                amount,
                invoice,
            } => {
                self.customer(customer)?;
                let (allocations, left) = self.settle(customer, *amount, invoice.as_deref());
                self.reduce(customer, &allocations);
                let id = self.new_item_id();
                self.push_item(
                    customer,
                    CaseItem {
                        id,
                        kind: ItemKind::CreditNote,
                        number: number.clone(),
                        due_date: day,
                        open: Money::new(-left.amount, left.currency),
                        disputed: false,
                    },
                );
                let keys = self.keys_of(customer);
                self.refresh(&keys, day)?;
            }
            Input::Payment {
                customer,
                amount,
                invoice,
            } => {
                self.customer(customer)?;
                let (allocations, left) = self.settle(customer, *amount, invoice.as_deref());
                let keys = self.keys_of(customer);
                for key in &keys {
                    // Cases see the payment (and count it towards their promise) on their
                    // own items, as the store would report it.
                    self.sync(key);
                    if let Some(tracked) = self.cases.get_mut(key) {
                        tracked.state.record_payment(&allocations, day);
                    }
                }
                self.reduce(customer, &allocations);
                if left.is_positive() {
                    let id = self.new_item_id();
                    self.push_item(
                        customer,
                        CaseItem {
                            id,
                            kind: ItemKind::CreditNote,
                            number: format!("unallocated-{}", id.0),
                            due_date: day,
                            open: Money::new(-left.amount, left.currency),
                            disputed: false,
                        },
                    );
                }
                self.refresh(&keys, day)?;
            }
            Input::Promise {
                invoice,
                promised_for,
                amount,
            } => {
                let code = self.owner_of(invoice)?;
                let who = self.customer(&code)?;
                if let Some(key) = self.case_key(who, invoice) {
                    if let Some(tracked) = self.cases.get_mut(&key) {
                        tracked.state.promise_to_pay(PromiseToPay::new(
                            day,
                            *promised_for,
                            *amount,
                        ));
                    }
                    self.refresh(&[key], day)?;
                }
            }
            Input::Dispute { invoice } | Input::Resolve { invoice } => {
                let code = self.owner_of(invoice)?;
                let who = self.customer(&code)?;
                let disputed = matches!(event.input, Input::Dispute { .. });
                if let Some(key) = self.case_key(who, invoice) {
                    self.sync(&key);
                    if let (Some(policy), Some(tracked)) =
                        (self.policy_of(who), self.cases.get_mut(&key))
                    {
                        if disputed {
                            tracked.state.open_dispute(invoice);
                        } else {
                            tracked
                                .state
                                .resolve_dispute(invoice, day, policy, &calendar);
                        }
                    }
                }
                if let Some(items) = self.ledger.get_mut(&code) {
                    for item in items.iter_mut().filter(|i| &i.number == invoice) {
                        item.disputed = disputed;
                    }
                }
                let keys = self.keys_of(&code);
                self.refresh(&keys, day)?;
            }
            Input::Hold {
                customer,
                until,
                reason,
            } => {
                self.customer(customer)?;
                self.holds.entry(customer.clone()).or_default().push(Hold {
                    from: day,
                    until: *until,
                    reason: reason.clone(),
                });
                let keys = self.keys_of(customer);
                self.refresh(&keys, day)?;
            }
        }
        Ok(())
    }

    fn reduce(&mut self, code: &str, allocations: &[(String, Money)]) {
        if let Some(items) = self.ledger.get_mut(code) {
            for (number, part) in allocations {
                for item in items.iter_mut().filter(|i| &i.number == number) {
                    item.open.amount -= part.amount;
                }
            }
        }
    }

    fn run(&mut self, day: NaiveDate, only_due: bool, actions: &mut Vec<PlannedAction>) {
        let keys: Vec<CaseKey> = self.cases.keys().cloned().collect();
        let calendar = self.setup.calendar;
        for key in keys {
            if only_due {
                let due = self
                    .cases
                    .get(&key)
                    .and_then(|t| t.next)
                    .is_some_and(|next| next <= day);
                if !due {
                    continue;
                }
            }
            self.sync(&key);
            let Ok(customer) = self.customer(&key.0) else {
                continue;
            };
            let Some(policy) = self.policy_of(customer) else {
                continue;
            };
            if let Some(tracked) = self.cases.get_mut(&key) {
                let decided = plan(&tracked.state, policy, &calendar, day);
                tracked.state.apply_plan(&decided);
                tracked.next = decided.next_action_on;
                actions.extend(decided.actions);
            }
        }
    }
}
