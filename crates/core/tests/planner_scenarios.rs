//! Scenario tests of the planner: timelines replayed day by day, compared with schedules worked out by hand.
//!
//! Each expected schedule was computed from DESIGN.md's rules, not from the code; the comments
//! show the arithmetic. 2026 calendar used throughout: public holidays Thu 1 Jan, Mon 6 Apr
//! (Easter Monday; Easter is Sun 5 Apr), Fri 1 May, Fri 8 May, Thu 14 May (Ascension), Mon 25 May
//! (Whit Monday), Tue 14 Jul; Alsace-Moselle adds Fri 3 Apr (Good Friday). Weekdays: 2 Mar, 16
//! Mar, 30 Mar, 20 Apr, 27 Apr, 4 May, 11 May, 18 May, 25 May, 1 Jun are Mondays.
//! Default policy: courtesy −5 from due; first +1 from due; call +4; second +4; formal +10;
//! litigation +15, each from the day the previous step was carried out.
//!
//! Line format: `run day, customer, step, channels, invoices, amount due`.

use chrono::NaiveDate;
use relance_core::calendar::BusinessCalendar;
use relance_core::ids::{CreditorId, CustomerId};
use relance_core::money::{Currency, Money};
use relance_core::party::CustomerKind;
use relance_core::planner::{
    plan, replay, Anchor, CaseCustomer, Channel, Conditions, Event, Grouping, Input, Policy,
    ReplayOutcome, ReplaySetup, RunDays, Step, Tone,
};
use rust_decimal::Decimal;
use std::str::FromStr;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn eur(s: &str) -> Money {
    Money::eur(Decimal::from_str(s).expect("amount"))
}

fn customer(id: i64, code: &str, kind: CustomerKind, has_email: bool) -> CaseCustomer {
    CaseCustomer {
        id: CustomerId(id),
        code: code.to_string(),
        kind,
        has_email,
        tags: Vec::new(),
    }
}

/// C001: business with an e-mail address; C002: business without; P001: consumer; B001: business.
fn customers() -> Vec<CaseCustomer> {
    vec![
        customer(1, "C001", CustomerKind::Business, true),
        customer(2, "C002", CustomerKind::Business, false),
        customer(3, "P001", CustomerKind::Consumer, true),
        customer(4, "B001", CustomerKind::Business, true),
    ]
}

fn invoice(on: &str, who: &str, number: &str, due: &str, amount: &str) -> Event {
    Event {
        on: d(on),
        input: Input::Invoice {
            customer: who.into(),
            number: number.into(),
            due_date: d(due),
            amount: eur(amount),
        },
    }
}

fn payment(on: &str, who: &str, amount: &str) -> Event {
    Event {
        on: d(on),
        input: Input::Payment {
            customer: who.into(),
            amount: eur(amount),
            invoice: None,
        },
    }
}

fn promise(on: &str, number: &str, promised_for: &str, amount: &str) -> Event {
    Event {
        on: d(on),
        input: Input::Promise {
            invoice: number.into(),
            promised_for: d(promised_for),
            amount: eur(amount),
        },
    }
}

fn dispute(on: &str, number: &str) -> Event {
    Event {
        on: d(on),
        input: Input::Dispute {
            invoice: number.into(),
        },
    }
}

fn resolve(on: &str, number: &str) -> Event {
    Event {
        on: d(on),
        input: Input::Resolve {
            invoice: number.into(),
        },
    }
}

struct Scenario {
    policies: Vec<Policy>,
    calendar: BusinessCalendar,
    events: Vec<Event>,
    from: &'static str,
    to: &'static str,
    /// `None`: run every day, and check that business-day and incremental runs agree.
    run_on: Option<Vec<NaiveDate>>,
}

impl Scenario {
    fn new(events: Vec<Event>, from: &'static str, to: &'static str) -> Self {
        Scenario {
            policies: vec![Policy::default_french()],
            calendar: BusinessCalendar::FRANCE,
            events,
            from,
            to,
            run_on: None,
        }
    }

    fn setup(&self) -> ReplaySetup {
        ReplaySetup {
            creditor: CreditorId(1),
            currency: Currency::EUR,
            calendar: self.calendar,
            policies: self.policies.clone(),
            customers: customers(),
        }
    }

    fn run(&self, days: RunDays) -> ReplayOutcome {
        replay(&self.setup(), &self.events, d(self.from), d(self.to), days).expect("replay")
    }
}

/// Replays the scenario and renders its schedule; a daily run, a business-day run and an
/// incremental run (only cases whose `next_action_on` has come) must carry out the same actions.
fn check(scenario: &Scenario) -> String {
    if let Some(days) = &scenario.run_on {
        return scenario.run(RunDays::On(days.clone())).schedule();
    }
    let daily = scenario.run(RunDays::EveryDay);
    let business = scenario.run(RunDays::BusinessDays);
    let incremental = scenario.run(RunDays::WhenDue);
    assert_eq!(daily.actions, business.actions, "business-day run differs");
    assert_eq!(
        daily.actions, incremental.actions,
        "incremental run differs"
    );
    assert_eq!(
        daily.cases, incremental.cases,
        "incremental end state differs"
    );
    daily.schedule()
}

fn assert_schedule(scenario: &Scenario, expected: &str) {
    let got = check(scenario);
    let want: String = expected
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(got, want, "\n--- got ---\n{got}--- want ---\n{want}");
}

#[test]
fn full_ladder_moves_off_weekends_and_may_holidays() {
    // F-0001 due Sat 25 Apr.
    // courtesy: 25 Apr − 5 = Mon 20 Apr.
    // first: 25 Apr + 1 = Sun 26 Apr → Mon 27 Apr.
    // call: 27 Apr + 4 = Fri 1 May (Fête du Travail) → Sat, Sun → Mon 4 May.
    // second: 4 May + 4 = Fri 8 May (Victoire 1945) → Mon 11 May.
    // formal: 11 May + 10 = Thu 21 May.  litigation: 21 May + 15 = Fri 5 Jun. Then nothing.
    let s = Scenario::new(
        vec![invoice(
            "2026-04-01",
            "C001",
            "F-0001",
            "2026-04-25",
            "1200",
        )],
        "2026-04-01",
        "2026-07-31",
    );
    assert_schedule(
        &s,
        "
        2026-04-20 C001 courtesy_notice email F-0001 1200.00 EUR
        2026-04-27 C001 first_reminder email F-0001 1200.00 EUR
        2026-05-04 C001 phone_call phone_call F-0001 1200.00 EUR
        2026-05-11 C001 second_reminder registered_letter+email F-0001 1200.00 EUR
        2026-05-21 C001 formal_notice registered_letter_ar+email F-0001 1200.00 EUR
        2026-06-05 C001 litigation task F-0001 1200.00 EUR
        ",
    );
    let out = s.run(RunDays::EveryDay);
    let first = &out.actions[1];
    assert_eq!(first.key, "1/1/cycle1/first_reminder");
    assert_eq!(
        first.reason,
        "invoice F-0001 is 2 days overdue; step 2 (first_reminder) of policy Standard is due"
    );
    assert_eq!(out.actions[0].key, "1/1/notice/courtesy_notice/F-0001");
}

#[test]
fn payment_closes_the_cycle_and_a_later_invoice_opens_the_next() {
    // F-1 due Mon 2 Mar: courtesy Wed 25 Feb, first Tue 3 Mar (cycle 1); paid Thu 5 Mar → closed,
    // no call on Mon 9 Mar.
    // F-2 due Fri 20 Mar, imported 6 Mar: courtesy 15 Mar (Sun) → Mon 16 Mar; first 21 Mar (Sat)
    // → Mon 23 Mar in cycle 2; call 23 + 4 = Fri 27 Mar; paid Mon 30 Mar → nothing more.
    let s = Scenario::new(
        vec![
            invoice("2026-02-01", "C001", "F-1", "2026-03-02", "800"),
            payment("2026-03-05", "C001", "800"),
            invoice("2026-03-06", "C001", "F-2", "2026-03-20", "500"),
            payment("2026-03-30", "C001", "500"),
        ],
        "2026-02-01",
        "2026-04-30",
    );
    assert_schedule(
        &s,
        "
        2026-02-25 C001 courtesy_notice email F-1 800.00 EUR
        2026-03-03 C001 first_reminder email F-1 800.00 EUR
        2026-03-16 C001 courtesy_notice email F-2 500.00 EUR
        2026-03-23 C001 first_reminder email F-2 500.00 EUR
        2026-03-27 C001 phone_call phone_call F-2 500.00 EUR
        ",
    );
    let keys: Vec<String> = s
        .run(RunDays::EveryDay)
        .actions
        .iter()
        .filter(|a| !a.is_notice)
        .map(|a| a.key.clone())
        .collect();
    assert_eq!(
        keys,
        [
            "1/1/cycle1/first_reminder",
            "1/1/cycle2/first_reminder",
            "1/1/cycle2/phone_call"
        ]
    );
}

#[test]
fn partial_payment_lowers_the_amount_and_a_remainder_under_the_minimum_is_not_chased() {
    // F-1 1000 due Mon 2 Mar, imported 20 Feb: courtesy Wed 25 Feb; first Tue 3 Mar (1000).
    // 600 paid Wed 4 Mar: call 3 + 4 = Sat 7 Mar → Mon 9 Mar lists 400.
    // 397 paid Tue 10 Mar: 3.00 left < 5.00 minimum → not chased; second (Fri 13 Mar) never comes.
    let s = Scenario::new(
        vec![
            invoice("2026-02-20", "C001", "F-1", "2026-03-02", "1000"),
            payment("2026-03-04", "C001", "600"),
            payment("2026-03-10", "C001", "397"),
        ],
        "2026-02-20",
        "2026-04-30",
    );
    assert_schedule(
        &s,
        "
        2026-02-25 C001 courtesy_notice email F-1 1000.00 EUR
        2026-03-03 C001 first_reminder email F-1 1000.00 EUR
        2026-03-09 C001 phone_call phone_call F-1 400.00 EUR
        ",
    );
}

#[test]
fn kept_promise_pauses_then_the_rest_is_chased_after_the_promised_date() {
    // F-1 500 due Thu 30 Apr, imported Mon 27 Apr: courtesy 25 Apr (Sat) → Mon 27 Apr, still
    // before the due date, so sent on import day.
    // first: 1 May (holiday) → Mon 4 May.
    // Promise made Tue 5 May for Wed 13 May, 300: pause until the business day after 13 May:
    // Thu 14 May is Ascension → Fri 15 May.
    // call: 4 May + 4 = Fri 8 May (holiday) → Mon 11 May, inside the pause → not carried out.
    // 300 paid on 13 May: promise kept, 200 left → the call waits for the pause's end, Fri 15 May.
    // second: 15 + 4 = Tue 19 May. formal: 19 + 10 = Fri 29 May.
    // litigation: 29 May + 15 = Sat 13 Jun → Mon 15 Jun.
    let s = Scenario::new(
        vec![
            invoice("2026-04-27", "C001", "F-1", "2026-04-30", "500"),
            promise("2026-05-05", "F-1", "2026-05-13", "300"),
            payment("2026-05-13", "C001", "300"),
        ],
        "2026-04-20",
        "2026-06-30",
    );
    assert_schedule(
        &s,
        "
        2026-04-27 C001 courtesy_notice email F-1 500.00 EUR
        2026-05-04 C001 first_reminder email F-1 500.00 EUR
        2026-05-15 C001 phone_call phone_call F-1 200.00 EUR
        2026-05-19 C001 second_reminder registered_letter+email F-1 200.00 EUR
        2026-05-29 C001 formal_notice registered_letter_ar+email F-1 200.00 EUR
        2026-06-15 C001 litigation task F-1 200.00 EUR
        ",
    );
}

#[test]
fn promise_paid_in_full_closes_the_case() {
    // Same start as above; 500 promised for 13 May and paid on 12 May: nothing after the first
    // reminder.
    let s = Scenario::new(
        vec![
            invoice("2026-04-27", "C001", "F-1", "2026-04-30", "500"),
            promise("2026-05-05", "F-1", "2026-05-13", "500"),
            payment("2026-05-12", "C001", "500"),
        ],
        "2026-04-20",
        "2026-06-30",
    );
    assert_schedule(
        &s,
        "
        2026-04-27 C001 courtesy_notice email F-1 500.00 EUR
        2026-05-04 C001 first_reminder email F-1 500.00 EUR
        ",
    );
}

#[test]
fn broken_promise_resumes_the_day_after_and_later_steps_chain_from_it() {
    // C002 has no e-mail: no courtesy notice (e-mail only), letters instead.
    // G-1 700 due Thu 30 Apr: first 1 May (holiday) → Mon 4 May, by letter.
    // Promise made Tue 5 May for Tue 12 May (700); 300 paid on 12 May: not kept.
    // The call (nominal Mon 11 May) fell inside the pause; the case resumes the business day
    // after 12 May: Wed 13 May, with 400 left.
    // second: 13 + 4 = Sun 17 May → Mon 18 May (registered letter only, no e-mail).
    // formal: 18 + 10 = Thu 28 May. litigation: 28 May + 15 = Fri 12 Jun.
    let s = Scenario::new(
        vec![
            invoice("2026-04-01", "C002", "G-1", "2026-04-30", "700"),
            promise("2026-05-05", "G-1", "2026-05-12", "700"),
            payment("2026-05-12", "C002", "300"),
        ],
        "2026-04-01",
        "2026-06-30",
    );
    assert_schedule(
        &s,
        "
        2026-05-04 C002 first_reminder letter G-1 700.00 EUR
        2026-05-13 C002 phone_call phone_call G-1 400.00 EUR
        2026-05-18 C002 second_reminder registered_letter G-1 400.00 EUR
        2026-05-28 C002 formal_notice registered_letter_ar G-1 400.00 EUR
        2026-06-12 C002 litigation task G-1 400.00 EUR
        ",
    );
    let out = s.run(RunDays::EveryDay);
    assert!(
        out.actions[1]
            .reason
            .ends_with("the payment promised for 2026-05-12 has not arrived"),
        "{}",
        out.actions[1].reason
    );
}

#[test]
fn a_promise_made_before_the_due_date_holds_the_first_reminder() {
    // F-1 1000 due Mon 2 Mar: courtesy Wed 25 Feb. On Thu 26 Feb the customer promises to pay
    // on Fri 6 Mar: the first reminder (Tue 3 Mar) waits; nothing arrives, so the case resumes
    // the business day after 6 Mar: Mon 9 Mar. call: 9 + 4 = Fri 13 Mar. second: 13 + 4 =
    // Tue 17 Mar.
    let s = Scenario::new(
        vec![
            invoice("2026-02-01", "C001", "F-1", "2026-03-02", "1000"),
            promise("2026-02-26", "F-1", "2026-03-06", "1000"),
        ],
        "2026-02-01",
        "2026-03-20",
    );
    assert_schedule(
        &s,
        "
        2026-02-25 C001 courtesy_notice email F-1 1000.00 EUR
        2026-03-09 C001 first_reminder email F-1 1000.00 EUR
        2026-03-13 C001 phone_call phone_call F-1 1000.00 EUR
        2026-03-17 C001 second_reminder registered_letter+email F-1 1000.00 EUR
        ",
    );
}

#[test]
fn disputes_pause_a_case_and_resolution_resumes_it() {
    // C001: F-1 900 due Mon 2 Mar: courtesy Wed 25 Feb, first Tue 3 Mar. Disputed Wed 4 Mar:
    // nothing else in the case → paused (the call of Mon 9 Mar is not made). Resolved Sat 4 Apr:
    // next step due on the resolution day, moved to a business day: Sun 5, Mon 6 (Easter Monday)
    // → Tue 7 Apr. second: 7 + 4 = Sat 11 Apr → Mon 13 Apr. formal: 13 + 10 = Thu 23 Apr.
    // litigation: 23 Apr + 15 = Fri 8 May (holiday) → Mon 11 May.
    // C002 (no e-mail): G-1 300 and G-2 200 due Mon 2 Mar; G-2 disputed on 20 Feb, so the first
    // reminder (Tue 3 Mar, letter) lists G-1 only. G-2 resolved Thu 5 Mar while G-1 is chased: no
    // pause to end, G-2 joins the next message: call 3 + 4 = Sat 7 → Mon 9 Mar (500).
    // second: 9 + 4 = Fri 13 Mar. formal: 13 + 10 = Mon 23 Mar. litigation: 23 + 15 = Tue 7 Apr.
    let s = Scenario::new(
        vec![
            invoice("2026-02-01", "C001", "F-1", "2026-03-02", "900"),
            invoice("2026-02-01", "C002", "G-1", "2026-03-02", "300"),
            invoice("2026-02-01", "C002", "G-2", "2026-03-02", "200"),
            dispute("2026-02-20", "G-2"),
            dispute("2026-03-04", "F-1"),
            resolve("2026-03-05", "G-2"),
            resolve("2026-04-04", "F-1"),
        ],
        "2026-02-01",
        "2026-05-31",
    );
    assert_schedule(
        &s,
        "
        2026-02-25 C001 courtesy_notice email F-1 900.00 EUR
        2026-03-03 C001 first_reminder email F-1 900.00 EUR
        2026-03-03 C002 first_reminder letter G-1 300.00 EUR
        2026-03-09 C002 phone_call phone_call G-1,G-2 500.00 EUR
        2026-03-13 C002 second_reminder registered_letter G-1,G-2 500.00 EUR
        2026-03-23 C002 formal_notice registered_letter_ar G-1,G-2 500.00 EUR
        2026-04-07 C001 phone_call phone_call F-1 900.00 EUR
        2026-04-07 C002 litigation task G-1,G-2 500.00 EUR
        2026-04-13 C001 second_reminder registered_letter+email F-1 900.00 EUR
        2026-04-23 C001 formal_notice registered_letter_ar+email F-1 900.00 EUR
        2026-05-11 C001 litigation task F-1 900.00 EUR
        ",
    );
}

#[test]
fn a_new_invoice_gets_its_courtesy_notice_then_joins_the_open_case() {
    // F-1 400 due Mon 2 Mar, F-2 600 due Tue 10 Mar.
    // courtesy F-1: Wed 25 Feb. first: Tue 3 Mar (F-1). courtesy F-2: 10 − 5 = Thu 5 Mar, sent
    // although the customer's case is open. call: 3 + 4 = Sat 7 → Mon 9 Mar, F-2 not yet overdue.
    // second: 9 + 4 = Fri 13 Mar, F-2 overdue since 11 Mar joins (1000).
    // formal: Mon 23 Mar. litigation: 23 + 15 = Tue 7 Apr.
    let s = Scenario::new(
        vec![
            invoice("2026-02-01", "C001", "F-1", "2026-03-02", "400"),
            invoice("2026-02-01", "C001", "F-2", "2026-03-10", "600"),
        ],
        "2026-02-01",
        "2026-04-30",
    );
    assert_schedule(
        &s,
        "
        2026-02-25 C001 courtesy_notice email F-1 400.00 EUR
        2026-03-03 C001 first_reminder email F-1 400.00 EUR
        2026-03-05 C001 courtesy_notice email F-2 600.00 EUR
        2026-03-09 C001 phone_call phone_call F-1 400.00 EUR
        2026-03-13 C001 second_reminder registered_letter+email F-1,F-2 1000.00 EUR
        2026-03-23 C001 formal_notice registered_letter_ar+email F-1,F-2 1000.00 EUR
        2026-04-07 C001 litigation task F-1,F-2 1000.00 EUR
        ",
    );
}

#[test]
fn an_invoice_imported_late_gets_one_first_reminder_then_the_ladder() {
    // F-9 due Thu 15 Jan imported Wed 11 Mar: no courtesy (already due); the first reminder was
    // due since Fri 16 Jan and goes out on import day. call: 11 + 4 = Sun 15 → Mon 16 Mar.
    // second: 16 + 4 = Fri 20 Mar. formal: 20 + 10 = Mon 30 Mar. litigation: 30 + 15 = Tue 14 Apr.
    let s = Scenario::new(
        vec![invoice("2026-03-11", "C001", "F-9", "2026-01-15", "2500")],
        "2026-03-01",
        "2026-04-30",
    );
    assert_schedule(
        &s,
        "
        2026-03-11 C001 first_reminder email F-9 2500.00 EUR
        2026-03-16 C001 phone_call phone_call F-9 2500.00 EUR
        2026-03-20 C001 second_reminder registered_letter+email F-9 2500.00 EUR
        2026-03-30 C001 formal_notice registered_letter_ar+email F-9 2500.00 EUR
        2026-04-14 C001 litigation task F-9 2500.00 EUR
        ",
    );
    let out = s.run(RunDays::EveryDay);
    assert_eq!(
        out.actions[0].reason,
        "invoice F-9 is 55 days overdue; step 2 (first_reminder) of policy Standard is due \
         since 2026-01-16"
    );
}

#[test]
fn amounts_under_the_minimum_are_not_chased_per_customer_total() {
    // C001: F-1 4.99 due Mon 2 Mar, F-2 3.00 due Mon 9 Mar. Each is under 5.00: no courtesy
    // notice, and 4.99 alone is not chased. From Tue 10 Mar the total is 7.99: the first reminder
    // (due since 3 Mar by the date, but only worth sending now) goes out on 10 Mar.
    // call: 10 + 4 = Sat 14 → Mon 16 Mar. Credit note of 5.00 on Tue 17 Mar: F-1 settled, 2.99
    // left on F-2 → under the minimum, the cycle ends.
    // C002: one invoice of 4.00, never chased.
    let s = Scenario::new(
        vec![
            invoice("2026-02-01", "C001", "F-1", "2026-03-02", "4.99"),
            invoice("2026-02-01", "C001", "F-2", "2026-03-09", "3.00"),
            invoice("2026-02-01", "C002", "G-1", "2026-03-02", "4.00"),
            Event {
                on: d("2026-03-17"),
                input: Input::CreditNote {
                    customer: "C001".into(),
                    number: "AV-1".into(),
                    amount: eur("5"),
                    invoice: None,
                },
            },
        ],
        "2026-02-01",
        "2026-04-30",
    );
    assert_schedule(
        &s,
        "
        2026-03-10 C001 first_reminder email F-1,F-2 7.99 EUR
        2026-03-16 C001 phone_call phone_call F-1,F-2 7.99 EUR
        ",
    );
}

#[test]
fn a_week_of_missed_runs_fires_one_step_then_chains_from_it() {
    // F-1 due Mon 2 Mar; no runs from Tue 3 to Fri 13 Mar. Mon 16 Mar: only the first reminder
    // (due since 3 Mar). call: 16 + 4 = Fri 20 Mar. second: 20 + 4 = Tue 24 Mar.
    // formal: 24 Mar + 10 = Fri 3 Apr (a working day outside Alsace-Moselle).
    // litigation: 3 + 15 = Sat 18 Apr → Mon 20 Apr.
    let cal = BusinessCalendar::FRANCE;
    let days: Vec<NaiveDate> = d("2026-03-01")
        .iter_days()
        .take_while(|x| *x <= d("2026-04-30"))
        .filter(|x| cal.is_business_day(*x) && !(d("2026-03-03")..=d("2026-03-13")).contains(x))
        .collect();
    let mut s = Scenario::new(
        vec![invoice("2026-02-01", "C001", "F-1", "2026-03-02", "1000")],
        "2026-03-01",
        "2026-04-30",
    );
    s.run_on = Some(days);
    assert_schedule(
        &s,
        "
        2026-03-16 C001 first_reminder email F-1 1000.00 EUR
        2026-03-20 C001 phone_call phone_call F-1 1000.00 EUR
        2026-03-24 C001 second_reminder registered_letter+email F-1 1000.00 EUR
        2026-04-03 C001 formal_notice registered_letter_ar+email F-1 1000.00 EUR
        2026-04-20 C001 litigation task F-1 1000.00 EUR
        ",
    );
}

#[test]
fn a_hold_pauses_everything_including_courtesy_notices() {
    // F-1 1000 due Mon 4 May, F-2 250 due Mon 18 May, imported 1 Apr.
    // courtesy F-1: Wed 29 Apr. first: Tue 5 May. Hold set Wed 6 May until Mon 25 May.
    // call: 5 + 4 = Sat 9 → Mon 11 May, held; the hold ends on 25 May, Whit Monday → Tue 26 May.
    // courtesy F-2: 18 − 5 = Wed 13 May, held until 26 May, by then F-2 is due → skipped.
    // The call on 26 May lists F-1 and F-2 (overdue since 19 May).
    // second: 26 + 4 = Sat 30 May → Mon 1 Jun. formal: 1 + 10 = Thu 11 Jun.
    // litigation: 11 + 15 = Fri 26 Jun.
    let s = Scenario::new(
        vec![
            invoice("2026-04-01", "C001", "F-1", "2026-05-04", "1000"),
            invoice("2026-04-01", "C001", "F-2", "2026-05-18", "250"),
            Event {
                on: d("2026-05-06"),
                input: Input::Hold {
                    customer: "C001".into(),
                    until: d("2026-05-25"),
                    reason: "négociation en cours".into(),
                },
            },
        ],
        "2026-04-01",
        "2026-07-31",
    );
    assert_schedule(
        &s,
        "
        2026-04-29 C001 courtesy_notice email F-1 1000.00 EUR
        2026-05-05 C001 first_reminder email F-1 1000.00 EUR
        2026-05-26 C001 phone_call phone_call F-1,F-2 1250.00 EUR
        2026-06-01 C001 second_reminder registered_letter+email F-1,F-2 1250.00 EUR
        2026-06-11 C001 formal_notice registered_letter_ar+email F-1,F-2 1250.00 EUR
        2026-06-26 C001 litigation task F-1,F-2 1250.00 EUR
        ",
    );
}

#[test]
fn consumers_and_businesses_follow_the_policy_meant_for_them() {
    // B001 (business) follows "Standard B2B" (the default ladder); P001 (consumer) follows a
    // lighter "Consumer" policy: first reminder 3 days after the due date, formal notice 15 days
    // after it, no call, no litigation task.
    // B-1 due Mon 2 Mar: courtesy Wed 25 Feb, first Tue 3 Mar, call Mon 9 Mar, second Fri 13 Mar,
    // formal Mon 23 Mar, litigation Tue 7 Apr.
    // P-1 due Mon 2 Mar: first 2 + 3 = Thu 5 Mar; formal 5 + 15 = Fri 20 Mar.
    let mut b2b = Policy::default_french();
    b2b.id = "standard_b2b".into();
    b2b.name = "Standard B2B".into();
    b2b.conditions = Conditions {
        customer_kinds: vec![CustomerKind::Business],
        tags: Vec::new(),
        grades: Vec::new(),
    };
    let consumer = Policy {
        id: "consumer".into(),
        name: "Consumer".into(),
        grouping: Grouping::PerCustomer,
        minimum_amount: eur("5"),
        conditions: Conditions {
            customer_kinds: vec![CustomerKind::Consumer],
            tags: Vec::new(),
            grades: Vec::new(),
        },
        steps: vec![
            Step {
                id: "first_reminder".into(),
                offset_days: 3,
                anchor: Anchor::DueDate,
                channels: vec![Channel::Email],
                without_email: Some(vec![Channel::Letter]),
                template: "first_reminder".into(),
                tone: Tone::Friendly,
                per_invoice_before_due: false,
                attach_statement: false,
                experiment: None,
            },
            Step {
                id: "formal_notice".into(),
                offset_days: 15,
                anchor: Anchor::PreviousStep,
                channels: vec![Channel::RegisteredLetterAr, Channel::Email],
                without_email: None,
                template: "formal_notice_consumer".into(),
                tone: Tone::Formal,
                per_invoice_before_due: false,
                attach_statement: false,
                experiment: None,
            },
        ],
    };
    let mut s = Scenario::new(
        vec![
            invoice("2026-02-01", "B001", "B-1", "2026-03-02", "1200"),
            invoice("2026-02-01", "P001", "P-1", "2026-03-02", "150"),
        ],
        "2026-02-01",
        "2026-04-30",
    );
    s.policies = vec![b2b, consumer];
    assert_schedule(
        &s,
        "
        2026-02-25 B001 courtesy_notice email B-1 1200.00 EUR
        2026-03-03 B001 first_reminder email B-1 1200.00 EUR
        2026-03-05 P001 first_reminder email P-1 150.00 EUR
        2026-03-09 B001 phone_call phone_call B-1 1200.00 EUR
        2026-03-13 B001 second_reminder registered_letter+email B-1 1200.00 EUR
        2026-03-20 P001 formal_notice registered_letter_ar+email P-1 150.00 EUR
        2026-03-23 B001 formal_notice registered_letter_ar+email B-1 1200.00 EUR
        2026-04-07 B001 litigation task B-1 1200.00 EUR
        ",
    );
    let out = s.run(RunDays::EveryDay);
    let b_first = &out.actions[1];
    assert_eq!(b_first.customer_kind, CustomerKind::Business);
    assert_eq!(
        b_first.reason,
        "invoice B-1 is 1 day overdue; step 2 (first_reminder) of policy Standard B2B is due"
    );
    let p_first = &out.actions[2];
    assert_eq!(p_first.customer_kind, CustomerKind::Consumer);
    assert_eq!(p_first.policy, "consumer");
    assert_eq!(p_first.template, "first_reminder");
}

#[test]
fn alsace_moselle_moves_steps_off_good_friday() {
    // F-1 due Thu 2 Apr. courtesy: 28 Mar (Sat) → Mon 30 Mar in both calendars.
    // France: first Fri 3 Apr; call 3 + 4 = Tue 7 Apr.
    // Alsace-Moselle: 3 Apr is Good Friday → Sat, Sun, Mon 6 (Easter Monday) → Tue 7 Apr;
    // call 7 + 4 = Sat 11 → Mon 13 Apr (after the end of the replay).
    let events = vec![invoice("2026-03-01", "C001", "F-1", "2026-04-02", "100")];
    let france = Scenario::new(events.clone(), "2026-03-01", "2026-04-12");
    assert_schedule(
        &france,
        "
        2026-03-30 C001 courtesy_notice email F-1 100.00 EUR
        2026-04-03 C001 first_reminder email F-1 100.00 EUR
        2026-04-07 C001 phone_call phone_call F-1 100.00 EUR
        ",
    );
    let mut alsace = Scenario::new(events, "2026-03-01", "2026-04-12");
    alsace.calendar = BusinessCalendar::ALSACE_MOSELLE;
    assert_schedule(
        &alsace,
        "
        2026-03-30 C001 courtesy_notice email F-1 100.00 EUR
        2026-04-07 C001 first_reminder email F-1 100.00 EUR
        ",
    );
}

#[test]
fn per_invoice_grouping_runs_one_ladder_per_invoice() {
    // F-1 due Mon 2 Mar, F-2 due Wed 4 Mar, followed separately.
    // F-1: courtesy Wed 25 Feb, first Tue 3 Mar, call Sat 7 → Mon 9 Mar.
    // F-2: courtesy 27 Feb (Fri), first Thu 5 Mar, call 5 + 4 = Mon 9 Mar.
    let mut policy = Policy::default_french();
    policy.grouping = Grouping::PerInvoice;
    let mut s = Scenario::new(
        vec![
            invoice("2026-02-01", "C001", "F-1", "2026-03-02", "100"),
            invoice("2026-02-01", "C001", "F-2", "2026-03-04", "200"),
        ],
        "2026-02-01",
        "2026-03-10",
    );
    s.policies = vec![policy];
    assert_schedule(
        &s,
        "
        2026-02-25 C001 courtesy_notice email F-1 100.00 EUR
        2026-02-27 C001 courtesy_notice email F-2 200.00 EUR
        2026-03-03 C001 first_reminder email F-1 100.00 EUR
        2026-03-05 C001 first_reminder email F-2 200.00 EUR
        2026-03-09 C001 phone_call phone_call F-1 100.00 EUR
        2026-03-09 C001 phone_call phone_call F-2 200.00 EUR
        ",
    );
    let keys: Vec<String> = s
        .run(RunDays::EveryDay)
        .actions
        .iter()
        .filter(|a| a.step == "phone_call")
        .map(|a| a.key.clone())
        .collect();
    assert_eq!(
        keys,
        ["1/1/cycle1/phone_call/F-1", "1/1/cycle1/phone_call/F-2"]
    );
}

#[test]
fn running_twice_on_the_same_day_does_nothing_the_second_time() {
    let s = Scenario::new(
        vec![invoice("2026-02-01", "C001", "F-1", "2026-03-02", "1000")],
        "2026-02-01",
        "2026-03-02",
    );
    // State on the evening of Mon 2 Mar (courtesy sent on 25 Feb), then the run of Tue 3 Mar.
    let out = s.run(RunDays::EveryDay);
    let mut case = out.cases[0].clone();
    let policy = Policy::default_french();
    let cal = BusinessCalendar::FRANCE;
    let first = plan(&case, &policy, &cal, d("2026-03-03"));
    assert_eq!(first.actions.len(), 1);
    assert_eq!(first.actions[0].step, "first_reminder");
    // Planning again before recording gives the same decision and the same key.
    assert_eq!(plan(&case, &policy, &cal, d("2026-03-03")), first);
    case.apply_plan(&first);
    let second = plan(&case, &policy, &cal, d("2026-03-03"));
    assert!(second.actions.is_empty(), "{:?}", second.actions);
    // Next: call on 3 + 4 = Sat 7 → Mon 9 Mar.
    assert_eq!(first.next_action_on, Some(d("2026-03-09")));
    assert_eq!(second.next_action_on, Some(d("2026-03-09")));
}
