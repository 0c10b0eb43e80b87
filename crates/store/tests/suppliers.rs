//! Suppliers on both databases, by replaying weeks of daily runs as `relance run` does them
//! (receivables, follow-ups, suppliers): a late delivery chased by two messages then a
//! registered mise en demeure, a delivery that stops the chase, supplier invoices checked once
//! against their orders (one dispute letter listing every discrepancy, nothing for a matching
//! one), never twice. Dates worked out by hand (business days, France): 2026-03-06 is a Friday,
//! 2026-03-09, -16 and -23 are Mondays.

mod common;

use chrono::NaiveDate;
use common::TestDb;
use relance_core::ids::CreditorId;
use relance_core::money::Money;
use relance_store::cases::RunOptions;
use relance_store::creditors::CreditorInput;
use relance_store::suppliers::{PurchaseOrderInput, SupplierInput, SupplierInvoiceInput};
use relance_store::Store;
use rust_decimal::Decimal;
use std::str::FromStr;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn eur(s: &str) -> Money {
    Money::eur(Decimal::from_str(s).expect("decimal"))
}

async fn creditor(store: &Store) -> CreditorId {
    let (c, _) = store
        .upsert_creditor(&CreditorInput {
            name: "Atelier".into(),
            email: Some("achats@atelier.example".into()),
            ..Default::default()
        })
        .await
        .expect("creditor");
    c.id
}

fn supplier(code: &str) -> SupplierInput {
    SupplierInput {
        code: code.into(),
        name: Some(format!("Fournisseur {code}")),
        email: Some(format!("ventes@{}.example", code.to_lowercase())),
        address: Some("1 quai Perrache|69002 Lyon".into()),
        language: None,
    }
}

fn order(code: &str, number: &str, promised: &str, delivered: Option<&str>) -> PurchaseOrderInput {
    PurchaseOrderInput {
        supplier: supplier(code),
        number: number.into(),
        ordered_on: d("2026-03-02"),
        promised_on: d(promised),
        amount: eur("1200.00"),
        quantity: Decimal::from(10),
        delivered_on: delivered.map(d),
    }
}

fn invoice(
    code: &str,
    number: &str,
    po: Option<&str>,
    amount: &str,
    qty: Option<i64>,
) -> SupplierInvoiceInput {
    SupplierInvoiceInput {
        supplier: supplier(code),
        number: number.into(),
        issued_on: d("2026-03-10"),
        po_number: po.map(str::to_string),
        amount: eur(amount),
        quantity: qty.map(Decimal::from),
    }
}

/// One day as `relance run` does it; `DAY SUPPLIER STEP CHANNEL DOCUMENT` lines.
async fn run(store: &Store, creditor: CreditorId, day: NaiveDate, dry_run: bool) -> Vec<String> {
    let options = RunOptions {
        as_of: day,
        dry_run,
        full: false,
    };
    let mut actions = store.run_day(creditor, options).await.expect("run");
    actions.extend(
        store
            .run_followups(creditor, options, 6)
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
        .iter()
        .flat_map(|a| {
            a.channels.iter().map(move |c| {
                format!(
                    "{} {} {} {} {}",
                    a.on,
                    a.customer_code,
                    a.step,
                    c.as_str(),
                    a.invoices.join(",")
                )
            })
        })
        .collect()
}

/// Every day from `from` to `to` (calling `between` first); checks that a dry run announced
/// what the real run did and that a second run of the day writes nothing.
async fn replay<F, Fut>(
    store: &Store,
    creditor: CreditorId,
    from: &str,
    to: &str,
    mut between: F,
) -> Vec<String>
where
    F: FnMut(NaiveDate) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut day = d(from);
    let mut out = Vec::new();
    while day <= d(to) {
        between(day).await;
        let announced = run(store, creditor, day, true).await;
        let done = run(store, creditor, day, false).await;
        assert_eq!(announced, done, "dry run of {day}");
        assert!(
            run(store, creditor, day, false).await.is_empty(),
            "second run of {day}"
        );
        out.extend(done);
        day = day.succ_opt().expect("day");
    }
    out
}

async fn outbox(store: &Store, creditor: CreditorId) -> Vec<(String, String, String, Option<i64>)> {
    sqlx::query_as::<_, (String, String, String, Option<i64>)>(
        "SELECT step, kind, status, supplier_document_id FROM actions WHERE creditor_id = $1 ORDER BY id",
    )
    .bind(creditor.0)
    .fetch_all(store.pool())
    .await
    .expect("outbox")
}

on_both_databases!(
    late_delivery_ladder_and_delivery_stops_it,
    |db: TestDb| async move {
        let store = &db.store;
        let creditor = creditor(store).await;
        let done = store
            .import_purchase_orders(
                creditor,
                &[
                    order("F01", "BC-1", "2026-03-06", None),
                    order("F01", "BC-2", "2026-03-06", None),
                    order("F02", "BC-3", "2026-03-06", Some("2026-03-05")),
                ],
                "commandes.csv",
            )
            .await
            .expect("import");
        assert_eq!((done.created, done.updated), (3, 0));
        // The same file again changes nothing.
        let again = store
            .import_purchase_orders(
                creditor,
                &[order("F01", "BC-1", "2026-03-06", None)],
                "commandes.csv",
            )
            .await
            .expect("again");
        assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 1));
        // A supplier's party row serves its outbox and timeline; it is not a customer: neither
        // the customer list nor payer scoring shows it.
        let page = store
            .customer_page(
                creditor,
                &relance_store::web_queries::CustomerQuery {
                    search: String::new(),
                    overdue_only: false,
                    sort: relance_store::web_queries::CustomerSort::Code,
                    descending: false,
                    after: None,
                    limit: 100,
                    as_of: None,
                },
            )
            .await
            .expect("customer page");
        assert!(
            page.rows.is_empty(),
            "suppliers listed as customers: {:?}",
            page.rows
        );
        let scored = store
            .payer_histories(creditor, d("2026-03-02"))
            .await
            .expect("histories");
        assert!(scored.is_empty(), "suppliers scored as payers: {scored:?}");
        let out = replay(
            store,
            creditor,
            "2026-03-02",
            "2026-04-30",
            |day| async move {
                if day == d("2026-03-12") {
                    assert!(store
                        .supplier_delivered(creditor, "BC-2", day)
                        .await
                        .expect("delivered"));
                    assert!(!store
                        .supplier_delivered(creditor, "BC-2", day)
                        .await
                        .expect("twice"));
                }
            },
        )
        .await;
        assert_eq!(
            out,
            [
                "2026-03-09 F01 supplier_late email BC-1",
                "2026-03-09 F01 supplier_late email BC-2",
                "2026-03-16 F01 supplier_late_second email BC-1",
                "2026-03-23 F01 supplier_formal_notice registered_letter_ar BC-1",
            ]
        );
        let rows = outbox(store, creditor).await;
        assert_eq!(rows.len(), 4);
        assert!(rows
            .iter()
            .all(|r| r.1 == "supplier_delivery" && r.3.is_some()));
        // The receivable run left them planned; the delivery of BC-2 cancelled its message.
        let status: Vec<&str> = rows.iter().map(|r| r.2.as_str()).collect();
        assert_eq!(
            status,
            ["planned", "cancelled", "planned", "planned"],
            "{rows:?}"
        );
        let orders = store.purchase_orders(creditor).await.expect("orders");
        let status: Vec<(&str, &str)> = orders
            .iter()
            .map(|o| (o.number.as_str(), o.status.as_str()))
            .collect();
        assert_eq!(
            status,
            [
                ("BC-1", "done"),
                ("BC-2", "delivered"),
                ("BC-3", "delivered")
            ]
        );
        // The timeline of the supplier's party row tells the story.
        let kinds: Vec<String> = store
            .timeline(creditor, Some("supplier:F01"))
            .await
            .expect("timeline")
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert!(
            kinds.contains(&"supplier_delivered".to_string()),
            "{kinds:?}"
        );
        assert_eq!(kinds.iter().filter(|k| *k == "reminder_planned").count(), 4);
        // Report: BC-1 late (promised 6 March, 38 days on 13 April), BC-2 and BC-3 delivered.
        let report = store
            .supplier_report(creditor, d("2026-04-13"))
            .await
            .expect("report");
        assert_eq!(report.len(), 1);
        assert_eq!(
            (report[0].number.as_str(), report[0].days_late),
            ("BC-1", 38)
        );
        assert!(
            report[0]
                .detail
                .starts_with("supplier_formal_notice on 2026-03-23"),
            "{}",
            report[0].detail
        );
    }
);

on_both_databases!(
    delivered_before_the_message_leaves_cancels_it,
    |db: TestDb| async move {
        let store = &db.store;
        let creditor = creditor(store).await;
        store
            .import_purchase_orders(
                creditor,
                &[order("F01", "BC-1", "2026-03-06", None)],
                "c.csv",
            )
            .await
            .expect("import");
        let out = run(store, creditor, d("2026-03-09"), false).await;
        assert_eq!(out, ["2026-03-09 F01 supplier_late email BC-1"]);
        // The next file says it arrived: the planned message is cancelled, the chase is over.
        let done = store
            .import_purchase_orders(
                creditor,
                &[order("F01", "BC-1", "2026-03-06", Some("2026-03-09"))],
                "c.csv",
            )
            .await
            .expect("import delivered");
        assert_eq!(done.updated, 1);
        let rows = outbox(store, creditor).await;
        assert_eq!(rows[0].2, "cancelled");
        let out = replay(store, creditor, "2026-03-10", "2026-04-10", |_| async {}).await;
        assert!(out.is_empty(), "{out:?}");
    }
);

on_both_databases!(supplier_invoices_checked_once, |db: TestDb| async move {
    let store = &db.store;
    let creditor = creditor(store).await;
    store
        .import_purchase_orders(
            creditor,
            &[
                order("F01", "BC-1", "2026-03-20", None),
                order("F01", "BC-2", "2026-03-20", None),
            ],
            "c.csv",
        )
        .await
        .expect("orders");
    let done = store
        .import_supplier_invoices(
            creditor,
            &[
                // Matches (within 0.5 %).
                invoice("F01", "FA-1", Some("BC-1"), "1203.00", Some(10)),
                // Amount and quantity off.
                invoice("F01", "FA-2", Some("BC-2"), "1320.00", Some(11)),
                // No order number.
                invoice("F01", "FA-3", None, "50.00", None),
                // An order we do not know.
                invoice("F01", "FA-4", Some("BC-99"), "80.00", None),
            ],
            "factures.csv",
        )
        .await
        .expect("invoices");
    assert_eq!(done.created, 4);
    // Wednesday 11 March: each wrong invoice gets its one letter, the right one nothing.
    let out = replay(store, creditor, "2026-03-11", "2026-03-13", |_| async {}).await;
    assert_eq!(
        out,
        [
            "2026-03-11 F01 supplier_invoice_dispute email FA-2",
            "2026-03-11 F01 supplier_invoice_dispute email FA-3",
            "2026-03-11 F01 supplier_invoice_dispute email FA-4",
        ]
    );
    let invoices = store.supplier_invoices(creditor).await.expect("invoices");
    let found: Vec<(String, String, Vec<&str>)> = invoices
        .iter()
        .map(|i| {
            (
                i.number.clone(),
                i.status.clone(),
                i.discrepancies.iter().map(|d| d.code()).collect(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("FA-1".to_string(), "matching".to_string(), vec![]),
            (
                "FA-2".to_string(),
                "disputed".to_string(),
                vec!["amount", "quantity"]
            ),
            (
                "FA-3".to_string(),
                "disputed".to_string(),
                vec!["missing_po"]
            ),
            (
                "FA-4".to_string(),
                "disputed".to_string(),
                vec!["unknown_po"]
            ),
        ]
    );
    // The same file again: known, nothing new to check, nothing sent again.
    let again = store
        .import_supplier_invoices(
            creditor,
            &[invoice("F01", "FA-2", Some("BC-2"), "1320.00", Some(11))],
            "f.csv",
        )
        .await
        .expect("again");
    assert_eq!((again.created, again.unchanged), (0, 1));
    assert!(run(store, creditor, d("2026-03-16"), false)
        .await
        .is_empty());
    let rows = outbox(store, creditor).await;
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r.1 == "supplier_invoice"));
    let report = store
        .supplier_report(creditor, d("2026-03-16"))
        .await
        .expect("report");
    let disputed: Vec<&str> = report
        .iter()
        .filter(|l| l.document == "invoice")
        .map(|l| l.detail.as_str())
        .collect();
    assert_eq!(
        disputed[0],
        "amount 1320.00 EUR invoiced, 1200.00 EUR ordered; quantity 11 invoiced, 10 ordered"
    );
});

on_both_databases!(an_import_is_all_or_nothing, |db: TestDb| async move {
    let store = &db.store;
    let creditor = creditor(store).await;
    store
        .import_purchase_orders(
            creditor,
            &[order("F01", "BC-1", "2026-03-06", None)],
            "a.csv",
        )
        .await
        .expect("first");
    // BC-1 named again for another supplier: the whole file is refused, BC-2 included.
    let refused = store
        .import_purchase_orders(
            creditor,
            &[
                order("F02", "BC-2", "2026-03-06", None),
                order("F02", "BC-1", "2026-03-06", None),
            ],
            "b.csv",
        )
        .await;
    assert!(refused.is_err());
    let numbers: Vec<String> = store
        .purchase_orders(creditor)
        .await
        .expect("orders")
        .into_iter()
        .map(|o| o.number)
        .collect();
    assert_eq!(numbers, ["BC-1"]);
    let suppliers: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM suppliers WHERE creditor_id = $1")
            .bind(creditor.0)
            .fetch_one(store.pool())
            .await
            .expect("count");
    assert_eq!(suppliers, 1);
});
