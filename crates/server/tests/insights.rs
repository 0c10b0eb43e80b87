//! The cash view's pages in process (tower's `oneshot` on the real router), on a real SQLite
//! file and, when `RELANCE_TEST_DATABASE_URL` is set, on PostgreSQL: the forecast, the aged
//! balance by grade and the payer scores, what works and the suppliers show the figures the
//! store and the core compute (as `relance report …` prints them), in French and English; the
//! customer page shows its payer's grade and why; the downloads carry the same rows; another
//! creditor's collector gets 404 everywhere; the API's customer list leaves supplier parties
//! out.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use chrono::{Days, NaiveDate};
use relance_core::effectiveness::step_stats;
use relance_core::experiment::compare;
use relance_core::ledger::ItemKind;
use relance_core::money::Money;
use relance_core::party::CustomerKind;
use relance_core::planner::{Experiment, Policy};
use relance_core::scoring::score;
use relance_server::{auth, router, today_for, AppState, ServerOptions};
use relance_store::cash::{predict_all, weekly_forecast};
use relance_store::creditors::{CreditorInput, CreditorRecord};
use relance_store::customers::CustomerFields;
use relance_store::imports::InvoiceRecord;
use relance_store::payments::{PaymentImport, PaymentRecord};
use relance_store::suppliers::{PurchaseOrderInput, SupplierInput, SupplierInvoiceInput};
use relance_store::users::Role;
use relance_store::Store;
use rust_decimal::Decimal;

mod support;
use support::{App, PASSWORD};

struct World {
    store: Store,
    app: App,
    a: CreditorRecord,
    b: CreditorRecord,
    today: NaiveDate,
    /// The step of the policy that runs experiment `x1`.
    step: String,
}

fn eur(units: i64) -> Money {
    Money::eur(Decimal::from(units))
}

fn invoice(
    number: &str,
    code: &str,
    name: &str,
    issued: NaiveDate,
    due: NaiveDate,
    units: i64,
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
        total: eur(units),
        paid: eur(0),
    }
}

fn supplier() -> SupplierInput {
    SupplierInput {
        code: "F01".into(),
        name: Some("Aciers du Rhône".into()),
        email: Some("ventes@aciers.example".into()),
        address: None,
        language: None,
    }
}

impl World {
    async fn new(store: Store) -> World {
        let mut made = Vec::new();
        for name in ["Alpha SAS", "Beta SARL"] {
            let (c, _) = store
                .upsert_creditor(&CreditorInput {
                    name: name.into(),
                    iban: Some("FR7630006000011234567890189".into()),
                    ..CreditorInput::default()
                })
                .await
                .expect("creditor");
            made.push(c);
        }
        let (a, b) = (made[0].clone(), made[1].clone());
        let today = relance_server::pin_today_to_a_business_day();
        // A daily run plans nothing on a weekend or holiday: the server works on the last business day.
        assert_eq!(today_for(&a), today);
        let ago = |d: u64| today.checked_sub_days(Days::new(d)).expect("date");
        let ahead = |d: u64| today.checked_add_days(Days::new(d)).expect("date");
        for (creditor, records) in [
            (
                &a,
                vec![
                    // P1 pays on time; L1 pays two months late and owes old invoices; D1's
                    // only invoice is in dispute (left out of the forecast).
                    invoice("P-1", "P1", "Ponctuel Boulangerie", ago(120), ago(90), 1000),
                    invoice("P-2", "P1", "Ponctuel Boulangerie", ago(100), ago(70), 1000),
                    invoice("P-3", "P1", "Ponctuel Boulangerie", ago(10), ahead(20), 500),
                    invoice("L-1", "L1", "Lent Garage", ago(150), ago(120), 700),
                    invoice("L-2", "L1", "Lent Garage", ago(125), ago(95), 700),
                    invoice("L-3", "L1", "Lent Garage", ago(75), ago(45), 800),
                    invoice("L-4", "L1", "Lent Garage", ago(130), ago(100), 300),
                    invoice("D-1", "D1", "Disputé Hôtel", ago(25), ahead(5), 400),
                ],
            ),
            (
                &b,
                vec![invoice(
                    "FB-1",
                    "B1",
                    "Bleu Secret Garage",
                    ago(70),
                    ago(40),
                    777,
                )],
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
        }
        let payments = [
            (ago(90), 1000, "P1", "P-1"),
            (ago(70), 1000, "P1", "P-2"),
            (ago(60), 700, "L1", "L-1"),
            (ago(30), 700, "L1", "L-2"),
        ];
        let records: Vec<PaymentRecord> = payments
            .iter()
            .enumerate()
            .map(|(n, (day, amount, customer, invoice))| PaymentRecord {
                line: n as u64 + 2,
                date: *day,
                amount: eur(*amount),
                reference: format!("pay {invoice}"),
                customer_code: Some(customer.to_string()),
                invoice_number: Some(invoice.to_string()),
                bank_reference: Some(format!("BANK-{n}")),
                payer_name: None,
                payer_iban: None,
            })
            .collect();
        match store
            .import_payments(a.id, "bank.csv", &records, today)
            .await
            .expect("payments")
        {
            PaymentImport::Done(_) => {}
            PaymentImport::Refused(p) => panic!("refused: {p:?}"),
        }
        store
            .open_dispute(a.id, "D-1", "not delivered", today)
            .await
            .expect("dispute");
        // A policy running an experiment on its first step, and that step sent to P1 (arm A,
        // paid 5 days later) and L1 (arm B, paid 10 days later).
        let mut policy = Policy::default_french();
        policy.id = "essai".into();
        policy.name = "Essai A/B".into();
        let first = policy
            .steps
            .iter()
            .position(|s| !s.per_invoice_before_due)
            .expect("a case step");
        policy.steps[first].experiment = Some(Experiment {
            name: "x1".into(),
            share_b: 50,
            offset_days: Some(3),
            template: None,
            tone: None,
            send_hour: None,
        });
        let step = policy.steps[first].id.clone();
        store.save_policy(a.id, &policy).await.expect("policy");
        for (code, due, variant) in [("P1", ago(75), "A"), ("L1", ago(40), "B")] {
            let customer = store
                .customer_by_code(a.id, code)
                .await
                .expect("query")
                .expect("customer");
            sqlx::query(
                "INSERT INTO actions (creditor_id, customer_id, idempotency_key, channel, step, cycle, \
                 planned_on, due_on, status, amount_minor, currency, created_at, updated_at, experiment, variant) \
                 VALUES ($1, $2, $3, 'email', $4, 1, $5, $5, 'sent', 100, 'EUR', '', '', 'x1', $6)",
            )
            .bind(a.id.0)
            .bind(customer.id.0)
            .bind(format!("test-{code}"))
            .bind(&step)
            .bind(due.to_string())
            .bind(variant)
            .execute(store.pool())
            .await
            .expect("action");
        }
        // A supplier: one order late, one delivered, one invoice not checked yet.
        store
            .import_purchase_orders(
                a.id,
                &[
                    PurchaseOrderInput {
                        supplier: supplier(),
                        number: "BC-1".into(),
                        ordered_on: ago(30),
                        promised_on: ago(6),
                        amount: eur(1200),
                        quantity: Decimal::from(10),
                        delivered_on: None,
                    },
                    PurchaseOrderInput {
                        supplier: supplier(),
                        number: "BC-2".into(),
                        ordered_on: ago(30),
                        promised_on: ago(20),
                        amount: eur(90),
                        quantity: Decimal::from(1),
                        delivered_on: Some(ago(21)),
                    },
                ],
                "po.csv",
            )
            .await
            .expect("orders");
        store
            .import_supplier_invoices(
                a.id,
                &[SupplierInvoiceInput {
                    supplier: supplier(),
                    number: "SF-9".into(),
                    issued_on: ago(3),
                    po_number: Some("BC-1".into()),
                    amount: eur(1500),
                    quantity: Some(Decimal::from(10)),
                }],
                "si.csv",
            )
            .await
            .expect("supplier invoices");
        let hash = auth::hash_password(PASSWORD).expect("hash");
        for (email, role, creditors) in [
            ("col-a@x.example", Role::Collector, vec![a.id]),
            ("col-b@x.example", Role::Collector, vec![b.id]),
        ] {
            store
                .create_user(email, &hash, role, &creditors)
                .await
                .expect("user");
        }
        let state = AppState::new(store.clone(), ServerOptions::default())
            .await
            .expect("state");
        World {
            app: App { app: router(state) },
            store,
            a,
            b,
            today,
            step,
        }
    }
}

/// Text as the templates escape it.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;")
}

async fn the_cash_view_shows_the_stores_figures(w: World) {
    let (a, b) = (w.a.id.0, w.b.id.0);
    let cookie = w.app.login("col-a@x.example").await;
    let store = &w.store;
    let today = w.today;

    // Forecast: each week's expected cash-in is the store's and the core's.
    let customers = store
        .payer_histories(w.a.id, today)
        .await
        .expect("histories");
    let items = store.forecast_items(w.a.id, today).await.expect("items");
    let predictions = predict_all(&customers, &items, today);
    let expected = weekly_forecast(&items, &predictions, today, relance_server::insights::WEEKS);
    assert!(!expected.weeks.is_empty());
    let (status, body) = w
        .app
        .get_in(&format!("/c/{a}/forecast"), &cookie, "en")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("Cash forecast") && body.contains("data-testid=\"forecast-chart\""));
    assert!(
        body.contains("<title id=\"fc-title-EUR\">"),
        "the chart has a title"
    );
    let mut nonzero = 0;
    for week in &expected.weeks {
        let row = format!(
            "data-week=\"{}\" data-expected=\"{}\"",
            week.week, week.expected
        );
        assert!(body.contains(&row), "{row} not on the page");
        if !week.expected.is_zero() {
            nonzero += 1;
        }
    }
    assert!(nonzero > 0, "nothing expected: {:?}", expected.weeks);
    // D-1 is in dispute: left out, and said so.
    assert_eq!(expected.excluded["EUR"].0, 1);
    assert!(body.contains("data-testid=\"forecast-excluded\""), "{body}");
    assert!(!body.contains("Bleu Secret"));
    let (_, fr) = w
        .app
        .get_in(&format!("/c/{a}/forecast"), &cookie, "fr")
        .await;
    assert!(
        fr.contains("Prévision d&#x27;encaissements") || fr.contains("Prévision d'encaissements"),
        "{fr}"
    );
    // The download carries the same weeks.
    let (status, csv) = w
        .app
        .get(&format!("/c/{a}/reports/forecast.csv"), &cookie)
        .await;
    assert_eq!(status, StatusCode::OK, "{csv}");
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("week,starts_on,currency,low,expected,high"),
        "{csv}"
    );
    assert_eq!(lines.len(), expected.weeks.len() + 1, "{csv}");
    for (line, week) in lines[1..].iter().zip(&expected.weeks) {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(
            (cells[0], cells[4]),
            (week.week.as_str(), week.expected.to_string().as_str())
        );
    }

    // Risk: the aged balance of each grade is the sum of its customers' lines in the store's
    // aged balance, and the grades add up to the whole.
    let grade_of: BTreeMap<String, String> = customers
        .iter()
        .filter(|c| c.history.paid > 0 || c.history.open_minor > 0)
        .map(|c| (c.code.clone(), score(&c.history).grade.to_string()))
        .collect();
    let aging = store.aging(w.a.id, today, None).await.expect("aging");
    let mut by_grade: BTreeMap<String, Decimal> = BTreeMap::new();
    for line in &aging {
        let grade = grade_of
            .get(&line.customer)
            .cloned()
            .unwrap_or_else(|| "-".into());
        *by_grade.entry(grade).or_default() += line.buckets.iter().sum::<Decimal>();
    }
    assert!(
        by_grade.len() >= 2,
        "the customers fall in one grade only: {by_grade:?}"
    );
    let (status, body) = w.app.get_in(&format!("/c/{a}/risk"), &cookie, "en").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.contains("Aged balance by risk grade") && body.contains("data-testid=\"grade-chart\"")
    );
    for (grade, total) in &by_grade {
        let row = format!("data-grade=\"{grade}\" data-total=\"{total}\"");
        assert!(body.contains(&row), "{row} not on the page");
    }
    let whole: i64 = store
        .aging_totals(w.a.id, today)
        .await
        .expect("totals")
        .iter()
        .map(|t| t.total())
        .sum();
    assert_eq!(
        by_grade.values().sum::<Decimal>(),
        Money::from_minor(whole, relance_core::money::Currency::EUR).amount
    );
    // The scores, riskiest first, each with its customer's link.
    let mut ranked: Vec<(u8, String)> = customers
        .iter()
        .filter(|c| grade_of.contains_key(&c.code))
        .map(|c| (score(&c.history).score, c.code.clone()))
        .collect();
    ranked.sort();
    let mut at = 0;
    for (points, code) in &ranked {
        let row = format!("data-customer=\"{code}\" data-score=\"{points}\"");
        let found = body[at..]
            .find(&row)
            .unwrap_or_else(|| panic!("{row} missing or out of order"));
        at += found;
        assert!(body.contains(&format!("href=\"/c/{a}/customers/{code}\"")));
    }
    // One grade only.
    let worst = grade_of["L1"].clone();
    let (_, one) = w
        .app
        .get(&format!("/c/{a}/risk?grade={worst}"), &cookie)
        .await;
    assert!(one.contains("data-customer=\"L1\""));
    for (code, g) in &grade_of {
        if *g != worst {
            assert!(
                !one.contains(&format!("data-customer=\"{code}\"")),
                "{code} is {g}"
            );
        }
    }
    // The customer page shows its grade and why, in the user's language.
    let l1 = customers.iter().find(|c| c.code == "L1").expect("L1");
    let s = score(&l1.history);
    let (status, page) = w
        .app
        .get_in(&format!("/c/{a}/customers/L1"), &cookie, "fr")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(&format!("data-testid=\"payer-score\">{}<", s.score)),
        "{page}"
    );
    assert!(page.contains(&format!("grade-{}", s.grade)));
    let why = escaped(s.explanation("fr"));
    assert!(page.contains(&why), "{why} not in {page}");
    // The scores download: every scored customer, riskiest first.
    let (_, csv) = w
        .app
        .get(&format!("/c/{a}/reports/scores.csv"), &cookie)
        .await;
    let codes: Vec<&str> = csv
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .collect();
    let wanted: Vec<&str> = ranked.iter().map(|(_, c)| c.as_str()).collect();
    assert_eq!(codes, wanted, "{csv}");

    // What works: the step's cases and the experiment's arms.
    let outcomes = store.step_outcomes(w.a.id, today).await.expect("outcomes");
    let stats = step_stats(&outcomes, std::slice::from_ref(&w.step), today);
    assert_eq!(stats.len(), 1);
    let (status, body) = w
        .app
        .get_in(&format!("/c/{a}/what-works?policy=essai"), &cookie, "en")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains(&format!(
        "data-step=\"{}\" data-cases=\"{}\"",
        w.step, stats[0].cases
    )));
    let report = compare(
        &store
            .experiment_outcomes(w.a.id, "x1", today)
            .await
            .expect("arms"),
        today,
    );
    for arm in [&report.a, &report.b] {
        let row = format!(
            "data-variant=\"{}\" data-cases=\"{}\"",
            arm.variant.as_str(),
            arm.cases
        );
        assert!(body.contains(&row), "{row}: {body}");
        assert_eq!(arm.cases, 1);
    }
    assert!(body.contains("data-verdict=\"not_enough_data\""), "{body}");
    assert!(
        body.contains(&escaped(&report.verdict_text("en"))),
        "{body}"
    );
    let (status, _) = w
        .app
        .get(&format!("/c/{a}/what-works?policy=nope"), &cookie)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Reached from the policy page and the reports page.
    let (_, policy) = w.app.get(&format!("/c/{a}/policies/essai"), &cookie).await;
    assert!(
        policy.contains(&format!("/c/{a}/what-works?policy=essai")),
        "{policy}"
    );
    let (_, reports) = w.app.get(&format!("/c/{a}/reports"), &cookie).await;
    for path in ["forecast", "risk", "what-works", "suppliers"] {
        assert!(
            reports.contains(&format!("/c/{a}/{path}?")),
            "no link to {path}"
        );
    }

    // Suppliers: the late order and the invoice to check, not the delivered order.
    let lines = store.supplier_report(w.a.id, today).await.expect("report");
    assert_eq!(lines.len(), 2, "{lines:?}");
    let (status, body) = w
        .app
        .get_in(&format!("/c/{a}/suppliers"), &cookie, "fr")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body.contains("data-number=\"BC-1\" data-status=\"late\" data-days-late=\"6\""),
        "{body}"
    );
    assert!(body.contains("data-number=\"SF-9\""), "{body}");
    assert!(!body.contains("BC-2"));
    assert!(body.contains("Fournisseurs") && body.contains("aria-current=\"page\""));

    // Another creditor's collector: 404 on every page and download of A.
    let other = w.app.login("col-b@x.example").await;
    for path in [
        format!("/c/{a}/forecast"),
        format!("/c/{a}/risk"),
        format!("/c/{a}/what-works"),
        format!("/c/{a}/suppliers"),
        format!("/c/{a}/reports/forecast.csv"),
        format!("/c/{a}/reports/grades.xlsx"),
        format!("/c/{a}/reports/scores.csv"),
        format!("/c/{a}/reports/steps.csv"),
        format!("/c/{a}/reports/suppliers.csv"),
    ] {
        let (status, body) = w.app.get(&path, &other).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(
            !body.contains("Lent Garage") && !body.contains("Aciers"),
            "{path} leaked"
        );
    }
    // And their own creditor shows nothing of A.
    let (status, body) = w.app.get(&format!("/c/{b}/risk"), &other).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("data-customer=\"B1\"") && !body.contains("Lent Garage"));

    // The API's customer list leaves the supplier's party row out, like the web list.
    let (token, hash) = auth::new_api_token();
    let (user, _) = store
        .user_by_email("col-a@x.example")
        .await
        .expect("q")
        .expect("user");
    store.create_api_token(user.id, &hash).await.expect("token");
    let r = axum::http::Request::get(format!("/api/c/{a}/customers?limit=100"))
        .header(axum::http::header::AUTHORIZATION, format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .expect("request");
    let (status, _, body) = w.app.send(r).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let page: serde_json::Value = serde_json::from_str(&body).expect("json");
    let codes: Vec<&str> = page["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|c| c["code"].as_str())
        .collect();
    assert_eq!(codes, ["D1", "L1", "P1"], "{body}");
    // … though the party row exists (the supplier's outbox and timeline use it).
    assert!(store
        .customer_by_code(w.a.id, "supplier:F01")
        .await
        .expect("query")
        .is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cash_view_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("cash.db").display());
    let store = Store::open(&url).await.expect("open sqlite");
    the_cash_view_shows_the_stores_figures(World::new(store).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cash_view_on_postgres() {
    let Ok(admin_url) = std::env::var("RELANCE_TEST_DATABASE_URL") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but RELANCE_TEST_DATABASE_URL is not set"
        );
        return;
    };
    let name = format!(
        "relance_test_cash_view_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    let admin = Store::connect(&admin_url).await.expect("connect admin");
    {
        use sqlx::Executor;
        admin
            .pool()
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create database");
    }
    admin.close().await;
    let (base, _) = admin_url.rsplit_once('/').expect("URL with a path");
    let store = Store::open(&format!("{base}/{name}"))
        .await
        .expect("open postgres");
    the_cash_view_shows_the_stores_figures(World::new(store).await).await;
}
