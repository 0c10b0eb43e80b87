//! The cash view's read models on both databases: payment histories (delays, promises kept and
//! broken, disputes, overdue share), the open invoices to forecast (promises, disputes), the
//! monthly flows of the DSO, and grades stored for policy routing.
//!
//! The ledger, by hand (2026, amounts in euros):
//! - A-1 issued 01-01 due 01-31, 1,000, paid 02-02 (2 days late)
//! - A-2 issued 02-01 due 02-28, 1,000, paid 03-10 (10 days late)
//! - A-3 issued 03-01 due 03-31, 1,000, paid 03-31 (on time)
//! - A-4 issued 04-01 due 05-31, 1,000, open
//! - B-1 issued 01-01 due 01-31, 500, paid 03-02 (30 days late)
//! - B-2 issued 02-01 due 02-28, 500, open; promised on 04-01 for 04-10 (broken)
//! - B-3 issued 04-05 due 06-30, 500, open, disputed on 04-15
//!
//! as of 2026-04-20.

mod common;

use chrono::NaiveDate;
use common::TestDb;
use relance_core::ids::CreditorId;
use relance_core::ledger::ItemKind;
use relance_core::money::Money;
use relance_core::planner::{Conditions, Policy};
use relance_core::scoring::{score, Grade};
use relance_store::creditors::CreditorInput;
use relance_store::customers::CustomerFields;
use relance_store::imports::InvoiceRecord;
use relance_store::payments::{PaymentImport, PaymentRecord};
use relance_store::Store;
use rust_decimal::Decimal;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(&format!("2026-{s}"), "%Y-%m-%d").expect("date")
}

fn eur(n: i64) -> Money {
    Money::eur(Decimal::from(n))
}

async fn ledger(store: &Store) -> CreditorId {
    let (creditor, _) = store
        .upsert_creditor(&CreditorInput {
            name: "Cash SAS".into(),
            ..Default::default()
        })
        .await
        .expect("creditor");
    let creditor = creditor.id;
    let rows = [
        ("A-1", "A", "01-01", "01-31", 1000),
        ("A-2", "A", "02-01", "02-28", 1000),
        ("A-3", "A", "03-01", "03-31", 1000),
        ("A-4", "A", "04-01", "05-31", 1000),
        ("B-1", "B", "01-01", "01-31", 500),
        ("B-2", "B", "02-01", "02-28", 500),
        ("B-3", "B", "04-05", "06-30", 500),
    ];
    let mut session = store
        .begin_invoice_import(creditor, "test.csv", d("04-05"))
        .await
        .expect("begin");
    for (line, (number, customer, issue, due, total)) in rows.into_iter().enumerate() {
        session
            .push(InvoiceRecord {
                line: line as u64 + 2,
                kind: ItemKind::Invoice,
                number: number.into(),
                customer: CustomerFields {
                    code: customer.into(),
                    name: Some(format!("Client {customer}")),
                    ..Default::default()
                },
                issue_date: d(issue),
                due_date: d(due),
                total: eur(total),
                paid: eur(0),
            })
            .await
            .expect("push");
    }
    session.commit(0).await.expect("commit");
    let payments = [
        ("02-02", 1000, "A", "A-1"),
        ("03-10", 1000, "A", "A-2"),
        ("03-31", 1000, "A", "A-3"),
        ("03-02", 500, "B", "B-1"),
    ];
    let records: Vec<PaymentRecord> = payments
        .iter()
        .enumerate()
        .map(|(n, (day, amount, customer, invoice))| PaymentRecord {
            line: n as u64 + 2,
            date: d(day),
            amount: eur(*amount),
            reference: format!("pay {invoice}"),
            customer_code: Some(customer.to_string()),
            invoice_number: Some(invoice.to_string()),
            bank_reference: Some(format!("BANK-{n}")),
            payer_name: None,
            payer_iban: None,
        })
        .collect();
    match store
        .import_payments(creditor, "bank.csv", &records, d("04-01"))
        .await
        .expect("payments")
    {
        PaymentImport::Done(_) => {}
        PaymentImport::Refused(p) => panic!("refused: {p:?}"),
    }
    store
        .promise_to_pay(creditor, "B-2", d("04-10"), None, d("04-01"))
        .await
        .expect("promise");
    store
        .open_dispute(creditor, "B-3", "not delivered", d("04-15"))
        .await
        .expect("dispute");
    creditor
}

on_both_databases!(
    payment_histories_sum_delays_promises_and_disputes,
    |db: TestDb| async move {
        let store = &db.store;
        let creditor = ledger(store).await;
        let as_of = d("04-20");
        let histories = store
            .payer_histories(creditor, as_of)
            .await
            .expect("histories");
        let a = histories.iter().find(|c| c.code == "A").expect("A");
        let b = histories.iter().find(|c| c.code == "B").expect("B");
        assert_eq!(
            (a.delays.count, a.delays.sum, a.delays.sum_squares),
            (3, 12, 104)
        );
        assert_eq!((a.history.late_days, a.history.worst_late), (12, 10));
        assert_eq!(
            (a.history.open_minor, a.history.overdue_minor),
            (100_000, 0)
        );
        assert_eq!((a.history.promises_broken, a.history.disputes), (0, 0));
        assert_eq!((b.delays.count, b.delays.sum), (1, 30));
        assert_eq!(
            (b.history.open_minor, b.history.overdue_minor),
            (100_000, 50_000)
        );
        assert_eq!(b.history.oldest_overdue_days, 51);
        assert_eq!((b.history.promises_broken, b.history.promises_kept), (1, 0));
        assert_eq!(b.history.disputes, 1);
        let (sa, sb) = (score(&a.history), score(&b.history));
        assert!(sa.score > sb.score, "{sa:?} {sb:?}");
        assert!(sa.grade < sb.grade, "{sa:?} {sb:?}");
        assert!(sb.explanation_en.contains("1 broken promise"), "{sb:?}");

        // Before B-1 was paid, B had no paid invoice at all.
        let earlier = store
            .payer_histories(creditor, d("03-01"))
            .await
            .expect("histories");
        let b = earlier.iter().find(|c| c.code == "B").expect("B");
        assert_eq!(b.delays.count, 0);
    }
);

on_both_databases!(
    forecast_items_carry_promises_and_disputes,
    |db: TestDb| async move {
        let store = &db.store;
        let creditor = ledger(store).await;
        let items = store
            .forecast_items(creditor, d("04-20"))
            .await
            .expect("items");
        let mut numbers: Vec<&str> = items.iter().map(|i| i.number.as_str()).collect();
        numbers.sort_unstable();
        assert_eq!(numbers, ["A-4", "B-2", "B-3"]);
        let get = |n: &str| items.iter().find(|i| i.number == n).expect("item");
        assert!(get("B-3").disputed);
        assert!(!get("B-2").disputed);
        // The promise of 04-10 has passed: it no longer predicts anything.
        assert_eq!(get("B-2").promised_for, None);
        store
            .promise_to_pay(creditor, "B-2", d("04-30"), None, d("04-20"))
            .await
            .expect("promise");
        let items = store
            .forecast_items(creditor, d("04-20"))
            .await
            .expect("items");
        let b2 = items.iter().find(|i| i.number == "B-2").expect("B-2");
        assert_eq!(b2.promised_for, Some(d("04-30")));
        assert_eq!(b2.open, eur(500));
    }
);

on_both_databases!(
    month_flows_give_sales_and_collections_per_month,
    |db: TestDb| async move {
        let store = &db.store;
        let creditor = ledger(store).await;
        let flows = store
            .month_flows(creditor, d("04-20"))
            .await
            .expect("flows");
        let mut by_month: std::collections::BTreeMap<String, (i64, i64)> = Default::default();
        for f in &flows {
            let e = by_month.entry(f.month.clone()).or_default();
            e.0 += f.sales_minor;
            e.1 += f.collected_minor;
        }
        let expected: Vec<(String, (i64, i64))> = vec![
            ("2026-01".into(), (150_000, 0)),
            ("2026-02".into(), (150_000, 100_000)),
            ("2026-03".into(), (100_000, 250_000)),
            ("2026-04".into(), (150_000, 0)),
        ];
        assert_eq!(by_month.into_iter().collect::<Vec<_>>(), expected);
    }
);

on_both_databases!(
    grades_are_stored_and_route_policies,
    |db: TestDb| async move {
        let store = &db.store;
        let creditor = ledger(store).await;
        let mut firm = Policy::default_french();
        firm.id = "firm".into();
        firm.name = "Firm".into();
        firm.conditions = Conditions {
            grades: vec![Grade::C, Grade::D, Grade::E],
            ..Conditions::default()
        };
        store.save_policy(creditor, &firm).await.expect("policy");
        let changed = store
            .refresh_grades(creditor, d("04-20"))
            .await
            .expect("grades");
        assert_eq!(changed, 2);
        // A second refresh on the same day changes nothing.
        assert_eq!(
            store
                .refresh_grades(creditor, d("04-20"))
                .await
                .expect("grades"),
            0
        );
        let histories = store
            .payer_histories(creditor, d("04-20"))
            .await
            .expect("histories");
        let grade = |code: &str| {
            histories
                .iter()
                .find(|c| c.code == code)
                .and_then(|c| c.grade)
        };
        let b = histories.iter().find(|c| c.code == "B").expect("B");
        assert_eq!(grade("B"), Some(score(&b.history).grade));
        assert!(grade("B") >= Some(Grade::C), "{:?}", grade("B"));
        assert!(grade("A") <= Some(Grade::B), "{:?}", grade("A"));
    }
);

on_both_databases!(
    aging_by_customer_is_the_aged_balance_keyed_by_customer,
    |db: TestDb| async move {
        let store = &db.store;
        let creditor = ledger(store).await;
        let as_of = d("04-20");
        let by_customer = store
            .aging_by_customer(creditor, as_of)
            .await
            .expect("aging by customer");
        // A owes A-4 (not due); B owes B-2 (51 days late) and B-3 (not due).
        let ids: std::collections::HashMap<i64, String> = store
            .payer_histories(creditor, as_of)
            .await
            .expect("histories")
            .into_iter()
            .map(|c| (c.id, c.code))
            .collect();
        let mut got: Vec<(String, [i64; 5])> = by_customer
            .iter()
            .map(|l| (ids[&l.customer_id].clone(), l.buckets))
            .collect();
        got.sort();
        assert_eq!(
            got,
            [
                ("A".to_string(), [100_000, 0, 0, 0, 0]),
                ("B".to_string(), [50_000, 0, 50_000, 0, 0]),
            ]
        );
        // The same figures as the per-customer aged balance.
        for line in store.aging(creditor, as_of, None).await.expect("aging") {
            let mine = got.iter().find(|(c, _)| *c == line.customer).expect("line");
            let minor: Vec<i64> = line
                .buckets
                .iter()
                .map(|b| Money::eur(*b).to_minor().expect("minor"))
                .collect();
            assert_eq!(minor, mine.1, "{}", line.customer);
        }
    }
);
