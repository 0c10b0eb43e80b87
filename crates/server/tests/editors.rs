//! The editors and the settings page in process (tower's `oneshot` on the real router), on a
//! real SQLite file and, when `RELANCE_TEST_DATABASE_URL` is set, on PostgreSQL: who may read
//! and who may change each page, a hostile template refused with the stored one unchanged, the
//! live preview of unsaved text (e-mail and PDF, read back with pdftotext), a policy edit that
//! changes what the daily run plans, settings that appear in a rendered letter, and the DSO
//! on the dashboard.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use relance_core::planner::{Channel, Policy};
use relance_render::{render_letter_pdf, StepId};
use relance_server::today_for;
use relance_store::cases::RunOptions;
use rust_decimal::Decimal;
use tower::ServiceExt;

mod support;
use support::world::*;

/// Percent-encodes a form value.
fn enc(text: &str) -> String {
    relance_server::pages::url_encode(text)
}

/// A `multipart/form-data` body: text fields, then files (name, file name, type, bytes).
fn multipart(texts: &[(&str, &str)], files: &[(&str, &str, &str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----relance-test-boundary-7f3a";
    let mut body = Vec::new();
    for (name, value) in texts {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    for (name, file_name, kind, data) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: {kind}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

impl World {
    async fn post_multipart(
        &self,
        path: &str,
        cookie: &str,
        texts: &[(&str, &str)],
        files: &[(&str, &str, &str, &[u8])],
    ) -> (StatusCode, axum::http::HeaderMap, String) {
        let (content_type, body) = multipart(texts, files);
        let r = Request::post(path)
            .header(header::CONTENT_TYPE, content_type)
            .header(header::COOKIE, cookie)
            .body(Body::from(body))
            .expect("request");
        self.send(r).await
    }

    async fn get_bytes(
        &self,
        path: &str,
        cookie: &str,
    ) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let r = Request::get(path)
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .expect("request");
        let response = self.app.clone().oneshot(r).await.expect("response");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, headers, body.to_vec())
    }

    async fn post_bytes(
        &self,
        path: &str,
        cookie: &str,
        form: &str,
    ) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let r = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::COOKIE, cookie)
            .body(Body::from(form.to_string()))
            .expect("request");
        let response = self.app.clone().oneshot(r).await.expect("response");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, headers, body.to_vec())
    }

    /// The source of a template in force for creditor A, as the dispatcher reads it.
    async fn template_in_force(&self, step: StepId, part: relance_render::Part) -> String {
        let templates = relance_dispatch::templates_for(&self.store, self.a.id)
            .await
            .expect("templates");
        templates.source(relance_render::TemplateKey::new(
            step,
            relance_core::party::Language::Fr,
            part,
        ))
    }
}

/// The form fields of a policy, as the editor posts them.
fn policy_form(csrf: &str, p: &Policy) -> String {
    let mut f = vec![
        ("csrf".to_string(), csrf.to_string()),
        ("name".into(), p.name.clone()),
        ("grouping".into(), "per_customer".into()),
        ("minimum_amount".into(), p.minimum_amount.to_plain_string()),
        ("currency".into(), "EUR".into()),
        ("tags".into(), p.conditions.tags.join(", ")),
    ];
    for (i, s) in p.steps.iter().enumerate() {
        let k = |n: &str| format!("s{i}.{n}");
        f.push((k("position"), (i + 1).to_string()));
        f.push((k("id"), s.id.clone()));
        f.push((k("offset_days"), s.offset_days.to_string()));
        f.push((
            k("anchor"),
            serde_json::to_value(s.anchor)
                .expect("anchor")
                .as_str()
                .expect("name")
                .to_string(),
        ));
        for c in &s.channels {
            f.push((k("channels"), c.as_str().to_string()));
        }
        if let Some(list) = &s.without_email {
            let names: Vec<&str> = list.iter().map(Channel::as_str).collect();
            f.push((k("without_email"), names.join(",")));
        }
        f.push((k("template"), s.template.clone()));
        f.push((
            k("tone"),
            serde_json::to_value(s.tone)
                .expect("tone")
                .as_str()
                .expect("name")
                .to_string(),
        ));
        if s.per_invoice_before_due {
            f.push((k("before_due"), "1".into()));
        }
        if s.attach_statement {
            f.push((k("attach_statement"), "1".into()));
        }
        if let Some(e) = &s.experiment {
            f.push((k("exp_name"), e.name.clone()));
            f.push((k("exp_share_b"), e.share_b.to_string()));
            let opt = |v: Option<String>| v.unwrap_or_default();
            f.push((
                k("exp_offset_days"),
                opt(e.offset_days.map(|d| d.to_string())),
            ));
            f.push((k("exp_template"), opt(e.template.clone())));
            f.push((
                k("exp_tone"),
                opt(e.tone.map(|t| {
                    serde_json::to_value(t)
                        .expect("tone")
                        .as_str()
                        .expect("name")
                        .to_string()
                })),
            ));
            f.push((k("exp_send_hour"), opt(e.send_hour.map(|h| h.to_string()))));
        }
    }
    f.iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn tool(name: &str, args: &[&str]) -> Option<String> {
    match std::process::Command::new(name).args(args).output() {
        Ok(out) if out.status.success() => Some(String::from_utf8_lossy(&out.stdout).into_owned()),
        Ok(out) => panic!("{name} {args:?}: {}", String::from_utf8_lossy(&out.stderr)),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{name} (poppler-utils) is required in CI")
        }
        _ => None,
    }
}

/// The PDF's text with words separated by single spaces; `None` without pdftotext (not in CI).
fn pdf_text(pdf: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, pdf).expect("write pdf");
    let text = tool("pdftotext", &["-layout", &path.display().to_string(), "-"])?;
    Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
}

on_both!(pages_answer_by_role_and_creditor, |w: World| async move {
    let (a, b) = (w.a.id.0, w.b.id.0);
    let pages = |c: i64| {
        vec![
            format!("/c/{c}/policies"),
            format!("/c/{c}/policies/standard_fr"),
            format!("/c/{c}/policies/export?format=toml"),
            format!("/c/{c}/policies/export?format=json"),
            format!("/c/{c}/templates"),
            format!("/c/{c}/templates/first_reminder/fr/body"),
            format!("/c/{c}/templates/formal_notice/en/letter"),
            format!("/c/{c}/settings"),
        ]
    };
    // No session: the login page.
    for path in pages(a) {
        let (status, headers, _) = w.get(&path, None).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{path}");
        assert!(headers[header::LOCATION]
            .to_str()
            .expect("loc")
            .starts_with("/login"));
    }
    let viewer = w.login("view-a@x.example").await;
    let collector = w.login("col-a@x.example").await;
    let other = w.login("col-b@x.example").await;
    for path in pages(a) {
        for (who, cookie) in [("viewer", &viewer), ("collector", &collector)] {
            let (status, _, body) = w.get(&path, Some(cookie)).await;
            assert_eq!(status, StatusCode::OK, "{who} {path}");
            assert!(
                !body.contains("Bleu Secret") && !body.contains("Beta SARL\""),
                "{path}"
            );
        }
        // Another creditor's user: not found.
        let (status, _, body) = w.get(&path, Some(&other)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(!body.contains("Alpha SAS"));
    }
    // Unknown step, language, part or policy: not found.
    for path in [
        format!("/c/{a}/templates/nope/fr/body"),
        format!("/c/{a}/templates/first_reminder/de/body"),
        format!("/c/{a}/templates/first_reminder/fr/nope"),
        format!("/c/{a}/policies/nope"),
        format!("/c/{b}/settings/logo"),
    ] {
        let (status, _, _) = w.get(&path, Some(&collector)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    // A collector and a viewer see the forms but may not save: 403, nothing changes.
    let csrf = w
        .csrf_of(&collector, &format!("/c/{a}/policies/standard_fr"))
        .await;
    let mut policy = Policy::default_french();
    policy.steps[1].offset_days = 9;
    let (status, _, _) = w
        .post(
            &format!("/c/{a}/policies/standard_fr"),
            Some(&collector),
            &policy_form(&csrf, &policy),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        w.store.policies(w.a.id).await.expect("policies"),
        vec![Policy::default_french()]
    );
    let (status, _, _) = w
        .post(
            &format!("/c/{a}/templates/first_reminder/fr/subject"),
            Some(&collector),
            &format!("csrf={csrf}&source=Hello"),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(w
        .store
        .template_overrides(w.a.id)
        .await
        .expect("t")
        .is_empty());
    let (status, _, _) = w
        .post_multipart(
            &format!("/c/{a}/settings"),
            &collector,
            &[
                ("csrf", &csrf),
                ("name", "Pwned"),
                ("time_zone", "Europe/Paris"),
            ],
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let vcsrf = w.csrf_of(&viewer, &format!("/c/{a}/settings")).await;
    let (status, _, _) = w
        .post_multipart(
            &format!("/c/{a}/policies/import"),
            &viewer,
            &[("csrf", &vcsrf), ("text", "id = \"x\"")],
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // B's collector cannot write to A either (404 before anything else).
    let bcsrf = w.csrf_of(&other, &format!("/c/{b}/settings")).await;
    let (status, _, _) = w
        .post_multipart(
            &format!("/c/{a}/settings"),
            &other,
            &[
                ("csrf", &bcsrf),
                ("name", "Pwned"),
                ("time_zone", "Europe/Paris"),
            ],
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // And without the CSRF token, not even an admin.
    let admin = w.login("admin@x.example").await;
    let (status, _, _) = w
        .post(
            &format!("/c/{a}/policies/standard_fr"),
            Some(&admin),
            &policy_form("0000", &policy),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let creditors = w.store.creditors().await.expect("creditors");
    assert!(creditors.iter().all(|c| c.name != "Pwned"));
});

on_both!(
    a_hostile_template_is_refused_and_the_stored_one_kept,
    |w: World| async move {
        let a = w.a.id.0;
        let admin = w.login("admin@x.example").await;
        let page = format!("/c/{a}/templates/first_reminder/fr/subject");
        let csrf = w.csrf_of(&admin, &page).await;
        let builtin = w
            .template_in_force(StepId::FirstReminder, relance_render::Part::Subject)
            .await;
        // A good version first.
        let good = "Relance {{ invoice_numbers }} — {{ creditor.name }}";
        let (status, headers, _) = w
            .post(
                &page,
                Some(&admin),
                &format!("csrf={csrf}&note=v1&source={}", enc(good)),
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(headers[header::LOCATION]
            .to_str()
            .expect("loc")
            .contains("saved=1"));
        assert_eq!(
            w.template_in_force(StepId::FirstReminder, relance_render::Part::Subject)
                .await,
            good
        );
        assert_ne!(good, builtin);
        for (hostile, expected) in [
            ("Bonjour {{ no_such_variable }}", "no_such_variable"),
            ("{% for x in creditor %}", "syntax"),
            ("{{ creditor.__class__.__init__.__globals__ }}", ""),
            (
                "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
                "",
            ),
            ("{% include \"/etc/passwd\" %}", ""),
        ] {
            let (status, _, body) = w
                .post(
                    &page,
                    Some(&admin),
                    &format!("csrf={csrf}&source={}", enc(hostile)),
                )
                .await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{hostile}");
            assert!(body.contains("id=\"save-error\""), "{hostile}: no message");
            assert!(body.to_lowercase().contains(expected), "{hostile}: {body}");
            // The refused text is shown back for fixing, escaped.
            assert!(!body.contains("<textarea id=\"source\" name=\"source\" rows=\"22\" spellcheck=\"false\" class=\"mono code\" aria-invalid=\"true\" aria-describedby=\"save-error\"></textarea>"));
            assert_eq!(
                w.template_in_force(StepId::FirstReminder, relance_render::Part::Subject)
                    .await,
                good,
                "{hostile} changed the stored template"
            );
        }
        let history = w
            .store
            .template_history(
                w.a.id,
                &relance_store::templates::TemplateId {
                    step: "first_reminder".into(),
                    language: "fr".into(),
                    part: "subject".into(),
                },
            )
            .await
            .expect("history");
        assert_eq!(history.len(), 1);
        // Reset goes back to the built-in text, as a new version.
        let (status, _, _) = w
            .post(
                &page,
                Some(&admin),
                &format!("csrf={csrf}&action=reset&source="),
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(
            w.template_in_force(StepId::FirstReminder, relance_render::Part::Subject)
                .await,
            builtin
        );
    }
);

on_both!(the_preview_renders_unsaved_text, |w: World| async move {
    let a = w.a.id.0;
    // A viewer may preview (nothing is saved).
    let viewer = w.login("view-a@x.example").await;
    let page = format!("/c/{a}/templates/first_reminder/fr/body");
    let csrf = w.csrf_of(&viewer, &page).await;
    let (_, _, editor) = w.get(&page, Some(&viewer)).await;
    assert!(editor.contains("creditor.name"), "the variables are listed");
    assert!(
        editor.contains("A2"),
        "the customers to preview are offered"
    );
    let source = "Madame, Monsieur,\n\nMarqueur-7Q : {{ debtor.name }} doit {{ totals.open|money }}.\n\n[[invoices]]\n";
    let form = format!(
        "csrf={csrf}&customer=A2&format=email&source={}",
        enc(source)
    );
    let (status, headers, body) = w
        .post(&format!("{page}/preview"), Some(&viewer), &form)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .expect("type")
        .starts_with("text/html"));
    assert!(
        body.contains("Marqueur-7Q : Azur Garage doit 123,45"),
        "{body}"
    );
    assert!(body.contains("id=\"preview-subject\""));
    // The HTML part sits in a sandboxed frame, escaped into its srcdoc.
    assert!(body.contains("<iframe sandbox=\"\""));
    assert!(body.contains("Marqueur-7Q : Azur Garage"));
    // The letter: a PDF whose text carries the unsaved line and the customer.
    let form = format!(
        "csrf={csrf}&customer=A2&format=letter&source={}",
        enc(source)
    );
    let (status, headers, pdf) = w
        .post_bytes(&format!("{page}/preview"), &viewer, &form)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/pdf");
    assert!(pdf.starts_with(b"%PDF"));
    if let Some(text) = pdf_text(&pdf) {
        assert!(
            text.contains("Marqueur-7Q : Azur Garage doit 123,45"),
            "{text}"
        );
        assert!(text.contains("FA-3"), "{text}");
    }
    // Sample data when no customer is chosen; the creditor's own name on it.
    let form = format!("csrf={csrf}&format=email&source={}", enc(source));
    let (status, _, body) = w
        .post(&format!("{page}/preview"), Some(&viewer), &form)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Marqueur-7Q"));
    // A broken text: the renderer's message, no preview.
    let form = format!("csrf={csrf}&format=email&source={}", enc("{{ nope }}"));
    let (status, _, body) = w
        .post(&format!("{page}/preview"), Some(&viewer), &form)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("preview-error"), "{body}");
    assert!(body.contains("undefined value"), "{body}");
    // Nothing was saved by any preview.
    assert!(w
        .store
        .template_overrides(w.a.id)
        .await
        .expect("t")
        .is_empty());
    // Without the CSRF token: refused.
    let (status, _, _) = w
        .post(
            &format!("{page}/preview"),
            Some(&viewer),
            &format!("format=email&source={}", enc(source)),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
});

on_both!(
    a_policy_edit_changes_what_the_run_plans,
    |w: World| async move {
        let a = w.a.id.0;
        let plan = || async {
            let mut actions = w
                .store
                .run_day(
                    w.a.id,
                    RunOptions {
                        as_of: w.today,
                        dry_run: true,
                        full: true,
                    },
                )
                .await
                .expect("dry run");
            actions.sort_by(|x, y| (&x.customer_code, &x.step).cmp(&(&y.customer_code, &y.step)));
            actions
                .into_iter()
                .map(|x| (x.customer_code, x.step))
                .collect::<Vec<_>>()
        };
        let before = plan().await;
        // A2's only invoice fell due 5 days ago: the first reminder (due date + 1) is planned.
        assert!(
            before.contains(&("A2".to_string(), "first_reminder".to_string())),
            "{before:?}"
        );
        let admin = w.login("admin@x.example").await;
        let page = format!("/c/{a}/policies/standard_fr");
        let csrf = w.csrf_of(&admin, &page).await;
        // A field the form cannot read, and one the core refuses: both shown, nothing saved.
        let mut policy = Policy::default_french();
        let bad = policy_form(&csrf, &policy).replace("s1.offset_days=1", "s1.offset_days=soon");
        let (status, _, body) = w.post(&page, Some(&admin), &bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("id=\"err-s1-offset_days\""), "{body}");
        assert!(
            body.contains("value=\"soon\""),
            "the typed value comes back"
        );
        policy.steps[2].offset_days = -3;
        let (status, _, body) = w
            .post(&page, Some(&admin), &policy_form(&csrf, &policy))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("id=\"err-s2-offset_days\""), "{body}");
        assert!(body.contains("0 days or more"));
        assert_eq!(
            w.store.policies(w.a.id).await.expect("p"),
            vec![Policy::default_french()]
        );
        assert_eq!(plan().await, before);
        // The first reminder now waits 30 days after the due date.
        let mut policy = Policy::default_french();
        policy.steps[1].offset_days = 30;
        let (status, headers, _) = w
            .post(&page, Some(&admin), &policy_form(&csrf, &policy))
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(
            headers[header::LOCATION],
            format!("{page}?saved=1").as_str()
        );
        assert_eq!(w.store.policies(w.a.id).await.expect("p"), vec![policy]);
        let after = plan().await;
        assert!(!after.iter().any(|(c, _)| c == "A2"), "{after:?}");
        // A1's invoice, 60 days late, is still chased.
        assert!(after.iter().any(|(c, _)| c == "A1"), "{after:?}");
        // The page shows the saved delay, and B's policies did not move.
        let (_, _, body) = w.get(&format!("{page}?saved=1"), Some(&admin)).await;
        assert!(
            body.contains("name=\"s1.offset_days\" value=\"30\""),
            "{body}"
        );
        // The statement checkbox: ticked on the second reminder (the default), and saved when
        // ticked on the first reminder too.
        let ticked = |body: &str, step: usize| {
            body.split(&format!("name=\"s{step}.attach_statement\""))
                .nth(1)
                .and_then(|rest| rest.split('>').next())
                .is_some_and(|tag| tag.contains("checked"))
        };
        assert!(ticked(&body, 3), "second reminder: {body}");
        assert!(!ticked(&body, 1), "first reminder: {body}");
        let mut policy = w.store.policies(w.a.id).await.expect("p").remove(0);
        policy.steps[1].attach_statement = true;
        let (status, _, _) = w
            .post(&page, Some(&admin), &policy_form(&csrf, &policy))
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(w.store.policies(w.a.id).await.expect("p"), vec![policy]);
        let (_, _, body) = w.get(&page, Some(&admin)).await;
        assert!(ticked(&body, 1), "first reminder saved: {body}");
        assert_eq!(
            w.store.policies(w.b.id).await.expect("p"),
            vec![Policy::default_french()]
        );
    }
);

on_both!(
    an_experiment_is_edited_saved_and_exported,
    |w: World| async move {
        let a = w.a.id.0;
        let admin = w.login("admin@x.example").await;
        let page = format!("/c/{a}/policies/standard_fr");
        let csrf = w.csrf_of(&admin, &page).await;
        let mut policy = Policy::default_french();
        policy.steps[1].experiment = Some(relance_core::planner::Experiment {
            name: "later_firmer".into(),
            share_b: 30,
            offset_days: Some(4),
            template: Some("second_reminder".into()),
            tone: Some(relance_core::planner::Tone::Firm),
            send_hour: Some(10),
        });
        // A sending hour out of range: shown on its field, nothing saved.
        let bad = policy_form(&csrf, &policy).replace("s1.exp_send_hour=10", "s1.exp_send_hour=25");
        let (status, _, body) = w.post(&page, Some(&admin), &bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("id=\"err-s1-exp_send_hour\""), "{body}");
        // An experiment that changes nothing: the core's refusal, on the name.
        let mut idle = policy.clone();
        if let Some(e) = idle.steps[1].experiment.as_mut() {
            (e.offset_days, e.template, e.tone, e.send_hour) = (None, None, None, None);
        }
        let (status, _, body) = w
            .post(&page, Some(&admin), &policy_form(&csrf, &idle))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("id=\"err-s1-exp_name\""), "{body}");
        let (status, _, _) = w
            .post(&page, Some(&admin), &policy_form(&csrf, &policy))
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(
            w.store.policies(w.a.id).await.expect("p"),
            vec![policy.clone()]
        );
        // The page shows it, and saving the page as shown keeps it.
        let (_, _, body) = w.get(&page, Some(&admin)).await;
        assert!(
            body.contains("name=\"s1.exp_name\" value=\"later_firmer\""),
            "{body}"
        );
        assert!(
            body.contains("name=\"s1.exp_send_hour\" value=\"10\""),
            "{body}"
        );
        let (_, _, toml_text) = w
            .get(&format!("/c/{a}/policies/export?format=toml"), Some(&admin))
            .await;
        assert!(
            toml_text.contains("[policies.steps.experiment]"),
            "{toml_text}"
        );
        assert!(toml_text.contains("name = \"later_firmer\""), "{toml_text}");
        let (_, _, json_text) = w
            .get(&format!("/c/{a}/policies/export?format=json"), Some(&admin))
            .await;
        assert!(
            json_text.contains("\"send_hour\": 10") || json_text.contains("\"send_hour\":10"),
            "{json_text}"
        );
    }
);

on_both!(policies_export_and_import, |w: World| async move {
    let a = w.a.id.0;
    let admin = w.login("admin@x.example").await;
    let (status, headers, toml_text) = w
        .get(&format!("/c/{a}/policies/export?format=toml"), Some(&admin))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_DISPOSITION]
        .to_str()
        .expect("cd")
        .contains("policies.toml"));
    assert!(toml_text.contains("[[policies]]") && toml_text.contains("standard_fr"));
    let csrf = w.csrf_of(&admin, &format!("/c/{a}/policies")).await;
    // A new policy for VIP customers, imported from a file.
    let vip = toml_text
        .replace("id = \"standard_fr\"", "id = \"vip\"")
        .replace("name = \"Standard\"", "name = \"VIP gentle\"");
    let (status, headers, body) = w
        .post_multipart(
            &format!("/c/{a}/policies/import"),
            &admin,
            &[("csrf", &csrf)],
            &[("file", "vip.toml", "application/toml", vip.as_bytes())],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert!(headers[header::LOCATION]
        .to_str()
        .expect("loc")
        .contains("imported=1"));
    let ids: Vec<String> = w
        .store
        .policies(w.a.id)
        .await
        .expect("p")
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(ids, ["standard_fr", "vip"]);
    // The second reminder's statement of account went out and came back in.
    assert!(toml_text.contains("attach_statement = true"), "{toml_text}");
    let imported = w.store.policies(w.a.id).await.expect("p").remove(1);
    assert!(imported
        .step("second_reminder")
        .is_some_and(|s| s.attach_statement));
    assert!(imported.steps.iter().filter(|s| s.attach_statement).count() == 1);
    // A file the core refuses: nothing saved, the reason shown.
    let broken = vip
        .replace("id = \"vip\"", "id = \"vip2\"")
        .replace("offset_days = 4", "offset_days = -4");
    let (status, _, body) = w
        .post_multipart(
            &format!("/c/{a}/policies/import"),
            &admin,
            &[("csrf", &csrf), ("text", &broken)],
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("import-error") && body.contains("0 days or more"),
        "{body}"
    );
    assert_eq!(w.store.policies(w.a.id).await.expect("p").len(), 2);
    // JSON export reads back as the same policies.
    let (_, _, json) = w
        .get(&format!("/c/{a}/policies/export?format=json"), Some(&admin))
        .await;
    let value: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(value["policies"][1]["name"], "VIP gentle");
    // A new policy from the list page's form: prefilled with the standard steps, saved by id.
    let (status, headers, _) = w
        .get(&format!("/c/{a}/policies/new?id=gentle"), Some(&admin))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = headers[header::LOCATION].to_str().expect("loc").to_string();
    assert_eq!(location, format!("/c/{a}/policies/gentle?new=1"));
    let (status, _, body) = w.get(&location, Some(&admin)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("name=\"s1.id\" value=\"first_reminder\""));
    let (status, _, _) = w
        .get(&format!("/c/{a}/policies/gentle"), Some(&admin))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not saved yet");
    let mut gentle = Policy::default_french();
    gentle.id = "gentle".into();
    gentle.name = "Gentle".into();
    gentle.conditions.tags = vec!["vip".into()];
    let (status, _, _) = w
        .post(
            &format!("/c/{a}/policies/gentle"),
            Some(&admin),
            &policy_form(&csrf, &gentle),
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let stored = w.store.policies(w.a.id).await.expect("p");
    assert_eq!(stored.last(), Some(&gentle));
    // Assign A2 to it from its page: the customer is tagged and follows it in the next run.
    let (status, headers, _) = w
        .post(
            &format!("/c/{a}/policies/gentle/assign"),
            Some(&admin),
            &format!("csrf={csrf}&customer=A2&tags=vip"),
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = headers[header::LOCATION].to_str().expect("loc").to_string();
    assert_eq!(location, format!("/c/{a}/policies/gentle?assigned=A2"));
    let (_, _, body) = w.get(&location, Some(&admin)).await;
    assert!(body.contains("id=\"assigned\""));
    let planned = w
        .store
        .run_day(
            w.a.id,
            RunOptions {
                as_of: w.today,
                dry_run: true,
                full: true,
            },
        )
        .await
        .expect("dry run");
    assert!(planned
        .iter()
        .filter(|p| p.customer_code == "A2")
        .all(|p| p.policy == "gentle"));
    assert!(
        planned.iter().any(|p| p.customer_code == "A2"),
        "{planned:?}"
    );
    assert!(planned
        .iter()
        .filter(|p| p.customer_code == "A1")
        .all(|p| p.policy == "standard_fr"));
    // An unknown customer: said on the page; B's customer is unknown here too.
    for code in ["NOPE", "B1"] {
        let (status, headers, _) = w
            .post(
                &format!("/c/{a}/policies/gentle/assign"),
                Some(&admin),
                &format!("csrf={csrf}&customer={code}"),
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(headers[header::LOCATION]
            .to_str()
            .expect("loc")
            .contains("assign_error="));
    }
    let (status, _, _) = w
        .get(&format!("/c/{a}/policies/new?id=Bad%20Id"), Some(&admin))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
});

/// The smallest JPEG header the letterhead reads: SOI, a baseline frame of 2×1 grey pixels, EOI.
const JPEG: &[u8] = &[
    0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x01, 0x00, 0x02, 0x01, 0x01, 0x11, 0x00, 0xFF,
    0xD9,
];

on_both!(settings_saved_appear_in_a_letter, |w: World| async move {
    let a = w.a.id.0;
    let admin = w.login("admin@x.example").await;
    let page = format!("/c/{a}/settings");
    let csrf = w.csrf_of(&admin, &page).await;
    let fields = |siren: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("name", "Alpha Industries SAS".to_string()),
            ("address", "12 rue des Lilas\r\n69003 Lyon".to_string()),
            ("siren", siren.to_string()),
            ("rcs", "RCS Lyon 732 829 320".to_string()),
            ("vat_number", "FR44 732829320".to_string()),
            ("iban", "FR76 3000 6000 0112 3456 7890 189".to_string()),
            ("bic", "agrifrpp".to_string()),
            ("email", "compta@alpha.example".to_string()),
            ("phone", "04 72 00 00 00".to_string()),
            ("signatory", "Claire Martin, credit manager".to_string()),
            (
                "smtp_url",
                "smtps://relances@smtp.alpha.example:465".to_string(),
            ),
            ("smtp_from", "relances@alpha.example".to_string()),
            ("smtp_password", "s3cret-Pw-42".to_string()),
            ("contractual_rate", "12.5".to_string()),
            ("time_zone", "Europe/Paris".to_string()),
            ("alsace_moselle", "1".to_string()),
            ("run_at", "06:30".to_string()),
        ]
    };
    // A bad SIREN, a bad time zone and a GIF: each named, nothing saved.
    let mut bad = fields("123");
    bad.retain(|(k, _)| *k != "time_zone");
    bad.push(("time_zone", "Mars/Olympus".into()));
    let texts: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _, body) = w
        .post_multipart(
            &page,
            &admin,
            &texts,
            &[("logo", "l.gif", "image/gif", b"GIF89a....")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    for field in ["siren", "time_zone", "logo"] {
        assert!(
            body.contains(&format!("id=\"err-{field}\"")),
            "{field}: {body}"
        );
    }
    assert!(
        !body.contains("s3cret-Pw-42"),
        "the password is never echoed"
    );
    assert_eq!(w.store.creditors().await.expect("c")[0].name, "Alpha SAS");
    // The good form, with a logo.
    let good = fields("732829320");
    let texts: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, headers, body) = w
        .post_multipart(
            &page,
            &admin,
            &texts,
            &[("logo", "logo.jpg", "image/jpeg", JPEG)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(
        headers[header::LOCATION],
        format!("{page}?saved=1").as_str()
    );
    let (_, _, body) = w.get(&format!("{page}?saved=1"), Some(&admin)).await;
    assert!(body.contains("Alpha Industries SAS") && body.contains("RCS Lyon 732 829 320"));
    assert!(
        !body.contains("s3cret-Pw-42"),
        "the password is never echoed"
    );
    assert_eq!(
        w.store.smtp_password(w.a.id).await.expect("pw").as_deref(),
        Some("s3cret-Pw-42")
    );
    let (status, headers, logo) = w.get_bytes(&format!("{page}/logo"), &admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "image/jpeg");
    assert_eq!(logo, JPEG);
    // Saving again with an empty password field keeps the password.
    let mut again = good.clone();
    again.retain(|(k, _)| *k != "smtp_password");
    let texts: Vec<(&str, &str)> = again.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _, _) = w.post_multipart(&page, &admin, &texts, &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        w.store.smtp_password(w.a.id).await.expect("pw").as_deref(),
        Some("s3cret-Pw-42")
    );
    assert!(w.store.creditor_logo(w.a.id).await.expect("logo").is_some());
    let creditor = w
        .store
        .creditors()
        .await
        .expect("c")
        .into_iter()
        .find(|c| c.id == w.a.id)
        .expect("a");
    assert_eq!(creditor.name, "Alpha Industries SAS");
    assert!(creditor.alsace_moselle);
    assert_eq!(creditor.bic.as_deref(), Some("AGRIFRPP"));
    // The letter as the dispatcher builds it carries the new identity.
    let data = relance_dispatch::letters::letter_for(
        &w.store,
        &creditor,
        "A1",
        StepId::SecondReminder,
        Channel::Letter,
        today_for(&creditor),
        None,
    )
    .await
    .expect("letter");
    assert_eq!(data.creditor.logo_jpeg.as_deref(), Some(JPEG));
    let templates = relance_dispatch::templates_for(&w.store, creditor.id)
        .await
        .expect("t");
    let pdf = render_letter_pdf(&data, &templates).expect("pdf");
    if let Some(text) = pdf_text(&pdf) {
        for expected in [
            "Alpha Industries SAS",
            "RCS Lyon 732 829 320",
            "FR44732829320",
            "Claire Martin",
            "69003 Lyon",
            // The contractual rate replaces ECB + 10 points for this business debtor.
            "12,50 %",
        ] {
            assert!(text.contains(expected), "{expected} missing from: {text}");
        }
        assert!(!text.contains("12,15 %"), "{text}");
    }
    // B is untouched.
    let b = w
        .store
        .creditors()
        .await
        .expect("c")
        .into_iter()
        .find(|c| c.id == w.b.id)
        .expect("b");
    assert_eq!(b.name, "Beta SARL");
    assert_eq!(
        w.store.creditor_settings(w.b.id).await.expect("s"),
        Default::default()
    );
});

on_both!(the_dashboard_shows_the_dso, |w: World| async move {
    let a = w.a.id.0;
    let cookie = w.login("col-a@x.example").await;
    let (status, _, body) = w.get(&format!("/c/{a}"), Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    // The figure is the one `relance report dso` computes.
    let flows = w.store.month_flows(w.a.id, w.today).await.expect("flows");
    let months = relance_store::cash::months_of(flows.iter(), w.today);
    let lines = relance_core::dso::monthly(&months, 12);
    let latest = lines.last().expect("a month").count_back;
    assert!(latest > Decimal::ZERO);
    assert!(
        body.contains(&format!("data-testid=\"dso\" data-value=\"{latest}\"")),
        "DSO {latest} not on the dashboard"
    );
    assert!(body.contains("class=\"dso-line\""));
    assert_eq!(body.matches("class=\"dso-dot\"").count(), lines.len());
});
