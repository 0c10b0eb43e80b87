//! The daily run on both databases: idempotent runs, payments that cancel, missed runs, disputes,
//! promises, holds, and incremental runs that give what full recomputations give.
//!
//! Dates are worked out by hand from DESIGN.md's default French policy (courtesy notice 5 days
//! before the due date, first reminder the day after it, then +4, +4, +10, +15 days from the
//! previous step, moved to the next business day). In 2026: 2026-02-04 is a Wednesday.

mod common;

use chrono::NaiveDate;
use common::TestDb;
use relance_core::ids::CreditorId;
use relance_core::ledger::ItemKind;
use relance_core::money::Money;
use relance_core::planner::PlannedAction;
use relance_store::cases::RunOptions;
use relance_store::creditors::CreditorInput;
use relance_store::customers::CustomerFields;
use relance_store::imports::InvoiceRecord;
use relance_store::payments::{PaymentImport, PaymentRecord};
use relance_store::Store;
use rust_decimal::Decimal;
use std::str::FromStr;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn eur(s: &str) -> Money {
    Money::eur(Decimal::from_str(s).expect("decimal"))
}

fn invoice(number: &str, customer: &str, due: &str, total: &str) -> InvoiceRecord {
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
        issue_date: d("2026-01-01"),
        due_date: d(due),
        total: eur(total),
        paid: eur("0"),
    }
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

async fn import(store: &Store, creditor: CreditorId, records: Vec<InvoiceRecord>) {
    let mut session = store
        .begin_invoice_import(creditor, "test.csv", d("2026-01-02"))
        .await
        .expect("begin");
    for r in records {
        session.push(r).await.expect("push");
    }
    session.commit(0).await.expect("commit");
}

async fn pay(store: &Store, creditor: CreditorId, on: &str, amount: &str, invoice: &str) {
    let records = vec![PaymentRecord {
        line: 2,
        date: d(on),
        amount: eur(amount),
        reference: format!("VIR {invoice}"),
        customer_code: None,
        invoice_number: Some(invoice.into()),
        bank_reference: None,
        payer_name: None,
        payer_iban: None,
    }];
    let PaymentImport::Done(_) = store
        .import_payments(creditor, "bank.csv", &records, d(on))
        .await
        .expect("payments")
    else {
        panic!("payments refused");
    };
}

async fn run_opts(
    store: &Store,
    creditor: CreditorId,
    on: &str,
    dry_run: bool,
    full: bool,
) -> Vec<String> {
    let actions = store
        .run_day(
            creditor,
            RunOptions {
                as_of: d(on),
                dry_run,
                full,
            },
        )
        .await
        .expect("run");
    actions.iter().map(line).collect()
}

async fn run(store: &Store, creditor: CreditorId, on: &str) -> Vec<String> {
    run_opts(store, creditor, on, false, false).await
}

/// `2026-02-05 C1 first_reminder email F-001 1200.00`
fn line(a: &PlannedAction) -> String {
    let channels: Vec<&str> = a.channels.iter().map(|c| c.as_str()).collect();
    format!(
        "{} {} {} {} {} {}",
        a.on,
        a.customer_code,
        a.step,
        channels.join("+"),
        a.invoices.join(","),
        a.amount_due.to_plain_string()
    )
}

async fn outbox(store: &Store, creditor: CreditorId) -> Vec<(String, String, String)> {
    store
        .action_rows(creditor, None)
        .await
        .expect("actions")
        .into_iter()
        .map(|a| (a.step, a.channel, a.status))
        .collect()
}

on_both_databases!(
    running_the_same_day_twice_inserts_nothing_the_second_time,
    |db: TestDb| async move {
        let store = db.store;
        let c = creditor(&store, "Acme").await;
        import(
            &store,
            c,
            vec![invoice("F-001", "C1", "2026-02-04", "1200.00")],
        )
        .await;

        assert_eq!(
            run(&store, c, "2026-02-05").await,
            ["2026-02-05 C1 first_reminder email F-001 1200.00"]
        );
        assert!(run(&store, c, "2026-02-05").await.is_empty());
        assert!(run_opts(&store, c, "2026-02-05", false, true)
            .await
            .is_empty());
        assert_eq!(outbox(&store, c).await.len(), 1);

        // A dry run shows the next step and writes nothing.
        assert_eq!(
            run_opts(&store, c, "2026-02-09", true, false).await,
            ["2026-02-09 C1 phone_call phone_call F-001 1200.00"]
        );
        assert_eq!(outbox(&store, c).await.len(), 1);
        assert_eq!(
            run(&store, c, "2026-02-09").await,
            ["2026-02-09 C1 phone_call phone_call F-001 1200.00"]
        );
        // A step on two channels is two outbox rows.
        assert_eq!(
            run(&store, c, "2026-02-13").await,
            ["2026-02-13 C1 second_reminder registered_letter+email F-001 1200.00"]
        );
        assert!(run(&store, c, "2026-02-13").await.is_empty());
        let rows = outbox(&store, c).await;
        assert_eq!(rows.len(), 4, "{rows:?}");
        assert!(rows.iter().all(|(_, _, status)| status == "planned"));
        let timeline = store.timeline(c, Some("C1")).await.expect("timeline");
        assert_eq!(
            timeline
                .iter()
                .filter(|e| e.kind == "reminder_planned")
                .count(),
            3
        );
    }
);

on_both_databases!(
    a_payment_between_two_runs_stops_the_case_and_cancels_what_is_queued,
    |db: TestDb| async move {
        let store = db.store;
        let c = creditor(&store, "Acme").await;
        import(
            &store,
            c,
            vec![invoice("F-001", "C1", "2026-02-04", "1200.00")],
        )
        .await;
        assert_eq!(run(&store, c, "2026-02-05").await.len(), 1);
        assert_eq!(
            outbox(&store, c).await,
            [(
                "first_reminder".to_string(),
                "email".to_string(),
                "planned".to_string()
            )]
        );

        pay(&store, c, "2026-02-06", "1200.00", "F-001").await;
        assert_eq!(
            outbox(&store, c).await,
            [(
                "first_reminder".to_string(),
                "email".to_string(),
                "cancelled".to_string()
            )]
        );
        let timeline = store.timeline(c, Some("C1")).await.expect("timeline");
        let cancelled: Vec<_> = timeline
            .iter()
            .filter(|e| e.kind == "reminder_cancelled")
            .collect();
        assert_eq!(cancelled.len(), 1, "{timeline:?}");
        assert_eq!(cancelled[0].occurred_on, "2026-02-06");
        for day in ["2026-02-09", "2026-02-13", "2026-02-23", "2026-03-10"] {
            assert!(run(&store, c, day).await.is_empty(), "{day}");
            assert!(
                run_opts(&store, c, day, false, true).await.is_empty(),
                "{day}"
            );
        }
        let cases = store
            .case_lines(c, d("2026-03-10"), None)
            .await
            .expect("cases");
        assert_eq!(cases.len(), 1);
        assert_eq!(cases[0].status, "nothing_overdue");
        assert_eq!(cases[0].amount_overdue, "0.00");
        assert_eq!(cases[0].next_action_on, None);
    }
);

on_both_databases!(
    a_partial_payment_keeps_the_case_going_on_what_is_left,
    |db: TestDb| async move {
        let store = db.store;
        let c = creditor(&store, "Acme").await;
        import(
            &store,
            c,
            vec![invoice("F-001", "C1", "2026-02-04", "1200.00")],
        )
        .await;
        assert_eq!(run(&store, c, "2026-02-05").await.len(), 1);
        pay(&store, c, "2026-02-06", "200.00", "F-001").await;
        assert_eq!(outbox(&store, c).await[0].2, "planned");
        assert_eq!(
            run(&store, c, "2026-02-09").await,
            ["2026-02-09 C1 phone_call phone_call F-001 1000.00"]
        );
    }
);

on_both_databases!(
    a_run_missed_for_a_week_carries_out_one_step_only,
    |db: TestDb| async move {
        let store = db.store;
        let c = creditor(&store, "Acme").await;
        import(
            &store,
            c,
            vec![invoice("F-001", "C1", "2026-02-04", "1200.00")],
        )
        .await;
        // First run 16 days after the due date: the first reminder only, no courtesy notice
        // (the invoice is already due) and no call.
        let actions = store
            .run_day(
                c,
                RunOptions {
                    as_of: d("2026-02-20"),
                    dry_run: false,
                    full: false,
                },
            )
            .await
            .expect("run");
        assert_eq!(actions.len(), 1);
        assert_eq!(actions[0].step, "first_reminder");
        assert_eq!(actions[0].due_on, d("2026-02-05"));
        // The call counts from the day the reminder was actually sent: 2026-02-24.
        assert!(run(&store, c, "2026-02-23").await.is_empty());
        assert_eq!(
            run(&store, c, "2026-02-24").await,
            ["2026-02-24 C1 phone_call phone_call F-001 1200.00"]
        );
    }
);

on_both_databases!(
    a_disputed_invoice_leaves_the_case_until_resolved,
    |db: TestDb| async move {
        let store = db.store;
        let c = creditor(&store, "Acme").await;
        import(
            &store,
            c,
            vec![
                invoice("F-001", "C1", "2026-02-04", "1200.00"),
                invoice("F-002", "C1", "2026-02-06", "300.00"),
            ],
        )
        .await;
        store
            .open_dispute(c, "F-001", "goods damaged", d("2026-02-03"))
            .await
            .expect("dispute");
        assert!(store
            .open_dispute(c, "F-001", "again", d("2026-02-03"))
            .await
            .is_err());
        // F-001 is not chased: its first reminder would have been 2026-02-05. F-002 still gets
        // its courtesy notice (due 2026-02-06, notice late but before the due date).
        assert_eq!(
            run(&store, c, "2026-02-05").await,
            ["2026-02-05 C1 courtesy_notice email F-002 300.00"]
        );
        // F-002 due Friday 02-06: first reminder Saturday 02-07 → Monday 02-09, F-002 only.
        assert_eq!(
            run(&store, c, "2026-02-09").await,
            ["2026-02-09 C1 first_reminder email F-002 300.00"]
        );
        let cases = store
            .case_lines(c, d("2026-02-09"), None)
            .await
            .expect("cases");
        assert_eq!(cases[0].amount_overdue, "300.00");

        store
            .resolve_dispute(c, "F-001", d("2026-02-10"))
            .await
            .expect("resolve");
        assert!(store
            .resolve_dispute(c, "F-001", d("2026-02-10"))
            .await
            .is_err());
        // Back in the case: the call (02-09 + 4) lists both invoices.
        assert_eq!(
            run(&store, c, "2026-02-13").await,
            ["2026-02-13 C1 phone_call phone_call F-001,F-002 1500.00"]
        );
        let kinds: Vec<String> = store
            .timeline(c, Some("C1"))
            .await
            .expect("timeline")
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert!(kinds.contains(&"dispute".to_string()), "{kinds:?}");
        assert!(kinds.contains(&"dispute_resolved".to_string()), "{kinds:?}");
    }
);

on_both_databases!(
    a_dispute_on_the_only_invoice_pauses_and_resolution_resumes_that_day,
    |db: TestDb| async move {
        let store = db.store;
        let c = creditor(&store, "Acme").await;
        import(
            &store,
            c,
            vec![invoice("F-001", "C1", "2026-02-04", "1200.00")],
        )
        .await;
        assert_eq!(run(&store, c, "2026-02-05").await.len(), 1);
        store
            .open_dispute(c, "F-001", "price", d("2026-02-06"))
            .await
            .expect("dispute");
        // The queued first reminder listed only F-001: cancelled.
        assert_eq!(outbox(&store, c).await[0].2, "cancelled");
        for day in ["2026-02-09", "2026-02-13", "2026-02-16"] {
            assert!(run(&store, c, day).await.is_empty(), "{day}");
        }
        let cases = store
            .case_lines(c, d("2026-02-16"), None)
            .await
            .expect("cases");
        assert_eq!(cases[0].status, "disputed");
        // Resolved on Tuesday 02-17: the next step (the call) is due that day.
        store
            .resolve_dispute(c, "F-001", d("2026-02-17"))
            .await
            .expect("resolve");
        assert_eq!(
            run(&store, c, "2026-02-17").await,
            ["2026-02-17 C1 phone_call phone_call F-001 1200.00"]
        );
    }
);

on_both_databases!(
    a_promise_pauses_the_case_until_the_day_after_the_promised_date,
    |db: TestDb| async move {
        let store = db.store;
        let c = creditor(&store, "Acme").await;
        import(
            &store,
            c,
            vec![invoice("F-001", "C1", "2026-02-04", "1200.00")],
        )
        .await;
        assert_eq!(run(&store, c, "2026-02-05").await.len(), 1);
        store
            .promise_to_pay(c, "F-001", d("2026-02-16"), None, d("2026-02-06"))
            .await
            .expect("promise");
        // The call would have been 2026-02-09: paused until Tuesday 02-17 (business day after
        // the promised Monday 02-16).
        for day in [
            "2026-02-09",
            "2026-02-10",
            "2026-02-11",
            "2026-02-12",
            "2026-02-13",
            "2026-02-16",
        ] {
            assert!(run(&store, c, day).await.is_empty(), "{day}");
        }
        let actions = store
            .run_day(
                c,
                RunOptions {
                    as_of: d("2026-02-17"),
                    dry_run: false,
                    full: false,
                },
            )
            .await
            .expect("run");
        assert_eq!(actions.len(), 1);
        assert_eq!(actions[0].step, "phone_call");
        assert!(
            actions[0].reason.contains("promised for 2026-02-16"),
            "{}",
            actions[0].reason
        );
    }
);

on_both_databases!(
    a_kept_promise_and_payment_end_the_case,
    |db: TestDb| async move {
        let store = db.store;
        let c = creditor(&store, "Acme").await;
        import(
            &store,
            c,
            vec![invoice("F-001", "C1", "2026-02-04", "1200.00")],
        )
        .await;
        assert_eq!(run(&store, c, "2026-02-05").await.len(), 1);
        store
            .promise_to_pay(
                c,
                "F-001",
                d("2026-02-16"),
                Some(Decimal::from(600)),
                d("2026-02-06"),
            )
            .await
            .expect("promise");
        pay(&store, c, "2026-02-12", "600.00", "F-001").await;
        // Kept: the chase resumes on 02-17 on what is left, as scheduled (no broken promise).
        let actions = store
            .run_day(
                c,
                RunOptions {
                    as_of: d("2026-02-17"),
                    dry_run: false,
                    full: false,
                },
            )
            .await
            .expect("run");
        assert_eq!(actions.len(), 1);
        assert_eq!(actions[0].amount_due, eur("600.00"));
        assert!(
            !actions[0].reason.contains("promised"),
            "{}",
            actions[0].reason
        );
    }
);

on_both_databases!(a_hold_pauses_the_customer, |db: TestDb| async move {
    let store = db.store;
    let c = creditor(&store, "Acme").await;
    import(
        &store,
        c,
        vec![invoice("F-001", "C1", "2026-02-04", "1200.00")],
    )
    .await;
    store
        .hold(
            c,
            "C1",
            d("2026-02-12"),
            "director on leave",
            d("2026-02-02"),
        )
        .await
        .expect("hold");
    assert!(store
        .hold(c, "NOPE", d("2026-02-12"), "x", d("2026-02-02"))
        .await
        .is_err());
    for day in ["2026-02-05", "2026-02-09", "2026-02-11"] {
        assert!(run(&store, c, day).await.is_empty(), "{day}");
    }
    assert_eq!(
        run(&store, c, "2026-02-12").await,
        ["2026-02-12 C1 first_reminder email F-001 1200.00"]
    );
});

// Daily runs over two months, incremental for one creditor and `--full` for another with the
// same ledger: the same schedule, the one worked out by hand.
on_both_databases!(
    incremental_and_full_runs_give_the_hand_made_schedule,
    |db: TestDb| async move {
        let store = db.store;
        let a = creditor(&store, "Incremental").await;
        let b = creditor(&store, "Full").await;
        for c in [a, b] {
            import(
                &store,
                c,
                vec![
                    invoice("F-001", "C1", "2026-02-04", "1200.00"),
                    invoice("F-002", "C1", "2026-02-19", "300.00"),
                    invoice("F-003", "C2", "2026-03-31", "2.00"),
                ],
            )
            .await;
        }
        let mut incremental = Vec::new();
        let mut full = Vec::new();
        let mut day = d("2026-01-26");
        while day <= d("2026-03-20") {
            let on = day.to_string();
            incremental.extend(run(&store, a, &on).await);
            full.extend(run_opts(&store, b, &on, false, true).await);
            day = day.succ_opt().expect("next day");
        }
        let expected = [
            "2026-01-30 C1 courtesy_notice email F-001 1200.00",
            "2026-02-05 C1 first_reminder email F-001 1200.00",
            "2026-02-09 C1 phone_call phone_call F-001 1200.00",
            "2026-02-13 C1 second_reminder registered_letter+email F-001 1200.00",
            "2026-02-16 C1 courtesy_notice email F-002 300.00",
            "2026-02-23 C1 formal_notice registered_letter_ar+email F-001,F-002 1500.00",
            "2026-03-10 C1 litigation task F-001,F-002 1500.00",
        ];
        assert_eq!(incremental, expected);
        assert_eq!(full, expected);
        // C2 owes 2.00, below the 5 € minimum: never chased, no notice.
        let cases = store
            .case_lines(a, d("2026-03-20"), None)
            .await
            .expect("cases");
        let c1 = cases.iter().find(|l| l.customer == "C1").expect("C1");
        assert_eq!(c1.status, "exhausted");
        assert_eq!(c1.last_step.as_deref(), Some("litigation"));
        assert_eq!(c1.cycle, 1);
        assert_eq!(c1.amount_overdue, "1500.00");
    }
);

// Two runs of the same day at once (two connections of the pool) carry out each action once:
// together they print what one run prints for the same ledger under another creditor.
on_both_databases!(
    two_runs_at_once_carry_out_each_action_once,
    |db: TestDb| async move {
        let store = db.store;
        let a = creditor(&store, "Twice").await;
        let b = creditor(&store, "Once").await;
        for c in [a, b] {
            let mut records = Vec::new();
            for n in 0..12 {
                let due = if n % 2 == 0 {
                    "2026-02-04"
                } else {
                    "2026-02-09"
                };
                records.push(invoice(
                    &format!("F-{n:03}"),
                    &format!("C{:02}", n % 6),
                    due,
                    "100.00",
                ));
            }
            import(&store, c, records).await;
        }
        for day in ["2026-02-02", "2026-02-05", "2026-02-10", "2026-02-16"] {
            let (x, y) = tokio::join!(run(&store, a, day), run(&store, a, day));
            let mut twice: Vec<String> = x.into_iter().chain(y).collect();
            twice.sort();
            let mut once = run(&store, b, day).await;
            once.sort();
            assert!(!once.is_empty(), "{day}");
            assert_eq!(twice, once, "{day}");
        }
        let rows_a = outbox(&store, a).await.len();
        let rows_b = outbox(&store, b).await.len();
        assert_eq!(rows_a, rows_b);
    }
);

// Re-importing an unchanged export leaves the cases as they are (the daily run stays
// incremental); a new or changed invoice gets its customer's case planned at the next run.
on_both_databases!(
    only_customers_whose_ledger_changed_are_replanned,
    |db: TestDb| async move {
        let store = db.store;
        let c = creditor(&store, "Acme").await;
        let export = vec![
            invoice("F-001", "C1", "2026-02-04", "1200.00"),
            invoice("F-002", "C2", "2026-03-04", "50.00"),
        ];
        import(&store, c, export.clone()).await;
        let next = |lines: Vec<relance_store::cases::CaseLine>| -> Vec<(String, String)> {
            lines
                .into_iter()
                .map(|l| (l.customer, l.next_action_on.unwrap_or_default()))
                .collect()
        };
        let before = next(
            store
                .case_lines(c, d("2026-02-05"), None)
                .await
                .expect("cases"),
        );
        assert_eq!(
            before,
            [
                ("C1".to_string(), "pending".to_string()),
                ("C2".to_string(), "pending".to_string())
            ]
        );
        assert_eq!(run(&store, c, "2026-02-05").await.len(), 1);
        let planned = next(
            store
                .case_lines(c, d("2026-02-05"), None)
                .await
                .expect("cases"),
        );
        // C1: the call on 02-09; C2: its courtesy notice on Friday 02-27.
        assert_eq!(
            planned,
            [
                ("C1".to_string(), "2026-02-09".to_string()),
                ("C2".to_string(), "2026-02-27".to_string())
            ]
        );
        import(&store, c, export.clone()).await;
        assert_eq!(
            next(
                store
                    .case_lines(c, d("2026-02-05"), None)
                    .await
                    .expect("cases")
            ),
            planned
        );
        let mut newer = export;
        newer[1].total = eur("60.00");
        import(&store, c, newer).await;
        assert_eq!(
            next(
                store
                    .case_lines(c, d("2026-02-05"), None)
                    .await
                    .expect("cases")
            ),
            [
                ("C1".to_string(), "2026-02-09".to_string()),
                ("C2".to_string(), "pending".to_string())
            ]
        );
    }
);

/// What a run may change: the outbox, the timeline and every case's memory, as text.
async fn fingerprint(store: &Store) -> Vec<String> {
    let mut out = Vec::new();
    for sql in [
        "SELECT CAST(COUNT(*) AS BIGINT) FROM actions",
        "SELECT CAST(COUNT(*) AS BIGINT) FROM events",
        "SELECT CAST(COUNT(*) AS BIGINT) FROM actions WHERE status = 'cancelled'",
    ] {
        let n: i64 = sqlx::query_scalar(sql)
            .fetch_one(store.pool())
            .await
            .expect("count");
        out.push(format!("{sql}: {n}"));
    }
    let rows: Vec<(i64, String, Option<String>, String)> = sqlx::query_as(
        "SELECT customer_id, state, next_action_on, updated_at FROM cases ORDER BY customer_id",
    )
    .fetch_all(store.pool())
    .await
    .expect("cases");
    out.extend(rows.into_iter().map(|r| format!("{r:?}")));
    out
}

// More customers than a run handles in one batch (1,000): the batches join up without a gap or
// a double, incremental and full runs agree day by day, and payments cancel across batches.
on_both_databases!(
    runs_over_several_batches_match_full_runs,
    |db: TestDb| async move {
        let store = db.store;
        let a = creditor(&store, "Incremental").await;
        let b = creditor(&store, "Full").await;
        let customers = 1_234;
        let mut records = Vec::new();
        for n in 0..customers {
            let code = format!("C{n:04}");
            records.push(invoice(
                &format!("F-{n:04}"),
                &code,
                "2026-02-04",
                "1200.00",
            ));
            if n % 7 == 0 {
                records.push(invoice(&format!("G-{n:04}"), &code, "2026-02-19", "300.00"));
            }
        }
        let payers: Vec<usize> = (0..customers).filter(|n| n % 11 == 3).collect();
        let payments: Vec<PaymentRecord> = payers
            .iter()
            .map(|n| PaymentRecord {
                line: 2,
                date: d("2026-02-06"),
                amount: eur("1200.00"),
                reference: format!("VIR F-{n:04}"),
                customer_code: None,
                invoice_number: Some(format!("F-{n:04}")),
                bank_reference: None,
                payer_name: None,
                payer_iban: None,
            })
            .collect();
        for c in [a, b] {
            import(&store, c, records.clone()).await;
        }
        let mut day = d("2026-01-26");
        let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
        while day <= d("2026-02-16") {
            let on = day.to_string();
            if on == "2026-02-06" {
                for c in [a, b] {
                    let PaymentImport::Done(_) = store
                        .import_payments(c, "bank.csv", &payments, day)
                        .await
                        .expect("payments")
                    else {
                        panic!("payments refused");
                    };
                }
            }
            // A dry run announces exactly what the real run then writes, and writes nothing.
            let before = fingerprint(&store).await;
            let dry_incremental = run_opts(&store, a, &on, true, false).await;
            let dry_full = run_opts(&store, b, &on, true, true).await;
            assert_eq!(fingerprint(&store).await, before, "{on}: a dry run wrote");
            let incremental = run(&store, a, &on).await;
            let full = run_opts(&store, b, &on, false, true).await;
            assert_eq!(incremental, full, "{on}");
            assert_eq!(dry_incremental, incremental, "{on}: dry run (incremental)");
            assert_eq!(dry_full, full, "{on}: dry run (full)");
            // In customer order, one step per customer and day at most.
            let mut seen = std::collections::BTreeSet::new();
            let mut sorted = incremental.clone();
            sorted.sort();
            assert_eq!(sorted, incremental, "{on}: not in customer order");
            for line in &incremental {
                let customer = line.split(' ').nth(1).expect("customer").to_string();
                let step = line.split(' ').nth(2).expect("step").to_string();
                if step != "courtesy_notice" {
                    assert!(seen.insert(customer), "{on}: two steps for a customer");
                }
                *counts.entry(format!("{on} {step}")).or_default() += 1;
            }
            assert!(
                run(&store, a, &on).await.is_empty(),
                "{on}: a second run wrote again"
            );
            day = day.succ_opt().expect("next day");
        }
        let count = |key: &str| counts.get(key).copied().unwrap_or(0);
        let second_invoices = (0..customers).filter(|n| n % 7 == 0).count();
        assert_eq!(count("2026-01-30 courtesy_notice"), customers);
        assert_eq!(count("2026-02-05 first_reminder"), customers);
        // The payers of 02-06 are not called on 02-09; every other customer is.
        assert_eq!(count("2026-02-09 phone_call"), customers - payers.len());
        assert_eq!(
            count("2026-02-13 second_reminder"),
            customers - payers.len()
        );
        // Courtesy notices of the second invoices, five days before 02-19 (a Saturday, so the
        // Monday after).
        assert_eq!(count("2026-02-16 courtesy_notice"), second_invoices);
    }
);

/// A finished command leaves one self-contained database: a real run's commit stays in
/// SQLite's write-ahead log (the copy into the file is left to after the run), and
/// `Store::close` copies the log into the file and empties it, so the file alone, copied
/// elsewhere, holds the run's outbox.
#[tokio::test]
async fn a_closed_store_leaves_the_run_in_the_database_file() {
    let db = common::sqlite().await;
    let store = db.store.clone();
    let c = creditor(&store, "Acme").await;
    import(
        &store,
        c,
        vec![invoice("F-001", "C1", "2026-02-04", "1200.00")],
    )
    .await;
    assert_eq!(run(&store, c, "2026-02-05").await.len(), 1);
    let dir = db
        .dir
        .as_ref()
        .expect("a SQLite folder")
        .path()
        .to_path_buf();
    let log_size = || {
        std::fs::metadata(dir.join("test.db-wal"))
            .map(|m| m.len())
            .unwrap_or(0)
    };
    assert!(log_size() > 0, "the run's commit is in the write-ahead log");
    store.close().await;
    assert_eq!(log_size(), 0, "the log is copied and emptied at close");

    let copy = dir.join("copy.db");
    std::fs::copy(dir.join("test.db"), &copy).expect("copy the database file");
    let reopened = Store::open(&format!("sqlite://{}", copy.display()))
        .await
        .expect("open the copy");
    assert_eq!(
        outbox(&reopened, c).await,
        [(
            "first_reminder".to_string(),
            "email".to_string(),
            "planned".to_string()
        )]
    );
    reopened.close().await;
    db.finish().await;
}

on_both_databases!(
    invoice_numbers_with_quotes_and_backslashes_are_reminded_as_written,
    |db: TestDb| async move {
        // The run reads open items as one JSON aggregate and borrows their strings from it:
        // a number JSON must escape comes out as written all the same.
        let store = db.store;
        let c = creditor(&store, "Acme").await;
        import(
            &store,
            c,
            vec![
                invoice(r#"F-"7"\b"#, "C1", "2026-02-04", "100.00"),
                invoice("F-\u{e9}t\u{e9}\t2", "C1", "2026-02-04", "50.00"),
            ],
        )
        .await;
        assert_eq!(
            run(&store, c, "2026-02-05").await,
            ["2026-02-05 C1 first_reminder email F-\"7\"\\b,F-\u{e9}t\u{e9}\t2 150.00"]
        );
    }
);
