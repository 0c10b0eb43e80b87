//! Follow-ups beyond receivables on both databases, by replaying weeks of daily runs (the
//! receivable run and the follow-up run, as `relance run` does): quotes, prospects, dormant
//! customers, opt-outs honoured at once, never twice, and receivables that an opt-out does not
//! stop. Dates worked out by hand from the default sequences (business days, France):
//! 2026-03-02 and 2026-03-16 are Mondays, 2026-04-09 a Thursday.

mod common;

use chrono::NaiveDate;
use common::TestDb;
use relance_core::ids::CreditorId;
use relance_core::ledger::ItemKind;
use relance_core::money::Money;
use relance_store::cases::RunOptions;
use relance_store::creditors::CreditorInput;
use relance_store::customers::CustomerFields;
use relance_store::followups::{ContactInput, ProspectInput, QuoteInput};
use relance_store::imports::InvoiceRecord;
use relance_store::Store;
use rust_decimal::Decimal;
use std::str::FromStr;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn eur(s: &str) -> Money {
    Money::eur(Decimal::from_str(s).expect("decimal"))
}

async fn creditor(store: &Store) -> CreditorId {
    let (c, _) = store
        .upsert_creditor(&CreditorInput {
            name: "Atelier".into(),
            email: Some("compta@atelier.example".into()),
            ..Default::default()
        })
        .await
        .expect("creditor");
    c.id
}

fn contact(code: &str) -> ContactInput {
    ContactInput {
        code: code.into(),
        name: Some(format!("Contact {code}")),
        email: Some(format!("{}@example.com", code.to_lowercase())),
        language: None,
        kind: None,
    }
}

fn quote(code: &str, number: &str, sent: &str, until: &str) -> QuoteInput {
    QuoteInput {
        contact: contact(code),
        number: number.into(),
        sent_on: d(sent),
        valid_until: Some(d(until)),
        amount: eur("1200.00"),
    }
}

fn invoice(number: &str, customer: &str, issued: &str, due: &str, paid: bool) -> InvoiceRecord {
    InvoiceRecord {
        line: 2,
        kind: ItemKind::Invoice,
        number: number.into(),
        customer: CustomerFields {
            code: customer.into(),
            name: Some(format!("Client {customer}")),
            emails: vec![format!("compta@{}.fr", customer.to_lowercase())],
            ..Default::default()
        },
        issue_date: d(issued),
        due_date: d(due),
        total: eur("100.00"),
        paid: if paid { eur("100.00") } else { eur("0") },
    }
}

async fn import(store: &Store, creditor: CreditorId, records: Vec<InvoiceRecord>) {
    let mut session = store
        .begin_invoice_import(creditor, "test.csv", d("2025-01-02"))
        .await
        .expect("begin");
    for r in records {
        session.push(r).await.expect("push");
    }
    session.commit(0).await.expect("commit");
}

/// One day as `relance run` does it: receivables, then follow-ups. Returns
/// `DAY CUSTOMER STEP CHANNEL` lines.
async fn run(store: &Store, creditor: CreditorId, day: NaiveDate, dry_run: bool) -> Vec<String> {
    let options = RunOptions {
        as_of: day,
        dry_run,
        full: false,
    };
    let mut actions = store.run_day(creditor, options).await.expect("run");
    actions.extend(
        store
            .run_followups(creditor, options, 6)
            .await
            .expect("follow-ups"),
    );
    actions
        .iter()
        .flat_map(|a| {
            a.channels
                .iter()
                .map(move |c| format!("{} {} {} {}", a.on, a.customer_code, a.step, c.as_str()))
        })
        .collect()
}

/// Runs every day from `from` to `to` (calling `between` before each day's run); returns
/// every action line, and checks that a second run of each day writes nothing and that a dry
/// run first announced exactly what the real run did.
async fn replay<F, Fut>(
    store: &Store,
    creditor: CreditorId,
    from: &str,
    to: &str,
    mut between: F,
) -> Vec<String>
where
    F: FnMut(NaiveDate) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut day = d(from);
    let mut out = Vec::new();
    while day <= d(to) {
        between(day).await;
        let announced = run(store, creditor, day, true).await;
        let done = run(store, creditor, day, false).await;
        assert_eq!(announced, done, "dry run of {day}");
        assert!(
            run(store, creditor, day, false).await.is_empty(),
            "second run of {day}"
        );
        out.extend(done);
        day = day.succ_opt().expect("day");
    }
    out
}

async fn kinds_of_events(store: &Store, creditor: CreditorId, code: &str) -> Vec<String> {
    store
        .timeline(creditor, Some(code))
        .await
        .expect("timeline")
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

on_both_databases!(quotes_until_answered_or_lapsed, |db: TestDb| async move {
    let store = &db.store;
    let creditor = creditor(store).await;
    let done = store
        .import_quotes(
            creditor,
            &[
                quote("Q1", "DV-1", "2026-03-02", "2026-03-31"),
                quote("Q2", "DV-2", "2026-03-02", "2026-03-31"),
                quote("Q3", "DV-3", "2026-03-02", "2026-03-06"),
            ],
            "devis.csv",
        )
        .await
        .expect("import");
    assert_eq!(done.created, 3);
    // The same file again changes nothing.
    let again = store
        .import_quotes(
            creditor,
            &[quote("Q1", "DV-1", "2026-03-02", "2026-03-31")],
            "devis.csv",
        )
        .await
        .expect("import again");
    assert_eq!((again.created, again.unchanged), (0, 1));
    let out = replay(
        store,
        creditor,
        "2026-03-02",
        "2026-04-30",
        |day| async move {
            if day == d("2026-03-09") {
                store
                    .quote_decision(creditor, "DV-2", true, day)
                    .await
                    .expect("accept");
            }
        },
    )
    .await;
    assert_eq!(
        out,
        vec![
            // DV-3 lapses on Friday 6: its last message (3 business days before) comes first.
            "2026-03-03 Q3 quote_last email",
            "2026-03-05 Q1 quote_reminder email",
            "2026-03-05 Q2 quote_reminder email",
            // DV-2 accepted on the 9th: no call.
            "2026-03-11 Q1 quote_call task",
            "2026-03-26 Q1 quote_last email",
        ]
    );
    let list = store.followups(creditor, None).await.expect("list");
    let status = |r: &str| {
        list.iter()
            .find(|f| f.reference == r)
            .map(|f| f.status.as_str())
            .expect("follow-up")
    };
    assert_eq!(status("DV-1"), "done");
    assert_eq!(status("DV-2"), "accepted");
    assert_eq!(status("DV-3"), "done");
    let events = kinds_of_events(store, creditor, "Q2").await;
    assert!(events.contains(&"quote_sent".to_string()), "{events:?}");
    assert!(events.contains(&"quote_accepted".to_string()), "{events:?}");
    assert!(
        events.contains(&"followup_planned".to_string()),
        "{events:?}"
    );
    // A quote that was never followed to its end lapses: recorded once.
    store
        .import_quotes(
            creditor,
            &[quote("Q4", "DV-4", "2026-05-04", "2026-05-29")],
            "b.csv",
        )
        .await
        .expect("import");
    store
        .quote_decision(creditor, "DV-4", false, d("2026-05-05"))
        .await
        .expect("refuse");
    assert!(run(store, creditor, d("2026-05-07"), false)
        .await
        .is_empty());
    assert!(store
        .quote_decision(creditor, "DV-4", true, d("2026-05-08"))
        .await
        .is_err());
});

on_both_databases!(
    prospects_stop_on_reply_and_opt_out,
    |db: TestDb| async move {
        let store = &db.store;
        let creditor = creditor(store).await;
        for code in ["P1", "P2", "P3"] {
            store
                .add_prospect(creditor, &contact(code), d("2026-04-09"))
                .await
                .expect("prospect");
        }
        let out = replay(
            store,
            creditor,
            "2026-04-09",
            "2026-06-15",
            |day| async move {
                if day == d("2026-04-13") {
                    store
                        .opt_out(creditor, "P2", day, "link")
                        .await
                        .expect("opt out");
                    store
                        .contact_reply(creditor, "P3", day)
                        .await
                        .expect("reply");
                }
            },
        )
        .await;
        let p1: Vec<&String> = out.iter().filter(|l| l.contains(" P1 ")).collect();
        assert_eq!(p1.len(), 3, "{out:?}");
        assert_eq!(p1[0], "2026-04-10 P1 prospect_news email");
        assert!(p1[1].ends_with("P1 prospect_offer email"));
        let offer = d(&p1[1][..10]);
        assert!(
            (d("2026-04-16")..=d("2026-04-20")).contains(&offer),
            "{offer}"
        );
        assert!(p1[2].ends_with("P1 prospect_call task"));
        // P2 and P3: the first message only (the opt-out and the answer came on the 13th).
        let others: Vec<&String> = out.iter().filter(|l| !l.contains(" P1 ")).collect();
        assert_eq!(
            others,
            vec![
                "2026-04-10 P2 prospect_news email",
                "2026-04-10 P3 prospect_news email"
            ]
        );
        let events = kinds_of_events(store, creditor, "P2").await;
        assert!(events.contains(&"opted_out".to_string()), "{events:?}");
        // An opted-out contact cannot be followed again as a prospect.
        assert!(store
            .add_prospect(creditor, &contact("P2"), d("2026-06-01"))
            .await
            .is_err());
        // The hours chosen vary within the send window.
        let rows = sqlx::query_scalar::<_, String>(
        "SELECT send_after FROM actions WHERE kind = 'prospect' AND channel = 'email' ORDER BY id",
    )
    .fetch_all(store.pool())
    .await
    .expect("rows");
        let hours: std::collections::HashSet<&str> = rows.iter().map(|r| &r[11..16]).collect();
        assert!(hours.len() > 1, "{rows:?}");
        for r in &rows {
            assert!(("09:00".."19:00").contains(&&r[11..16]), "{r}");
        }
    }
);

on_both_databases!(
    dormant_customers_once_never_in_dispute_or_overdue,
    |db: TestDb| async move {
        let store = &db.store;
        let creditor = creditor(store).await;
        // D1: four monthly invoices, all paid, the last on 2025-09-15 → dormant six months later,
        // Sunday 2026-03-15, written to on Monday 16.
        // D2: same, but an invoice (not due yet) in dispute. D3: an unpaid invoice overdue.
        // D4: one invoice a year, the last on 2025-06-01: twice the interval is longer than six
        // months (2026-06-01 or later, outside the replay).
        let mut records = Vec::new();
        for (i, month) in ["06", "07", "08", "09"].iter().enumerate() {
            for code in ["D1", "D2", "D3"] {
                records.push(invoice(
                    &format!("F-{code}-{i}"),
                    code,
                    &format!("2025-{month}-15"),
                    &format!("2025-{month}-28"),
                    true,
                ));
            }
        }
        records.push(invoice("F-D2-X", "D2", "2025-09-15", "2026-12-31", false));
        records.push(invoice("F-D3-X", "D3", "2025-09-15", "2025-10-15", false));
        records.push(invoice("F-D4-0", "D4", "2024-06-01", "2024-06-30", true));
        records.push(invoice("F-D4-1", "D4", "2025-06-01", "2025-06-30", true));
        import(store, creditor, records).await;
        store
            .open_dispute(creditor, "F-D2-X", "wrong quantity", d("2025-10-01"))
            .await
            .expect("dispute");
        // D3 opts out: its receivable reminders go on all the same.
        store
            .opt_out(creditor, "D3", d("2026-03-01"), "command")
            .await
            .expect("opt out");
        let out = replay(store, creditor, "2026-03-02", "2026-04-30", |_| async {}).await;
        let dormant: Vec<&String> = out.iter().filter(|l| l.contains("dormant")).collect();
        assert_eq!(dormant, vec!["2026-03-16 D1 dormant_reactivation email"]);
        // D3's unpaid invoice is still chased: the opt-out does not stop receivables.
        assert!(
            out.iter()
                .any(|l| l.contains(" D3 ") && !l.contains("dormant")),
            "{out:?}"
        );
        // D5 went quiet too, but its reactivation waits on an invoice that fell overdue in the
        // meantime; it orders again before paying: no reactivation once paid.
        import(
            store,
            creditor,
            vec![invoice("F-D5-0", "D5", "2025-09-01", "2025-09-30", true)],
        )
        .await;
        let held = run(store, creditor, d("2026-03-07"), false).await; // a Saturday: detected, not sent
        assert!(held.is_empty(), "{held:?}");
        import(
            store,
            creditor,
            vec![invoice("F-D5-1", "D5", "2026-03-07", "2026-04-06", false)],
        )
        .await;
        let out = replay(store, creditor, "2026-03-09", "2026-04-30", |_| async {}).await;
        assert!(!out.iter().any(|l| l.contains("D5 dormant")), "{out:?}");
        let events = kinds_of_events(store, creditor, "D5").await;
        assert!(
            events.contains(&"followup_stopped".to_string()),
            "{events:?}"
        );
        // Runs with `--full` later do not write to D1 again.
        let later = store
            .run_followups(
                creditor,
                RunOptions {
                    as_of: d("2026-05-04"),
                    dry_run: false,
                    full: true,
                },
                6,
            )
            .await
            .expect("full");
        assert!(later.is_empty(), "{later:?}");
    }
);

on_both_databases!(
    an_import_of_prospects_feeds_their_follow_up,
    |db: TestDb| async move {
        let store = &db.store;
        let creditor = creditor(store).await;
        // O1 opted out earlier (met at another fair): the import does not follow it again.
        store
            .add_prospect(creditor, &contact("O1"), d("2026-01-05"))
            .await
            .expect("prospect");
        store
            .opt_out(creditor, "O1", d("2026-01-10"), "link")
            .await
            .expect("opt out");
        let prospect = |code: &str, notes: Option<&str>| ProspectInput {
            contact: contact(code),
            phone: Some("04 72 00 00 00".into()),
            met_on: d("2026-03-02"),
            notes: notes.map(str::to_string),
        };
        let file = vec![
            prospect("P1", Some("Salon de Lyon: showcase quote")),
            prospect("P2", None),
            prospect("O1", None),
        ];
        let done = store
            .import_prospects(creditor, &file, "salon.csv")
            .await
            .expect("import");
        assert_eq!((done.created, done.unchanged, done.opted_out), (2, 0, 1));
        // The same file again changes nothing.
        let again = store
            .import_prospects(creditor, &file, "salon.csv")
            .await
            .expect("import");
        assert_eq!((again.created, again.unchanged, again.opted_out), (0, 2, 1));
        let events = store
            .timeline(creditor, Some("P1"))
            .await
            .expect("timeline");
        let added: Vec<_> = events
            .iter()
            .filter(|e| e.kind == "prospect_added")
            .collect();
        assert_eq!(added.len(), 1);
        assert!(
            added[0].summary.contains("Salon de Lyon"),
            "{}",
            added[0].summary
        );
        let p1 = store
            .customer_by_code(creditor, "P1")
            .await
            .expect("customer")
            .expect("P1");
        assert_eq!(p1.phones, vec!["04 72 00 00 00".to_string()]);
        // The existing prospect sequence: a message the next business day (Tuesday 3 March).
        let lines = run(store, creditor, d("2026-03-03"), false).await;
        assert_eq!(
            lines,
            [
                "2026-03-03 P1 prospect_news email",
                "2026-03-03 P2 prospect_news email"
            ]
        );

        // All or nothing: a row the store refuses rolls back the rows before it.
        let before = store.followups(creditor, None).await.expect("list").len();
        let mut broken = vec![prospect("P3", None), prospect("P4", None)];
        broken[1].contact.email = None;
        broken[1].contact.code = String::new();
        let refused = store
            .import_prospects(creditor, &broken, "broken.csv")
            .await;
        assert!(refused.is_err(), "an empty code is refused: {refused:?}");
        assert_eq!(
            store.followups(creditor, None).await.expect("list").len(),
            before,
            "P3 was rolled back with the file"
        );
    }
);
