//! The data revision (`Store::data_revision`, migration 0030) that the web server's dashboard
//! cache trusts: every committed write to a table the dashboard reads moves it, whatever
//! connection or process makes it; a write still in progress or rolled back does not. On both
//! databases.

mod common;

use chrono::{Days, NaiveDate};
use common::TestDb;
use relance_core::ledger::ItemKind;
use relance_core::money::Money;
use relance_core::party::CustomerKind;
use relance_store::cases::RunOptions;
use relance_store::creditors::CreditorInput;
use relance_store::customers::CustomerFields;
use relance_store::imports::InvoiceRecord;
use relance_store::payments::PaymentRecord;
use relance_store::web_queries::{DataPart, DataRevision};
use relance_store::Store;
use rust_decimal::Decimal;

/// The tables the dashboard reads, each of which must move its part's counter and no other.
const TABLES: [(&str, DataPart); 7] = [
    ("items", DataPart::Ledger),
    ("allocations", DataPart::Ledger),
    ("payments", DataPart::Ledger),
    ("actions", DataPart::Outbox),
    ("cases", DataPart::Cases),
    ("disputes", DataPart::Disputes),
    ("customers", DataPart::Customers),
];

const PARTS: [DataPart; 5] = [
    DataPart::Ledger,
    DataPart::Outbox,
    DataPart::Cases,
    DataPart::Disputes,
    DataPart::Customers,
];

fn invoice(number: &str, code: &str, issued: NaiveDate, due: NaiveDate) -> InvoiceRecord {
    InvoiceRecord {
        line: 2,
        kind: ItemKind::Invoice,
        number: number.into(),
        customer: CustomerFields {
            code: code.into(),
            name: Some(format!("Client {code}")),
            kind: Some(CustomerKind::Business),
            emails: vec![format!("compta@{}.example", code.to_lowercase())],
            ..CustomerFields::default()
        },
        issue_date: issued,
        due_date: due,
        total: Money::eur(Decimal::new(50_000, 2)),
        paid: Money::eur(Decimal::ZERO),
    }
}

async fn revision(store: &Store) -> DataRevision {
    store.data_revision().await.expect("revision")
}

/// The parts whose counter moved from `before` to `after` (none may go back).
fn moved(before: DataRevision, after: DataRevision) -> Vec<DataPart> {
    PARTS
        .into_iter()
        .filter(|p| {
            assert!(after.of(*p) >= before.of(*p), "{p:?} went back");
            after.of(*p) > before.of(*p)
        })
        .collect()
}

on_both_databases!(
    every_committed_write_moves_the_revision,
    |db: TestDb| async move {
        let store = &db.store;
        // Writes come through a second pool, as from another process.
        let other = Store::open(&db.url).await.expect("second connection");
        let (creditor, _) = other
            .upsert_creditor(&CreditorInput {
                name: "Alpha SAS".into(),
                ..Default::default()
            })
            .await
            .expect("creditor");
        let today = NaiveDate::from_ymd_opt(2026, 6, 30).expect("date");
        let ago = |d: u64| today.checked_sub_days(Days::new(d)).expect("date");

        let start = revision(store).await;
        let mut s = other
            .begin_invoice_import(creditor.id, "test.csv", today)
            .await
            .expect("import");
        s.push(invoice("F-1", "A1", ago(90), ago(60)))
            .await
            .expect("push");
        s.push(invoice("F-2", "A2", ago(80), ago(50)))
            .await
            .expect("push");
        s.commit(0).await.expect("commit");
        let imported = revision(store).await;
        let parts = moved(start, imported);
        assert!(
            parts.contains(&DataPart::Ledger) && parts.contains(&DataPart::Customers),
            "an invoice import moved {parts:?}"
        );

        other
            .run_day(
                creditor.id,
                RunOptions {
                    as_of: today,
                    dry_run: false,
                    full: false,
                },
            )
            .await
            .expect("run");
        let ran = revision(store).await;
        let parts = moved(imported, ran);
        assert!(
            parts.contains(&DataPart::Outbox) && parts.contains(&DataPart::Cases),
            "the daily run moved {parts:?}"
        );

        let payment = PaymentRecord {
            line: 2,
            date: today,
            amount: Money::eur(Decimal::new(10_000, 2)),
            reference: "F-1".into(),
            customer_code: Some("A1".into()),
            invoice_number: Some("F-1".into()),
            bank_reference: Some("REV-1".into()),
            payer_name: None,
            payer_iban: None,
        };
        other
            .import_payments(creditor.id, "bank.csv", &[payment], today)
            .await
            .expect("payment");
        let paid = revision(store).await;
        let parts = moved(ran, paid);
        assert!(
            parts.contains(&DataPart::Ledger),
            "a payment moved {parts:?}"
        );

        other
            .open_dispute(creditor.id, "F-2", "not delivered", today)
            .await
            .expect("dispute");
        let disputed = revision(store).await;
        let parts = moved(paid, disputed);
        assert!(
            parts.contains(&DataPart::Disputes),
            "a dispute moved {parts:?}"
        );

        // Any change to any row of each table, even one that leaves the values as they are.
        for (table, part) in TABLES {
            let before = revision(store).await;
            let sql =
                format!("UPDATE {table} SET id = id WHERE id = (SELECT MIN(id) FROM {table})");
            let done = sqlx::query(&sql)
                .execute(other.pool())
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            assert_eq!(done.rows_affected(), 1, "{table} has a row");
            let after = revision(store).await;
            assert_eq!(moved(before, after), [part], "an update of {table}");
        }
        let before = revision(store).await;
        sqlx::query("DELETE FROM disputes")
            .execute(other.pool())
            .await
            .expect("delete");
        assert_eq!(
            moved(before, revision(store).await),
            [DataPart::Disputes],
            "a delete"
        );

        // Not before the commit, and not at all when rolled back.
        let before = revision(store).await;
        let mut tx = other.pool().begin().await.expect("begin");
        sqlx::query("UPDATE customers SET name = 'Renamed' WHERE code = 'A1'")
            .execute(&mut *tx)
            .await
            .expect("rename");
        assert_eq!(revision(store).await, before, "moved before the commit");
        tx.rollback().await.expect("rollback");
        assert_eq!(revision(store).await, before, "moved by a rollback");
        let mut tx = other.pool().begin().await.expect("begin");
        for name in ["Renamed", "Renamed again"] {
            sqlx::query("UPDATE customers SET name = $1 WHERE code = 'A1'")
                .bind(name)
                .execute(&mut *tx)
                .await
                .expect("rename");
        }
        assert_eq!(revision(store).await, before, "moved before the commit");
        tx.commit().await.expect("commit");
        let after = revision(store).await;
        assert_eq!(moved(before, after), [DataPart::Customers], "a rename");
        // Once per transaction on PostgreSQL, once per row on SQLite: moved either way.
        assert!(after.of(DataPart::Customers) - before.of(DataPart::Customers) <= 2);

        // A table the dashboard does not read leaves it alone.
        let before = revision(store).await;
        sqlx::query("UPDATE creditors SET name = 'Alpha SA'")
            .execute(other.pool())
            .await
            .expect("rename creditor");
        assert_eq!(revision(store).await, before);
        other.close().await;
    }
);

on_both_databases!(
    a_first_bulk_load_moves_the_revision_and_keeps_its_triggers,
    |db: TestDb| async move {
        // A first load of more than a batch into an empty ledger sets the tables' row triggers
        // aside (crates/store/src/bulk.rs): the counters must move all the same, once at the
        // end, and the triggers must be back for the writes that follow.
        let store = &db.store;
        let (creditor, _) = store
            .upsert_creditor(&CreditorInput {
                name: "Alpha SAS".into(),
                ..Default::default()
            })
            .await
            .expect("creditor");
        let today = NaiveDate::from_ymd_opt(2026, 6, 30).expect("date");
        let ago = |d: u64| today.checked_sub_days(Days::new(d)).expect("date");
        let start = revision(store).await;
        let mut s = store
            .begin_invoice_import(creditor.id, "big.csv", today)
            .await
            .expect("import");
        for n in 0..2_500 {
            s.push(invoice(
                &format!("F-{n}"),
                &format!("C{}", n % 700),
                ago(90),
                ago(60),
            ))
            .await
            .expect("push");
        }
        s.commit(0).await.expect("commit");
        let loaded = revision(store).await;
        let parts = moved(start, loaded);
        assert!(
            parts.contains(&DataPart::Ledger) && parts.contains(&DataPart::Customers),
            "a first bulk load moved {parts:?}"
        );
        for (table, part) in [
            ("items", DataPart::Ledger),
            ("customers", DataPart::Customers),
        ] {
            let before = revision(store).await;
            let sql =
                format!("UPDATE {table} SET id = id WHERE id = (SELECT MAX(id) FROM {table})");
            sqlx::query(&sql)
                .execute(store.pool())
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            assert_eq!(
                moved(before, revision(store).await),
                [part],
                "an update of {table} after the bulk load"
            );
        }
    }
);
