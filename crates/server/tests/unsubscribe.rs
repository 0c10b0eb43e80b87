//! The public unsubscribe route of commercial messages, in process (tower's `oneshot` on the
//! real router), on a real SQLite file and, when `RELANCE_TEST_DATABASE_URL` is set, on
//! PostgreSQL: a valid link records the opt-out at once (timeline, follow-up stopped, planned
//! message cancelled) and says so in the contact's language; an altered or expired link is
//! refused and changes nothing; a portal signature is not an unsubscribe signature.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use chrono::{Days, NaiveDate};
use http_body_util::BodyExt;
use relance_core::money::Money;
use relance_core::party::Language;
use relance_dispatch::optout;
use relance_server::{portal, router, today_for, AppState, ServerOptions};
use relance_store::cases::RunOptions;
use relance_store::creditors::CreditorInput;
use relance_store::followups::{ContactInput, QuoteInput};
use relance_store::Store;
use rust_decimal::Decimal;
use tower::ServiceExt;

async fn get(app: &Router, path: &str) -> (StatusCode, String) {
    let response = app
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn optouts(store: &Store) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM optouts")
        .fetch_one(store.pool())
        .await
        .expect("count")
}

async fn scenario(store: Store) {
    let (creditor, _) = store
        .upsert_creditor(&CreditorInput {
            name: "Atelier Durand".into(),
            ..CreditorInput::default()
        })
        .await
        .expect("creditor");
    let today = relance_server::pin_today_to_a_business_day();
    // A daily run plans nothing on a weekend or holiday: the server works on the last business day.
    assert_eq!(today_for(&creditor), today);
    // A quote sent three business days or more ago, still valid: its reminder is planned today
    // or was (the run is made on a business day in the past, so the test never depends on the
    // weekday it runs).
    let monday = NaiveDate::from_ymd_opt(2026, 3, 2).expect("day");
    store
        .import_quotes(
            creditor.id,
            &[
                QuoteInput {
                    contact: ContactInput {
                        code: "Q 1".into(),
                        name: Some("Leroy & Fils".into()),
                        email: Some("leroy@client.example".into()),
                        language: Some(Language::En),
                        kind: None,
                    },
                    number: "DV-1".into(),
                    sent_on: monday,
                    valid_until: Some(today.checked_add_days(Days::new(60)).expect("day")),
                    amount: Money::eur(Decimal::new(99_000, 2)),
                },
                QuoteInput {
                    contact: ContactInput {
                        code: "Q 2".into(),
                        name: Some("Martin SARL".into()),
                        email: Some("martin@client.example".into()),
                        language: Some(Language::Fr),
                        kind: None,
                    },
                    number: "DV-2".into(),
                    sent_on: monday,
                    valid_until: Some(today.checked_add_days(Days::new(60)).expect("day")),
                    amount: Money::eur(Decimal::new(45_000, 2)),
                },
            ],
            "devis.csv",
        )
        .await
        .expect("quote");
    let planned = store
        .run_followups(
            creditor.id,
            RunOptions {
                as_of: NaiveDate::from_ymd_opt(2026, 3, 5).expect("day"),
                dry_run: false,
                full: false,
            },
            6,
        )
        .await
        .expect("run");
    assert_eq!(planned.len(), 2);

    let state = AppState::new(store.clone(), ServerOptions::default())
        .await
        .expect("state");
    let app = router(state);
    let key = optout::optout_key(&store).await.expect("key");
    let c = creditor.id.0;
    let expires = today.checked_add_days(Days::new(30)).expect("day");
    let good = optout::link("", &key, c, "Q 1", expires);

    // Altered: another contact, another expiry, a portal signature of the same fields.
    let other = good.replace("u=Q%201", "u=Q%202");
    assert_eq!(get(&app, &other).await.0, StatusCode::FORBIDDEN);
    let later = expires.checked_add_days(Days::new(1)).expect("day");
    let moved = good.replace(&format!("e={expires}"), &format!("e={later}"));
    assert_eq!(get(&app, &moved).await.0, StatusCode::FORBIDDEN);
    let portal_key = portal::portal_key(&store).await.expect("portal key");
    let portal_sig = portal::sign(&portal_key, c, "Q 1", expires);
    let signed_for_portal = format!("/unsubscribe?c={c}&u=Q%201&e={expires}&s={portal_sig}");
    assert_eq!(get(&app, &signed_for_portal).await.0, StatusCode::FORBIDDEN);
    // Expired yesterday, though properly signed.
    let yesterday = today.checked_sub_days(Days::new(1)).expect("day");
    let expired = optout::link("", &key, c, "Q 1", yesterday);
    assert_eq!(get(&app, &expired).await.0, StatusCode::FORBIDDEN);
    assert_eq!(optouts(&store).await, 0, "a refused link changes nothing");

    // Valid: recorded at once, in the contact's language.
    let (status, body) = get(&app, &good).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("no more commercial messages"), "{body}");
    assert!(body.contains("Atelier Durand"), "{body}");
    assert_eq!(optouts(&store).await, 1);
    let events = store
        .timeline(creditor.id, Some("Q 1"))
        .await
        .expect("timeline");
    assert!(events.iter().any(|e| e.kind == "opted_out"), "{events:?}");
    let cancelled: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM actions WHERE kind = 'quote' AND status = 'cancelled'",
    )
    .fetch_one(store.pool())
    .await
    .expect("count");
    assert_eq!(cancelled, 1, "the planned quote reminder is cancelled");
    let list = store.followups(creditor.id, None).await.expect("list");
    let q1 = list
        .iter()
        .find(|f| f.customer_code == "Q 1")
        .expect("Q 1's follow-up");
    assert_eq!(q1.status.as_str(), "opted_out");
    assert!(list
        .iter()
        .filter(|f| f.customer_code == "Q 2")
        .all(|f| f.status.as_str() == "open"));
    // Following the link again is harmless.
    assert_eq!(get(&app, &good).await.0, StatusCode::OK);
    assert_eq!(optouts(&store).await, 1);

    // A mail client's one-click unsubscribe (RFC 8058): a POST of the List-Unsubscribe URL
    // with `List-Unsubscribe=One-Click`, no session and no CSRF token (the link is signed).
    let one_click = optout::link("", &key, c, "Q 2", expires);
    let post = |path: String| {
        let app = app.clone();
        async move {
            app.oneshot(
                Request::post(path)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(Body::from("List-Unsubscribe=One-Click"))
                    .expect("request"),
            )
            .await
            .expect("response")
            .status()
        }
    };
    let altered = one_click.replace("u=Q%202", "u=Q%201");
    assert_eq!(post(altered).await, StatusCode::FORBIDDEN);
    assert_eq!(optouts(&store).await, 1);
    assert_eq!(post(one_click).await, StatusCode::OK);
    assert_eq!(optouts(&store).await, 2);
    let events = store
        .timeline(creditor.id, Some("Q 2"))
        .await
        .expect("timeline");
    assert!(events.iter().any(|e| e.kind == "opted_out"), "{events:?}");
    let cancelled: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM actions WHERE kind = 'quote' AND status = 'cancelled'",
    )
    .fetch_one(store.pool())
    .await
    .expect("count");
    assert_eq!(cancelled, 2, "both quote reminders are cancelled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsubscribe_link_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("u.db").display());
    scenario(Store::open(&url).await.expect("open sqlite")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsubscribe_link_on_postgres() {
    let Some(db) = relance_store::testing::postgres("unsub").await else {
        return;
    };
    scenario(db.store.clone()).await;
    db.finish().await;
}
