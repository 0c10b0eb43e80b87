//! SMS through the generic HTTP adapter, against an HTTP server of the test's own on loopback
//! (axum): a policy whose first reminder goes by e-mail and SMS; an SMS due outside the send
//! window (08:00–20:00 creditor time, no Sundays or holidays) waits for the opening; then a
//! 2xx is sent (the provider's id kept), a 4xx is a recorded permanent failure, a 5xx is
//! retried and sent at the next attempt. On a real SQLite file, and on PostgreSQL when
//! `RELANCE_TEST_DATABASE_URL` is set.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::NaiveDate;
use relance_core::ledger::ItemKind;
use relance_core::money::Money;
use relance_core::party::CustomerKind;
use relance_core::planner::{Channel, Policy};
use relance_deliver::http_provider::HttpProviderSettings;
use relance_dispatch::{dispatch, mailer_for, DeliverySettings, DispatchOptions};
use relance_store::cases::RunOptions;
use relance_store::creditors::CreditorInput;
use relance_store::customers::CustomerFields;
use relance_store::imports::InvoiceRecord;
use relance_store::Store;
use rust_decimal::Decimal;
use serde_json::{json, Value};

/// What the fake provider received, and how many times each number was tried.
#[derive(Default)]
struct Provider {
    received: Vec<Value>,
    tries: HashMap<String, usize>,
}

type Shared = Arc<Mutex<Provider>>;

/// `+33600000002` is refused (400); `+33600000003` fails once (503) then passes; the others
/// are accepted with an id.
async fn sms(State(shared): State<Shared>, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    let to = body["to"].as_str().unwrap_or_default().to_string();
    let mut p = shared.lock().expect("lock");
    p.received.push(body.clone());
    let tries = {
        let n = p.tries.entry(to.clone()).or_default();
        *n += 1;
        *n
    };
    match to.as_str() {
        "+33600000002" => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid number"})),
        ),
        "+33600000003" if tries == 1 => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": "busy"})),
        ),
        _ => (
            StatusCode::OK,
            Json(json!({"messages": [{"messageId": format!("prov-{to}-{tries}")}]})),
        ),
    }
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

async fn sms_wait_for_the_window_and_follow_the_provider_answer(store: Store) {
    // Arrange: three customers owing an overdue invoice, each with a phone number.
    let (creditor, _) = store
        .upsert_creditor(&CreditorInput {
            name: "Atelier Test SAS".into(),
            email: Some("relances@atelier-test.fr".into()),
            iban: Some("FR7630006000011234567890189".into()),
            ..CreditorInput::default()
        })
        .await
        .expect("creditor");
    let mut policy = Policy::default_french();
    for step in policy.steps.iter_mut().filter(|s| s.id == "first_reminder") {
        step.channels.push(Channel::Sms);
    }
    store
        .save_policy(creditor.id, &policy)
        .await
        .expect("policy");
    let tuesday = day("2026-03-10");
    let mut import = store
        .begin_invoice_import(creditor.id, "test", tuesday)
        .await
        .expect("import");
    for n in 1..=3 {
        import
            .push(InvoiceRecord {
                line: n + 1,
                kind: ItemKind::Invoice,
                number: format!("F-SMS-{n}"),
                customer: CustomerFields {
                    code: format!("C{n}"),
                    name: Some(format!("Client {n}")),
                    kind: Some(CustomerKind::Business),
                    emails: vec![format!("compta{n}@client.example")],
                    phone: Some(format!("+3360000000{n}")),
                    ..CustomerFields::default()
                },
                issue_date: day("2026-01-20"),
                due_date: day("2026-02-20"),
                total: Money::eur(Decimal::new(50_000 + n as i64, 2)),
                paid: Money::eur(Decimal::ZERO),
            })
            .await
            .expect("push");
    }
    import.commit(0).await.expect("commit");
    let planned = store
        .run_day(
            creditor.id,
            RunOptions {
                as_of: tuesday,
                dry_run: false,
                full: false,
            },
        )
        .await
        .expect("run");
    assert!(
        planned
            .iter()
            .all(|a| a.channels.contains(&Channel::Sms) && a.channels.contains(&Channel::Email)),
        "{planned:?}"
    );
    assert_eq!(planned.len(), 3);

    let shared: Shared = Arc::default();
    let app = axum::Router::new()
        .route("/v1/sms", axum::routing::post(sms))
        .with_state(Arc::clone(&shared));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let outbox = tempfile::tempdir().expect("outbox");
    let settings = DeliverySettings {
        outbox: outbox.path().to_path_buf(),
        retry_after: Duration::from_secs(1),
        sms: Some(HttpProviderSettings {
            url: format!("http://127.0.0.1:{port}/v1/sms"),
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("Authorization".into(), "Bearer {{ 'secret' }}".into()),
            ],
            ..HttpProviderSettings::default()
        }),
        ..DeliverySettings::default()
    };
    let mailer = Arc::new(mailer_for(&settings).expect("mailer"));
    let dispatch_at = |today: &str, time: &str| {
        let mut options = DispatchOptions::new(&settings, day(today), None).expect("options");
        options.now = Some(
            day(today).and_time(chrono::NaiveTime::parse_from_str(time, "%H:%M").expect("time")),
        );
        options
    };

    // Act 1: Tuesday 21:30, after the window: the e-mails leave, the SMS wait.
    let report = dispatch(
        &store,
        &creditor,
        Arc::clone(&mailer),
        &dispatch_at("2026-03-10", "21:30"),
    )
    .await
    .expect("dispatch");
    assert_eq!(report.sent, 3, "{report:?}");
    assert!(shared.lock().expect("lock").received.is_empty());
    let waiting = store
        .outbox_lines(creditor.id, Some("planned"), false)
        .await
        .expect("outbox");
    assert_eq!(waiting.len(), 3);
    assert!(waiting.iter().all(|l| l.channel == "sms"));

    // Act 2: Wednesday 09:00, inside the window.
    let options = dispatch_at("2026-03-11", "09:00");
    let report = dispatch(&store, &creditor, Arc::clone(&mailer), &options)
        .await
        .expect("dispatch");
    assert_eq!(
        (report.sent, report.failed, report.deferred),
        (1, 1, 1),
        "{report:?}"
    );
    // Act 3: the retry of the 5xx, once its backoff (one second here) has passed.
    let report = dispatch(&store, &creditor, Arc::clone(&mailer), &options)
        .await
        .expect("dispatch");
    assert_eq!(
        report.sent + report.failed + report.deferred,
        0,
        "retried too early"
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let report = dispatch(&store, &creditor, Arc::clone(&mailer), &options)
        .await
        .expect("dispatch");
    assert_eq!(
        (report.sent, report.failed, report.deferred),
        (1, 0, 0),
        "{report:?}"
    );
    let report = dispatch(&store, &creditor, Arc::clone(&mailer), &options)
        .await
        .expect("dispatch");
    assert_eq!(report.sent + report.failed + report.deferred, 0);
    server.abort();

    // Assert: each number tried as the answers say, the text names the invoice and amount.
    let (tried, received) = {
        let provider = shared.lock().expect("lock");
        (provider.tries.clone(), provider.received.clone())
    };
    let tries = |n: &str| tried.get(n).copied().unwrap_or(0);
    assert_eq!(
        (
            tries("+33600000001"),
            tries("+33600000002"),
            tries("+33600000003")
        ),
        (1, 1, 2)
    );
    let first = received
        .iter()
        .find(|b| b["to"] == "+33600000001")
        .expect("sent");
    let text = first["text"].as_str().expect("text");
    assert!(text.contains("Atelier Test SAS"), "{text}");
    assert!(text.contains("500,01"), "{text}");
    assert_eq!(first["from"], "Atelier Test SAS");
    assert!(first["reference"].as_str().is_some_and(|r| !r.is_empty()));
    let lines = store
        .outbox_lines(creditor.id, None, false)
        .await
        .expect("outbox");
    let sms_of = |code: &str| {
        lines
            .iter()
            .find(|l| l.channel == "sms" && l.customer == code)
            .expect("sms row")
    };
    assert_eq!(sms_of("C1").status, "sent");
    assert_eq!(
        sms_of("C1").message_id.as_deref(),
        Some("prov-+33600000001-1")
    );
    assert_eq!(sms_of("C2").status, "failed");
    assert!(
        sms_of("C2")
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("400")),
        "{:?}",
        sms_of("C2")
    );
    assert_eq!(sms_of("C3").status, "sent");
    assert_eq!(sms_of("C3").attempts, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sms_wait_for_the_window_and_follow_the_provider_answer_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("sms.db").display());
    let store = Store::open(&url).await.expect("open sqlite");
    sms_wait_for_the_window_and_follow_the_provider_answer(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sms_wait_for_the_window_and_follow_the_provider_answer_on_postgres() {
    let Some(db) = relance_store::testing::postgres("sms").await else {
        return;
    };
    sms_wait_for_the_window_and_follow_the_provider_answer(db.store.clone()).await;
    db.finish().await;
}
