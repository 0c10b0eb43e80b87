//! The web application in process for the tests that drive it page by page (`web.rs`,
//! `editors.rs`, `work.rs`): a store on a SQLite file or on PostgreSQL, two creditors with their
//! customers, invoices and users ([`World`]), the router driven with tower's `oneshot`, logins
//! and CSRF tokens. [`on_both!`] runs a test body on SQLite, then on PostgreSQL when
//! `RELANCE_TEST_DATABASE_URL` is set.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use chrono::{Days, NaiveDate};
use relance_core::ids::CreditorId;
use relance_core::ledger::ItemKind;
use relance_core::money::Money;
use relance_core::party::CustomerKind;
use relance_server::{auth, router, today_for, AppState, ServerOptions};
use relance_store::creditors::{CreditorInput, CreditorRecord};
use relance_store::customers::CustomerFields;
use relance_store::imports::InvoiceRecord;
use relance_store::users::Role;
use relance_store::Store;
use rust_decimal::Decimal;

use super::PASSWORD;

pub struct Db {
    pub store: Store,
    _dir: Option<tempfile::TempDir>,
}

pub async fn sqlite() -> Db {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("server.db").display());
    Db {
        store: Store::open(&url).await.expect("open sqlite"),
        _dir: Some(dir),
    }
}

pub async fn postgres() -> Option<Db> {
    let Ok(admin_url) = std::env::var("RELANCE_TEST_DATABASE_URL") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but RELANCE_TEST_DATABASE_URL is not set"
        );
        return None;
    };
    let name = format!(
        "relance_test_server_{}_{}",
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
#[macro_export]
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
pub struct World {
    pub store: Store,
    pub app: Router,
    pub state: AppState,
    pub a: CreditorRecord,
    pub b: CreditorRecord,
    pub today: NaiveDate,
}

pub fn invoice(
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
    pub async fn new(store: &Store) -> World {
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
            app: router(state.clone()),
            state,
            a,
            b,
            today,
        }
    }

    pub async fn send(
        &self,
        request: Request<Body>,
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        super::oneshot(&self.app, request).await
    }

    pub async fn get(
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

    pub async fn post(
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

    pub async fn api(&self, path: &str, token: &str) -> (StatusCode, String) {
        let r = Request::get(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request");
        let (s, _, b) = self.send(r).await;
        (s, b)
    }

    /// Logs in; returns the form's outcome status and the session cookie, if any.
    pub async fn login_with(&self, email: &str, password: &str) -> (StatusCode, Option<String>) {
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

    pub async fn login(&self, email: &str) -> String {
        let (status, cookie) = self.login_with(email, PASSWORD).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "login of {email}");
        cookie.expect("session cookie")
    }

    pub async fn csrf_of(&self, cookie: &str, page: &str) -> String {
        let (status, _, body) = self.get(page, Some(cookie)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let start = body.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
        body[start..start + 64].to_string()
    }
}
