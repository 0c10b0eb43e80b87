//! `relance serve`'s scheduler and the commands share one writer on a SQLite file: while
//! `relance run` (or `send`, `import`) holds the writer lock, a check of the scheduler writes
//! nothing and names the holder; once the lock is free, the next check runs and leaves no lock
//! behind. On PostgreSQL no lock file is involved (rows are claimed with SKIP LOCKED).

use chrono::{Days, NaiveTime};
use relance_core::ledger::ItemKind;
use relance_core::money::Money;
use relance_core::party::CustomerKind;
use relance_dispatch::writer_lock::{lock_path, WriterLock};
use relance_server::scheduler::{Schedule, Scheduler};
use relance_server::today_for;
use relance_store::creditors::CreditorInput;
use relance_store::customers::CustomerFields;
use relance_store::imports::InvoiceRecord;
use relance_store::Store;
use rust_decimal::Decimal;
use std::time::Duration;

/// A creditor and one customer 40 days late: the daily run plans reminders for them.
async fn ledger(store: &Store) -> relance_store::creditors::CreditorRecord {
    let (creditor, _) = store
        .upsert_creditor(&CreditorInput {
            name: "Atelier Verrou SAS".into(),
            ..CreditorInput::default()
        })
        .await
        .expect("creditor");
    let today = relance_server::pin_today_to_a_business_day();
    // A daily run plans nothing on a weekend or holiday: the server works on the last business day.
    assert_eq!(today_for(&creditor), today);
    let ago = |d: u64| today.checked_sub_days(Days::new(d)).expect("date");
    let mut import = store
        .begin_invoice_import(creditor.id, "test", today)
        .await
        .expect("import");
    import
        .push(InvoiceRecord {
            line: 2,
            kind: ItemKind::Invoice,
            number: "F-LOCK-1".into(),
            customer: CustomerFields {
                code: "C1".into(),
                name: Some("Boulangerie Verrou".into()),
                kind: Some(CustomerKind::Business),
                emails: vec!["compta@verrou.example".into()],
                ..CustomerFields::default()
            },
            issue_date: ago(70),
            due_date: ago(40),
            total: Money::eur(Decimal::new(120_000, 2)),
            paid: Money::eur(Decimal::ZERO),
        })
        .await
        .expect("push");
    import.commit(0).await.expect("commit");
    creditor
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_skips_its_check_while_a_command_writes_to_the_sqlite_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("serve.db").display());
    let store = Store::open(&url).await.expect("open sqlite");
    let creditor = ledger(&store).await;
    let mut scheduler = Scheduler::new(Schedule {
        run_at: NaiveTime::MIN,
        delivery: None,
        every: Duration::from_secs(60),
        database_url: Some(url.clone()),
    })
    .expect("scheduler");

    // A command (`relance run`) holds the lock: the check writes nothing and says who writes.
    let command = WriterLock::acquire(&url, "relance run --as-of 2026-11-25", Duration::ZERO)
        .expect("lock")
        .expect("a lock on SQLite");
    let report = scheduler.tick_once(&store).await.expect("tick");
    let holder = report
        .skipped
        .clone()
        .expect("skipped while the lock is held");
    assert!(
        holder.contains("relance run --as-of 2026-11-25"),
        "{holder}"
    );
    assert!(holder.contains(&std::process::id().to_string()), "{holder}");
    assert_eq!(report.planned, 0);
    assert!(
        store
            .outbox_lines(creditor.id, None, false)
            .await
            .expect("outbox")
            .is_empty(),
        "nothing written while the command holds the lock"
    );

    // The command ends: the next check runs, and releases the lock when done.
    drop(command);
    let report = scheduler.tick_once(&store).await.expect("tick");
    assert_eq!(report.skipped, None);
    assert!(report.planned > 0, "{report:?}");
    let lock = lock_path(&url).expect("a lock path on SQLite");
    assert!(!lock.exists(), "the scheduler released {}", lock.display());
    // And a command may take it again at once.
    assert!(WriterLock::acquire(&url, "relance send", Duration::ZERO)
        .expect("free")
        .is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_the_scheduler_takes_no_lock() {
    let Some(db) = relance_store::testing::postgres("schedlock").await else {
        return;
    };
    let (store, url) = (db.store.clone(), db.url.clone());
    let creditor = ledger(&store).await;
    assert_eq!(lock_path(&url), None);
    let mut scheduler = Scheduler::new(Schedule {
        run_at: NaiveTime::MIN,
        delivery: None,
        every: Duration::from_secs(60),
        database_url: Some(url.clone()),
    })
    .expect("scheduler");
    let report = scheduler.tick_once(&store).await.expect("tick");
    assert_eq!(report.skipped, None);
    assert!(report.planned > 0, "{report:?}");
    assert!(!store
        .outbox_lines(creditor.id, None, false)
        .await
        .expect("outbox")
        .is_empty());
    db.finish().await;
}
