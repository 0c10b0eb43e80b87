//! Property tests of the planner over random timelines: the rules that must hold whatever happens.
//!
//! - at most one case step per case per run, at most one notice per invoice;
//! - nothing planned for a case with nothing open, nothing under the minimum;
//! - replay is deterministic, and a daily run, a business-day run and an incremental run (only
//!   the cases whose `next_action_on` has come) carry out exactly the same actions;
//! - no step before the delay the previous one announced (unless a broken promise or a resolved
//!   dispute brought it forward, which the rules allow).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use proptest::prelude::*;
use relance_core::calendar::{add_days, BusinessCalendar};
use relance_core::ids::{CreditorId, CustomerId, ItemId};
use relance_core::ledger::ItemKind;
use relance_core::money::{Currency, Money};
use relance_core::party::CustomerKind;
use relance_core::planner::{
    plan, replay, Anchor, CaseCustomer, CaseItem, CaseState, Event, Grouping, Hold, Input, Policy,
    PromiseToPay, ReplayOutcome, ReplaySetup, RunDays, StepDone,
};
use rust_decimal::Decimal;

const CUSTOMERS: [&str; 3] = ["C001", "C002", "P001"];

fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).expect("date")
}

fn end() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 8, 31).expect("date")
}

fn cents(c: i64) -> Money {
    Money::from_minor(c, Currency::EUR)
}

fn setup(per_invoice: bool, alsace: bool) -> ReplaySetup {
    let mut policy = Policy::default_french();
    if per_invoice {
        policy.grouping = Grouping::PerInvoice;
    }
    let kinds = [
        (CustomerKind::Business, true),
        (CustomerKind::Business, false),
        (CustomerKind::Consumer, true),
    ];
    ReplaySetup {
        creditor: CreditorId(7),
        currency: Currency::EUR,
        calendar: BusinessCalendar::new(alsace),
        policies: vec![policy],
        customers: CUSTOMERS
            .iter()
            .zip(kinds)
            .enumerate()
            .map(|(i, (code, (kind, has_email)))| CaseCustomer {
                id: CustomerId(i as i64 + 1),
                code: code.to_string(),
                kind,
                has_email,
                tags: Vec::new(),
            })
            .collect(),
    }
}

#[derive(Debug, Clone)]
struct InvoiceSpec {
    customer: usize,
    import: i64,
    due_delta: i64,
    cents: i64,
}

#[derive(Debug, Clone)]
enum Other {
    Payment {
        customer: usize,
        day: i64,
        cents: i64,
        named: Option<usize>,
    },
    Credit {
        customer: usize,
        day: i64,
        cents: i64,
    },
    Promise {
        invoice: usize,
        day: i64,
        after: i64,
        cents: i64,
    },
    Dispute {
        invoice: usize,
        day: i64,
    },
    Resolve {
        invoice: usize,
        day: i64,
    },
    Hold {
        customer: usize,
        day: i64,
        len: i64,
    },
}

fn invoice_spec() -> impl Strategy<Value = InvoiceSpec> {
    (0..3usize, 0..150i64, -40..45i64, 100..300_000i64).prop_map(
        |(customer, import, due_delta, cents)| InvoiceSpec {
            customer,
            import,
            due_delta,
            cents,
        },
    )
}

fn other_spec() -> impl Strategy<Value = Other> {
    prop_oneof![
        (
            0..3usize,
            0..200i64,
            100..300_000i64,
            proptest::option::of(0..8usize)
        )
            .prop_map(|(customer, day, cents, named)| Other::Payment {
                customer,
                day,
                cents,
                named
            }),
        (0..3usize, 0..200i64, 100..50_000i64).prop_map(|(customer, day, cents)| {
            Other::Credit {
                customer,
                day,
                cents,
            }
        }),
        (0..8usize, 0..200i64, 0..20i64, 100..300_000i64).prop_map(
            |(invoice, day, after, cents)| Other::Promise {
                invoice,
                day,
                after,
                cents
            }
        ),
        (0..8usize, 0..200i64).prop_map(|(invoice, day)| Other::Dispute { invoice, day }),
        (0..8usize, 0..200i64).prop_map(|(invoice, day)| Other::Resolve { invoice, day }),
        (0..3usize, 0..200i64, 1..25i64).prop_map(|(customer, day, len)| Other::Hold {
            customer,
            day,
            len
        }),
    ]
}

/// Builds a valid timeline: events on an invoice never come before its import.
fn timeline(invoices: &[InvoiceSpec], others: &[Other]) -> Vec<Event> {
    let mut events = Vec::new();
    let number = |i: usize| format!("INV-{i}");
    for (i, spec) in invoices.iter().enumerate() {
        let on = add_days(start(), spec.import);
        events.push(Event {
            on,
            input: Input::Invoice {
                customer: CUSTOMERS[spec.customer].to_string(),
                number: number(i),
                due_date: add_days(on, spec.due_delta),
                amount: cents(spec.cents),
            },
        });
    }
    let invoice_ref = |i: usize, day: i64| {
        let i = i % invoices.len();
        (number(i), add_days(start(), day.max(invoices[i].import)))
    };
    for other in others {
        match *other {
            Other::Payment {
                customer,
                day,
                cents: c,
                named,
            } => events.push(Event {
                on: add_days(start(), day),
                input: Input::Payment {
                    customer: CUSTOMERS[customer].to_string(),
                    amount: cents(c),
                    invoice: named.map(number),
                },
            }),
            Other::Credit {
                customer,
                day,
                cents: c,
            } => events.push(Event {
                on: add_days(start(), day),
                input: Input::CreditNote {
                    customer: CUSTOMERS[customer].to_string(),
                    number: format!("AV-{day}-{customer}-{c}"),
                    amount: cents(c),
                    invoice: None,
                },
            }),
            Other::Promise {
                invoice,
                day,
                after,
                cents: c,
            } => {
                let (n, on) = invoice_ref(invoice, day);
                events.push(Event {
                    on,
                    input: Input::Promise {
                        invoice: n,
                        promised_for: add_days(on, after),
                        amount: cents(c),
                    },
                });
            }
            Other::Dispute { invoice, day } => {
                let (n, on) = invoice_ref(invoice, day);
                events.push(Event {
                    on,
                    input: Input::Dispute { invoice: n },
                });
            }
            Other::Resolve { invoice, day } => {
                let (n, on) = invoice_ref(invoice, day);
                events.push(Event {
                    on,
                    input: Input::Resolve { invoice: n },
                });
            }
            Other::Hold { customer, day, len } => {
                let on = add_days(start(), day);
                events.push(Event {
                    on,
                    input: Input::Hold {
                        customer: CUSTOMERS[customer].to_string(),
                        until: add_days(on, len),
                        reason: "test".into(),
                    },
                });
            }
        }
    }
    events
}

fn run(setup: &ReplaySetup, events: &[Event], days: RunDays) -> ReplayOutcome {
    replay(setup, events, start(), end(), days).expect("replay")
}

/// The case an action belongs to: the customer, and the invoice for per-invoice cases.
fn case_of(action: &relance_core::planner::PlannedAction, per_invoice: bool) -> String {
    if per_invoice {
        format!(
            "{}/{}",
            action.customer_code,
            action.invoices.first().cloned().unwrap_or_default()
        )
    } else {
        action.customer_code.clone()
    }
}

fn scenario() -> impl Strategy<Value = (Vec<InvoiceSpec>, Vec<Other>, bool, bool)> {
    (
        prop::collection::vec(invoice_spec(), 1..7),
        prop::collection::vec(other_spec(), 0..10),
        any::<bool>(),
        prop::bool::weighted(0.2),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn replay_is_deterministic_and_incremental_runs_equal_full_runs(
        (invoices, others, per_invoice, alsace) in scenario()
    ) {
        let setup = setup(per_invoice, alsace);
        let events = timeline(&invoices, &others);
        let daily = run(&setup, &events, RunDays::EveryDay);
        let again = run(&setup, &events, RunDays::EveryDay);
        prop_assert_eq!(&daily, &again);
        let business = run(&setup, &events, RunDays::BusinessDays);
        prop_assert_eq!(&daily.actions, &business.actions);
        let incremental = run(&setup, &events, RunDays::WhenDue);
        prop_assert_eq!(&daily.actions, &incremental.actions);
        prop_assert_eq!(&daily.cases, &incremental.cases);
    }

    #[test]
    fn at_most_one_step_per_case_per_run_and_one_notice_per_invoice(
        (invoices, others, per_invoice, alsace) in scenario()
    ) {
        let setup = setup(per_invoice, alsace);
        let out = run(&setup, &timeline(&invoices, &others), RunDays::EveryDay);
        let mut steps: BTreeMap<(String, NaiveDate), usize> = BTreeMap::new();
        let mut notices: BTreeMap<(String, String), usize> = BTreeMap::new();
        let mut keys = BTreeMap::new();
        for action in &out.actions {
            prop_assert!(setup.calendar.is_business_day(action.on));
            prop_assert!(keys.insert(action.key.clone(), ()).is_none(), "key reused: {}", action.key);
            if action.is_notice {
                *notices.entry((action.step.clone(), action.invoices.join(","))).or_default() += 1;
            } else {
                *steps.entry((case_of(action, per_invoice), action.on)).or_default() += 1;
            }
        }
        prop_assert!(steps.values().all(|n| *n == 1), "{:?}", steps);
        prop_assert!(notices.values().all(|n| *n == 1), "{:?}", notices);
    }

    #[test]
    fn nothing_is_planned_for_what_is_not_owed(
        (invoices, others, per_invoice, alsace) in scenario()
    ) {
        let setup = setup(per_invoice, alsace);
        let out = run(&setup, &timeline(&invoices, &others), RunDays::EveryDay);
        let minimum = Decimal::new(5, 0);
        for action in &out.actions {
            prop_assert!(action.amount_due.amount >= minimum, "{}", action.summary());
            prop_assert!(!action.invoices.is_empty());
        }
    }

    #[test]
    fn no_step_before_the_delay_the_previous_one_announced(
        (invoices, others, per_invoice, alsace) in scenario()
    ) {
        let setup = setup(per_invoice, alsace);
        let events = timeline(&invoices, &others);
        let out = run(&setup, &events, RunDays::EveryDay);
        let policy = &setup.policies[0];
        let mut by_case: BTreeMap<String, Vec<&relance_core::planner::PlannedAction>> =
            BTreeMap::new();
        for action in out.actions.iter().filter(|a| !a.is_notice) {
            by_case.entry(case_of(action, per_invoice)).or_default().push(action);
        }
        for (case, actions) in by_case {
            let customer = case.split('/').next().unwrap_or_default().to_string();
            for pair in actions.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                prop_assert!(b.on > a.on);
                if a.cycle != b.cycle {
                    prop_assert_eq!(b.step.as_str(), "first_reminder");
                    continue;
                }
                let step = policy.step(&b.step).expect("step of the policy");
                prop_assert_eq!(step.anchor, Anchor::PreviousStep);
                let brought_forward = events.iter().any(|e| {
                    e.on >= a.on && e.on <= b.on && match &e.input {
                        Input::Promise { invoice, .. } | Input::Resolve { invoice } => {
                            owner(&events, invoice) == customer
                        }
                        _ => false,
                    }
                });
                if !brought_forward {
                    let earliest = setup
                        .calendar
                        .next_business_day_on_or_after(add_days(a.on, step.offset_days));
                    prop_assert!(b.on >= earliest, "{} after {}", b.summary(), a.summary());
                }
            }
        }
    }

    #[test]
    fn plan_never_acts_twice_and_never_on_a_case_with_nothing_owed(
        items in prop::collection::vec((0..120i64, -50_000..50_000i64, any::<bool>(), any::<bool>()), 0..6),
        history_len in 0..6usize,
        last_done in 0..120i64,
        promise in proptest::option::of((0..120i64, 0..30i64, 0..100_000i64, 0..100_000i64)),
        hold in proptest::option::of((0..120i64, 1..30i64)),
        as_of in 0..160i64,
        owed in any::<bool>(),
    ) {
        let policy = Policy::default_french();
        let calendar = BusinessCalendar::FRANCE;
        let ladder: Vec<String> = policy.case_steps().map(|(_, s)| s.id.clone()).collect();
        let mut case = CaseState::new(
            CreditorId(1),
            CaseCustomer {
                id: CustomerId(1),
                code: "C001".into(),
                kind: CustomerKind::Business,
                has_email: true,
                tags: Vec::new(),
            },
            Currency::EUR,
        );
        case.cycle = 1;
        case.items = items
            .iter()
            .enumerate()
            .map(|(i, (due, c, disputed, credit))| CaseItem {
                id: ItemId(i as i64),
                kind: if *credit { ItemKind::CreditNote } else { ItemKind::Invoice },
                number: format!("F-{i}"),
                due_date: add_days(start(), *due),
                // Without `owed`, every amount is settled or a credit.
                open: cents(if owed { *c } else { -c.abs() }),
                disputed: *disputed,
            })
            .collect();
        case.history = ladder
            .iter()
            .take(history_len)
            .enumerate()
            .map(|(i, step)| StepDone {
                step: step.clone(),
                on: add_days(start(), last_done - 10 * (history_len - 1 - i) as i64),
            })
            .collect();
        if let Some((made, after, amount, received)) = promise {
            let mut p = PromiseToPay::new(add_days(start(), made), add_days(start(), made + after), cents(amount));
            p.received = cents(received);
            case.promise = Some(p);
        }
        if let Some((from, len)) = hold {
            case.holds.push(Hold { from: add_days(start(), from), until: add_days(start(), from + len), reason: String::new() });
        }
        let day = add_days(start(), as_of);
        let decided = plan(&case, &policy, &calendar, day);
        prop_assert!(decided.actions.iter().filter(|a| !a.is_notice).count() <= 1);
        if !owed {
            prop_assert!(decided.actions.is_empty(), "{:?}", decided.actions);
        }
        // Carried out, the same day plans nothing more.
        let mut after = case.clone();
        after.apply_plan(&decided);
        prop_assert!(plan(&after, &policy, &calendar, day).actions.is_empty());
        // next_action_on is later than the run and is a day on which something happens.
        if let Some(next) = decided.next_action_on {
            prop_assert!(next > day);
            prop_assert!(!plan(&after, &policy, &calendar, next).actions.is_empty());
        }
    }
}

fn owner(events: &[Event], invoice: &str) -> String {
    events
        .iter()
        .find_map(|e| match &e.input {
            Input::Invoice {
                customer, number, ..
            } if number == invoice => Some(customer.clone()),
            _ => None,
        })
        .unwrap_or_default()
}
