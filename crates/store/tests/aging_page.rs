//! The aged balance paged in SQL (`Store::aging_page`, the reports page): pages walked with the
//! cursor give exactly the lines of the whole report (`Store::aging`), currencies and unallocated
//! credits included, customers without an open amount left out. On both databases.

mod common;

use chrono::{Days, NaiveDate};
use common::TestDb;
use relance_core::ids::CreditorId;
use relance_core::ledger::ItemKind;
use relance_core::money::{Currency, Money};
use relance_store::creditors::CreditorInput;
use relance_store::customers::CustomerFields;
use relance_store::imports::InvoiceRecord;
use relance_store::Store;
use rust_decimal::Decimal;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

async fn creditor(store: &Store, name: &str) -> CreditorId {
    let (c, _) = store
        .upsert_creditor(&CreditorInput {
            name: name.into(),
            ..Default::default()
        })
        .await
        .expect("creditor");
    c.id
}

on_both_databases!(
    aging_pages_add_up_to_the_whole_report,
    |db: TestDb| async move {
        let store = &db.store;
        let a = creditor(store, "A").await;
        let b = creditor(store, "B").await;
        let as_of = d("2026-06-30");
        let mut session = store
            .begin_invoice_import(a, "test.csv", d("2026-06-01"))
            .await
            .expect("begin");
        let mut n = 0;
        for i in 0..9u64 {
            for (j, currency) in [Currency::EUR, Currency::parse("USD").expect("usd")]
                .into_iter()
                .enumerate()
            {
                // Customer 4 is paid up; only odd customers owe dollars too.
                if j == 1 && i % 2 == 0 {
                    continue;
                }
                n += 1;
                let due = as_of.checked_sub_days(Days::new(i * 17)).expect("date");
                let total = Money::new(Decimal::from(100 + i * 10), currency);
                let paid = if i == 4 {
                    total
                } else {
                    Money::new(Decimal::ZERO, currency)
                };
                session
                    .push(InvoiceRecord {
                        line: n,
                        kind: ItemKind::Invoice,
                        number: format!("F-{i}-{j}"),
                        customer: CustomerFields {
                            code: format!("C{i}"),
                            name: Some(format!("Client {i}")),
                            ..Default::default()
                        },
                        issue_date: due.checked_sub_days(Days::new(30)).expect("date"),
                        due_date: due,
                        total,
                        paid,
                    })
                    .await
                    .expect("push");
            }
        }
        session.commit(0).await.expect("commit");
        let mut other = store
            .begin_invoice_import(b, "b.csv", d("2026-06-01"))
            .await
            .expect("begin");
        other
            .push(InvoiceRecord {
                line: 2,
                kind: ItemKind::Invoice,
                number: "FB".into(),
                customer: CustomerFields {
                    code: "C5".into(),
                    name: Some("Other creditor".into()),
                    ..Default::default()
                },
                issue_date: d("2026-01-01"),
                due_date: d("2026-02-01"),
                total: Money::eur(Decimal::from(999)),
                paid: Money::eur(Decimal::ZERO),
            })
            .await
            .expect("push");
        other.commit(0).await.expect("commit");

        let whole = store.aging(a, as_of, None).await.expect("aging");
        assert_eq!(whole.len(), 8 + 4, "{whole:?}");
        assert!(!whole.iter().any(|l| l.customer == "C4"));
        for limit in [1, 3, 50] {
            let mut lines = Vec::new();
            let mut after: Option<String> = None;
            let mut pages = 0;
            loop {
                let page = store
                    .aging_page(a, as_of, after.as_deref(), limit)
                    .await
                    .expect("page");
                pages += 1;
                lines.extend(page.lines);
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            assert_eq!(lines, whole, "limit {limit}");
            assert_eq!(pages, 8_usize.div_ceil(limit as usize), "limit {limit}");
        }
        let second = store
            .aging_page(a, as_of, Some("C3"), 2)
            .await
            .expect("page");
        let codes: Vec<&str> = second.lines.iter().map(|l| l.customer.as_str()).collect();
        assert_eq!(codes, ["C5", "C5", "C6"]);
        assert_eq!(second.next.as_deref(), Some("C6"));
    }
);
