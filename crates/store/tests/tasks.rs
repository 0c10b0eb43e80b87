//! Call tasks on both databases: the plan's call step waits as a task; a call that reached the
//! debtor closes it, one that did not leaves it open; tasks are scoped by creditor.

mod common;

use chrono::NaiveDate;
use common::TestDb;
use relance_core::calls::CallOutcome;
use relance_core::ids::CreditorId;
use relance_core::ledger::ItemKind;
use relance_core::money::Money;
use relance_store::cases::RunOptions;
use relance_store::creditors::CreditorInput;
use relance_store::customers::CustomerFields;
use relance_store::imports::InvoiceRecord;
use relance_store::Store;
use rust_decimal::Decimal;
use std::str::FromStr;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

async fn creditor(store: &Store, name: &str) -> CreditorId {
    let (c, _) = store
        .upsert_creditor(&CreditorInput {
            name: name.into(),
            ..Default::default()
        })
        .await
        .expect("creditor");
    c.id
}

async fn ledger(store: &Store, creditor: CreditorId, customer: &str) {
    let mut session = store
        .begin_invoice_import(creditor, "test.csv", d("2026-01-02"))
        .await
        .expect("begin");
    session
        .push(InvoiceRecord {
            line: 2,
            kind: ItemKind::Invoice,
            number: format!("F-{customer}"),
            customer: CustomerFields {
                code: customer.into(),
                name: Some(format!("Client {customer}")),
                phone: Some("+33 4 78 00 00 00".into()),
                ..Default::default()
            },
            issue_date: d("2026-01-05"),
            due_date: d("2026-02-04"),
            total: Money::eur(Decimal::from_str("900").expect("decimal")),
            paid: Money::eur(Decimal::ZERO),
        })
        .await
        .expect("push");
    session.commit(0).await.expect("commit");
    for day in ["2026-02-05", "2026-02-10"] {
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
    }
}

on_both_databases!(
    calls_close_tasks_only_when_they_reach_someone,
    |db: TestDb| async move {
        let store = &db.store;
        let a = creditor(store, "A").await;
        let b = creditor(store, "B").await;
        ledger(store, a, "CA").await;
        ledger(store, b, "CB").await;

        assert!(store
            .call_tasks(a, Some(d("2026-02-06")))
            .await
            .expect("tasks")
            .is_empty());
        let tasks = store
            .call_tasks(a, Some(d("2026-02-10")))
            .await
            .expect("tasks");
        assert_eq!(tasks.len(), 1, "{tasks:?}");
        assert_eq!(tasks[0].customer, "CA", "creditor B's task must not show");
        assert_eq!(tasks[0].phones, vec!["+33 4 78 00 00 00".to_string()]);
        assert_eq!(tasks[0].amount, "900.00");

        let missed = store
            .record_call(a, "CA", CallOutcome::NoAnswer, "", d("2026-02-10"))
            .await
            .expect("call");
        assert!(missed.closed_tasks.is_empty());
        let still = store.call_tasks(a, None).await.expect("tasks");
        assert_eq!(still.len(), 1);
        assert!(still[0]
            .last_call
            .as_deref()
            .is_some_and(|l| l.contains("no_answer")));

        let reached = store
            .record_call(
                a,
                "CA",
                CallOutcome::Promised,
                "paiement vendredi",
                d("2026-02-11"),
            )
            .await
            .expect("call");
        assert_eq!(reached.closed_tasks, vec![tasks[0].action_id]);
        assert!(store.call_tasks(a, None).await.expect("tasks").is_empty());
        // Creditor B's task is untouched by A's call, and A cannot record a call on B's customer.
        assert_eq!(store.call_tasks(b, None).await.expect("tasks").len(), 1);
        assert!(store
            .record_call(a, "CB", CallOutcome::Paid, "", d("2026-02-11"))
            .await
            .is_err());

        assert_eq!(
            store
                .oldest_overdue_invoice(a, "CA", d("2026-02-11"))
                .await
                .expect("oldest")
                .as_deref(),
            Some("F-CA")
        );
        assert_eq!(
            store
                .oldest_overdue_invoice(a, "CA", d("2026-02-04"))
                .await
                .expect("oldest"),
            None,
            "not overdue on its due date"
        );
    }
);
