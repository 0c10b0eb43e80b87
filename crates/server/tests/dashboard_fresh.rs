//! The dashboard keeps its figures between views (`relance_server::dashboard`), but never shows
//! a stale one: after a payment import, a new action, a dispute, a promise or a customer's new
//! name written by another connection (as by `relance` on the command line), the next view
//! shows the change. And fifty views at once all show the same figures. On a real SQLite file
//! and, when `RELANCE_TEST_DATABASE_URL` is set, on PostgreSQL.

use chrono::{Days, NaiveDate};
use relance_core::ledger::ItemKind;
use relance_core::money::Money;
use relance_core::party::CustomerKind;
use relance_server::{auth, router, today_for, AppState, ServerOptions};
use relance_store::cases::RunOptions;
use relance_store::creditors::CreditorInput;
use relance_store::customers::CustomerFields;
use relance_store::imports::InvoiceRecord;
use relance_store::payments::PaymentRecord;
use relance_store::users::Role;
use relance_store::Store;
use rust_decimal::Decimal;

mod support;
use support::{App, PASSWORD};

fn invoice(
    number: &str,
    code: &str,
    name: &str,
    issued: NaiveDate,
    due: NaiveDate,
) -> InvoiceRecord {
    InvoiceRecord {
        line: 2,
        kind: ItemKind::Invoice,
        number: number.into(),
        customer: CustomerFields {
            code: code.into(),
            name: Some(name.into()),
            kind: Some(CustomerKind::Business),
            emails: vec![format!("compta@{}.example", code.to_lowercase())],
            ..CustomerFields::default()
        },
        issue_date: issued,
        due_date: due,
        total: Money::eur(Decimal::new(100_000, 2)),
        paid: Money::eur(Decimal::ZERO),
    }
}

/// The `data-value` of the element marked `data-testid="{id}"`.
fn figure(body: &str, id: &str) -> String {
    let mark = format!("data-testid=\"{id}\" data-value=\"");
    let start = body
        .find(&mark)
        .unwrap_or_else(|| panic!("no {id} on the dashboard: {body}"))
        + mark.len();
    body[start..].split('"').next().unwrap_or("").to_string()
}

/// `url` is the database; `other` another connection to it, which makes every change.
async fn never_stale(url: String) {
    let store = Store::open(&url).await.expect("open");
    let other = Store::open(&url).await.expect("second connection");
    let (creditor, _) = store
        .upsert_creditor(&CreditorInput {
            name: "Alpha SAS".into(),
            iban: Some("FR7630006000011234567890189".into()),
            ..CreditorInput::default()
        })
        .await
        .expect("creditor");
    let today = relance_server::pin_today_to_a_business_day();
    // A daily run plans nothing on a weekend or holiday: the server works on the last business day.
    assert_eq!(today_for(&creditor), today);
    let ago = |d: u64| today.checked_sub_days(Days::new(d)).expect("date");
    let mut s = store
        .begin_invoice_import(creditor.id, "test", today)
        .await
        .expect("import");
    s.push(invoice(
        "FA-1",
        "A1",
        "Alpine Boulangerie",
        ago(70),
        ago(40),
    ))
    .await
    .expect("push");
    s.push(invoice("FA-2", "A2", "Azur Garage", ago(50), ago(20)))
        .await
        .expect("push");
    s.commit(0).await.expect("commit");
    let hash = auth::hash_password(PASSWORD).expect("hash");
    store
        .create_user("admin@x.example", &hash, Role::Admin, &[])
        .await
        .expect("user");
    let app = App {
        app: router(
            AppState::new(store.clone(), ServerOptions::default())
                .await
                .expect("state"),
        ),
    };
    let cookie = app.login("admin@x.example").await;
    let dashboard = format!("/c/{}", creditor.id.0);
    let view = || async {
        let (status, body) = app.get_in(&dashboard, &cookie, "en").await;
        assert_eq!(status, axum::http::StatusCode::OK, "{body}");
        body
    };

    let first = view().await;
    assert_eq!(figure(&first, "total"), "2000.00");
    assert!(first.contains("No action planned."), "{first}");
    assert!(first.contains("No open dispute."), "{first}");
    // Kept: the same page again.
    assert_eq!(view().await, first);

    // A payment imported from elsewhere.
    let payment = PaymentRecord {
        line: 2,
        date: today,
        amount: Money::eur(Decimal::new(25_000, 2)),
        reference: "FA-1".into(),
        customer_code: Some("A1".into()),
        invoice_number: Some("FA-1".into()),
        bank_reference: Some("FRESH-1".into()),
        payer_name: None,
        payer_iban: None,
    };
    other
        .import_payments(creditor.id, "bank.csv", &[payment], today)
        .await
        .expect("payment");
    let paid = view().await;
    assert_eq!(
        figure(&paid, "total"),
        "1750.00",
        "the payment is not shown"
    );

    // New actions: the daily run from elsewhere.
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
    let ran = view().await;
    assert!(
        !ran.contains("No action planned.") && ran.contains(">Alpine Boulangerie</a></td>"),
        "the day's actions are not shown: {ran}"
    );

    // A dispute.
    other
        .open_dispute(creditor.id, "FA-2", "never delivered", today)
        .await
        .expect("dispute");
    let disputed = view().await;
    assert!(
        disputed.contains("Open disputes (1)") && disputed.contains("never delivered"),
        "the dispute is not shown: {disputed}"
    );

    // A promise to pay, due in three days.
    let promised_for = today.checked_add_days(Days::new(3)).expect("date");
    other
        .promise_to_pay(creditor.id, "FA-1", promised_for, None, today)
        .await
        .expect("promise");
    let promised = view().await;
    assert!(
        promised.contains(&format!(", {promised_for}</li>")),
        "the promise is not shown: {promised}"
    );

    // A customer's new name, shown beside its actions, promise and dispute.
    sqlx::query("UPDATE customers SET name = 'Alpine Pains' WHERE code = 'A1'")
        .execute(other.pool())
        .await
        .expect("rename");
    let renamed = view().await;
    assert!(
        renamed.contains(">Alpine Pains</a>") && !renamed.contains(">Alpine Boulangerie</a>"),
        "the new name is not shown: {renamed}"
    );

    // Fifty viewers at once after a change: one set of figures, the new one.
    let payment = PaymentRecord {
        line: 2,
        date: today,
        amount: Money::eur(Decimal::new(50_000, 2)),
        reference: "FA-2".into(),
        customer_code: Some("A2".into()),
        invoice_number: Some("FA-2".into()),
        bank_reference: Some("FRESH-2".into()),
        payer_name: None,
        payer_iban: None,
    };
    other
        .import_payments(creditor.id, "bank.csv", &[payment], today)
        .await
        .expect("payment");
    let views: Vec<String> = futures_views(&app, &dashboard, &cookie, 50).await;
    for body in &views {
        assert_eq!(figure(body, "total"), "1250.00");
        assert_eq!(body, &views[0]);
    }
    other.close().await;
    store.close().await;
}

async fn futures_views(app: &App, path: &str, cookie: &str, n: usize) -> Vec<String> {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        let app = App {
            app: app.app.clone(),
        };
        let (path, cookie) = (path.to_string(), cookie.to_string());
        set.spawn(async move { app.get_in(&path, &cookie, "en").await.1 });
    }
    let mut out = Vec::new();
    while let Some(body) = set.join_next().await {
        out.push(body.expect("view"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_stale_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    never_stale(format!(
        "sqlite://{}",
        dir.path().join("fresh.db").display()
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_stale_on_postgres() {
    let Ok(admin_url) = std::env::var("RELANCE_TEST_DATABASE_URL") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but RELANCE_TEST_DATABASE_URL is not set"
        );
        return;
    };
    let name = format!(
        "relance_test_fresh_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    let admin = Store::connect(&admin_url).await.expect("connect admin");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(admin.pool())
        .await
        .expect("create database");
    admin.close().await;
    let (base, _) = admin_url.rsplit_once('/').expect("URL with a path");
    never_stale(format!("{base}/{name}")).await;
}
