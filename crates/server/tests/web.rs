//! The web application in process (tower's `oneshot` on the real router), on a real SQLite file
//! and, when `RELANCE_TEST_DATABASE_URL` is set, on PostgreSQL: sessions and CSRF, the rate limit,
//! scoping by creditor on every page and API route, the dashboard's figures, the forms, and the
//! debtor portal's signed links.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use chrono::{Days, NaiveDate};
use relance_core::money::Money;
use relance_server::{auth, portal};
use relance_store::cases::RunOptions;
use relance_store::creditors::CreditorRecord;
use rust_decimal::Decimal;

mod support;
use support::world::*;
use support::PASSWORD;

impl World {
    async fn item_id(&self, creditor: &CreditorRecord, code: &str) -> i64 {
        let customer = self
            .store
            .customer_by_code(creditor.id, code)
            .await
            .expect("query")
            .expect("customer");
        self.store
            .customer_items(creditor.id, customer.id, true)
            .await
            .expect("items")[0]
            .id
    }
}

on_both!(no_session_goes_to_login, |w: World| async move {
    let a = w.a.id.0;
    let item = w.item_id(&w.a, "A1").await;
    for path in [
        "/".to_string(),
        format!("/c/{a}"),
        format!("/c/{a}/customers"),
        format!("/c/{a}/customers/A1"),
        format!("/c/{a}/invoices/{item}"),
    ] {
        let (status, headers, _) = w.get(&path, None).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{path}");
        let location = headers[header::LOCATION].to_str().expect("location");
        assert!(location.starts_with("/login?next="), "{path} → {location}");
    }
    // A made-up session is no session.
    let (status, _, _) = w
        .get(&format!("/c/{a}"), Some("relance_session=00ff"))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = w
        .post(&format!("/c/{a}/customers/A1/note"), None, "text=hello")
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // The API answers 401 without a valid token.
    let (status, _) = w.api("/api/creditors", "rl_nope").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
});

on_both!(
    a_collector_sees_only_their_creditor,
    |w: World| async move {
        let (a, b) = (w.a.id.0, w.b.id.0);
        let cookie = w.login("col-a@x.example").await;
        let a_item = w.item_id(&w.a, "A1").await;
        let b_item = w.item_id(&w.b, "B1").await;
        // Their own creditor: every page answers.
        for path in [
            format!("/c/{a}"),
            format!("/c/{a}/customers"),
            format!("/c/{a}/customers/A1"),
            format!("/c/{a}/invoices/{a_item}"),
            format!("/c/{a}/forecast"),
            format!("/c/{a}/risk"),
            format!("/c/{a}/what-works"),
            format!("/c/{a}/suppliers"),
        ] {
            let (status, _, body) = w.get(&path, Some(&cookie)).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert!(!body.contains("Bleu Secret"), "{path} shows B's customer");
        }
        // The other creditor, directly or through their own creditor's paths: not found.
        for path in [
            format!("/c/{b}"),
            format!("/c/{b}/customers"),
            format!("/c/{b}/customers/B1"),
            format!("/c/{b}/invoices/{b_item}"),
            format!("/c/{b}/forecast"),
            format!("/c/{b}/risk"),
            format!("/c/{b}/what-works"),
            format!("/c/{b}/suppliers"),
            format!("/c/{b}/reports/forecast.csv"),
            format!("/c/{b}/reports/scores.csv"),
            format!("/c/{a}/customers/B1"),
            format!("/c/{a}/invoices/{b_item}"),
            format!("/?c={b}"),
        ] {
            let (status, headers, body) = w.get(&path, Some(&cookie)).await;
            assert!(
                !body.contains("Bleu Secret") && !body.contains("FB-1"),
                "{path} leaked"
            );
            if path.starts_with("/?") {
                assert_eq!(headers[header::LOCATION], format!("/c/{a}").as_str());
            } else {
                assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            }
        }
        // Nor can they write there.
        let csrf = w.csrf_of(&cookie, &format!("/c/{a}/customers/A1")).await;
        let (status, _, _) = w
            .post(
                &format!("/c/{b}/customers/B1/note"),
                Some(&cookie),
                &format!("csrf={csrf}&text=x"),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // The search does not cross creditors either.
        let (_, _, body) = w
            .get(&format!("/c/{a}/customers?q=bleu"), Some(&cookie))
            .await;
        assert!(!body.contains("Bleu Secret"));
        // The API with their token: the same walls.
        let (token, hash) = auth::new_api_token();
        let (user, _) = w
            .store
            .user_by_email("col-a@x.example")
            .await
            .expect("q")
            .expect("user");
        w.store
            .create_api_token(user.id, &hash)
            .await
            .expect("token");
        let (status, body) = w.api("/api/creditors", &token).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            body.contains("Alpha SAS") && !body.contains("Beta SARL"),
            "{body}"
        );
        let (status, body) = w.api(&format!("/api/c/{a}/customers"), &token).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("A1") && !body.contains("B1"), "{body}");
        for path in [
            format!("/api/c/{b}/customers"),
            format!("/api/c/{b}/customers/B1"),
            format!("/api/c/{b}/invoices/{b_item}"),
            format!("/api/c/{a}/customers/B1"),
            format!("/api/c/{a}/invoices/{b_item}"),
        ] {
            let (status, body) = w.api(&path, &token).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        }
        // The admin sees both.
        let admin = w.login("admin@x.example").await;
        let (status, _, body) = w.get(&format!("/c/{b}/customers/B1"), Some(&admin)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("Bleu Secret"));
    }
);

on_both!(
    forms_need_the_csrf_token_and_a_writing_role,
    |w: World| async move {
        let a = w.a.id.0;
        let cookie = w.login("col-a@x.example").await;
        let page = format!("/c/{a}/customers/A1");
        let csrf = w.csrf_of(&cookie, &page).await;
        let note = format!("{page}/note");
        let (status, _, _) = w.post(&note, Some(&cookie), "text=no+token").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _, _) = w
            .post(
                &note,
                Some(&cookie),
                &format!("csrf={}&text=bad+token", "0".repeat(64)),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _, _) = w
            .post(
                &format!("{page}/promise"),
                Some(&cookie),
                "invoice=FA-1&date=2099-01-01",
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _, _) = w
            .post(
                &note,
                Some(&cookie),
                &format!("csrf={csrf}&text=Called+the+accountant"),
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, _, body) = w.get(&page, Some(&cookie)).await;
        assert!(body.contains("Called the accountant"));
        assert!(!body.contains("no token") && !body.contains("bad token"));
        // The login form has its own token.
        let (status, _, _) = w
            .post(
                "/login",
                None,
                &format!(
                    "email=col-a@x.example&password={}",
                    PASSWORD.replace(' ', "+")
                ),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // A viewer reads but cannot write, even with a good token.
        let viewer = w.login("view-a@x.example").await;
        let vcsrf = w.csrf_of(&viewer, &page).await;
        let (status, _, _) = w
            .post(&note, Some(&viewer), &format!("csrf={vcsrf}&text=viewer"))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // Logging out ends the session.
        let (status, _, _) = w
            .post("/logout", Some(&cookie), &format!("csrf={csrf}"))
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (status, _, _) = w.get(&page, Some(&cookie)).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
    }
);

on_both!(logins_are_rate_limited_per_account, |w: World| async move {
    for _ in 0..5 {
        let (status, cookie) = w.login_with("col-a@x.example", "wrong password").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(cookie.is_none());
    }
    // Even the right password is refused now…
    let (status, cookie) = w.login_with("col-a@x.example", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(cookie.is_none());
    // …but only for that account.
    let (status, _) = w.login_with("col-b@x.example", PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
});

on_both!(
    dashboard_figures_are_the_aged_balance,
    |w: World| async move {
        let cookie = w.login("col-a@x.example").await;
        let (status, _, body) = w.get(&format!("/c/{}", w.a.id.0), Some(&cookie)).await;
        assert_eq!(status, StatusCode::OK);
        let lines = w.store.aging(w.a.id, w.today, None).await.expect("aging");
        let total: Decimal = lines.iter().map(|l| l.total()).sum();
        let overdue: Decimal = lines.iter().map(|l| l.overdue()).sum();
        assert_eq!(total, Decimal::new(137_395, 2));
        assert!(
            body.contains(&format!("data-testid=\"total\" data-value=\"{total:.2}\"")),
            "{body}"
        );
        assert!(body.contains(&format!(
            "data-testid=\"overdue\" data-value=\"{overdue:.2}\""
        )));
        assert!(body.contains("<svg"));
        // In English on request.
        let mut r = Request::get(format!("/c/{}", w.a.id.0));
        r = r.header(header::COOKIE, format!("{cookie}; lang=en"));
        let (_, _, en) = w.send(r.body(Body::empty()).expect("request")).await;
        assert!(
            en.contains("Aged balance") && en.contains("€1,373.95"),
            "{en}"
        );
        assert!(body.contains("Balance âgée") && body.contains("1\u{202f}373,95\u{a0}€"));
        // The figures are cached while the ledger is unchanged, and not a moment longer: a
        // payment imported behind the page's back shows at the next view.
        let payment = relance_store::payments::PaymentRecord {
            line: 2,
            date: w.today,
            amount: Money::eur(Decimal::new(10_000, 2)),
            reference: "acompte".into(),
            customer_code: Some("A1".into()),
            invoice_number: Some("FA-1".into()),
            bank_reference: Some("CACHE-1".into()),
            payer_name: None,
            payer_iban: None,
        };
        w.store
            .import_payments(w.a.id, "bank.csv", &[payment], w.today)
            .await
            .expect("payment");
        let (_, _, after) = w.get(&format!("/c/{}", w.a.id.0), Some(&cookie)).await;
        assert!(
            after.contains("data-testid=\"total\" data-value=\"1273.95\""),
            "{after}"
        );
    }
);

on_both!(
    a_promise_made_after_a_dashboard_view_shows_on_the_next_one,
    |w: World| async move {
        // The dashboard keeps its promises while the ledger is unchanged: a promise made
        // meanwhile must show at once, not the next day.
        let a = w.a.id.0;
        let cookie = w.login("col-a@x.example").await;
        let dashboard = format!("/c/{a}");
        let date = w.today.checked_add_days(Days::new(5)).expect("date");
        let (_, _, body) = w.get(&dashboard, Some(&cookie)).await;
        assert!(!body.contains(&format!(", {date}</li>")), "{body}");
        let page = format!("/c/{a}/customers/A1");
        let csrf = w.csrf_of(&cookie, &page).await;
        let (status, _, _) = w
            .post(
                &format!("{page}/promise"),
                Some(&cookie),
                &format!("csrf={csrf}&invoice=FA-1&date={date}&amount="),
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, _, body) = w.get(&dashboard, Some(&cookie)).await;
        assert!(
            body.contains(&format!(", {date}</li>")),
            "the new promise is not on the dashboard: {body}"
        );
    }
);

on_both!(
    a_promise_from_the_customer_page_lands_on_the_timeline,
    |w: World| async move {
        let a = w.a.id.0;
        let cookie = w.login("col-a@x.example").await;
        let page = format!("/c/{a}/customers/A1");
        let csrf = w.csrf_of(&cookie, &page).await;
        let date = w.today.checked_add_days(Days::new(12)).expect("date");
        let (status, headers, _) = w
            .post(
                &format!("{page}/promise"),
                Some(&cookie),
                &format!("csrf={csrf}&invoice=FA-1&date={date}&amount="),
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(headers[header::LOCATION]
            .to_str()
            .expect("loc")
            .ends_with("?done=1"));
        let (_, _, body) = w.get(&page, Some(&cookie)).await;
        assert!(
            body.contains(&format!("promised to pay 1000.00 EUR by {date}")),
            "{body}"
        );
        // Another customer's invoice cannot be promised from this page.
        let (status, headers, _) = w
            .post(
                &format!("/c/{a}/customers/A2/promise"),
                Some(&cookie),
                &format!("csrf={csrf}&invoice=FA-1&date={date}"),
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(headers[header::LOCATION]
            .to_str()
            .expect("loc")
            .contains("error="));
    }
);

on_both!(
    the_portal_link_is_signed_and_expires,
    |w: World| async move {
        let key = w.state.clone();
        let _ = key;
        let secret = portal::portal_key(&w.store).await.expect("key");
        let a = w.a.id.0;
        let good = portal::link_path(&secret, a, "A1", w.today);
        let (status, _, body) = w.get(&good, None).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("FA-1") && body.contains("FR7630006000011234567890189"));
        // The link the dispatcher puts in every reminder opens the same page.
        let sent =
            relance_dispatch::portal_link::link("http://relance.test/", &secret, a, "A1", w.today);
        let path = sent.strip_prefix("http://relance.test").expect("base");
        let (status, _, from_message) = w.get(path, None).await;
        assert_eq!(status, StatusCode::OK, "{sent}");
        assert!(from_message.contains("FA-1"));
        // Altered: another customer with the same signature, another expiry.
        let altered = good.replace("u=A1", "u=A2");
        assert_eq!(w.get(&altered, None).await.0, StatusCode::FORBIDDEN);
        let later = w.today.checked_add_days(Days::new(1)).expect("date");
        let moved = good.replace(&format!("e={}", w.today), &format!("e={later}"));
        assert_eq!(w.get(&moved, None).await.0, StatusCode::FORBIDDEN);
        // Expired yesterday, though properly signed.
        let yesterday = w.today.checked_sub_days(Days::new(1)).expect("date");
        let expired = portal::link_path(&secret, a, "A1", yesterday);
        assert_eq!(w.get(&expired, None).await.0, StatusCode::FORBIDDEN);
        // A form posted with an altered link is refused too.
        let sig = portal::sign(&secret, a, "A1", w.today);
        let (status, _, _) = w
            .post(
                "/portal/promise",
                None,
                &format!("c={a}&u=A2&e={}&s={sig}&invoice=FA-3&date={later}", w.today),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        // Customer A1 cannot act on A2's invoice.
        let (status, _, _) = w
            .post(
                "/portal/promise",
                None,
                &format!("c={a}&u=A1&e={}&s={sig}&invoice=FA-3&date={later}", w.today),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
);

on_both!(
    a_promise_on_the_portal_pauses_the_case,
    |w: World| async move {
        let a = w.a.id.0;
        let options = RunOptions {
            as_of: w.today,
            dry_run: true,
            full: false,
        };
        let before = w.store.run_day(w.a.id, options).await.expect("dry run");
        let planned_for_a1 = |actions: &[relance_core::planner::PlannedAction]| {
            actions.iter().filter(|x| x.customer_code == "A1").count()
        };
        assert!(
            planned_for_a1(&before) > 0,
            "the test needs a reminder due for A1: {before:?}"
        );
        let secret = portal::portal_key(&w.store).await.expect("key");
        let expires = w.today.checked_add_days(Days::new(30)).expect("date");
        let sig = portal::sign(&secret, a, "A1", expires);
        let promised = w.today.checked_add_days(Days::new(10)).expect("date");
        let (status, headers, _) = w
            .post(
                "/portal/promise",
                None,
                &format!("c={a}&u=A1&e={expires}&s={sig}&invoice=FA-1&date={promised}"),
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "portal promise");
        assert!(headers[header::LOCATION]
            .to_str()
            .expect("loc")
            .contains("done=1"));
        let after = w
            .store
            .run_day(
                w.a.id,
                RunOptions {
                    dry_run: false,
                    ..options
                },
            )
            .await
            .expect("run");
        assert_eq!(
            planned_for_a1(&after),
            0,
            "the promise pauses A1: {after:?}"
        );
        let timeline = w
            .store
            .timeline(w.a.id, Some("A1"))
            .await
            .expect("timeline");
        assert!(timeline.iter().any(|e| e.kind == "promise"));
        // A dispute with a message from the portal lands on the timeline as well.
        let (status, _, _) = w
            .post(
                "/portal/dispute",
                None,
                &format!("c={a}&u=A1&e={expires}&s={sig}&invoice=FA-2&message=Never+delivered"),
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let timeline = w
            .store
            .timeline(w.a.id, Some("A1"))
            .await
            .expect("timeline");
        assert!(timeline
            .iter()
            .any(|e| e.kind == "dispute" && e.summary.contains("Never delivered")));
    }
);

on_both!(
    the_customer_list_pages_with_a_cursor,
    |w: World| async move {
        use relance_store::web_queries::{CustomerQuery, CustomerSort};
        // 7 more customers for A, then pages of 3 by name, both directions.
        let mut s = w
            .store
            .begin_invoice_import(w.a.id, "more", w.today)
            .await
            .expect("import");
        for i in 0..7 {
            s.push(invoice(
                &format!("FX-{i}"),
                &format!("X{i}"),
                &format!("Client {i}"),
                w.today,
                w.today,
                1000,
            ))
            .await
            .expect("push");
        }
        s.commit(0).await.expect("commit");
        for (sort, descending) in [(CustomerSort::Name, false), (CustomerSort::Code, true)] {
            let mut seen = Vec::new();
            let mut after = None;
            loop {
                let page = w
                    .store
                    .customer_page(
                        w.a.id,
                        &CustomerQuery {
                            sort,
                            descending,
                            after: after.clone(),
                            limit: 3,
                            as_of: Some(w.today),
                            ..CustomerQuery::default()
                        },
                    )
                    .await
                    .expect("page");
                seen.extend(page.rows.iter().map(|r| {
                    if sort == CustomerSort::Name {
                        r.name.clone()
                    } else {
                        r.code.clone()
                    }
                }));
                match page.next {
                    Some(n) => after = Some(n),
                    None => break,
                }
            }
            let mut sorted = seen.clone();
            sorted.sort();
            if descending {
                sorted.reverse();
            }
            assert_eq!(seen.len(), 9, "{seen:?}");
            assert_eq!(seen, sorted);
        }
        let overdue = w
            .store
            .customer_page(
                w.a.id,
                &CustomerQuery {
                    overdue_only: true,
                    limit: 50,
                    as_of: Some(w.today),
                    ..CustomerQuery::default()
                },
            )
            .await
            .expect("page");
        let codes: Vec<&str> = overdue.rows.iter().map(|r| r.code.as_str()).collect();
        assert_eq!(codes, ["A1", "A2"]);
    }
);

// ---------------------------------------------------------------- REST API

impl World {
    /// A new API token of the user with this e-mail address.
    async fn token_for(&self, email: &str) -> String {
        let (token, hash) = auth::new_api_token();
        let (user, _) = self
            .store
            .user_by_email(email)
            .await
            .expect("query")
            .expect("user");
        self.store
            .create_api_token(user.id, &hash)
            .await
            .expect("token");
        token
    }

    async fn api_post(
        &self,
        path: &str,
        token: &str,
        body: &serde_json::Value,
        key: Option<&str>,
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        let mut r = Request::post(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(k) = key {
            r = r.header("Idempotency-Key", k);
        }
        self.send(r.body(Body::from(body.to_string())).expect("request"))
            .await
    }

    /// What creditor B has: a fingerprint of its payments, events and cases.
    async fn b_state(&self) -> String {
        let payments = self
            .store
            .payment_lines(self.b.id, None)
            .await
            .expect("payments")
            .len();
        let events = self
            .store
            .timeline(self.b.id, None)
            .await
            .expect("events")
            .len();
        let cases = self
            .store
            .case_lines(self.b.id, self.today, None)
            .await
            .expect("cases");
        format!("{payments} payments, {events} events, {cases:?}")
    }
}

/// A valid body for each write route of the API, by the end of its path. A new write route
/// without one here fails `api_routes_never_cross_creditors`, so it cannot go untested.
fn write_body(path: &str, today: NaiveDate) -> serde_json::Value {
    let later = today.checked_add_days(Days::new(30)).expect("date");
    if path.ends_with("/payments") {
        serde_json::json!({ "received_on": today.to_string(), "amount": "10.00", "customer": "B1" })
    } else if path.ends_with("/promises") {
        serde_json::json!({ "invoice": "FB-1", "promised_for": later.to_string() })
    } else if path.ends_with("/disputes") {
        serde_json::json!({ "invoice": "FB-1", "reason": "not delivered" })
    } else if path.ends_with("/holds") {
        serde_json::json!({ "until": later.to_string(), "reason": "talks" })
    } else {
        panic!("no test body for the write route {path}: add one to write_body")
    }
}

on_both!(api_routes_never_cross_creditors, |w: World| async move {
    let (a, b) = (w.a.id.0, w.b.id.0);
    let b_item = w.item_id(&w.b, "B1").await;
    let token_a = w.token_for("col-a@x.example").await;
    let token_b = w.token_for("col-b@x.example").await;
    // Every route of the OpenAPI document, so that a new route is covered when it is added.
    let doc = serde_json::to_value(relance_server::api::ApiDoc::openapi_document()).expect("doc");
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 12, "{:?}", paths.keys());
    let before = w.b_state().await;
    let mut checked = 0;
    for (template, item) in paths {
        let methods: Vec<&str> = ["get", "post"]
            .into_iter()
            .filter(|m| item.get(*m).is_some())
            .collect();
        assert!(!methods.is_empty(), "{template}");
        if !template.contains("{creditor}") {
            continue;
        }
        let fill = |creditor: i64| {
            template
                .replace("{creditor}", &creditor.to_string())
                .replace("{code}", "B1")
                .replace("{id}", &b_item.to_string())
        };
        for method in methods {
            // B's own collector reaches it (so the route and the identifiers are right) …
            // … writes are checked without their effect: B's state is compared below.
            if method == "get" {
                let (status, body) = w.api(&fill(b), &token_b).await;
                assert_eq!(status, StatusCode::OK, "{template} as B: {body}");
            }
            // A's collector gets 404 on B's creditor, and nothing of B through A's creditor.
            for (path, same_creditor) in [(fill(b), false), (fill(a), true)] {
                if same_creditor && !(template.contains("{code}") || template.contains("{id}")) {
                    // A's own list: must not show B's rows.
                    if method == "get" {
                        let (status, body) = w.api(&path, &token_a).await;
                        assert_eq!(status, StatusCode::OK, "{path}: {body}");
                        for secret in ["Bleu Secret", "FB-1", "\"B1\""] {
                            assert!(!body.contains(secret), "{path} shows {secret}: {body}");
                        }
                    }
                    continue;
                }
                let (status, body) = if method == "get" {
                    w.api(&path, &token_a).await
                } else {
                    let (s, _, b) = w
                        .api_post(&path, &token_a, &write_body(template, w.today), None)
                        .await;
                    (s, b)
                };
                assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {body}");
                assert!(!body.contains("Bleu Secret"), "{path}: {body}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 14, "only {checked} requests checked");
    // A payment through A's creditor naming B's customer is refused, and B is untouched.
    let (status, _, body) = w
        .api_post(
            &format!("/api/c/{a}/payments"),
            &token_a,
            &write_body("/payments", w.today),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(w.b_state().await, before);
    // The same writes by B's collector do change B (the check above could see a change).
    let (status, _, body) = w
        .api_post(
            &format!("/api/c/{b}/customers/B1/holds"),
            &token_b,
            &write_body("/holds", w.today),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_ne!(w.b_state().await, before);
    // Without a token, or with an unknown one: 401 in JSON.
    let (status, body) = w.api(&format!("/api/c/{a}/invoices"), "rl_nope").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("\"code\":\"unauthorized\""), "{body}");
});

on_both!(
    api_lists_page_through_every_row_once,
    |w: World| async move {
        let a = w.a.id.0;
        let token = w.token_for("view-a@x.example").await;
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/c/{a}/invoices?limit=1&cursor={c}"),
                None => format!("/api/c/{a}/invoices?limit=1"),
            };
            let (status, body) = w.api(&path, &token).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let page: serde_json::Value = serde_json::from_str(&body).expect("json");
            let data = page["data"].as_array().expect("data");
            assert!(data.len() <= 1);
            for row in data {
                seen.push(row["number"].as_str().expect("number").to_string());
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
            assert!(seen.len() < 10, "the pages do not end: {seen:?}");
        }
        seen.sort();
        assert_eq!(seen, ["FA-1", "FA-2", "FA-3"]);
        // Filtered to one customer, or to a code the creditor does not have.
        for (customer, expected) in [
            ("A2", vec!["FA-3"]),
            ("A1", vec!["FA-1", "FA-2"]),
            ("B1", vec![]),
        ] {
            let (status, body) = w
                .api(&format!("/api/c/{a}/invoices?customer={customer}"), &token)
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let page: serde_json::Value = serde_json::from_str(&body).expect("json");
            let numbers: Vec<&str> = page["data"]
                .as_array()
                .expect("data")
                .iter()
                .filter_map(|r| r["number"].as_str())
                .collect();
            assert_eq!(numbers, expected, "{customer}: {body}");
        }
        // Customers too, by name, descending.
        let (_, body) = w
            .api(
                &format!("/api/c/{a}/customers?limit=1&sort=name&order=desc"),
                &token,
            )
            .await;
        let page: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert_eq!(page["data"][0]["name"], "Azur Garage", "{body}");
        let next = page["next_cursor"].as_str().expect("a second page");
        let (_, body) = w
            .api(
                &format!("/api/c/{a}/customers?limit=1&sort=name&order=desc&cursor={next}"),
                &token,
            )
            .await;
        let page: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert_eq!(page["data"][0]["name"], "Alpine Boulangerie", "{body}");
        assert!(page["next_cursor"].is_null(), "{body}");
        // The aged balance's totals are the invoices' open amounts.
        let (status, body) = w.api(&format!("/api/c/{a}/reports/aging"), &token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let report: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert_eq!(report["totals"][0]["total"], "1373.95", "{body}");
        assert_eq!(report["totals"][0]["over_90"], "0.00", "{body}");
        assert_eq!(report["totals"][0]["days_31_60"], "1000.00", "{body}");
        assert_eq!(report["data"].as_array().map(Vec::len), Some(2), "{body}");
        // Bad parameters are 400 with a JSON body naming the parameter.
        for (query, field) in [
            ("limit=0", "limit"),
            ("limit=501", "limit"),
            ("cursor=zz", "cursor"),
            ("cursor=41", "cursor"),
        ] {
            let (status, body) = w.api(&format!("/api/c/{a}/invoices?{query}"), &token).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
            assert!(
                body.contains("\"code\":\"bad_request\"") && body.contains(field),
                "{body}"
            );
        }
    }
);

on_both!(
    api_idempotency_key_replays_the_first_answer,
    |w: World| async move {
        let a = w.a.id.0;
        let token = w.token_for("col-a@x.example").await;
        let path = format!("/api/c/{a}/payments");
        let pay = serde_json::json!({
            "received_on": w.today.to_string(), "amount": "100.00", "customer": "A1",
            "bank_reference": "BANK-1",
        });
        let (status, headers, first) = w.api_post(&path, &token, &pay, Some("k-1")).await;
        assert_eq!(status, StatusCode::CREATED, "{first}");
        assert!(first.contains("\"created\":1"), "{first}");
        assert!(headers.get("idempotent-replayed").is_none());
        // The same key and body: the same answer, replayed, and still one payment.
        let (status, headers, again) = w.api_post(&path, &token, &pay, Some("k-1")).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(again, first);
        assert_eq!(
            headers
                .get("idempotent-replayed")
                .and_then(|v| v.to_str().ok()),
            Some("true")
        );
        // The same key with another body: refused.
        let other = serde_json::json!({
            "received_on": w.today.to_string(), "amount": "200.00", "customer": "A1",
        });
        let (status, _, body) = w.api_post(&path, &token, &other, Some("k-1")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.contains("idempotency_key_reused"), "{body}");
        let (_, body) = w.api(&path, &token).await;
        let page: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert_eq!(page["data"].as_array().map(Vec::len), Some(1), "{body}");
        assert_eq!(page["data"][0]["amount"]["amount"], "100.00", "{body}");
        // Keys are per user: another user's same key runs its own request.
        let admin = w.token_for("admin@x.example").await;
        let (status, _, body) = w.api_post(&path, &admin, &other, Some("k-1")).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert!(body.contains("\"created\":1"), "{body}");
        // A viewer may not write, key or not.
        let viewer = w.token_for("view-a@x.example").await;
        let (status, _, body) = w.api_post(&path, &viewer, &pay, Some("k-2")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        // A promise through the API pauses the case, and lands on the timeline.
        let later = w.today.checked_add_days(Days::new(20)).expect("date");
        let (status, _, body) = w
            .api_post(
                &format!("/api/c/{a}/customers/A1/promises"),
                &token,
                &serde_json::json!({ "invoice": "FA-1", "promised_for": later.to_string() }),
                Some("p-1"),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let recorded: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert_eq!(
            recorded["case"]["promise"]["promised_for"],
            later.to_string(),
            "{body}"
        );
        let (_, body) = w
            .api(&format!("/api/c/{a}/events?customer=A1&limit=5"), &token)
            .await;
        assert!(body.contains("\"kind\":\"promise\""), "{body}");
    }
);

#[tokio::test]
async fn the_openapi_document_is_served_and_lists_every_route() {
    let db = sqlite().await;
    let w = World::new(&db.store).await;
    let (status, _, body) = w.get("/api/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    let doc: serde_json::Value = serde_json::from_str(&body).expect("json");
    for path in [
        "/api/creditors",
        "/api/c/{creditor}/customers",
        "/api/c/{creditor}/customers/{code}",
        "/api/c/{creditor}/invoices",
        "/api/c/{creditor}/invoices/{id}",
        "/api/c/{creditor}/payments",
        "/api/c/{creditor}/cases",
        "/api/c/{creditor}/actions",
        "/api/c/{creditor}/events",
        "/api/c/{creditor}/policies",
        "/api/c/{creditor}/reports/aging",
        "/api/c/{creditor}/customers/{code}/promises",
        "/api/c/{creditor}/customers/{code}/disputes",
        "/api/c/{creditor}/customers/{code}/holds",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing");
    }
    assert!(doc["paths"]["/api/c/{creditor}/payments"]["post"].is_object());
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}
