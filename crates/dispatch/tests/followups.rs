//! Commercial follow-ups through the real dispatcher (e-mails written as .eml files): a quote
//! reminder carries a signed unsubscribe link that verifies; after the contact opts out, their
//! planned commercial message is cancelled at the last check, while the reminder of their
//! unpaid invoice still leaves. On a real SQLite file, and on PostgreSQL when
//! `RELANCE_TEST_DATABASE_URL` is set.

use std::sync::Arc;

use chrono::NaiveDate;
use relance_core::ledger::ItemKind;
use relance_core::money::Money;
use relance_core::party::CustomerKind;
use relance_dispatch::{dispatch, mailer_for, DeliverySettings, DispatchOptions};
use relance_store::cases::RunOptions;
use relance_store::creditors::CreditorInput;
use relance_store::customers::CustomerFields;
use relance_store::followups::{ContactInput, QuoteInput};
use relance_store::imports::InvoiceRecord;
use relance_store::Store;
use rust_decimal::Decimal;

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
}

fn eml_files(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in walk(dir) {
        if entry.extension().is_some_and(|e| e == "eml") {
            out.push(std::fs::read_to_string(&entry).expect("read eml"));
        }
    }
    out
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// Undoes quoted-printable soft breaks and `=3D`, enough to read a URL in a text part.
fn unfold(eml: &str) -> String {
    eml.replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=")
}

async fn scenario(store: Store) {
    let (creditor, _) = store
        .upsert_creditor(&CreditorInput {
            name: "Atelier Durand".into(),
            email: Some("compta@atelier.example".into()),
            ..Default::default()
        })
        .await
        .expect("creditor");
    let monday = day("2026-03-02");
    let contact = |code: &str| ContactInput {
        code: code.into(),
        name: Some(format!("Client {code}")),
        email: Some(format!("{}@client.example", code.to_lowercase())),
        language: None,
        kind: Some(CustomerKind::Business),
    };
    store
        .import_quotes(
            creditor.id,
            &[
                QuoteInput {
                    contact: contact("Q1"),
                    number: "DV-1".into(),
                    sent_on: monday,
                    valid_until: Some(day("2026-03-31")),
                    amount: Money::eur(Decimal::new(123_456, 2)),
                },
                QuoteInput {
                    contact: contact("Q2"),
                    number: "DV-2".into(),
                    sent_on: monday,
                    valid_until: Some(day("2026-03-31")),
                    amount: Money::eur(Decimal::new(50_000, 2)),
                },
            ],
            "devis.csv",
        )
        .await
        .expect("quotes");
    // Q2 also owes an invoice, overdue since February.
    let mut import = store
        .begin_invoice_import(creditor.id, "test", monday)
        .await
        .expect("import");
    import
        .push(InvoiceRecord {
            line: 2,
            kind: ItemKind::Invoice,
            number: "F-9".into(),
            customer: CustomerFields {
                code: "Q2".into(),
                emails: vec!["q2@client.example".into()],
                ..CustomerFields::default()
            },
            issue_date: day("2026-01-20"),
            due_date: day("2026-03-04"),
            total: Money::eur(Decimal::new(30_000, 2)),
            paid: Money::eur(Decimal::ZERO),
        })
        .await
        .expect("push");
    import.commit(0).await.expect("commit");

    // Thursday 5: both quote reminders and Q2's first reminder are planned.
    let thursday = day("2026-03-05");
    let options = RunOptions {
        as_of: thursday,
        dry_run: false,
        full: false,
    };
    for as_of in [monday, day("2026-03-03"), day("2026-03-04"), thursday] {
        let o = RunOptions { as_of, ..options };
        store.run_day(creditor.id, o).await.expect("run");
        store
            .run_followups(creditor.id, o, 6)
            .await
            .expect("followups");
    }
    // Q2 opts out after the run and before the dispatch (written straight to the table, so
    // that the dispatcher's last check is what stops it): its quote reminder must not leave;
    // its invoice reminder must.
    sqlx::query(
        "INSERT INTO optouts (creditor_id, customer_id, opted_out_on, source, created_at) \
         SELECT creditor_id, id, '2026-03-05', 'test', '2026-03-05T10:00:00Z' FROM customers \
         WHERE creditor_id = $1 AND code = 'Q2'",
    )
    .bind(creditor.id.0)
    .execute(store.pool())
    .await
    .expect("opt out");

    let outbox = tempfile::tempdir().expect("outbox");
    let settings = DeliverySettings {
        outbox: outbox.path().to_path_buf(),
        ..DeliverySettings::default()
    };
    let mailer = Arc::new(mailer_for(&settings).expect("mailer"));
    let options = DispatchOptions::new(&settings, thursday, None).expect("options");
    let report = dispatch(&store, &creditor, mailer, &options)
        .await
        .expect("dispatch");
    let raw_mails = eml_files(outbox.path());
    let mails: Vec<String> = raw_mails.iter().map(|m| unfold(m)).collect();
    assert_eq!(mails.len(), report.sent, "{report:?}");
    assert_eq!(
        report.cancelled, 1,
        "the opted-out quote reminder: {report:?}"
    );
    let quote: Vec<&String> = mails.iter().filter(|m| m.contains("DV-1")).collect();
    assert_eq!(quote.len(), 1, "{report:?}");
    assert!(!mails.iter().any(|m| m.contains("DV-2")), "opted out");
    assert!(
        mails
            .iter()
            .any(|m| m.contains("F-9") && m.contains("To: ") && m.contains("q2@client.example")),
        "the invoice reminder of an opted-out customer still leaves: {report:?}"
    );
    // The link in the quote reminder verifies with the server's key.
    let mail = quote[0];
    let start = mail.find("/unsubscribe?c=").expect("unsubscribe link");
    let link: String = mail[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && !['"', '<', '>'].contains(c))
        .collect();
    let query: std::collections::HashMap<&str, &str> = link
        .trim_start_matches("/unsubscribe?")
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .collect();
    let key = relance_dispatch::optout::optout_key(&store)
        .await
        .expect("key");
    let expires = day(query["e"]);
    assert!(relance_dispatch::optout::verify(
        &key,
        creditor.id.0,
        query["u"],
        expires,
        query["s"]
    ));
    assert_eq!(query["u"], "Q1");
    // The same link in the List-Unsubscribe header (RFC 2369), one-click (RFC 8058), as a mail
    // client reads them; the invoice reminder has neither.
    for raw in &raw_mails {
        let parsed = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .expect("parses");
        let header = parsed
            .list_unsubscribe()
            .as_address()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .map(str::to_string);
        let post = parsed
            .header_raw("List-Unsubscribe-Post")
            .map(|v| v.trim().to_string());
        if raw.contains("DV-1") {
            let header = header.expect("List-Unsubscribe on the quote reminder");
            assert!(header.ends_with(link.as_str()), "{header} vs {link}");
            assert!(header.starts_with("http"), "{header}");
            assert_eq!(post.as_deref(), Some("List-Unsubscribe=One-Click"));
        } else {
            assert_eq!(header, None, "a receivable reminder is not commercial");
            assert_eq!(post, None);
        }
    }
    // The invoice reminder carries no unsubscribe link.
    assert!(mails
        .iter()
        .filter(|m| m.contains("F-9"))
        .all(|m| !m.contains("/unsubscribe")));
    // It carries the debtor portal's signed link instead.
    assert!(mails
        .iter()
        .filter(|m| m.contains("F-9"))
        .all(|m| m.contains("/portal?c=")));
    assert!(mails.iter().any(|m| m.contains("F-9")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quote_reminders_carry_a_link_and_opt_outs_stop_only_them_on_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("f.db").display());
    let store = Store::open(&url).await.expect("open sqlite");
    scenario(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quote_reminders_carry_a_link_and_opt_outs_stop_only_them_on_postgres() {
    let Some(db) = relance_store::testing::postgres("fu").await else {
        return;
    };
    scenario(db.store.clone()).await;
    db.finish().await;
}
