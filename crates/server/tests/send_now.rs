//! The work queue's "send now": one of today's planned e-mails leaves at once through the
//! dispatcher (claim → render → last check → send → record) to an SMTP server on loopback
//! (aiosmtpd, `crates/cli/tests/support/smtp_sink.py`), exactly once; a message whose invoice was
//! paid meanwhile is cancelled, not sent; a mail server's temporary refusal leaves it for a
//! retry; collectors and admins only, CSRF-checked, scoped by creditor; the outcome comes back as
//! the page's message in French or English. On a real SQLite file and on PostgreSQL when
//! `RELANCE_TEST_DATABASE_URL` is set.

use axum::http::StatusCode;
use chrono::{Days, NaiveDate};
use relance_core::ledger::ItemKind;
use relance_core::money::Money;
use relance_core::party::CustomerKind;
use relance_dispatch::DeliverySettings;
use relance_server::{auth, router, today_for, AppState, ServerOptions};
use relance_store::cases::RunOptions;
use relance_store::creditors::{CreditorInput, CreditorRecord};
use relance_store::customers::CustomerFields;
use relance_store::imports::InvoiceRecord;
use relance_store::users::Role;
use relance_store::Store;
use rust_decimal::Decimal;

mod support;
use support::{flash, App, Sink, PASSWORD};

fn invoice(number: &str, code: &str, email: &str, due: NaiveDate, paid: i64) -> InvoiceRecord {
    InvoiceRecord {
        line: 2,
        kind: ItemKind::Invoice,
        number: number.into(),
        customer: CustomerFields {
            code: code.into(),
            name: Some(format!("Client {code}")),
            kind: Some(CustomerKind::Business),
            emails: vec![email.into()],
            ..CustomerFields::default()
        },
        issue_date: due.checked_sub_days(Days::new(30)).expect("date"),
        due_date: due,
        total: Money::eur(Decimal::new(120_000, 2)),
        paid: Money::eur(Decimal::new(paid, 2)),
    }
}

async fn status_of(store: &Store, creditor: &CreditorRecord, code: &str) -> (i64, String) {
    let lines = store
        .outbox_lines(creditor.id, None, false)
        .await
        .expect("outbox");
    let line = lines
        .iter()
        .find(|l| l.customer == code && l.channel == "email")
        .unwrap_or_else(|| panic!("no e-mail for {code}: {lines:?}"));
    (line.id, line.status.clone())
}

async fn send_now_sends_once_and_never_for_a_paid_invoice(store: Store) {
    let mut creditors = Vec::new();
    for (name, email) in [
        ("Alpha SAS", "relances@alpha.example"),
        ("Beta SARL", "relances@beta.example"),
    ] {
        let (c, _) = store
            .upsert_creditor(&CreditorInput {
                name: name.into(),
                email: Some(email.into()),
                iban: Some("FR7630006000011234567890189".into()),
                ..CreditorInput::default()
            })
            .await
            .expect("creditor");
        creditors.push(c);
    }
    let (a, b) = (creditors[0].clone(), creditors[1].clone());
    let today = relance_server::pin_today_to_a_business_day();
    // A daily run plans nothing on a weekend or holiday: the server works on the last business day.
    assert_eq!(today_for(&a), today);
    let late = today.checked_sub_days(Days::new(40)).expect("date");
    for (creditor, records) in [
        (
            &a,
            vec![
                invoice("FA-1", "A1", "compta@a1.example", late, 0),
                invoice("FA-2", "A2", "compta@a2.example", late, 0),
                invoice("FA-3", "A3", "greylist@a3.example", late, 0),
            ],
        ),
        (
            &b,
            vec![invoice("FB-1", "B1", "compta@b1.example", late, 0)],
        ),
    ] {
        let mut s = store
            .begin_invoice_import(creditor.id, "test", today)
            .await
            .expect("import");
        for r in records {
            s.push(r).await.expect("push");
        }
        s.commit(0).await.expect("commit");
        store
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
    }
    let hash = auth::hash_password(PASSWORD).expect("hash");
    for (email, role, creditors) in [
        ("col-a@x.example", Role::Collector, vec![a.id]),
        ("view-a@x.example", Role::Viewer, vec![a.id]),
        ("col-b@x.example", Role::Collector, vec![b.id]),
    ] {
        store
            .create_user(email, &hash, role, &creditors)
            .await
            .expect("user");
    }
    let sink = Sink::start();
    let outbox = tempfile::tempdir().expect("outbox");
    let delivery = DeliverySettings {
        smtp_url: Some(format!("smtp://127.0.0.1:{}", sink.port)),
        outbox: outbox.path().to_path_buf(),
        ..DeliverySettings::default()
    };
    let state = AppState::new(
        store.clone(),
        ServerOptions {
            delivery: Some(delivery),
            ..ServerOptions::default()
        },
    )
    .await
    .expect("state");
    let app = App { app: router(state) };
    let (cid, bid) = (a.id.0, b.id.0);
    let queue = format!("/c/{cid}/queue");
    let (a1, status) = status_of(&store, &a, "A1").await;
    assert_eq!(status, "planned");

    // The queue offers the button to a collector, not to a viewer.
    let collector = app.login("col-a@x.example").await;
    let (_, page) = app.get(&queue, &collector).await;
    assert!(
        page.contains(&format!("/c/{cid}/queue/{a1}/send\"")),
        "{page}"
    );
    let viewer = app.login("view-a@x.example").await;
    let (_, page) = app.get(&queue, &viewer).await;
    assert!(!page.contains("/send\""), "a viewer gets no button");

    // Refused: a viewer (403), a wrong CSRF token (403), another creditor's collector (404),
    // and an action of creditor B through A's path (not claimable): nothing leaves.
    let csrf_viewer = app.csrf_of(&viewer, &queue).await;
    let (status, _) = app
        .post(
            &format!("{queue}/{a1}/send"),
            &viewer,
            &format!("csrf={csrf_viewer}"),
            "fr",
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .post(&format!("{queue}/{a1}/send"), &collector, "csrf=x", "fr")
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let other = app.login("col-b@x.example").await;
    let csrf_other = app.csrf_of(&other, &format!("/c/{bid}/queue")).await;
    let (status, _) = app
        .post(
            &format!("{queue}/{a1}/send"),
            &other,
            &format!("csrf={csrf_other}"),
            "fr",
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (b1, _) = status_of(&store, &b, "B1").await;
    let csrf = app.csrf_of(&collector, &queue).await;
    let (status, location) = app
        .post(
            &format!("{queue}/{b1}/send"),
            &collector,
            &format!("csrf={csrf}"),
            "en",
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        flash(&location).contains("no longer to be sent"),
        "{location}"
    );
    assert!(sink.messages().is_empty());
    assert_eq!(status_of(&store, &b, "B1").await.1, "planned");

    // Sent now, in French: one message, to the customer, naming the invoice; recorded as sent.
    let (status, location) = app
        .post(
            &format!("{queue}/{a1}/send"),
            &collector,
            &format!("csrf={csrf}"),
            "fr",
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.starts_with(&queue), "{location}");
    assert!(
        flash(&location).contains("done=E-mail envoyé."),
        "{location}"
    );
    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    let text = String::from_utf8_lossy(&std::fs::read(&messages[0]).expect("read")).into_owned();
    assert!(
        text.contains("compta@a1.example") && text.contains("FA-1"),
        "{text}"
    );
    assert_eq!(status_of(&store, &a, "A1").await.1, "sent");

    // Twice: refused, in English; still one message.
    let (_, location) = app
        .post(
            &format!("{queue}/{a1}/send"),
            &collector,
            &format!("csrf={csrf}"),
            "en",
        )
        .await;
    assert!(
        flash(&location).contains("error=This message is no longer to be sent"),
        "{location}"
    );
    assert_eq!(sink.messages().len(), 1);

    // A2's invoice is paid after the run planned its reminder: the last check cancels it.
    let (a2, _) = status_of(&store, &a, "A2").await;
    let mut s = store
        .begin_invoice_import(a.id, "paid", today)
        .await
        .expect("import");
    s.push(invoice("FA-2", "A2", "compta@a2.example", late, 120_000))
        .await
        .expect("push");
    s.commit(0).await.expect("commit");
    let (_, location) = app
        .post(
            &format!("{queue}/{a2}/send"),
            &collector,
            &format!("csrf={csrf}"),
            "fr",
        )
        .await;
    let said = flash(&location);
    assert!(
        said.contains("Non envoyé") || said.contains("n'est plus à envoyer"),
        "{location}"
    );
    assert_eq!(sink.messages().len(), 1, "a paid invoice's reminder left");
    assert_eq!(status_of(&store, &a, "A2").await.1, "cancelled");

    // A temporary refusal (greylisting): left for a retry, said so.
    let (a3, _) = status_of(&store, &a, "A3").await;
    let (_, location) = app
        .post(
            &format!("{queue}/{a3}/send"),
            &collector,
            &format!("csrf={csrf}"),
            "en",
        )
        .await;
    assert!(flash(&location).contains("refused for now"), "{location}");
    assert_eq!(status_of(&store, &a, "A3").await.1, "planned");
    // Asked again at once (before its retry time): the person's request goes through.
    let (_, location) = app
        .post(
            &format!("{queue}/{a3}/send"),
            &collector,
            &format!("csrf={csrf}"),
            "en",
        )
        .await;
    assert!(flash(&location).contains("done=E-mail sent."), "{location}");
    assert_eq!(sink.messages().len(), 2);

    // A server started without sending says so.
    let quiet = App {
        app: router(
            AppState::new(store.clone(), ServerOptions::default())
                .await
                .expect("state"),
        ),
    };
    let cookie = quiet.login("col-b@x.example").await;
    let csrf = quiet.csrf_of(&cookie, &format!("/c/{bid}/queue")).await;
    let (_, location) = quiet
        .post(
            &format!("/c/{bid}/queue/{b1}/send"),
            &cookie,
            &format!("csrf={csrf}"),
            "fr",
        )
        .await;
    assert!(
        flash(&location).contains("L'envoi n'est pas activé"),
        "{location}"
    );
    assert_eq!(status_of(&store, &b, "B1").await.1, "planned");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_now_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("send.db").display());
    let store = Store::open(&url).await.expect("open sqlite");
    send_now_sends_once_and_never_for_a_paid_invoice(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_now_on_postgres() {
    let Some(db) = relance_store::testing::postgres("sendnow").await else {
        return;
    };
    send_now_sends_once_and_never_for_a_paid_invoice(db.store.clone()).await;
    db.finish().await;
}
