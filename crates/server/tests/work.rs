//! The work queue, imports and reports pages in process (tower's `oneshot` on the real router),
//! on a real SQLite file and, when `RELANCE_TEST_DATABASE_URL` is set, on PostgreSQL: each route
//! scoped to the user's creditors (another creditor's collector gets 404), read-only for a
//! viewer, CSRF-checked; a call outcome lands on the timeline as `relance call` records it; a
//! file with a bad line is refused whole with its positioned errors; the XLSX downloads parse
//! back with the store's totals. (The world and its helpers are those of `web.rs`.)

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use chrono::Days;
use http_body_util::BodyExt;
use relance_store::cases::RunOptions;
use relance_store::creditors::CreditorRecord;
use tower::ServiceExt;

mod support;
use support::world::*;

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
