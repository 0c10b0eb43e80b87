//! Experiments on both databases: the run records each action's arm (and variant B's hour),
//! the timeline says it, and the outcomes read back per arm feed the core's comparison.
//!
//! 100 customers owe one invoice each, due Monday 2 March 2026. The policy's first reminder
//! runs the experiment `early_first`: variant B waits 3 days instead of 1 and leaves at 09:00.
//! Runs on 3 and 5 March; every message is delivered; A customers pay 20 days after their
//! reminder, B customers 5 days after theirs.

mod common;

use std::time::Duration;

use chrono::NaiveDate;
use common::TestDb;
use relance_core::experiment::{compare, Verdict};
use relance_core::ids::CreditorId;
use relance_core::ledger::ItemKind;
use relance_core::money::Money;
use relance_core::planner::{Experiment, Policy, Variant};
use relance_store::cases::RunOptions;
use relance_store::creditors::CreditorInput;
use relance_store::customers::CustomerFields;
use relance_store::imports::InvoiceRecord;
use relance_store::outbox::{Delivery, RetryPolicy, SendDecision};
use relance_store::payments::{PaymentImport, PaymentRecord};
use relance_store::Store;
use rust_decimal::Decimal;
use sqlx::Row;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(&format!("2026-{s}"), "%Y-%m-%d").expect("date")
}

fn experiment() -> Experiment {
    Experiment {
        name: "early_first".into(),
        share_b: 50,
        offset_days: Some(3),
        template: None,
        tone: None,
        send_hour: Some(9),
    }
}

fn code(i: usize) -> String {
    format!("C{i:03}")
}

async fn setup(store: &Store) -> CreditorId {
    let (creditor, _) = store
        .upsert_creditor(&CreditorInput {
            name: "Essai SAS".into(),
            ..Default::default()
        })
        .await
        .expect("creditor");
    let creditor = creditor.id;
    let mut policy = Policy::default_french();
    policy
        .steps
        .iter_mut()
        .find(|s| s.id == "first_reminder")
        .expect("first reminder")
        .experiment = Some(experiment());
    store.save_policy(creditor, &policy).await.expect("policy");
    let mut session = store
        .begin_invoice_import(creditor, "invoices.csv", d("02-01"))
        .await
        .expect("begin");
    for i in 0..100 {
        session
            .push(InvoiceRecord {
                line: i as u64 + 2,
                kind: ItemKind::Invoice,
                number: format!("F-{i:03}"),
                customer: CustomerFields {
                    code: code(i),
                    name: Some(format!("Client {i}")),
                    emails: vec![format!("c{i}@example.org")],
                    ..Default::default()
                },
                issue_date: d("02-01"),
                due_date: d("03-02"),
                total: Money::eur(Decimal::from(100)),
                paid: Money::eur(Decimal::ZERO),
            })
            .await
            .expect("push");
    }
    session.commit(0).await.expect("commit");
    creditor
}

async fn deliver(store: &Store, creditor: CreditorId, today: NaiveDate) -> usize {
    let claimed = store
        .claim_due(
            creditor,
            "test",
            today,
            1000,
            Duration::from_secs(60),
            &["email"],
        )
        .await
        .expect("claim");
    let decisions = store
        .begin_sending(creditor, "test", &claimed, today)
        .await
        .expect("begin sending");
    let outcomes: Vec<_> = claimed
        .into_iter()
        .zip(decisions)
        .filter(|(_, (_, decision))| *decision == SendDecision::Send)
        .map(|(action, _)| {
            (
                action,
                Delivery::Sent {
                    message_id: None,
                    document_sha256: "0".repeat(64),
                    document_path: None,
                    carrier_reference: None,
                },
            )
        })
        .collect();
    let n = outcomes.len();
    store
        .record_deliveries(creditor, &outcomes, today, RetryPolicy::default())
        .await
        .expect("record");
    n
}

on_both_databases!(
    runs_record_the_arm_and_the_outcomes_compare_them,
    |db: TestDb| async move {
        let store = &db.store;
        let creditor = setup(store).await;
        let e = experiment();
        let in_b: Vec<bool> = (0..100)
            .map(|i| e.variant_for(&code(i)) == Variant::B)
            .collect();
        let b_count = in_b.iter().filter(|b| **b).count();
        assert!((35..=65).contains(&b_count), "{b_count}");

        for day in ["03-03", "03-04", "03-05"] {
            store
                .run_day(
                    creditor,
                    RunOptions {
                        as_of: d(day),
                        dry_run: false,
                        full: false,
                    },
                )
                .await
                .expect("run");
            let sent = deliver(store, creditor, d(day)).await;
            let expected = match day {
                "03-03" => 100 - b_count,
                "03-05" => b_count,
                _ => 0,
            };
            assert_eq!(sent, expected, "delivered on {day}");
        }

        // Each row carries its arm; B's rows waited for 09:00 Paris time (08:00 UTC in March).
        let rows = sqlx::query(
            "SELECT c.code, a.experiment, a.variant, a.due_on, a.send_after, a.next_attempt_at \
             FROM actions a JOIN customers c ON c.id = a.customer_id \
             WHERE a.creditor_id = $1 AND a.step = 'first_reminder' ORDER BY c.code",
        )
        .bind(creditor.0)
        .fetch_all(store.pool())
        .await
        .expect("actions");
        assert_eq!(rows.len(), 100);
        for row in &rows {
            let who: String = row.get("code");
            let i: usize = who[1..].parse().expect("number");
            let variant: Option<String> = row.get("variant");
            let experiment: Option<String> = row.get("experiment");
            let due_on: String = row.get("due_on");
            let send_after: Option<String> = row.get("send_after");
            assert_eq!(experiment.as_deref(), Some("early_first"));
            if in_b[i] {
                assert_eq!(variant.as_deref(), Some("B"), "{who}");
                assert_eq!(due_on, "2026-03-05");
                assert_eq!(send_after.as_deref(), Some("2026-03-05T09:00"));
            } else {
                assert_eq!(variant.as_deref(), Some("A"), "{who}");
                assert_eq!(due_on, "2026-03-03");
                assert_eq!(send_after, None);
            }
        }
        let timeline = store
            .timeline(
                creditor,
                Some(&code(in_b.iter().position(|b| *b).expect("a B"))),
            )
            .await
            .expect("timeline");
        let planned = timeline
            .iter()
            .find(|e| e.kind == "reminder_planned")
            .expect("planned event");
        assert!(
            planned
                .summary
                .contains("experiment early_first: variant B"),
            "{}",
            planned.summary
        );
        assert_eq!(planned.data["variant"], "B");

        // Payments: A 20 days after its reminder, B 5 days after its own.
        let records: Vec<PaymentRecord> = (0..100)
            .map(|i| PaymentRecord {
                line: i as u64 + 2,
                date: if in_b[i] { d("03-10") } else { d("03-23") },
                amount: Money::eur(Decimal::from(100)),
                reference: format!("F-{i:03}"),
                customer_code: Some(code(i)),
                invoice_number: Some(format!("F-{i:03}")),
                bank_reference: Some(format!("BANK-{i}")),
                payer_name: None,
                payer_iban: None,
            })
            .collect();
        match store
            .import_payments(creditor, "bank.csv", &records, d("03-31"))
            .await
            .expect("payments")
        {
            PaymentImport::Done(_) => {}
            PaymentImport::Refused(p) => panic!("refused: {p:?}"),
        }
        let as_of = d("04-30");
        let outcomes = store
            .experiment_outcomes(creditor, "early_first", as_of)
            .await
            .expect("outcomes");
        assert_eq!(outcomes.len(), 100);
        let report = compare(&outcomes, as_of);
        assert_eq!(report.b.seen as usize, b_count);
        assert_eq!(report.a.mean_days, Some(20.0));
        assert_eq!(report.b.mean_days, Some(5.0));
        assert_eq!(
            report.verdict,
            Verdict::Winner {
                winner: Variant::B,
                by_rate: true
            }
        );
        // Another experiment's name finds nothing.
        assert!(store
            .experiment_outcomes(creditor, "other", as_of)
            .await
            .expect("outcomes")
            .is_empty());
    }
);
