//! The work queue, imports and reports pages in process (tower's `oneshot` on the real router),
//! on a real SQLite file and, when `RELANCE_TEST_DATABASE_URL` is set, on PostgreSQL: each route
//! scoped to the user's creditors (another creditor's collector gets 404), read-only for a
//! viewer, CSRF-checked; a call outcome lands on the timeline as `relance call` records it; a
//! file with a bad line is refused whole with its positioned errors; the XLSX downloads parse
//! back with the store's totals. (The world and its helpers are those of `web.rs`.)

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use chrono::{Days, NaiveDate};
use http_body_util::BodyExt;
use relance_core::ids::CreditorId;
use relance_core::ledger::ItemKind;
use relance_core::money::Money;
use relance_core::party::CustomerKind;
use relance_server::{auth, router, today_for, AppState, ServerOptions};
use relance_store::cases::RunOptions;
use relance_store::creditors::{CreditorInput, CreditorRecord};
use relance_store::customers::CustomerFields;
use relance_store::imports::InvoiceRecord;
use relance_store::users::Role;
use relance_store::Store;
use rust_decimal::Decimal;
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery";

struct Db {
    store: Store,
    _dir: Option<tempfile::TempDir>,
}

async fn sqlite() -> Db {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("queue.db").display());
    Db {
        store: Store::open(&url).await.expect("open sqlite"),
        _dir: Some(dir),
    }
}

async fn postgres() -> Option<Db> {
    let Ok(admin_url) = std::env::var("RELANCE_TEST_DATABASE_URL") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but RELANCE_TEST_DATABASE_URL is not set"
        );
        return None;
    };
    let name = format!(
        "relance_test_queue_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    let admin = Store::connect(&admin_url).await.expect("connect admin");
    sqlx_create(&admin, &name).await;
    admin.close().await;
    let (base, _) = admin_url.rsplit_once('/').expect("URL with a path");
    Some(Db {
        store: Store::open(&format!("{base}/{name}"))
            .await
            .expect("open postgres"),
        _dir: None,
    })
}

async fn sqlx_create(admin: &Store, name: &str) {
    use sqlx::Executor;
    admin
        .pool()
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create database");
}

/// Runs `body` on SQLite, then on PostgreSQL when configured.
macro_rules! on_both {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                let db = sqlite().await;
                ($body)(World::new(&db.store).await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                if let Some(db) = postgres().await {
                    ($body)(World::new(&db.store).await).await;
                }
            }
        }
    };
}

/// Two creditors with their customers and users.
struct World {
    store: Store,
    app: Router,
    a: CreditorRecord,
    b: CreditorRecord,
    today: NaiveDate,
}

fn invoice(
    number: &str,
    code: &str,
    name: &str,
    issued: NaiveDate,
    due: NaiveDate,
    cents: i64,
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
        total: Money::eur(Decimal::new(cents, 2)),
        paid: Money::eur(Decimal::ZERO),
    }
}

impl World {
    async fn new(store: &Store) -> World {
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
        let load = |creditor: CreditorId, records: Vec<InvoiceRecord>| {
            let store = store.clone();
            async move {
                let mut s = store
                    .begin_invoice_import(creditor, "test", today)
                    .await
                    .expect("import");
                for r in records {
                    s.push(r).await.expect("push");
                }
                s.commit(0).await.expect("commit");
            }
        };
        load(
            a.id,
            vec![
                invoice(
                    "FA-1",
                    "A1",
                    "Alpine Boulangerie",
                    ago(90),
                    ago(60),
                    100_000,
                ),
                invoice(
                    "FA-2",
                    "A1",
                    "Alpine Boulangerie",
                    ago(20),
                    ahead(10),
                    25_050,
                ),
                invoice("FA-3", "A2", "Azur Garage", ago(50), ago(5), 12_345),
            ],
        )
        .await;
        load(
            b.id,
            vec![invoice(
                "FB-1",
                "B1",
                "Bleu Secret Garage",
                ago(70),
                ago(40),
                77_700,
            )],
        )
        .await;
        let hash = auth::hash_password(PASSWORD).expect("hash");
        for (email, role, creditors) in [
            ("admin@x.example", Role::Admin, vec![]),
            ("col-a@x.example", Role::Collector, vec![a.id]),
            ("view-a@x.example", Role::Viewer, vec![a.id]),
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
            store: store.clone(),
            app: router(state),
            a,
            b,
            today,
        }
    }

    async fn send(&self, request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
        let response = self.app.clone().oneshot(request).await.expect("response");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, headers, String::from_utf8_lossy(&body).into_owned())
    }

    async fn get(
        &self,
        path: &str,
        cookie: Option<&str>,
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        let mut r = Request::get(path);
        if let Some(c) = cookie {
            r = r.header(header::COOKIE, c);
        }
        self.send(r.body(Body::empty()).expect("request")).await
    }

    async fn post(
        &self,
        path: &str,
        cookie: Option<&str>,
        form: &str,
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        let mut r =
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(c) = cookie {
            r = r.header(header::COOKIE, c);
        }
        self.send(r.body(Body::from(form.to_string())).expect("request"))
            .await
    }

    /// Logs in; returns the form's outcome status and the session cookie, if any.
    async fn login_with(&self, email: &str, password: &str) -> (StatusCode, Option<String>) {
        let (_, headers, _) = self.get("/login", None).await;
        let set = headers
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .expect("login CSRF cookie")
            .to_string();
        let csrf = set
            .split(';')
            .next()
            .and_then(|kv| kv.split_once('='))
            .map(|(_, v)| v.to_string())
            .expect("cookie value");
        let (status, headers, _) = self
            .post(
                "/login",
                Some(&format!("{}={csrf}", auth::LOGIN_CSRF_COOKIE)),
                &format!(
                    "email={email}&password={}&csrf={csrf}&next=/",
                    password.replace(' ', "+")
                ),
            )
            .await;
        let session = headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(auth::SESSION_COOKIE))
            .and_then(|v| v.split(';').next())
            .map(str::to_string);
        (status, session)
    }

    async fn login(&self, email: &str) -> String {
        let (status, cookie) = self.login_with(email, PASSWORD).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "login of {email}");
        cookie.expect("session cookie")
    }

    async fn csrf_of(&self, cookie: &str, page: &str) -> String {
        let (status, _, body) = self.get(page, Some(cookie)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let start = body.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
        body[start..start + 64].to_string()
    }
}

impl World {
    /// The outbox of creditor A after two daily runs about ten days apart: a first reminder for A1 (60
    /// days late) on the first, then its call task on the second, and whatever else the default
    /// policy plans.
    async fn plan_a(&self) {
        // Runs happen on business days (a run on a Saturday plans nothing): each run moves back
        // to the business day before when `today` minus the days falls on a weekend or holiday.
        let calendar = relance_core::calendar::BusinessCalendar::new(false);
        for days in [20, 10] {
            let mut as_of = self.today.checked_sub_days(Days::new(days)).expect("date");
            while !calendar.is_business_day(as_of) {
                as_of = as_of.pred_opt().expect("date");
            }
            self.store
                .run_day(
                    self.a.id,
                    RunOptions {
                        as_of,
                        dry_run: false,
                        full: false,
                    },
                )
                .await
                .expect("run");
        }
    }

    async fn timeline(&self, creditor: &CreditorRecord, code: &str) -> Vec<(String, String)> {
        let customer = self
            .store
            .customer_by_code(creditor.id, code)
            .await
            .expect("query")
            .expect("customer");
        self.store
            .customer_timeline(creditor.id, customer.id)
            .await
            .expect("timeline")
            .into_iter()
            .map(|e| (e.kind, e.summary))
            .collect()
    }

    async fn status_of(&self, creditor: &CreditorRecord, id: i64) -> String {
        self.store
            .outbox_lines(creditor.id, None, false)
            .await
            .expect("outbox")
            .into_iter()
            .find(|l| l.id == id)
            .map(|l| l.status)
            .expect("action")
    }

    async fn upload(
        &self,
        path: &str,
        cookie: &str,
        csrf: &str,
        kind: &str,
        name: &str,
        content: &[u8],
    ) -> (StatusCode, String) {
        let boundary = "----relanceTestBoundary7MA4YWxk";
        let mut body = Vec::new();
        for (field, value) in [("csrf", csrf), ("kind", kind)] {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let r = Request::post(path)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header(header::COOKIE, cookie)
            .body(Body::from(body))
            .expect("request");
        let (status, _, body) = self.send(r).await;
        (status, body)
    }

    async fn bytes(&self, path: &str, cookie: &str) -> (StatusCode, Vec<u8>) {
        let r = Request::get(path)
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .expect("request");
        let response = self.app.clone().oneshot(r).await.expect("response");
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, body.to_vec())
    }
}

fn location(headers: &axum::http::HeaderMap) -> String {
    headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

on_both!(
    the_queue_is_scoped_and_read_only_for_viewers,
    |w: World| async move {
        w.plan_a().await;
        let (a, b) = (w.a.id.0, w.b.id.0);
        let queued = w
            .store
            .queue_actions(w.a.id, w.today, 100)
            .await
            .expect("queue");
        let action = queued.first().expect("a message due").id;
        // No session: to the login page.
        let (status, headers, _) = w.get(&format!("/c/{a}/queue"), None).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(location(&headers).starts_with("/login"));
        // Another creditor's collector: 404 on the page and on every form.
        let col_b = w.login("col-b@x.example").await;
        let csrf_b = w.csrf_of(&col_b, &format!("/c/{b}/queue")).await;
        let (status, _, _) = w.get(&format!("/c/{a}/queue"), Some(&col_b)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        for path in [
            format!("/c/{a}/queue/{action}/skip"),
            format!("/c/{a}/queue/{action}/retry"),
            format!("/c/{a}/queue/call/A1"),
        ] {
            let (status, _, _) = w
                .post(
                    &path,
                    Some(&col_b),
                    &format!("csrf={csrf_b}&why=x&outcome=no_answer"),
                )
                .await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        }
        // Through their own creditor's path, A's action is not theirs: refused, unchanged.
        let (status, headers, _) = w
            .post(
                &format!("/c/{b}/queue/{action}/skip"),
                Some(&col_b),
                &format!("csrf={csrf_b}&why=mine"),
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(location(&headers).contains("error="), "{headers:?}");
        // A viewer sees the page, without forms, and cannot post.
        let viewer = w.login("view-a@x.example").await;
        let (status, _, body) = w.get(&format!("/c/{a}/queue"), Some(&viewer)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("FA-1"), "{body}");
        assert!(!body.contains("/skip\""), "a viewer gets no form");
        let csrf_v = w.csrf_of(&viewer, &format!("/c/{a}/queue")).await;
        let (status, _, _) = w
            .post(
                &format!("/c/{a}/queue/{action}/skip"),
                Some(&viewer),
                &format!("csrf={csrf_v}&why=no"),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _, _) = w
            .post(
                &format!("/c/{a}/queue/call/A1"),
                Some(&viewer),
                &format!("csrf={csrf_v}&outcome=no_answer"),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // A collector of A without the CSRF token: refused.
        let col_a = w.login("col-a@x.example").await;
        let (status, _, _) = w
            .post(
                &format!("/c/{a}/queue/{action}/skip"),
                Some(&col_a),
                "csrf=0000&why=no",
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(w.status_of(&w.a, action).await, "planned");
        assert!(!w
            .timeline(&w.a, "A1")
            .await
            .iter()
            .any(|(kind, _)| kind == "call" || kind == "reminder_cancelled"));
    }
);

on_both!(
    a_call_outcome_from_the_queue_is_recorded_like_relance_call,
    |w: World| async move {
        w.plan_a().await;
        let a = w.a.id.0;
        let col_a = w.login("col-a@x.example").await;
        let (status, _, body) = w.get(&format!("/c/{a}/queue"), Some(&col_a)).await;
        assert_eq!(status, StatusCode::OK);
        // The call task of A1 with its script (which names the invoice) and its form.
        let tasks = w
            .store
            .call_tasks(w.a.id, Some(w.today))
            .await
            .expect("tasks");
        assert!(tasks.iter().any(|t| t.customer == "A1"), "{tasks:?}");
        assert!(body.contains("id=\"call-A1\""), "{body}");
        assert!(
            body.contains(&format!("action=\"/c/{a}/queue/call/A1\"")),
            "{body}"
        );
        assert!(body.contains("FA-1"));
        let csrf = w.csrf_of(&col_a, &format!("/c/{a}/queue")).await;
        // A dispute without a note records nothing.
        let (status, headers, _) = w
            .post(
                &format!("/c/{a}/queue/call/A1"),
                Some(&col_a),
                &format!("csrf={csrf}&outcome=dispute&note="),
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(location(&headers).contains("error="));
        // Another customer's invoice is refused.
        let (_, headers, _) = w
            .post(
                &format!("/c/{a}/queue/call/A1"),
                Some(&col_a),
                &format!("csrf={csrf}&outcome=promised&on={}&invoice=FA-3", w.today),
            )
            .await;
        assert!(location(&headers).contains("error="));
        assert!(!w
            .timeline(&w.a, "A1")
            .await
            .iter()
            .any(|(k, _)| k == "call"));
        // The promise: 400.00 by a week from now.
        let on = w.today.checked_add_days(Days::new(7)).expect("date");
        let (status, headers, _) = w
            .post(
                &format!("/c/{a}/queue/call/A1"),
                Some(&col_a),
                &format!("csrf={csrf}&outcome=promised&on={on}&amount=400%2C00&invoice=&note=virement+vendredi"),
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let to = location(&headers);
        assert!(to.starts_with(&format!("/c/{a}/queue?done=")), "{to}");
        let timeline = w.timeline(&w.a, "A1").await;
        let call = timeline
            .iter()
            .find(|(k, _)| k == "call")
            .expect("call on the timeline");
        assert_eq!(call.1, "call to A1: promised — virement vendredi");
        assert!(
            timeline
                .iter()
                .any(|(k, s)| k == "promise" && s.contains(&on.to_string())),
            "{timeline:?}"
        );
        // The task is done and the case waits for the promised day.
        let tasks = w
            .store
            .call_tasks(w.a.id, Some(w.today))
            .await
            .expect("tasks");
        assert!(!tasks.iter().any(|t| t.customer == "A1"), "{tasks:?}");
        let customer = w
            .store
            .customer_by_code(w.a.id, "A1")
            .await
            .expect("query")
            .expect("A1");
        let case = w
            .store
            .case_summary(w.a.id, customer.id)
            .await
            .expect("case")
            .expect("a case");
        let promise = case.promise.expect("the promise on the case");
        assert_eq!(promise.promised_for, on);
        assert_eq!(promise.amount.to_plain_string(), "400.00");
    }
);

on_both!(
    skipping_and_retrying_messages_are_on_the_timeline,
    |w: World| async move {
        w.plan_a().await;
        let a = w.a.id.0;
        let col_a = w.login("col-a@x.example").await;
        let csrf = w.csrf_of(&col_a, &format!("/c/{a}/queue")).await;
        let queued = w
            .store
            .queue_actions(w.a.id, w.today, 100)
            .await
            .expect("queue");
        assert!(queued.len() >= 2, "{queued:?}");
        let (first, second) = (&queued[0], &queued[1]);
        // Skipping needs a reason.
        let (_, headers, _) = w
            .post(
                &format!("/c/{a}/queue/{}/skip", first.id),
                Some(&col_a),
                &format!("csrf={csrf}&why=+"),
            )
            .await;
        assert!(location(&headers).contains("error="));
        assert_eq!(w.status_of(&w.a, first.id).await, "planned");
        let (status, headers, _) = w
            .post(
                &format!("/c/{a}/queue/{}/skip", first.id),
                Some(&col_a),
                &format!("csrf={csrf}&why=already+paid+by+cheque"),
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(location(&headers).contains("done="), "{headers:?}");
        assert_eq!(w.status_of(&w.a, first.id).await, "cancelled");
        let timeline = w.timeline(&w.a, &first.customer).await;
        assert!(
            timeline.iter().any(|(k, s)| k == "reminder_cancelled"
                && s.contains("already paid by cheque (by col-a@x.example)")),
            "{timeline:?}"
        );
        // A failed message is listed for a person, and sent again.
        sqlx::query(
            "UPDATE actions SET status = 'failed', last_error = '550 no such user' WHERE id = $1",
        )
        .bind(second.id)
        .execute(w.store.pool())
        .await
        .expect("fail it");
        let (_, _, body) = w.get(&format!("/c/{a}/queue"), Some(&col_a)).await;
        assert!(body.contains("550 no such user"), "{body}");
        let (status, headers, _) = w
            .post(
                &format!("/c/{a}/queue/{}/retry", second.id),
                Some(&col_a),
                &format!("csrf={csrf}&why=address+corrected"),
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(location(&headers).contains("done="), "{headers:?}");
        assert_eq!(w.status_of(&w.a, second.id).await, "planned");
        let timeline = w.timeline(&w.a, &second.customer).await;
        assert!(
            timeline.iter().any(|(k, s)| k == "delivery_retry"
                && s.contains("address corrected (by col-a@x.example)")),
            "{timeline:?}"
        );
        // A cancelled message cannot be sent again.
        let (_, headers, _) = w
            .post(
                &format!("/c/{a}/queue/{}/retry", first.id),
                Some(&col_a),
                &format!("csrf={csrf}&why=oops"),
            )
            .await;
        assert!(location(&headers).contains("error="));
        assert_eq!(w.status_of(&w.a, first.id).await, "cancelled");
    }
);

const GOOD_CSV: &str =
    "invoice_number,customer_id,customer_name,issue_date,due_date,amount,email\n\
FA-10,A3,Atelier Nord,2026-01-05,2026-02-04,300.00,compta@nord.example\n\
FA-11,A3,Atelier Nord,2026-01-06,2026-02-05,50.25,compta@nord.example\n";

const BAD_CSV: &str = "invoice_number,customer_id,customer_name,issue_date,due_date,amount\n\
FA-20,A4,Atelier Sud,2026-01-05,2026-02-04,300.00\n\
FA-21,A4,Atelier Sud,2026-01-06,2026-02-05,12x.00\n";

on_both!(
    an_upload_with_a_bad_line_stores_nothing,
    |w: World| async move {
        let (a, b) = (w.a.id.0, w.b.id.0);
        let col_a = w.login("col-a@x.example").await;
        let (status, _, _) = w.get(&format!("/c/{a}/imports"), Some(&col_a)).await;
        assert_eq!(status, StatusCode::OK);
        let csrf = w.csrf_of(&col_a, &format!("/c/{a}/imports")).await;
        let before = w.store.recent_imports(w.a.id, 100).await.expect("imports");
        let (status, body) = w
            .upload(
                &format!("/c/{a}/imports"),
                &col_a,
                &csrf,
                "invoices",
                "bad.csv",
                BAD_CSV.as_bytes(),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("id=\"import-refused\""), "{body}");
        assert!(body.contains("bad.csv:3: column"), "{body}");
        assert!(body.contains("12x.00"), "{body}");
        assert!(w
            .store
            .customer_by_code(w.a.id, "A4")
            .await
            .expect("query")
            .is_none());
        assert_eq!(
            w.store.recent_imports(w.a.id, 100).await.expect("imports"),
            before
        );
        // A good file: its counts, and it is listed.
        let (status, body) = w
            .upload(
                &format!("/c/{a}/imports"),
                &col_a,
                &csrf,
                "invoices",
                "../jan.csv",
                GOOD_CSV.as_bytes(),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.contains("id=\"import-done\""), "{body}");
        let recent = w.store.recent_imports(w.a.id, 100).await.expect("imports");
        assert_eq!(recent.len(), before.len() + 1);
        assert_eq!(recent[0].source, "jan.csv");
        assert_eq!((recent[0].rows, recent[0].created), (2, 2));
        let items = {
            let c = w
                .store
                .customer_by_code(w.a.id, "A3")
                .await
                .expect("query")
                .expect("A3 imported");
            w.store
                .customer_items(w.a.id, c.id, true)
                .await
                .expect("items")
        };
        assert_eq!(items.len(), 2);
        let (_, _, page) = w.get(&format!("/c/{a}/imports"), Some(&col_a)).await;
        assert!(page.contains("jan.csv"));
        // A payment file goes through the payment import.
        let payments = "date,amount,reference,customer_id,invoice_number\n2026-02-10,300.00,VIR NORD,A3,FA-10\n";
        let (status, body) = w
            .upload(
                &format!("/c/{a}/imports"),
                &col_a,
                &csrf,
                "payments",
                "bank.csv",
                payments.as_bytes(),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let recent = w.store.recent_imports(w.a.id, 1).await.expect("imports");
        assert_eq!(recent[0].kind, "payments");
        // Another creditor's collector, a viewer, a missing token: refused, nothing stored.
        let col_b = w.login("col-b@x.example").await;
        let csrf_b = w.csrf_of(&col_b, &format!("/c/{b}/imports")).await;
        let (status, _, _) = w.get(&format!("/c/{a}/imports"), Some(&col_b)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = w
            .upload(
                &format!("/c/{a}/imports"),
                &col_b,
                &csrf_b,
                "invoices",
                "x.csv",
                GOOD_CSV.as_bytes(),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let viewer = w.login("view-a@x.example").await;
        let csrf_v = w.csrf_of(&viewer, &format!("/c/{a}/imports")).await;
        let (status, _) = w
            .upload(
                &format!("/c/{a}/imports"),
                &viewer,
                &csrf_v,
                "invoices",
                "x.csv",
                GOOD_CSV.as_bytes(),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = w
            .upload(
                &format!("/c/{a}/imports"),
                &col_a,
                "nope",
                "invoices",
                "x.csv",
                GOOD_CSV.as_bytes(),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // Over the body limit: refused before anything is parsed.
        let mut huge = GOOD_CSV.as_bytes().to_vec();
        huge.resize(relance_server::imports::MAX_UPLOAD + 1024, b'\n');
        let (status, body) = w
            .upload(
                &format!("/c/{a}/imports"),
                &col_a,
                &csrf,
                "invoices",
                "huge.csv",
                &huge,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        // In French: the browser asked for no language.
        assert!(body.contains("dépasse 64 Mo"), "{body}");
        assert_eq!(
            w.store
                .recent_imports(w.a.id, 100)
                .await
                .expect("imports")
                .len(),
            before.len() + 2
        );
        assert!(w
            .store
            .recent_imports(w.b.id, 100)
            .await
            .expect("imports")
            .iter()
            .all(|i| i.source != "x.csv"));
    }
);

/// The cells of the first sheet of a workbook, as text.
fn sheet(bytes: &[u8]) -> Vec<Vec<String>> {
    use calamine::{Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("a workbook");
    let range = book
        .worksheet_range_at(0)
        .expect("a sheet")
        .expect("readable");
    range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

on_both!(
    reports_download_as_csv_and_xlsx_with_the_stores_totals,
    |w: World| async move {
        w.plan_a().await;
        let (a, b) = (w.a.id.0, w.b.id.0);
        let col_a = w.login("col-a@x.example").await;
        let (status, _, body) = w.get(&format!("/c/{a}/reports"), Some(&col_a)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("id=\"aging-table\""), "{body}");
        assert!(body.contains("Alpine Boulangerie"));
        assert!(!body.contains("Bleu Secret"), "B's customer on A's report");
        // The aged balance's workbook: one row per customer, and a total line equal to the store's.
        let totals = w.store.aging_totals(w.a.id, w.today).await.expect("totals");
        assert_eq!(totals.len(), 1);
        let expected: Vec<f64> = totals[0]
            .buckets
            .iter()
            .map(|m| *m as f64 / 100.0)
            .chain(std::iter::once(totals[0].total() as f64 / 100.0))
            .collect();
        assert!((expected[5] - 1373.95).abs() < 1e-9, "{expected:?}");
        let (status, bytes) = w.bytes(&format!("/c/{a}/reports/aging.xlsx"), &col_a).await;
        assert_eq!(status, StatusCode::OK);
        let rows = sheet(&bytes);
        assert_eq!(rows[0][0], "customer");
        assert_eq!(rows[1][0], "A1");
        assert_eq!(rows[2][0], "A2");
        let total = rows.iter().find(|r| r[0] == "TOTAL").expect("a total line");
        assert_eq!(total[2], "EUR");
        let got: Vec<f64> = total[3..9]
            .iter()
            .map(|c| c.parse::<f64>().expect("a number"))
            .collect();
        for (g, e) in got.iter().zip(&expected) {
            assert!((g - e).abs() < 1e-9, "{got:?} vs {expected:?}");
        }
        // The same as CSV.
        let (status, bytes) = w.bytes(&format!("/c/{a}/reports/aging.csv"), &col_a).await;
        assert_eq!(status, StatusCode::OK);
        let csv = String::from_utf8(bytes).expect("utf-8");
        assert_eq!(csv.lines().count(), 3, "{csv}");
        assert!(csv
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("A1,Alpine Boulangerie,EUR,")));
        // Actions of the period: the first reminders sent? None sent yet; cancel one and it counts.
        let queued = w
            .store
            .queue_actions(w.a.id, w.today, 10)
            .await
            .expect("queue");
        w.store
            .outbox_cancel(w.a.id, queued[0].id, "test", w.today)
            .await
            .expect("cancel");
        let from = w.today.checked_sub_days(Days::new(30)).expect("date");
        // The cancellation is stamped with the clock's date, which may be after `today` (pinned
        // to the last business day): the period runs a week past it.
        let to = w.today.checked_add_days(Days::new(7)).expect("date");
        let (status, bytes) = w
            .bytes(
                &format!("/c/{a}/reports/actions.xlsx?from={from}&to={to}"),
                &col_a,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let rows = sheet(&bytes);
        assert_eq!(
            rows[0],
            vec!["step", "channel", "sent", "failed", "cancelled"]
        );
        let cancelled: i64 = rows[1..]
            .iter()
            .map(|r| r[4].parse::<i64>().expect("count"))
            .sum();
        assert_eq!(cancelled, 1, "{rows:?}");
        let (status, bytes) = w.bytes(&format!("/c/{a}/reports/dso.xlsx"), &col_a).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(sheet(&bytes)[0][0], "month");
        // Unknown reports and formats, bad days, another creditor.
        for path in [
            format!("/c/{a}/reports/aging.pdf"),
            format!("/c/{a}/reports/secrets.csv"),
            format!("/c/{b}/reports/aging.xlsx"),
            format!("/c/{b}/reports"),
        ] {
            let (status, _) = w.bytes(&path, &col_a).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        }
        let (status, _) = w
            .bytes(&format!("/c/{a}/reports?as_of=yesterday"), &col_a)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let col_b = w.login("col-b@x.example").await;
        let (status, _) = w.bytes(&format!("/c/{a}/reports/aging.csv"), &col_b).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // A viewer may read reports.
        let viewer = w.login("view-a@x.example").await;
        let (status, _) = w.bytes(&format!("/c/{a}/reports/aging.csv"), &viewer).await;
        assert_eq!(status, StatusCode::OK);
    }
);
