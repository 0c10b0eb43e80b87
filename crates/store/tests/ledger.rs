//! The ledger on both databases: invoice import (idempotent, updating, all-or-nothing),
//! payment allocation, credit notes, the aged balance and creditor isolation.

mod common;

use chrono::NaiveDate;
use common::TestDb;
use relance_core::ids::CreditorId;
use relance_core::ledger::ItemKind;
use relance_core::money::{Currency, Money};
use relance_store::creditors::CreditorInput;
use relance_store::customers::CustomerFields;
use relance_store::imports::InvoiceRecord;
use relance_store::payments::{PaymentImport, PaymentRecord};
use relance_store::reports::InvoiceFilter;
use relance_store::Store;
use rust_decimal::Decimal;
use std::str::FromStr;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn eur(s: &str) -> Money {
    Money::eur(Decimal::from_str(s).expect("decimal"))
}

fn invoice(
    line: u64,
    number: &str,
    customer: &str,
    due: &str,
    total: &str,
    paid: &str,
) -> InvoiceRecord {
    InvoiceRecord {
        line,
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
        paid: eur(paid),
    }
}

async fn creditor(store: &Store, name: &str) -> CreditorId {
    let (c, created) = store
        .upsert_creditor(&CreditorInput {
            name: name.into(),
            ..Default::default()
        })
        .await
        .expect("creditor");
    assert!(created);
    c.id
}

async fn import(
    store: &Store,
    creditor: CreditorId,
    records: Vec<InvoiceRecord>,
) -> relance_store::imports::ImportSummary {
    let mut session = store
        .begin_invoice_import(creditor, "test.csv", d("2026-03-01"))
        .await
        .expect("begin");
    for r in records {
        session.push(r).await.expect("push");
    }
    session.commit(0).await.expect("commit")
}

async fn open_of(store: &Store, creditor: CreditorId, number: &str) -> String {
    let lines = store
        .invoice_lines(creditor, &InvoiceFilter::default())
        .await
        .expect("lines");
    lines
        .into_iter()
        .find(|l| l.number == number)
        .map(|l| l.open_amount)
        .expect("invoice listed")
}

on_both_databases!(
    reimporting_the_same_file_changes_nothing_and_a_newer_export_updates,
    |db: TestDb| async move {
        let store = db.store;
        let c = creditor(&store, "Acme").await;
        let first = vec![
            invoice(2, "F-001", "C1", "2026-02-01", "1200.00", "0"),
            invoice(3, "F-002", "C1", "2026-02-15", "300.50", "0"),
            invoice(4, "F-003", "C2", "2026-03-01", "99.99", "0"),
        ];
        let s = import(&store, c, first.clone()).await;
        assert_eq!(
            (s.created, s.updated, s.unchanged, s.customers_created),
            (3, 0, 0, 2)
        );

        let again = import(&store, c, first.clone()).await;
        assert_eq!(
            (
                again.created,
                again.updated,
                again.unchanged,
                again.customers_created
            ),
            (0, 0, 3, 0)
        );

        let mut newer = first;
        newer[0].paid = eur("200.00");
        newer[1].total = eur("320.50");
        let s = import(&store, c, newer).await;
        assert_eq!((s.created, s.updated, s.unchanged), (0, 2, 1));
        assert!(
            s.changes
                .iter()
                .any(|l| l == "F-002: amount 300.50 → 320.50"),
            "{:?}",
            s.changes
        );
        assert_eq!(open_of(&store, c, "F-001").await, "1000.00");
        let timeline = store.timeline(c, Some("C1")).await.expect("timeline");
        assert_eq!(
            timeline
                .iter()
                .filter(|e| e.kind == "invoice_changed")
                .count(),
            2
        );
    }
);

on_both_databases!(
    an_abandoned_import_leaves_the_database_as_it_was,
    |db: TestDb| async move {
        let store = db.store;
        let c = creditor(&store, "Acme").await;
        import(
            &store,
            c,
            vec![invoice(2, "F-001", "C1", "2026-02-01", "100", "0")],
        )
        .await;
        let mut session = store
            .begin_invoice_import(c, "bad.csv", d("2026-03-01"))
            .await
            .expect("begin");
        for i in 0..2500 {
            session
                .push(invoice(
                    i + 2,
                    &format!("G-{i}"),
                    &format!("N{}", i % 7),
                    "2026-02-01",
                    "10",
                    "0",
                ))
                .await
                .expect("push");
        }
        session
            .push(invoice(9999, "F-001", "C1", "2026-02-01", "999", "0"))
            .await
            .expect("push");
        session.rollback().await.expect("rollback");
        let lines = store
            .invoice_lines(c, &InvoiceFilter::default())
            .await
            .expect("lines");
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].amount, "100.00");
        assert_eq!(store.count_customers(c).await.expect("count"), 1);
    }
);

on_both_databases!(
    payments_go_to_the_named_invoice_then_the_oldest_and_overpayments_stay_as_credit,
    |db: TestDb| async move {
        let store = db.store;
        let c = creditor(&store, "Acme").await;
        import(
            &store,
            c,
            vec![
                invoice(2, "F-001", "C1", "2026-02-01", "100.00", "0"),
                invoice(3, "F-002", "C1", "2026-01-15", "50.00", "0"),
                invoice(4, "F-003", "C1", "2026-03-01", "70.00", "0"),
            ],
        )
        .await;
        let payments = vec![
            PaymentRecord {
                line: 2,
                date: d("2026-03-02"),
                amount: eur("80.00"),
                reference: "VIR F-003".into(),
                customer_code: None,
                invoice_number: Some("F-003".into()),
                bank_reference: None,
                payer_name: None,
                payer_iban: None,
            },
            PaymentRecord {
                line: 3,
                date: d("2026-03-03"),
                amount: eur("200.00"),
                reference: "VIR CLIENT".into(),
                customer_code: Some("C1".into()),
                invoice_number: None,
                bank_reference: Some("BANK-1".into()),
                payer_name: None,
                payer_iban: None,
            },
        ];
        let PaymentImport::Done(s) = store
            .import_payments(c, "bank.csv", &payments, d("2026-03-03"))
            .await
            .expect("import")
        else {
            panic!("refused");
        };
        assert_eq!(s.created, 2);
        // 80 → F-003 (70) then F-002 (10, oldest); 200 → F-002 (40) then F-001 (100), 60 kept as credit.
        assert_eq!(open_of(&store, c, "F-003").await, "0.00");
        assert_eq!(open_of(&store, c, "F-002").await, "0.00");
        assert_eq!(open_of(&store, c, "F-001").await, "0.00");
        assert_eq!(s.unallocated_minor, 6000);

        // The same statement again creates nothing.
        let PaymentImport::Done(again) = store
            .import_payments(c, "bank.csv", &payments, d("2026-03-03"))
            .await
            .expect("import")
        else {
            panic!("refused");
        };
        assert_eq!((again.created, again.duplicates), (0, 2));

        // The credit settles the next invoice imported for that customer.
        import(
            &store,
            c,
            vec![invoice(2, "F-004", "C1", "2026-04-01", "100.00", "0")],
        )
        .await;
        assert_eq!(open_of(&store, c, "F-004").await, "40.00");
        let aging = store.aging(c, d("2026-03-10"), None).await.expect("aging");
        assert_eq!(aging.len(), 1);
        assert_eq!(aging[0].total(), Decimal::from(40));
    }
);

on_both_databases!(
    a_payment_from_an_unknown_customer_refuses_the_whole_file,
    |db: TestDb| async move {
        let store = db.store;
        let c = creditor(&store, "Acme").await;
        import(
            &store,
            c,
            vec![invoice(2, "F-001", "C1", "2026-02-01", "100.00", "0")],
        )
        .await;
        let payments = vec![
            PaymentRecord {
                line: 2,
                date: d("2026-03-02"),
                amount: eur("100.00"),
                reference: "ok".into(),
                customer_code: Some("C1".into()),
                invoice_number: None,
                bank_reference: None,
                payer_name: None,
                payer_iban: None,
            },
            PaymentRecord {
                line: 3,
                date: d("2026-03-02"),
                amount: eur("5.00"),
                reference: "?".into(),
                customer_code: Some("NOPE".into()),
                invoice_number: None,
                bank_reference: None,
                payer_name: None,
                payer_iban: None,
            },
            PaymentRecord {
                line: 4,
                date: d("2026-03-02"),
                amount: eur("5.00"),
                reference: "?".into(),
                customer_code: None,
                invoice_number: Some("F-999".into()),
                bank_reference: None,
                payer_name: None,
                payer_iban: None,
            },
        ];
        let PaymentImport::Refused(problems) = store
            .import_payments(c, "bank.csv", &payments, d("2026-03-03"))
            .await
            .expect("import")
        else {
            panic!("should be refused");
        };
        assert_eq!(
            problems
                .iter()
                .map(|p| (p.line, p.column))
                .collect::<Vec<_>>(),
            vec![(3, "customer_id"), (4, "invoice_number")]
        );
        assert_eq!(
            open_of(&store, c, "F-001").await,
            "100.00",
            "nothing was written"
        );
    }
);

on_both_databases!(
    credit_notes_settle_the_oldest_invoices,
    |db: TestDb| async move {
        let store = db.store;
        let c = creditor(&store, "Acme").await;
        let mut credit = invoice(4, "AV-001", "C1", "2026-02-10", "-30.00", "0");
        credit.kind = ItemKind::CreditNote;
        import(
            &store,
            c,
            vec![
                invoice(2, "F-001", "C1", "2026-02-01", "100.00", "0"),
                invoice(3, "F-002", "C1", "2026-01-01", "20.00", "0"),
                credit,
            ],
        )
        .await;
        assert_eq!(open_of(&store, c, "F-002").await, "0.00");
        assert_eq!(open_of(&store, c, "F-001").await, "90.00");
        assert_eq!(open_of(&store, c, "AV-001").await, "0.00");
    }
);

on_both_databases!(
    the_aged_balance_sorts_open_amounts_by_lateness,
    |db: TestDb| async move {
        let store = db.store;
        let c = creditor(&store, "Acme").await;
        import(
            &store,
            c,
            vec![
                invoice(2, "A", "C1", "2026-03-31", "1", "0"), // not due on 2026-03-31
                invoice(3, "B", "C1", "2026-03-01", "2", "0"), // 30 days late
                invoice(4, "C", "C1", "2026-02-28", "4", "0"), // 31 days
                invoice(5, "D", "C1", "2026-01-01", "8", "0"), // 89 days
                invoice(6, "E", "C1", "2025-12-31", "16", "0"), // 90 days
                invoice(7, "F", "C1", "2025-12-30", "32", "3"), // 91 days, 29 open
            ],
        )
        .await;
        let aging = store.aging(c, d("2026-03-31"), None).await.expect("aging");
        let b: Vec<String> = aging[0].buckets.iter().map(|x| x.to_string()).collect();
        assert_eq!(b, vec!["1.00", "2.00", "4.00", "24.00", "29.00"]);
    }
);

on_both_databases!(
    creditors_never_see_each_others_rows,
    |db: TestDb| async move {
        let store = db.store;
        let a = creditor(&store, "A").await;
        let b = creditor(&store, "B").await;
        import(
            &store,
            a,
            vec![invoice(2, "F-001", "C1", "2026-02-01", "100", "0")],
        )
        .await;
        import(
            &store,
            b,
            vec![invoice(2, "F-001", "C1", "2026-02-01", "555", "0")],
        )
        .await;
        assert_eq!(open_of(&store, a, "F-001").await, "100.00");
        assert_eq!(open_of(&store, b, "F-001").await, "555.00");
        assert_eq!(
            store
                .aging(b, d("2026-03-01"), None)
                .await
                .expect("aging")
                .len(),
            1
        );
        assert!(
            store.resolve_creditor(None).await.is_err(),
            "two creditors: must choose"
        );
        assert_eq!(store.resolve_creditor(Some("B")).await.expect("B").id, b);
        let _ = Currency::EUR;
    }
);

on_both_databases!(migrations_are_applied_once, |db: TestDb| async move {
    let again = Store::open(&db.url).await.expect("reopen");
    assert_eq!(again.migrate().await.expect("migrate"), 0);
});

fn bank(
    line: u64,
    amount: &str,
    text: &str,
    payer_name: Option<&str>,
    iban: Option<&str>,
) -> PaymentRecord {
    PaymentRecord {
        line,
        date: d("2026-03-10"),
        amount: eur(amount),
        reference: text.into(),
        customer_code: None,
        invoice_number: None,
        bank_reference: Some(format!("ENTRY-{line}")),
        payer_name: payer_name.map(String::from),
        payer_iban: iban.map(String::from),
    }
}

on_both_databases!(
    bank_credits_are_matched_by_number_iban_and_name_or_queued_for_a_person,
    |db: TestDb| async move {
        let store = db.store;
        let c = creditor(&store, "Acme").await;
        let mut garage = vec![
            invoice(4, "F-2026-0050", "C2", "2026-02-01", "300.00", "0"),
            invoice(5, "F-2026-0051", "C2", "2026-02-15", "300.00", "0"),
        ];
        for g in &mut garage {
            g.customer.name = Some("Garage Petit SAS".into());
        }
        let mut all = vec![
            invoice(2, "F-2026-0042", "C1", "2026-02-01", "100.00", "0"),
            invoice(3, "F-2026-0043", "C1", "2026-02-15", "200.00", "0"),
        ];
        all.extend(garage);
        import(&store, c, all).await;
        let statement = vec![
            // The invoice number through the bank's noise: matched, and the IBAN is learnt.
            bank(
                1,
                "100.00",
                "VIR SEPA DUPONT FACT F 2026 0042 REF 8812",
                Some("DUPONT"),
                Some("FR7630006000011234567890189"),
            ),
            // The learnt IBAN and an amount equal to one open invoice: matched.
            bank(
                2,
                "200.00",
                "VIREMENT",
                None,
                Some("FR7630006000011234567890189"),
            ),
            // The payer's name is a customer's, but two open invoices have this amount: a person decides.
            bank(3, "300.00", "PAIEMENT", Some("GARAGE PETIT"), None),
            // Nothing to go on.
            bank(4, "12.34", "???", None, None),
        ];
        let PaymentImport::Done(s) = store
            .import_payments(c, "releve.xml", &statement, d("2026-03-10"))
            .await
            .expect("import")
        else {
            panic!("refused");
        };
        assert_eq!(
            (s.created, s.matched_automatically, s.to_reconcile),
            (4, 2, 2)
        );
        assert_eq!(open_of(&store, c, "F-2026-0042").await, "0.00");
        assert_eq!(open_of(&store, c, "F-2026-0043").await, "0.00");
        assert_eq!(open_of(&store, c, "F-2026-0050").await, "300.00");
        assert_eq!(open_of(&store, c, "F-2026-0051").await, "300.00");

        let queue = store.unmatched_payments(c).await.expect("queue");
        assert_eq!(queue.len(), 2);
        assert_eq!(queue[0].suggested_customer.as_deref(), Some("C2"));
        assert!(
            queue[0].reason.contains("2 open invoices have this amount"),
            "{}",
            queue[0].reason
        );
        assert!(queue[0].confidence < 75);
        assert_eq!(queue[1].suggested_customer, None);

        store
            .confirm_payment(c, queue[0].id, "C2", Some("F-2026-0051"), d("2026-03-11"))
            .await
            .expect("confirm");
        assert_eq!(open_of(&store, c, "F-2026-0051").await, "0.00");
        assert_eq!(open_of(&store, c, "F-2026-0050").await, "300.00");
        assert_eq!(store.unmatched_payments(c).await.expect("queue").len(), 1);

        // The same statement again: nothing twice.
        let PaymentImport::Done(again) = store
            .import_payments(c, "copy-of-releve.xml", &statement, d("2026-03-12"))
            .await
            .expect("import")
        else {
            panic!("refused");
        };
        assert_eq!((again.created, again.duplicates), (0, 4));

        // What each bank entry became, and the payment list as exported.
        let outcomes = store.payment_outcomes(c).await.expect("outcomes");
        let brief: Vec<(&str, Option<&str>, &str, Vec<&str>)> = outcomes
            .iter()
            .map(|o| {
                (
                    o.bank_reference.as_str(),
                    o.customer.as_deref(),
                    o.status.as_str(),
                    o.invoices.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            brief,
            vec![
                ("ENTRY-1", Some("C1"), "matched", vec!["F-2026-0042"]),
                ("ENTRY-2", Some("C1"), "matched", vec!["F-2026-0043"]),
                ("ENTRY-3", Some("C2"), "confirmed", vec!["F-2026-0051"]),
                ("ENTRY-4", None, "unmatched", vec![]),
            ]
        );
        let lines = store.payment_lines(c, None).await.expect("lines");
        assert_eq!(lines.len(), 4);
        assert_eq!(
            (
                lines[3].customer.as_str(),
                lines[3].amount.as_str(),
                lines[3].unallocated.as_str()
            ),
            ("", "12.34", "12.34")
        );
        assert_eq!(
            store.payment_lines(c, Some("C2")).await.expect("C2").len(),
            1
        );
    }
);

/// The secondary indexes of a table, by name, as the database lists them.
async fn index_names(store: &Store, table: &str) -> Vec<String> {
    let sql = match store.backend() {
        relance_store::Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL ORDER BY name"
        }
        relance_store::Backend::Postgres => {
            "SELECT CAST(indexname AS TEXT) FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1 ORDER BY indexname"
        }
    };
    sqlx::query_scalar(sql)
        .bind(table)
        .fetch_all(store.pool())
        .await
        .expect("index list")
}

fn bulk(n: u64) -> Vec<InvoiceRecord> {
    (0..n)
        .map(|i| {
            invoice(
                i + 2,
                &format!("B-{i:05}"),
                &format!("K{}", i % 37),
                if i % 2 == 0 {
                    "2026-01-15"
                } else {
                    "2026-04-15"
                },
                "10.50",
                if i % 5 == 0 { "10.50" } else { "0" },
            )
        })
        .collect()
}

on_both_databases!(
    a_large_first_import_builds_its_indexes_once_and_keeps_them,
    |db: TestDb| async move {
        let store = db.store;
        let c = creditor(&store, "Acme").await;
        let items_before = index_names(&store, "items").await;
        let customers_before = index_names(&store, "customers").await;
        assert!(items_before.len() >= 4, "{items_before:?}");

        // A large first load that fails leaves the schema exactly as it was.
        let mut session = store
            .begin_invoice_import(c, "big.csv", d("2026-03-01"))
            .await
            .expect("begin");
        for r in bulk(2_500) {
            session.push(r).await.expect("push");
        }
        session.rollback().await.expect("rollback");
        assert_eq!(index_names(&store, "items").await, items_before);
        assert_eq!(index_names(&store, "customers").await, customers_before);
        assert_eq!(store.count_customers(c).await.expect("count"), 0);

        // The same load committed: every row, every index, and the indexes answer queries.
        let summary = import(&store, c, bulk(2_500)).await;
        assert_eq!(summary.created, 2_500);
        assert_eq!(summary.customers_created, 37);
        assert_eq!(index_names(&store, "items").await, items_before);
        assert_eq!(index_names(&store, "customers").await, customers_before);
        let open = store
            .invoice_lines(c, &InvoiceFilter::default())
            .await
            .expect("lines");
        assert_eq!(open.len(), 2_500);
        assert_eq!(open_of(&store, c, "B-00001").await, "10.50");
        assert_eq!(open_of(&store, c, "B-00005").await, "0.00");
        let open_rows: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM items WHERE creditor_id = $1 AND open_minor <> 0",
        )
        .bind(c.0)
        .fetch_one(store.pool())
        .await
        .expect("count");
        assert_eq!(open_rows, 2_000);

        // A second import meets a full ledger: it updates in place, indexes untouched.
        let mut changed = bulk(1_200);
        changed[3].total = eur("99.00");
        let again = import(&store, c, changed).await;
        assert_eq!(
            (again.created, again.updated, again.unchanged),
            (0, 1, 1_199)
        );
        assert_eq!(index_names(&store, "items").await, items_before);
    }
);

/// A creditor's customers and items as text rows, in a fixed order, ids left out.
async fn ledger_dump(store: &Store, c: CreditorId) -> (Vec<String>, Vec<String>) {
    let customers = sqlx::query(
        "SELECT code, name, kind, language, COALESCE(siren, '') AS siren, emails, phones, address \
         FROM customers WHERE creditor_id = $1 ORDER BY code",
    )
    .bind(c.0)
    .fetch_all(store.pool())
    .await
    .expect("customers");
    let items = sqlx::query(
        "SELECT i.kind, i.number, k.code, i.issue_date, i.due_date, i.currency, i.total_minor, \
         i.paid_outside_minor, i.allocated_minor, i.open_minor FROM items i \
         JOIN customers k ON k.id = i.customer_id WHERE i.creditor_id = $1 ORDER BY i.kind, i.number",
    )
    .bind(c.0)
    .fetch_all(store.pool())
    .await
    .expect("items");
    use sqlx::Row;
    let text = |row: &sqlx::any::AnyRow, n: usize| -> String {
        row.try_get::<String, _>(n)
            .or_else(|_| row.try_get::<i64, _>(n).map(|v| v.to_string()))
            .expect("text or integer")
    };
    (
        customers
            .iter()
            .map(|r| (0..8).map(|n| text(r, n)).collect::<Vec<_>>().join("|"))
            .collect(),
        items
            .iter()
            .map(|r| (0..10).map(|n| text(r, n)).collect::<Vec<_>>().join("|"))
            .collect(),
    )
}

/// Rows of every shape an export holds: customers with and without names, e-mails, phones
/// and addresses, invoices partly paid, credit notes.
fn varied(n: u64) -> Vec<InvoiceRecord> {
    (0..n)
        .map(|i| {
            let mut r = invoice(
                i + 2,
                &format!("V-{i:05}"),
                &format!("K{}", i % 53),
                ["2026-01-15", "2026-02-28", "2026-04-15"][(i % 3) as usize],
                &format!("{}.{:02}", 10 + i % 900, i % 100),
                if i % 7 == 0 { "5.00" } else { "0" },
            );
            if i % 53 == 4 {
                r.customer.name = None;
                r.customer.emails.clear();
            }
            if i % 53 == 5 {
                r.customer.phone = Some("+33 1 23 45 67 89".into());
                r.customer.address = Some("1 rue A\n75001 Paris".into());
            }
            if i % 97 == 3 {
                r.kind = ItemKind::CreditNote;
                r.total = eur("-12.50");
                r.paid = eur("0");
            }
            r
        })
        .collect()
}

on_both_databases!(
    a_bulk_first_load_and_small_imports_give_the_same_ledger,
    |db: TestDb| async move {
        let store = db.store;
        let records = varied(3_500);
        // One large first load: indexes set aside, no lookups, several write batches.
        let bulk = creditor(&store, "Bulk").await;
        let one = import(&store, bulk, records.clone()).await;
        // The same rows as small imports of another creditor: each one below a batch, each
        // after the first looks its numbers up in a ledger that is no longer empty.
        let small = creditor(&store, "Small").await;
        let mut created = 0;
        let mut customers_created = 0;
        for piece in records.chunks(700) {
            let s = import(&store, small, piece.to_vec()).await;
            created += s.created;
            customers_created += s.customers_created;
        }
        assert_eq!((one.created, one.customers_created), (3_500, 53));
        assert_eq!((created, customers_created), (3_500, 53));
        let (bulk_customers, bulk_items) = ledger_dump(&store, bulk).await;
        let (small_customers, small_items) = ledger_dump(&store, small).await;
        assert_eq!(bulk_items.len(), 3_500);
        assert_eq!(bulk_customers, small_customers);
        assert_eq!(bulk_items, small_items);
        // Credit notes were applied the same way: some invoice was settled by one.
        assert!(
            bulk_items
                .iter()
                .any(|row| row.starts_with("invoice|") && row.split('|').nth(8) != Some("0")),
            "no allocation: {:?}",
            &bulk_items[..3]
        );
        // Every later row of a customer created by the import compared equal to what the
        // import wrote: no customer was "changed" by its own file.
        assert_eq!(one.customers_updated, 0, "{:?}", one.changes);
        // The bulk load's customers read back as the database holds them.
        let k5 = store
            .customer_by_code(bulk, "K5")
            .await
            .expect("K5")
            .expect("K5 exists");
        assert_eq!(k5.phones, ["+33 1 23 45 67 89"]);
        assert_eq!(k5.address, "1 rue A\n75001 Paris");
    }
);

on_both_databases!(
    a_long_statement_learns_within_itself_across_its_write_batches,
    |db: TestDb| async move {
        let store = db.store;
        let c = creditor(&store, "Acme").await;
        import(
            &store,
            c,
            vec![
                invoice(2, "F-K3-1", "K3", "2026-02-01", "100.00", "0"),
                invoice(3, "F-K3-2", "K3", "2026-02-15", "250.00", "0"),
                invoice(4, "F-K4-1", "K4", "2026-02-01", "90.00", "0"),
            ],
        )
        .await;
        // 1. Names an invoice (partial payment) from an IBAN nobody knew: the IBAN is learnt.
        // 2. 2,100 credits nobody can place, so the import writes in several batches.
        // 3. The same IBAN, no reference, 90.00: the open amount of F-K3-1 after the first
        //    credit, which only an up-to-date view of this import's own allocations can see.
        let mut records = vec![bank(
            1,
            "10.00",
            "REGLT FACT F-K3-1",
            None,
            Some("FR7630001007941234567890185"),
        )];
        for i in 0..2_100 {
            records.push(bank(i + 2, "12.34", "VIREMENT SEPA", None, None));
        }
        records.push(bank(
            5_000,
            "90.00",
            "VIREMENT",
            None,
            Some("FR7630001007941234567890185"),
        ));
        let summary = match store
            .import_payments(c, "long.xml", &records, d("2026-03-11"))
            .await
            .expect("import")
        {
            PaymentImport::Done(s) => s,
            PaymentImport::Refused(p) => panic!("refused: {p:?}"),
        };
        assert_eq!(summary.created, 2_102);
        assert_eq!(summary.matched_automatically, 2, "{:?}", summary.lines);
        assert_eq!(summary.to_reconcile, 2_100);
        assert_eq!(summary.allocated_minor, 10_000);
        assert_eq!(open_of(&store, c, "F-K3-1").await, "0.00");
        assert_eq!(open_of(&store, c, "F-K3-2").await, "250.00");
        assert_eq!(open_of(&store, c, "F-K4-1").await, "90.00");
        assert_eq!(
            store.unmatched_payments(c).await.expect("queue").len(),
            2_100
        );
        // Each payment's timeline entry names the stored payment.
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT data FROM events WHERE creditor_id = $1 AND kind = 'payment_received' ORDER BY id",
        )
        .bind(c.0)
        .fetch_all(store.pool())
        .await
        .expect("events");
        assert_eq!(ids.len(), 2);
        for data in ids {
            let value: serde_json::Value = serde_json::from_str(&data).expect("json");
            assert!(value["payment_id"].as_i64().is_some(), "{value}");
        }
        // The same statement again creates nothing.
        let again = match store
            .import_payments(c, "long.xml", &records, d("2026-03-12"))
            .await
            .expect("import")
        {
            PaymentImport::Done(s) => s,
            PaymentImport::Refused(p) => panic!("refused: {p:?}"),
        };
        assert_eq!((again.created, again.duplicates), (0, 2_102));
    }
);

on_both_databases!(
    a_first_load_numbers_its_customers_after_every_id_ever_given_and_keeps_their_changes,
    |db: TestDb| async move {
        let store = db.store;
        let sqlite = store.backend() == relance_store::Backend::Sqlite;
        let a = creditor(&store, "A").await;
        import(&store, a, bulk(40)).await;
        // A customer written and removed again: SQLite never gives its id a second time.
        sqlx::query(
            "INSERT INTO customers (id, creditor_id, code, name, kind, created_at, updated_at) \
             VALUES (10000, $1, 'GONE', 'Gone', 'business', 'x', 'x')",
        )
        .bind(a.0)
        .execute(store.pool())
        .await
        .expect("insert");
        sqlx::query("DELETE FROM customers WHERE id = 10000")
            .execute(store.pool())
            .await
            .expect("delete");

        // Creditor B's first load, over several write batches, with the same customer codes
        // as A's; K1 gets a new name and address on a line of a later batch.
        let b = creditor(&store, "B").await;
        let mut rows = bulk(2_600);
        let late = rows.len() - 2;
        rows[late].customer.code = "K1".into();
        rows[late].customer.name = Some("Client K1 renamed".into());
        rows[late].customer.address = Some("2 rue B\n69001 Lyon".into());
        let summary = import(&store, b, rows).await;
        assert_eq!((summary.created, summary.customers_created), (2_600, 37));
        assert_eq!(summary.customers_updated, 1, "{:?}", summary.changes);

        let ids = |c: CreditorId| {
            let pool = store.pool().clone();
            async move {
                let ids: Vec<i64> = sqlx::query_scalar(
                    "SELECT id FROM customers WHERE creditor_id = $1 ORDER BY id",
                )
                .bind(c.0)
                .fetch_all(&pool)
                .await
                .expect("ids");
                ids
            }
        };
        let (a_ids, b_ids) = (ids(a).await, ids(b).await);
        assert_eq!((a_ids.len(), b_ids.len()), (37, 37));
        if sqlite {
            assert!(b_ids[0] > 10_000, "{b_ids:?}");
        }
        assert!(b_ids.iter().all(|id| !a_ids.contains(id)));
        // Every invoice of B points at one of B's customers, with its own code.
        let mismatched: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM items i JOIN customers k ON k.id = i.customer_id \
             WHERE i.creditor_id = $1 AND (k.creditor_id <> $1 OR k.code <> 'K' || CAST(CAST(substr(i.number, 3) AS INTEGER) % 37 AS TEXT))",
        )
        .bind(b.0)
        .fetch_one(store.pool())
        .await
        .expect("mismatched");
        // The renamed line belongs to K1 rather than its usual customer.
        assert_eq!(mismatched, 1);

        let k1: (String, String) = sqlx::query_as(
            "SELECT name, address FROM customers WHERE creditor_id = $1 AND code = 'K1'",
        )
        .bind(b.0)
        .fetch_one(store.pool())
        .await
        .expect("K1");
        assert_eq!(
            k1,
            ("Client K1 renamed".into(), "2 rue B\n69001 Lyon".into())
        );
        let event: String = sqlx::query_scalar(
            "SELECT e.data FROM events e JOIN customers k ON k.id = e.customer_id \
             WHERE e.creditor_id = $1 AND e.kind = 'customer_changed' AND k.code = 'K1'",
        )
        .bind(b.0)
        .fetch_one(store.pool())
        .await
        .expect("event");
        let data: serde_json::Value = serde_json::from_str(&event).expect("json");
        assert_eq!(data["line"], serde_json::json!(late as u64 + 2));
        // The first load's connection, which does not check foreign keys, never serves anyone
        // else: every connection of the store's pool checks them.
        if sqlite {
            let mut held = Vec::new();
            for _ in 0..4 {
                let mut conn = store.pool().acquire().await.expect("connection");
                let on: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
                    .fetch_one(&mut *conn)
                    .await
                    .expect("pragma");
                assert_eq!(on, 1);
                held.push(conn);
            }
        }
        // A's customers are as A's import wrote them.
        let a_k1: String =
            sqlx::query_scalar("SELECT name FROM customers WHERE creditor_id = $1 AND code = 'K1'")
                .bind(a.0)
                .fetch_one(store.pool())
                .await
                .expect("A's K1");
        assert_eq!(a_k1, "Client K1");
    }
);
