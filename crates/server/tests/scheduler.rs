//! The scheduler of `relance serve` delivers by itself: the server (library) is started on
//! port 0 with a customer owing an overdue invoice and an SMTP server on loopback (aiosmtpd,
//! `crates/cli/tests/support/smtp_sink.py`); the reminder is planned by the daily run, sent by
//! the dispatcher, and arrives exactly once — without `relance send`. On a real SQLite file,
//! and on PostgreSQL when `RELANCE_TEST_DATABASE_URL` is set.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{Days, NaiveTime};
use relance_core::ledger::ItemKind;
use relance_core::money::Money;
use relance_core::party::CustomerKind;
use relance_dispatch::DeliverySettings;
use relance_server::scheduler::Schedule;
use relance_server::{today_for, AppState, ServerOptions};
use relance_store::creditors::CreditorInput;
use relance_store::customers::CustomerFields;
use relance_store::imports::InvoiceRecord;
use relance_store::Store;
use rust_decimal::Decimal;

/// aiosmtpd on loopback, storing each message as a file; killed when dropped.
struct Sink {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl Sink {
    fn start() -> Sink {
        let dir = tempfile::tempdir().expect("temp dir");
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../cli/tests/support/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .arg(dir.path().join("mail"))
            .arg("0")
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 with aiosmtpd (pip install aiosmtpd)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the sink prints its port");
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("smtp_sink.py did not start (aiosmtpd?): {line:?}"));
        Sink { child, dir, port }
    }

    fn messages(&self) -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(self.dir.path().join("mail"))
            .map(|d| {
                d.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        paths.sort();
        paths
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn the_server_sends_a_due_reminder_once(store: Store) {
    // Arrange: a creditor with a sender address, a customer 40 days late.
    let (creditor, _) = store
        .upsert_creditor(&CreditorInput {
            name: "Atelier Test SAS".into(),
            email: Some("relances@atelier-test.fr".into()),
            iban: Some("FR7630006000011234567890189".into()),
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
            number: "F-SCHED-1".into(),
            customer: CustomerFields {
                code: "C1".into(),
                name: Some("Boulangerie Sched".into()),
                kind: Some(CustomerKind::Business),
                emails: vec!["compta@boulangerie.example".into()],
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
    let sink = Sink::start();
    let outbox = tempfile::tempdir().expect("outbox");

    // Act: the server with its scheduler (daily run due at once, a check every 200 ms).
    let schedule = Schedule {
        run_at: NaiveTime::MIN,
        delivery: Some(DeliverySettings {
            smtp_url: Some(format!("smtp://127.0.0.1:{}", sink.port)),
            outbox: outbox.path().to_path_buf(),
            ..DeliverySettings::default()
        }),
        every: Duration::from_millis(200),
        database_url: None,
    };
    let state = AppState::new(store.clone(), ServerOptions::default())
        .await
        .expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let server = tokio::spawn(relance_server::serve_on(listener, state, Some(schedule)));
    let started = Instant::now();
    while sink.messages().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server sent nothing in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Ten more checks: nothing is sent again.
    tokio::time::sleep(Duration::from_secs(2)).await;
    server.abort();

    // Assert: one message, to the customer, naming the invoice; the outbox says sent.
    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "delivered more than once: {messages:?}");
    let bytes = std::fs::read(&messages[0]).expect("read");
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("compta@boulangerie.example"), "{text}");
    assert!(
        text.contains("F-SCHED-1"),
        "the invoice is not named: {text}"
    );
    let lines = store
        .outbox_lines(creditor.id, None, false)
        .await
        .expect("outbox");
    let sent: Vec<_> = lines.iter().filter(|l| l.status == "sent").collect();
    assert_eq!(sent.len(), 1, "{lines:?}");
    assert_eq!(sent[0].channel, "email");
    let message_id = sent[0].message_id.as_deref().expect("message id");
    assert!(text.contains(message_id), "{message_id} not in {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_sends_a_due_reminder_once_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("serve.db").display());
    let store = Store::open(&url).await.expect("open sqlite");
    the_server_sends_a_due_reminder_once(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_sends_a_due_reminder_once_on_postgres() {
    let Some(db) = relance_store::testing::postgres("sched").await else {
        return;
    };
    the_server_sends_a_due_reminder_once(db.store.clone()).await;
    db.finish().await;
}

/// The settings page's run time replaces the server's for that creditor: due at once for the
/// server, the creditor's own time (23:59) holds its run back; at 00:00 it runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_creditor_runs_at_its_own_time() {
    use relance_server::scheduler::Scheduler;
    use relance_store::settings::{CreditorIdentity, SettingsInput};
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("own-time.db").display());
    let store = Store::open(&url).await.expect("open sqlite");
    let (creditor, _) = store
        .upsert_creditor(&CreditorInput {
            name: "Own Time SAS".into(),
            ..CreditorInput::default()
        })
        .await
        .expect("creditor");
    let today = relance_server::pin_today_to_a_business_day();
    // A daily run plans nothing on a weekend or holiday: the server works on the last business day.
    assert_eq!(today_for(&creditor), today);
    let tz: chrono_tz::Tz = creditor.time_zone.parse().expect("zone");
    if chrono::Utc::now().with_timezone(&tz).time()
        >= NaiveTime::from_hms_opt(23, 58, 0).expect("t")
    {
        return; // The next minute would already be 23:59 there.
    }
    let mut import = store
        .begin_invoice_import(creditor.id, "test", today)
        .await
        .expect("import");
    import
        .push(InvoiceRecord {
            line: 2,
            kind: ItemKind::Invoice,
            number: "F-OWN-1".into(),
            customer: CustomerFields {
                code: "C1".into(),
                name: Some("Client".into()),
                kind: Some(CustomerKind::Business),
                ..CustomerFields::default()
            },
            issue_date: today.checked_sub_days(Days::new(40)).expect("d"),
            due_date: today.checked_sub_days(Days::new(10)).expect("d"),
            total: Money::eur(Decimal::new(50_000, 2)),
            paid: Money::eur(Decimal::ZERO),
        })
        .await
        .expect("push");
    import.commit(0).await.expect("commit");
    let settings = |run_at: &str| SettingsInput {
        identity: CreditorIdentity {
            name: creditor.name.clone(),
            time_zone: creditor.time_zone.clone(),
            ..CreditorIdentity::default()
        },
        run_at: Some(run_at.to_string()),
        ..SettingsInput::default()
    };
    store
        .save_creditor_settings(creditor.id, &settings("23:59"))
        .await
        .expect("settings");
    let mut scheduler = Scheduler::new(Schedule::daily(NaiveTime::MIN, None)).expect("scheduler");
    let report = scheduler.tick_once(&store).await.expect("tick");
    assert_eq!(report.planned, 0, "ran before its own time");
    store
        .save_creditor_settings(creditor.id, &settings("00:00"))
        .await
        .expect("settings");
    let report = scheduler.tick_once(&store).await.expect("tick");
    assert!(report.planned > 0, "did not run at its own time");
}

/// The settings page's SMTP account and sender replace the server's for that creditor: the
/// server's own SMTP URL points at a closed port, the creditor's at the sink, which receives
/// the reminder from the creditor's sender.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_creditor_sends_through_its_own_smtp_account() {
    use relance_server::scheduler::Scheduler;
    use relance_store::settings::{CreditorIdentity, SettingsInput};
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("own-smtp.db").display());
    let store = Store::open(&url).await.expect("open sqlite");
    let (creditor, _) = store
        .upsert_creditor(&CreditorInput {
            name: "Own Smtp SAS".into(),
            email: Some("server-default@own-smtp.example".into()),
            iban: Some("FR7630006000011234567890189".into()),
            ..CreditorInput::default()
        })
        .await
        .expect("creditor");
    let today = relance_server::pin_today_to_a_business_day();
    // A daily run plans nothing on a weekend or holiday: the server works on the last business day.
    assert_eq!(today_for(&creditor), today);
    let mut import = store
        .begin_invoice_import(creditor.id, "test", today)
        .await
        .expect("import");
    import
        .push(InvoiceRecord {
            line: 2,
            kind: ItemKind::Invoice,
            number: "F-OWN-SMTP".into(),
            customer: CustomerFields {
                code: "C1".into(),
                name: Some("Client Smtp".into()),
                kind: Some(CustomerKind::Business),
                emails: vec!["compta@client-smtp.example".into()],
                ..CustomerFields::default()
            },
            issue_date: today.checked_sub_days(Days::new(40)).expect("d"),
            due_date: today.checked_sub_days(Days::new(10)).expect("d"),
            total: Money::eur(Decimal::new(50_000, 2)),
            paid: Money::eur(Decimal::ZERO),
        })
        .await
        .expect("push");
    import.commit(0).await.expect("commit");
    let sink = Sink::start();
    store
        .save_creditor_settings(
            creditor.id,
            &SettingsInput {
                identity: CreditorIdentity {
                    name: creditor.name.clone(),
                    email: creditor.email.clone(),
                    iban: creditor.iban.clone(),
                    time_zone: creditor.time_zone.clone(),
                    ..CreditorIdentity::default()
                },
                smtp_url: Some(format!("smtp://127.0.0.1:{}", sink.port)),
                smtp_from: Some("own-sender@own-smtp.example".into()),
                ..SettingsInput::default()
            },
        )
        .await
        .expect("settings");
    let outbox = tempfile::tempdir().expect("outbox");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let dead_port = closed.local_addr().expect("addr").port();
    drop(closed);
    let mut scheduler = Scheduler::new(Schedule::daily(
        NaiveTime::MIN,
        Some(DeliverySettings {
            smtp_url: Some(format!("smtp://127.0.0.1:{dead_port}")),
            outbox: outbox.path().to_path_buf(),
            ..DeliverySettings::default()
        }),
    ))
    .expect("scheduler");
    let report = scheduler.tick_once(&store).await.expect("tick");
    assert!(report.planned > 0);
    assert_eq!(report.dispatched.sent, 1, "{report:?}");
    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let text = String::from_utf8_lossy(&std::fs::read(&messages[0]).expect("read")).into_owned();
    assert!(text.contains("own-sender@own-smtp.example"), "{text}");
    assert!(text.contains("F-OWN-SMTP"), "{text}");
}
