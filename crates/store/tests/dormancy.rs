//! Dormant customers found incrementally decide exactly as a look at everyone does.
//!
//! Two stores get the same ledger and the same day-by-day events (invoices imported late or
//! dated ahead, payments, disputes opened and resolved, opt-outs) and run every day of four
//! months as `relance run` does. Store A's follow-up run looks only at the customers whose
//! case or day came (`dormancy_pending`, `cases.dormancy_check_on`); store B's looks at every
//! customer each day (`full`). Their follow-ups and outboxes must match day by day. A few
//! customers are written by hand with the dates their reactivation falls on, worked out from
//! the rule (six months after the last invoice, or twice the usual interval if longer); the
//! others are drawn at random from a few seeds.

mod common;

use chrono::{Days, NaiveDate};
use common::TestDb;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use relance_core::ids::CreditorId;
use relance_core::ledger::ItemKind;
use relance_core::money::Money;
use relance_store::cases::RunOptions;
use relance_store::creditors::CreditorInput;
use relance_store::customers::CustomerFields;
use relance_store::imports::InvoiceRecord;
use relance_store::payments::{PaymentImport, PaymentRecord};
use relance_store::Store;
use rust_decimal::Decimal;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn invoice(number: &str, customer: &str, issued: NaiveDate, due: NaiveDate) -> InvoiceRecord {
    InvoiceRecord {
        line: 2,
        kind: ItemKind::Invoice,
        number: number.into(),
        customer: CustomerFields {
            code: customer.into(),
            name: Some(format!("Client {customer}")),
            emails: vec![format!("compta@{}.fr", customer.to_lowercase())],
            ..Default::default()
        },
        issue_date: issued,
        due_date: due,
        total: Money::eur(Decimal::new(10_000, 2)),
        paid: Money::eur(Decimal::ZERO),
    }
}

/// What happens to the ledger on a day, before that day's run.
#[derive(Debug, Clone)]
enum Happening {
    Import(Vec<InvoiceRecord>),
    Pay(String),
    Dispute(String),
    Resolve(String),
    OptOut(String),
}

/// The ledger before the replay, and what happens on which day.
struct Scenario {
    ledger: Vec<InvoiceRecord>,
    days: Vec<(NaiveDate, Happening)>,
}

/// Customers written by hand (X…), with the days their reactivation starts.
fn by_hand() -> (Scenario, Vec<(&'static str, &'static str)>) {
    let mut ledger = Vec::new();
    let mut days = Vec::new();
    let paid_invoice = |number: &str, customer: &str, issued: &str| {
        let issued = d(issued);
        let mut record = invoice(number, customer, issued, issued + Days::new(30));
        record.paid = record.total;
        record
    };
    // X1: monthly invoices, the last on 2025-10-10: dormant six months later, 2026-04-10.
    for (n, day) in ["2025-08-10", "2025-09-10", "2025-10-10"]
        .iter()
        .enumerate()
    {
        ledger.push(paid_invoice(&format!("X1-{n}"), "X1", day));
    }
    // X2: quiet since 2025-09-05 but that invoice is overdue; paid on 2026-04-20.
    ledger.push(paid_invoice("X2-0", "X2", "2025-07-05"));
    ledger.push(paid_invoice("X2-1", "X2", "2025-08-05"));
    ledger.push(invoice("X2-2", "X2", d("2025-09-05"), d("2025-10-05")));
    days.push((d("2026-04-20"), Happening::Pay("X2-2".into())));
    // X3: quiet since 2025-09-15 (dormant from 2026-03-15) with an invoice in dispute since
    // 2026-03-02 (due later): the dispute is resolved on 2026-05-05.
    ledger.push(paid_invoice("X3-0", "X3", "2025-08-01"));
    ledger.push(paid_invoice("X3-1", "X3", "2025-09-01"));
    ledger.push(invoice("X3-2", "X3", d("2025-09-15"), d("2026-12-31")));
    days.push((d("2026-03-02"), Happening::Dispute("X3-2".into())));
    days.push((d("2026-05-05"), Happening::Resolve("X3-2".into())));
    // X4: dormant since March but opted out: never.
    ledger.push(paid_invoice("X4-0", "X4", "2025-09-20"));
    days.push((d("2026-03-02"), Happening::OptOut("X4".into())));
    // X5: would turn dormant on 2026-04-20, orders again on 2026-04-15.
    ledger.push(paid_invoice("X5-0", "X5", "2025-10-20"));
    let again = d("2026-04-15");
    days.push((
        again,
        Happening::Import(vec![invoice("X5-1", "X5", again, again + Days::new(30))]),
    ));
    // X6: an invoice dated ahead (2026-03-25) counts from its issue date: the one of
    // 2025-09-25 alone would have made X6 dormant on 2026-03-25; with both, twice the usual
    // interval (181 days) is longer than six months: dormant on 2027-03-22, after the replay.
    ledger.push(paid_invoice("X6-0", "X6", "2025-09-25"));
    ledger.push(paid_invoice("X6-1", "X6", "2026-03-25"));
    let expected = vec![
        ("X1", "2026-04-10"),
        ("X2", "2026-04-20"),
        ("X3", "2026-05-05"),
    ];
    (Scenario { ledger, days }, expected)
}

/// Random customers (R…) and happenings from `seed`.
fn drawn(seed: u64, first_day: NaiveDate, last_day: NaiveDate) -> Scenario {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut ledger = Vec::new();
    let mut days = Vec::new();
    let span = (last_day - first_day).num_days() as u64;
    let mut open: Vec<String> = Vec::new();
    for c in 0..24 {
        let code = format!("R{c:02}");
        // Start between 2024-06 and 2026-02, a gap of 10 to 120 days between invoices.
        let mut issued = d("2024-06-01") + Days::new(rng.random_range(0..600));
        for n in 0..rng.random_range(0..6) {
            if issued > last_day {
                break;
            }
            let number = format!("{code}-{n}");
            let mut record = invoice(&number, &code, issued, issued + Days::new(30));
            if issued >= first_day || rng.random_bool(0.25) {
                // Dated ahead (issued during the replay) or unpaid.
                open.push(number);
            } else {
                record.paid = record.total;
            }
            ledger.push(record);
            issued = issued + Days::new(rng.random_range(10..120));
        }
        if rng.random_bool(0.3) {
            // Orders again during the replay, imported that day.
            let on = first_day + Days::new(rng.random_range(0..span));
            let number = format!("{code}-late");
            days.push((
                on,
                Happening::Import(vec![invoice(&number, &code, on, on + Days::new(30))]),
            ));
        }
        if rng.random_bool(0.1) {
            let on = first_day + Days::new(rng.random_range(0..span));
            days.push((on, Happening::OptOut(code.clone())));
        }
    }
    for number in open {
        match rng.random_range(0..4) {
            0 => {
                let on = first_day + Days::new(rng.random_range(0..span));
                days.push((on, Happening::Pay(number)));
            }
            1 => {
                let opened = first_day + Days::new(rng.random_range(0..span / 2));
                let resolved = opened + Days::new(rng.random_range(1..span / 2));
                days.push((opened, Happening::Dispute(number.clone())));
                days.push((resolved, Happening::Resolve(number)));
            }
            _ => {}
        }
    }
    Scenario { ledger, days }
}

async fn creditor(store: &Store) -> CreditorId {
    let (c, _) = store
        .upsert_creditor(&CreditorInput {
            name: "Atelier".into(),
            email: Some("compta@atelier.example".into()),
            ..Default::default()
        })
        .await
        .expect("creditor");
    c.id
}

async fn import(store: &Store, creditor: CreditorId, records: &[InvoiceRecord], on: NaiveDate) {
    let mut session = store
        .begin_invoice_import(creditor, &format!("invoices-{on}.csv"), on)
        .await
        .expect("begin");
    for r in records {
        session.push(r.clone()).await.expect("push");
    }
    session.commit(0).await.expect("commit");
}

async fn happen(store: &Store, creditor: CreditorId, on: NaiveDate, what: &Happening) {
    match what {
        Happening::Import(records) => import(store, creditor, records, on).await,
        Happening::Pay(number) => {
            let record = PaymentRecord {
                line: 2,
                date: on,
                amount: Money::eur(Decimal::new(10_000, 2)),
                reference: number.clone(),
                customer_code: None,
                invoice_number: Some(number.clone()),
                bank_reference: Some(format!("PAY-{number}")),
                payer_name: None,
                payer_iban: None,
            };
            match store
                .import_payments(creditor, "bank.csv", &[record], on)
                .await
                .expect("payment")
            {
                PaymentImport::Done(_) => {}
                PaymentImport::Refused(problems) => panic!("payment refused: {problems:?}"),
            }
        }
        Happening::Dispute(number) => {
            // A dispute on an invoice already paid is refused: nothing to do then.
            let _ = store.open_dispute(creditor, number, "quantity", on).await;
        }
        Happening::Resolve(number) => {
            let _ = store.resolve_dispute(creditor, number, on).await;
        }
        Happening::OptOut(code) => {
            store
                .opt_out(creditor, code, on, "command")
                .await
                .expect("opt out");
        }
    }
}

/// A run of `day`. Incrementally, as `relance run` and the server do it: `run_daily`, both
/// halves on one connection. With `everyone`, the halves called one by one, the follow-up
/// half looking at everyone. Returns `DAY CUSTOMER STEP CHANNEL` lines.
async fn run(
    store: &Store,
    creditor: CreditorId,
    day: NaiveDate,
    everyone: bool,
    months: u32,
) -> Vec<String> {
    let options = RunOptions {
        as_of: day,
        dry_run: false,
        full: false,
    };
    let actions = if everyone {
        let mut actions = store.run_day(creditor, options).await.expect("run");
        actions.extend(
            store
                .run_followups(
                    creditor,
                    RunOptions {
                        full: true,
                        ..options
                    },
                    months,
                )
                .await
                .expect("follow-ups"),
        );
        actions.extend(
            store
                .run_suppliers(creditor, options)
                .await
                .expect("suppliers"),
        );
        actions
    } else {
        store
            .run_daily(creditor, options, months)
            .await
            .expect("daily run")
            .into_actions()
    };
    actions
        .iter()
        .flat_map(|a| {
            a.channels
                .iter()
                .map(move |c| format!("{} {} {} {}", a.on, a.customer_code, a.step, c.as_str()))
        })
        .collect()
}

/// The dormant follow-ups: `CUSTOMER REFERENCE STARTED STATUS`.
async fn dormant_followups(store: &Store) -> Vec<String> {
    let mut rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT c.code, f.reference, f.started_on, f.status FROM followups f \
         JOIN customers c ON c.id = f.customer_id WHERE f.kind = 'dormant'",
    )
    .fetch_all(store.pool())
    .await
    .expect("follow-ups");
    rows.sort();
    rows.into_iter()
        .map(|(code, reference, started, status)| {
            // The reference names the customer's row id, which differs between stores.
            let reference = reference.split("-c").next().unwrap_or_default().to_string();
            format!("{code} {reference} {started} {status}")
        })
        .collect()
}

/// Replays `scenario` on both stores and compares them each day; returns store A's dormant
/// follow-ups at the end.
async fn replay(
    incremental: &Store,
    everyone: &Store,
    scenario: &Scenario,
    first_day: NaiveDate,
    last_day: NaiveDate,
    months: u32,
) -> Vec<String> {
    let a = creditor(incremental).await;
    let b = creditor(everyone).await;
    let start = first_day - Days::new(1);
    import(incremental, a, &scenario.ledger, start).await;
    import(everyone, b, &scenario.ledger, start).await;
    let mut day = first_day;
    let mut looked_incrementally = false;
    while day <= last_day {
        for (on, what) in &scenario.days {
            if *on == day {
                happen(incremental, a, day, what).await;
                happen(everyone, b, day, what).await;
            }
        }
        let done_a = run(incremental, a, day, false, months).await;
        let done_b = run(everyone, b, day, true, months).await;
        assert_eq!(done_a, done_b, "actions of {day}");
        assert_eq!(
            dormant_followups(incremental).await,
            dormant_followups(everyone).await,
            "dormant follow-ups on {day}"
        );
        // Store A did look incrementally: nothing left pending, dates kept.
        let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM dormancy_pending")
            .fetch_one(incremental.pool())
            .await
            .expect("pending");
        assert_eq!(pending, 0, "pending customers after {day}");
        let dated: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM cases WHERE dormancy_check_on IS NOT NULL")
                .fetch_one(incremental.pool())
                .await
                .expect("dated");
        looked_incrementally |= dated > 0;
        day = day + Days::new(1);
    }
    assert!(looked_incrementally, "no case ever had a next check date");
    dormant_followups(incremental).await
}

async fn compare(incremental: TestDb, everyone: TestDb, seed: Option<u64>) {
    let (first_day, last_day) = (d("2026-03-02"), d("2026-06-30"));
    let (mut scenario, expected) = by_hand();
    if let Some(seed) = seed {
        let extra = drawn(seed, first_day, last_day);
        scenario.ledger.extend(extra.ledger);
        scenario.days.extend(extra.days);
    }
    let found = replay(
        &incremental.store,
        &everyone.store,
        &scenario,
        first_day,
        last_day,
        6,
    )
    .await;
    let by_hand: Vec<String> = found
        .iter()
        .filter(|l| l.starts_with('X'))
        .map(|l| {
            let mut parts = l.split(' ');
            format!(
                "{} {}",
                parts.next().unwrap_or_default(),
                parts.nth(1).unwrap_or_default()
            )
        })
        .collect();
    let expected: Vec<String> = expected
        .iter()
        .map(|(code, day)| format!("{code} {day}"))
        .collect();
    assert_eq!(by_hand, expected, "hand-written customers: {found:?}");
}

#[tokio::test]
async fn incremental_look_equals_a_look_at_everyone_on_sqlite() {
    for seed in [None, Some(1), Some(2), Some(3)] {
        compare(common::sqlite().await, common::sqlite().await, seed).await;
    }
}

#[tokio::test]
async fn incremental_look_equals_a_look_at_everyone_on_postgres() {
    let (Some(a), Some(b)) = (common::postgres().await, common::postgres().await) else {
        return;
    };
    compare(a, b, Some(4)).await;
}

#[tokio::test]
async fn an_invoice_dated_ahead_can_bring_dormancy_forward() {
    // One month of silence at least. X7 ordered on 2025-12-01 and 2026-02-01: twice that
    // interval after the last, dormant on 2026-06-05. An invoice dated 2026-03-03, already in
    // the ledger on 2026-03-02, counts from its issue date: three invoices over 92 days, dormant
    // 92 days after 2026-03-03, on 2026-06-03 (a Wednesday), two days earlier.
    let paid = |number: &str, issued: &str| {
        let issued = d(issued);
        let mut record = invoice(number, "X7", issued, issued + Days::new(30));
        record.paid = record.total;
        record
    };
    let scenario = Scenario {
        ledger: vec![
            paid("X7-0", "2025-12-01"),
            paid("X7-1", "2026-02-01"),
            paid("X7-2", "2026-03-03"),
        ],
        days: Vec::new(),
    };
    let (a, b) = (common::sqlite().await, common::sqlite().await);
    let found = replay(
        &a.store,
        &b.store,
        &scenario,
        d("2026-03-02"),
        d("2026-06-30"),
        1,
    )
    .await;
    assert_eq!(
        found,
        vec!["X7 dormant-since-2026-03-03 2026-06-03 done".to_string()]
    );
}

#[tokio::test]
async fn another_number_of_months_looks_at_everyone_again() {
    let db = common::sqlite().await;
    let store = &db.store;
    let creditor = creditor(store).await;
    let (scenario, _) = by_hand();
    import(store, creditor, &scenario.ledger, d("2026-03-01")).await;
    let options = RunOptions {
        as_of: d("2026-03-02"),
        dry_run: false,
        full: false,
    };
    store.run_day(creditor, options).await.expect("run");
    store
        .run_followups(creditor, options, 12)
        .await
        .expect("twelve months");
    // Nobody is silent for twelve months; with three, X1 (last invoice 2025-10-10) is.
    assert!(dormant_followups(store).await.is_empty());
    store
        .run_followups(creditor, options, 3)
        .await
        .expect("three months");
    let found = dormant_followups(store).await;
    assert!(found.iter().any(|l| l.starts_with("X1 ")), "{found:?}");
    let months: i64 = sqlx::query_scalar("SELECT months FROM dormancy_watch")
        .fetch_one(store.pool())
        .await
        .expect("watch");
    assert_eq!(months, 3);
}
