//! `items.open_minor`, the open amount every dunning query reads: on SQLite a plain column kept
//! by triggers (migration 0031, so that indexes holding it can answer alone), on PostgreSQL a
//! generated column. Whatever writes an item (a first bulk load, a later import, a payment, a
//! hand-written statement), the open amount is always total - paid outside - allocated.

mod common;

use chrono::{Days, NaiveDate};
use common::TestDb;
use relance_core::ledger::ItemKind;
use relance_core::money::Money;
use relance_core::party::CustomerKind;
use relance_store::creditors::CreditorInput;
use relance_store::customers::CustomerFields;
use relance_store::imports::InvoiceRecord;
use relance_store::payments::PaymentRecord;
use relance_store::{Backend, Store};
use rust_decimal::Decimal;

fn invoice(number: &str, code: &str, today: NaiveDate, cents: i64, paid: i64) -> InvoiceRecord {
    let ago = |d: u64| today.checked_sub_days(Days::new(d)).expect("date");
    InvoiceRecord {
        line: 2,
        kind: ItemKind::Invoice,
        number: number.into(),
        customer: CustomerFields {
            code: code.into(),
            name: Some(format!("Client {code}")),
            kind: Some(CustomerKind::Business),
            ..CustomerFields::default()
        },
        issue_date: ago(60),
        due_date: ago(30),
        total: Money::eur(Decimal::new(cents, 2)),
        paid: Money::eur(Decimal::new(paid, 2)),
    }
}

/// Items whose open amount disagrees with their amounts.
async fn wrong_open_amounts(store: &Store) -> i64 {
    sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM items \
         WHERE open_minor <> total_minor - paid_outside_minor - allocated_minor",
    )
    .fetch_one(store.pool())
    .await
    .expect("count")
}

async fn open_of(store: &Store, number: &str) -> i64 {
    sqlx::query_scalar("SELECT open_minor FROM items WHERE number = $1")
        .bind(number)
        .fetch_one(store.pool())
        .await
        .expect("open amount")
}

on_both_databases!(
    the_open_amount_follows_every_write,
    |db: TestDb| async move {
        let store = &db.store;
        let (creditor, _) = store
            .upsert_creditor(&CreditorInput {
                name: "Alpha SAS".into(),
                ..Default::default()
            })
            .await
            .expect("creditor");
        let today = NaiveDate::from_ymd_opt(2026, 6, 30).expect("date");

        // A first load large enough to take the bulk path (indexes set aside, then rebuilt).
        let mut s = store
            .begin_invoice_import(creditor.id, "first.csv", today)
            .await
            .expect("import");
        for n in 0..1_200 {
            s.push(invoice(
                &format!("F-{n}"),
                &format!("C{}", n % 40),
                today,
                10_000 + n,
                n % 3 * 1_000,
            ))
            .await
            .expect("push");
        }
        s.commit(0).await.expect("commit");
        assert_eq!(wrong_open_amounts(store).await, 0, "after the bulk load");
        assert_eq!(open_of(store, "F-5").await, 10_005 - 2_000);

        // A newer export: one amount and one "paid outside" changed.
        let mut s = store
            .begin_invoice_import(creditor.id, "second.csv", today)
            .await
            .expect("import");
        s.push(invoice("F-5", "C5", today, 20_000, 2_000))
            .await
            .expect("push");
        s.push(invoice("F-6", "C6", today, 10_006, 6_000))
            .await
            .expect("push");
        s.push(invoice("G-1", "C1", today, 5_000, 0))
            .await
            .expect("push");
        s.commit(0).await.expect("commit");
        assert_eq!(open_of(store, "F-5").await, 18_000);
        assert_eq!(open_of(store, "F-6").await, 4_006);
        assert_eq!(open_of(store, "G-1").await, 5_000);

        // A payment allocated to one invoice.
        let payment = PaymentRecord {
            line: 2,
            date: today,
            amount: Money::eur(Decimal::new(3_000, 2)),
            reference: "F-5".into(),
            customer_code: Some("C5".into()),
            invoice_number: Some("F-5".into()),
            bank_reference: Some("OPEN-1".into()),
            payer_name: None,
            payer_iban: None,
        };
        store
            .import_payments(creditor.id, "bank.csv", &[payment], today)
            .await
            .expect("payment");
        assert_eq!(open_of(store, "F-5").await, 15_000);
        assert_eq!(wrong_open_amounts(store).await, 0, "after the payment");

        // Statements written by hand, as a later feature or a repair might.
        sqlx::query("UPDATE items SET total_minor = total_minor + 500 WHERE number = 'G-1'")
            .execute(store.pool())
            .await
            .expect("update");
        assert_eq!(open_of(store, "G-1").await, 5_500);
        let customer: i64 = sqlx::query_scalar("SELECT id FROM customers WHERE code = 'C1'")
            .fetch_one(store.pool())
            .await
            .expect("customer");
        sqlx::query(
            "INSERT INTO items (creditor_id, customer_id, kind, number, issue_date, due_date, currency, \
             total_minor, paid_outside_minor) VALUES ($1, $2, 'invoice', 'H-1', '2026-05-01', '2026-05-31', 'EUR', 7000, 1500)",
        )
        .bind(creditor.id.0)
        .bind(customer)
        .execute(store.pool())
        .await
        .expect("insert");
        assert_eq!(open_of(store, "H-1").await, 5_500);
        if store.backend() == Backend::Sqlite {
            // A wrong open amount written on purpose is set right in the same statement.
            sqlx::query("UPDATE items SET open_minor = 1 WHERE number = 'H-1'")
                .execute(store.pool())
                .await
                .expect("update");
            assert_eq!(open_of(store, "H-1").await, 5_500);
        }
        assert_eq!(
            wrong_open_amounts(store).await,
            0,
            "after hand-written statements"
        );
    }
);

/// The reason for the plain column: SQLite answers the planner's read of open items from the
/// `items_customer` index alone. With a generated `open_minor` it read every item's table row
/// too (and the aged balance its million rows).
#[tokio::test]
async fn sqlite_reads_open_items_from_the_index_alone() {
    let db = common::sqlite().await;
    for sql in [
        "SELECT i.customer_id, i.id, i.kind, i.number, i.due_date, i.currency, i.open_minor \
         FROM items i WHERE +i.creditor_id = 1 AND i.open_minor <> 0 AND i.customer_id IN (1, 2)",
        "SELECT currency, SUM(open_minor) FROM items WHERE creditor_id = 1 AND open_minor <> 0 \
         AND due_date < '2026-01-01' GROUP BY currency",
    ] {
        let rows: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
                .fetch_all(db.store.pool())
                .await
                .expect("plan");
        let plan = rows
            .into_iter()
            .map(|(_, _, _, detail)| detail)
            .collect::<Vec<_>>()
            .join("; ");
        assert!(plan.contains("COVERING INDEX"), "{sql}: {plan}");
    }
}
