//! Form refusals in the user's language: one form of each kind — the customer page's (hold,
//! promise), the work queue's (skip, call outcome), the reports' days, the import upload, the
//! policy editor's new id and the debtor portal's promise — refused in French by default and in
//! English when the browser asks for it. On a real SQLite file.

use axum::http::StatusCode;
use chrono::Days;
use relance_core::ledger::ItemKind;
use relance_core::money::Money;
use relance_core::party::CustomerKind;
use relance_server::{auth, portal, router, today_for, AppState, ServerOptions};
use relance_store::cases::RunOptions;
use relance_store::creditors::CreditorInput;
use relance_store::customers::CustomerFields;
use relance_store::imports::InvoiceRecord;
use relance_store::users::Role;
use relance_store::Store;
use rust_decimal::Decimal;

mod support;
use support::{flash, App, PASSWORD};

const FORM: &str = "application/x-www-form-urlencoded";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_refusals_speak_french_and_english() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("forms.db").display());
    let store = Store::open(&url).await.expect("open sqlite");
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
    s.push(InvoiceRecord {
        line: 2,
        kind: ItemKind::Invoice,
        number: "FA-1".into(),
        customer: CustomerFields {
            code: "A1".into(),
            name: Some("Alpine Boulangerie".into()),
            kind: Some(CustomerKind::Business),
            emails: vec!["compta@a1.example".into()],
            ..CustomerFields::default()
        },
        issue_date: ago(70),
        due_date: ago(40),
        total: Money::eur(Decimal::new(100_000, 2)),
        paid: Money::eur(Decimal::ZERO),
    })
    .await
    .expect("push");
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
    let a = creditor.id.0;
    let customer_page = format!("/c/{a}/customers/A1");
    let csrf = app.csrf_of(&cookie, &customer_page).await;

    // A form that redirects with its refusal: (path, form, French, English).
    let action = store
        .queue_actions(creditor.id, today, 10)
        .await
        .expect("queue")
        .first()
        .map(|q| q.id)
        .expect("an action planned today");
    let redirecting = [
        (
            format!("{customer_page}/hold"),
            format!("csrf={csrf}&until={today}&reason=x"),
            "jusqu'au : la date doit être après aujourd'hui",
            "until: must be after today",
        ),
        (
            format!("{customer_page}/promise"),
            format!("csrf={csrf}&invoice=FA-1&date=demain"),
            "date : « demain » n'est pas une date (AAAA-MM-JJ)",
            "date: \"demain\" is not a date (YYYY-MM-DD)",
        ),
        (
            format!("{customer_page}/dispute"),
            format!("csrf={csrf}&invoice=FA-9&reason=x"),
            "la facture « FA-9 » n'est pas une facture de ce client",
            "invoice \"FA-9\" is not an invoice of this customer",
        ),
        (
            format!("/c/{a}/queue/{action}/skip"),
            format!("csrf={csrf}&why=+"),
            "pourquoi : dites pourquoi le message est écarté",
            "why: say why the message is skipped",
        ),
        (
            format!("/c/{a}/queue/call/A1"),
            format!("csrf={csrf}&outcome=zzz"),
            "résultat : « zzz » n'est pas un résultat d'appel",
            "outcome: \"zzz\" is not an outcome",
        ),
        (
            format!("/c/{a}/queue/call/A1"),
            format!("csrf={csrf}&outcome=promised&amount=beaucoup"),
            "montant : « beaucoup » n'est pas un montant",
            "amount: \"beaucoup\" is not an amount",
        ),
    ];
    for (path, form, fr, en) in &redirecting {
        for (lang, want) in [("fr-FR,fr;q=0.9", fr), ("en-GB,en;q=0.8", en)] {
            let (status, location, _) = app
                .post_raw(path, &cookie, FORM, form.clone().into_bytes(), lang)
                .await;
            assert_eq!(status, StatusCode::SEE_OTHER, "{path}");
            let said = flash(&location);
            assert!(said.contains(*want), "{path} in {lang}: {said}");
        }
    }

    // Refusals shown as the answer (400): the reports' days, the import, a new policy's id.
    for (path, fr, en) in [
        (
            format!("/c/{a}/reports?as_of=hier"),
            "au : « hier » n'est pas une date (AAAA-MM-JJ)",
            "as of: \"hier\" is not a date (YYYY-MM-DD)",
        ),
        (
            format!("/c/{a}/reports?from=2026-03-01&to=2026-02-01"),
            "la date de début 2026-03-01 est après la date de fin 2026-02-01",
            "from 2026-03-01 is after to 2026-02-01",
        ),
        (
            format!("/c/{a}/policies/new?id=Not+Valid!"),
            "identifiant de politique « Not Valid! »",
            "policy id \"Not Valid!\"",
        ),
    ] {
        for (lang, want) in [("fr", fr), ("en", en)] {
            let (status, body) = app.get_in(&path, &cookie, lang).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
            assert!(body.contains(want), "{path} in {lang}: {body}");
        }
    }
    let imports_csrf = app.csrf_of(&cookie, &format!("/c/{a}/imports")).await;
    let boundary = "----relanceFormBoundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{imports_csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\ninvoices\r\n--{boundary}--\r\n"
    );
    for (lang, want) in [
        ("fr", "fichier : choisissez un fichier à importer"),
        ("en", "file: choose a file to import"),
    ] {
        let (status, _, answer) = app
            .post_raw(
                &format!("/c/{a}/imports"),
                &cookie,
                &format!("multipart/form-data; boundary={boundary}"),
                body.clone().into_bytes(),
                lang,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(answer.contains(want), "{lang}: {answer}");
    }

    // The debtor portal: the customer's language (French), or the switch's cookie.
    let key = portal::portal_key(&store).await.expect("key");
    let expires = today.checked_add_days(Days::new(30)).expect("date");
    let sig = portal::sign(&key, a, "A1", expires);
    let form = format!(
        "c={a}&u=A1&e={expires}&s={sig}&invoice=FA-1&date={}",
        ago(1)
    );
    for (cookie, want) in [
        ("", "la date promise est déjà passée"),
        ("lang=en", "the promised date is in the past"),
    ] {
        let (status, _, answer) = app
            .post_raw(
                "/portal/promise",
                cookie,
                FORM,
                form.clone().into_bytes(),
                "de",
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(answer.contains(want), "{cookie}: {answer}");
    }
}
