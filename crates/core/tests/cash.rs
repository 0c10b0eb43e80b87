//! Payer scoring, grade routing and the cash forecast: grades that move with behaviour, scores
//! that never improve with more lateness, and a backtest of the forecast against generated
//! customers whose true payment behaviour is known.

use chrono::{Days, NaiveDate};
use proptest::prelude::*;
use relance_core::forecast::{choose_stats, predict, Basis, DelayStats, OpenInvoice};
use relance_core::money::Money;
use relance_core::party::CustomerKind;
use relance_core::planner::{select_policy_graded, Conditions, Policy};
use relance_core::scoring::{score, Grade, PaymentHistory};
use rust_decimal::Decimal;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("date")
}

/// A year of monthly invoices, each paid `late(n)` days after its due date.
fn history(as_of: NaiveDate, late: impl Fn(u32) -> i64) -> PaymentHistory {
    let mut h = PaymentHistory::default();
    for n in 0..12u32 {
        let due = as_of - Days::new(u64::from(365 - n * 30));
        let paid = due + chrono::Duration::days(late(n));
        h.add_paid(due, paid, as_of);
    }
    h
}

#[test]
fn a_customer_s_grade_moves_down_as_it_pays_later_and_breaks_promises() {
    let as_of = d(2026, 11, 25);
    let punctual = score(&history(as_of, |_| 0));
    assert_eq!(punctual.grade, Grade::A, "{punctual:?}");
    assert_eq!(punctual.explanation_en, "pays on time");

    let slow = score(&history(as_of, |_| 12));
    assert_eq!(slow.grade, Grade::B, "{slow:?}");

    // Getting worse: on time for six months, then 40 days late.
    let mut worse = history(as_of, |n| if n < 6 { 0 } else { 40 });
    let s = score(&worse);
    assert!(s.explanation_en.contains("getting worse"), "{s:?}");
    assert!(s.score < slow.score, "{s:?} vs {slow:?}");

    worse.promises_broken = 2;
    worse.add_open(as_of - Days::new(45), 50_000, as_of);
    let bad = score(&worse);
    assert_eq!(bad.grade, Grade::E, "{bad:?}");
    assert!(bad.explanation_en.contains("2 broken promises"));
    assert!(bad
        .explanation_en
        .contains("100% of the balance overdue (oldest 45 days)"));
    assert!(bad.explanation_fr.contains("2 promesses non tenues"));

    // And back up once the customer pays on time again (recent invoices on time).
    let better = score(&history(as_of, |n| if n < 6 { 40 } else { 0 }));
    assert!(better.score > s.score, "{better:?}");
    assert!(better.explanation_en.contains("improving"), "{better:?}");
}

fn arb_history() -> impl Strategy<Value = (Vec<(u32, i64)>, u32, u32, i64, i64)> {
    (
        prop::collection::vec((0u32..400, -10i64..120), 0..20),
        0u32..4,
        0u32..4,
        0i64..100_000,
        0i64..100_000,
    )
}

fn build(
    as_of: NaiveDate,
    invoices: &[(u32, i64)],
    broken: u32,
    disputes: u32,
    open: i64,
    overdue: i64,
) -> PaymentHistory {
    let mut h = PaymentHistory::default();
    for (age, late) in invoices {
        let due = as_of - Days::new(u64::from(*age));
        h.add_paid(due, due + chrono::Duration::days(*late), as_of);
    }
    h.promises_broken = broken;
    h.disputes = disputes;
    h.add_open(as_of + Days::new(10), open, as_of);
    h.add_open(as_of - Days::new(20), overdue, as_of);
    h
}

proptest! {
    #[test]
    fn more_lateness_never_improves_the_score(
        (invoices, broken, disputes, open, overdue) in arb_history(),
        which in 0usize..20,
        extra in 1i64..60,
    ) {
        let as_of = d(2026, 11, 25);
        let base = score(&build(as_of, &invoices, broken, disputes, open, overdue)).score;
        if !invoices.is_empty() {
            let mut later = invoices.clone();
            let i = which % later.len();
            later[i].1 += extra;
            let s = score(&build(as_of, &later, broken, disputes, open, overdue)).score;
            prop_assert!(s <= base, "one invoice {extra} days later: {s} > {base}");
        }
        let s = score(&build(as_of, &invoices, broken + 1, disputes, open, overdue)).score;
        prop_assert!(s <= base, "a broken promise more: {s} > {base}");
        let s = score(&build(as_of, &invoices, broken, disputes + 1, open, overdue)).score;
        prop_assert!(s <= base, "a dispute more: {s} > {base}");
        let s = score(&build(as_of, &invoices, broken, disputes, open, overdue + 10_000)).score;
        prop_assert!(s <= base, "more overdue: {s} > {base}");
        prop_assert!(Grade::from_score(s) >= Grade::from_score(base));
    }
}

#[test]
fn a_grade_condition_routes_risky_payers_to_a_firmer_policy() {
    let mut firm = Policy::default_french();
    firm.id = "firm".into();
    firm.name = "Firm".into();
    firm.conditions = Conditions {
        grades: vec![Grade::D, Grade::E],
        ..Conditions::default()
    };
    let policies = vec![firm, Policy::default_french()];
    let pick = |grade| {
        select_policy_graded(&policies, CustomerKind::Business, &[], grade)
            .map(|p| p.id.clone())
            .expect("a policy")
    };
    assert_eq!(pick(Some(Grade::E)), "firm");
    assert_eq!(pick(Some(Grade::D)), "firm");
    assert_eq!(pick(Some(Grade::B)), "standard_fr");
    assert_eq!(pick(None), "standard_fr");
}

/// A small deterministic generator (splitmix64): the backtest needs no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-12);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

#[test]
fn the_forecast_beats_the_due_date_on_generated_histories_with_known_behaviour() {
    let as_of = d(2026, 6, 30);
    let start = d(2025, 1, 1);
    let mut rng = Rng(42);
    let mut creditor = DelayStats::default();
    // Each customer: a true mean delay and spread; a year and a half of invoices.
    struct Customer {
        stats: DelayStats,
        open: Vec<(NaiveDate, NaiveDate)>, // (due, true payment day)
    }
    let mut customers = Vec::new();
    for c in 0..2_000 {
        let mean = -5.0 + 50.0 * rng.uniform();
        let spread = 1.0 + 9.0 * rng.uniform();
        // A quarter of the customers are new: their first invoice 100 days ago (thin history:
        // the forecast falls back on the creditor's delays).
        let new = c % 4 == 0;
        let every = if new { 30 } else { 20 + (rng.next() % 25) };
        let mut customer = Customer {
            stats: DelayStats::default(),
            open: Vec::new(),
        };
        let first = if new { as_of - Days::new(100) } else { start };
        let mut issue = first + Days::new(rng.next() % 30);
        while issue <= as_of {
            let due = issue + Days::new(30);
            let delay = (mean + spread * rng.normal()).round() as i64;
            let paid = due + chrono::Duration::days(delay);
            if paid < as_of {
                customer.stats.add(delay);
            } else {
                customer.open.push((due, paid));
            }
            issue = issue + Days::new(every);
        }
        creditor.merge(&customer.stats);
        customers.push(customer);
    }
    let (mut ours, mut naive, mut n, mut fallback) = (0i64, 0i64, 0i64, 0i64);
    for c in &customers {
        let (basis, stats) = choose_stats(&c.stats, None, &creditor);
        for (due, truth) in &c.open {
            let invoice = OpenInvoice {
                due: *due,
                open: Money::eur(Decimal::new(100, 0)),
                promised_for: None,
                disputed: false,
            };
            let p = predict(&invoice, basis, stats, as_of).expect("not disputed");
            ours += (p.expected - *truth).num_days().abs();
            naive += (*due - *truth).num_days().abs();
            n += 1;
            if basis != Basis::Customer {
                fallback += 1;
            }
        }
    }
    assert!(n > 1_000, "{n} open invoices");
    let (ours, naive) = (ours as f64 / n as f64, naive as f64 / n as f64);
    println!(
        "forecast backtest: {n} open invoices ({fallback} on the creditor's history), mean absolute error {ours:.2} days; due-date forecast {naive:.2} days"
    );
    assert!(
        ours < naive,
        "forecast {ours:.2} days, due date {naive:.2} days"
    );
    assert!(
        ours < naive / 2.0,
        "forecast {ours:.2} days, due date {naive:.2} days"
    );
}
