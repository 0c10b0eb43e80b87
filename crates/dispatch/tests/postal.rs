//! Letters through a postal provider (the generic HTTP adapter), against an HTTP server of the
//! test's own on loopback (axum): registered letters with acknowledgement of receipt are filed
//! as PDF and handed to the provider with the PDF in base64, the addressee and the flags; a
//! 2xx records the provider's tracking number as the registered-letter number (and the letter
//! leaves the print batch), a 4xx is a recorded permanent failure, a 5xx is retried. Letters
//! have no send window: a Sunday evening is fine. On a real SQLite file, and on PostgreSQL
//! when `RELANCE_TEST_DATABASE_URL` is set.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use base64::Engine as _;
use chrono::NaiveDate;
use relance_core::ledger::ItemKind;
use relance_core::money::Money;
use relance_core::party::CustomerKind;
use relance_core::planner::{Channel, Policy};
use relance_deliver::http_provider::{HttpProviderSettings, DEFAULT_POSTAL_BODY};
use relance_dispatch::{dispatch, mailer_for, DeliverySettings, DispatchOptions};
use relance_store::cases::RunOptions;
use relance_store::creditors::CreditorInput;
use relance_store::customers::CustomerFields;
use relance_store::imports::InvoiceRecord;
use relance_store::Store;
use rust_decimal::Decimal;
use serde_json::{json, Value};

#[derive(Default)]
struct Provider {
    received: Vec<Value>,
    tries: HashMap<String, usize>,
}

type Shared = Arc<Mutex<Provider>>;

/// "Client 2" is refused (422: an address the provider cannot post to); "Client 3" fails once
/// (503) then passes; the others are accepted with a tracking number.
async fn letters(
    State(shared): State<Shared>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let to = body["recipient"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut p = shared.lock().expect("lock");
    p.received.push(body.clone());
    let tries = {
        let n = p.tries.entry(to.clone()).or_default();
        *n += 1;
        *n
    };
    match to.as_str() {
        "Client 2" => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": "undeliverable address"})),
        ),
        "Client 3" if tries == 1 => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": "maintenance"})),
        ),
        _ => (
            StatusCode::CREATED,
            Json(json!({"id": format!("1A{:011}", to.len() * 1000 + tries)})),
        ),
    }
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

async fn letters_go_through_the_postal_provider(store: Store) {
    // Arrange: three customers with a postal address; the first reminder is a registered
    // letter with acknowledgement of receipt.
    let (creditor, _) = store
        .upsert_creditor(&CreditorInput {
            name: "Atelier Test SAS".into(),
            address: Some("2 avenue Foch\n69006 Lyon".into()),
            iban: Some("FR7630006000011234567890189".into()),
            ..CreditorInput::default()
        })
        .await
        .expect("creditor");
    let mut policy = Policy::default_french();
    for step in policy.steps.iter_mut().filter(|s| s.id == "first_reminder") {
        step.channels = vec![Channel::RegisteredLetterAr];
        step.without_email = None;
    }
    store
        .save_policy(creditor.id, &policy)
        .await
        .expect("policy");
    let tuesday = day("2026-03-10");
    let sunday = day("2026-03-15");
    let mut import = store
        .begin_invoice_import(creditor.id, "test", tuesday)
        .await
        .expect("import");
    for n in 1..=3 {
        import
            .push(InvoiceRecord {
                line: n + 1,
                kind: ItemKind::Invoice,
                number: format!("F-POST-{n}"),
                customer: CustomerFields {
                    code: format!("C{n}"),
                    name: Some(format!("Client {n}")),
                    kind: Some(CustomerKind::Business),
                    address: Some(format!("{n} rue de la Paix\n7500{n} Paris")),
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
    assert_eq!(planned.len(), 3, "{planned:?}");

    let shared: Shared = Arc::default();
    let app = axum::Router::new()
        .route("/v2/letters", axum::routing::post(letters))
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
        postal: Some(HttpProviderSettings {
            url: format!("http://127.0.0.1:{port}/v2/letters"),
            body: DEFAULT_POSTAL_BODY.into(),
            ..HttpProviderSettings::default()
        }),
        ..DeliverySettings::default()
    };
    let mailer = Arc::new(mailer_for(&settings).expect("mailer"));
    let mut options = DispatchOptions::new(&settings, sunday, None).expect("options");
    // Planned on Tuesday, sent on Sunday at 21:30: outside the SMS window, which letters do
    // not have.
    options.now = Some(sunday.and_hms_opt(21, 30, 0).expect("time"));

    // Act: one dispatch, then the retry of the 5xx once its backoff has passed.
    let first = dispatch(&store, &creditor, Arc::clone(&mailer), &options)
        .await
        .expect("dispatch");
    assert_eq!(
        (first.sent, first.failed, first.deferred),
        (1, 1, 1),
        "{first:?}"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second = dispatch(&store, &creditor, Arc::clone(&mailer), &options)
        .await
        .expect("dispatch");
    assert_eq!(
        (second.sent, second.failed, second.deferred),
        (1, 0, 0),
        "{second:?}"
    );
    let third = dispatch(&store, &creditor, Arc::clone(&mailer), &options)
        .await
        .expect("dispatch");
    assert_eq!(third.sent + third.failed + third.deferred, 0, "{third:?}");
    server.abort();

    // Assert: what the provider received.
    let (tries, received) = {
        let p = shared.lock().expect("lock");
        (p.tries.clone(), p.received.clone())
    };
    assert_eq!(
        (tries["Client 1"], tries["Client 2"], tries["Client 3"]),
        (1, 1, 2)
    );
    let body = received
        .iter()
        .find(|b| b["recipient"]["name"] == "Client 1")
        .expect("letter of C1");
    assert_eq!(body["registered"], true);
    assert_eq!(body["acknowledgement_of_receipt"], true);
    assert_eq!(body["recipient"]["postcode"], "75001");
    assert_eq!(body["recipient"]["city"], "Paris");
    assert_eq!(body["recipient"]["address_lines"][0], "1 rue de la Paix");
    assert_eq!(body["sender"]["name"], "Atelier Test SAS");
    let pdf = base64::engine::general_purpose::STANDARD
        .decode(body["document"]["base64"].as_str().expect("base64"))
        .expect("valid base64");
    assert!(pdf.starts_with(b"%PDF"), "a PDF");

    // The letters as recorded: C1 and C3 sent with the provider's number, C2 failed.
    let documents = store
        .sent_documents(creditor.id, "C1")
        .await
        .expect("documents");
    assert_eq!(documents.len(), 1, "{documents:?}");
    let c1 = &documents[0];
    assert_eq!(c1.channel, "registered_letter_ar");
    assert_eq!(c1.document_sha256, relance_deliver::sha256_hex(&pdf));
    let filed = std::fs::read(c1.document_path.as_deref().expect("filed copy")).expect("read");
    assert_eq!(filed, pdf, "the provider got the copy we filed");
    let tracking = format!("1A{:011}", "Client 1".len() * 1000 + 1);
    assert_eq!(c1.carrier_reference.as_deref(), Some(tracking.as_str()));
    assert_eq!(c1.registered_number.as_deref(), Some(tracking.as_str()));
    let c3 = store
        .sent_documents(creditor.id, "C3")
        .await
        .expect("documents");
    assert_eq!(c3.len(), 1);
    assert!(c3[0].carrier_reference.is_some());
    let lines = store
        .outbox_lines(creditor.id, None, false)
        .await
        .expect("outbox");
    let c2 = lines.iter().find(|l| l.customer == "C2").expect("C2 row");
    assert_eq!(c2.status, "failed");
    assert!(
        c2.last_error.as_deref().is_some_and(|e| e.contains("422")),
        "{c2:?}"
    );
    assert_eq!(
        lines
            .iter()
            .find(|l| l.customer == "C3")
            .expect("C3 row")
            .attempts,
        2
    );
    // Handed to the provider: nothing left to print or to take to the post office.
    assert!(store
        .letters_sent_on(creditor.id, sunday, false)
        .await
        .expect("batch")
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn letters_go_through_the_postal_provider_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("postal.db").display());
    let store = Store::open(&url).await.expect("open sqlite");
    letters_go_through_the_postal_provider(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn letters_go_through_the_postal_provider_on_postgres() {
    let Some(db) = relance_store::testing::postgres("postal").await else {
        return;
    };
    letters_go_through_the_postal_provider(db.store.clone()).await;
    db.finish().await;
}
