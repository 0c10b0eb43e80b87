//! The customer search on both databases (migration 0024: SQLite's full-text index, PostgreSQL's
//! trigram index): words of the name, code, SIREN and e-mail addresses found by their beginning,
//! accents and case folded, kept in step with imports that change a customer, scoped by
//! creditor, and paged with the keyset cursor.

mod common;

use chrono::NaiveDate;
use common::TestDb;
use relance_core::ids::CreditorId;
use relance_core::ledger::ItemKind;
use relance_core::money::Money;
use relance_store::creditors::CreditorInput;
use relance_store::customers::CustomerFields;
use relance_store::imports::InvoiceRecord;
use relance_store::web_queries::{search_words, CustomerQuery, CustomerSort};
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

/// (code, name, SIREN, e-mail)
type Customer<'a> = (&'a str, &'a str, Option<&'a str>, Option<&'a str>);

async fn import(store: &Store, creditor: CreditorId, customers: &[Customer<'_>]) {
    let mut session = store
        .begin_invoice_import(creditor, "test.csv", d("2026-01-02"))
        .await
        .expect("begin");
    for (i, (code, name, siren, email)) in customers.iter().enumerate() {
        session
            .push(InvoiceRecord {
                line: i as u64 + 2,
                kind: ItemKind::Invoice,
                number: format!("F-{code}"),
                customer: CustomerFields {
                    code: code.to_string(),
                    name: Some(name.to_string()),
                    siren: siren.map(str::to_string),
                    emails: email.map(str::to_string).into_iter().collect(),
                    ..Default::default()
                },
                issue_date: d("2026-01-05"),
                due_date: d("2026-02-04"),
                total: Money::eur(Decimal::from(100)),
                paid: Money::eur(Decimal::ZERO),
            })
            .await
            .expect("push");
    }
    session.commit(0).await.expect("commit");
}

async fn search(store: &Store, creditor: CreditorId, q: &str) -> Vec<String> {
    let page = store
        .customer_page(
            creditor,
            &CustomerQuery {
                search: q.into(),
                limit: 100,
                ..CustomerQuery::default()
            },
        )
        .await
        .expect("search");
    page.rows.into_iter().map(|r| r.code).collect()
}

on_both_databases!(
    the_customer_search_folds_accents_and_finds_prefixes,
    |db: TestDb| async move {
        let store = &db.store;
        let a = creditor(store, "A").await;
        let b = creditor(store, "B").await;
        let mut customers: Vec<Customer> = vec![
            (
                "CL0100",
                "Hôtel Durand",
                Some("552100554"),
                Some("compta@hotel-durand.example"),
            ),
            (
                "CL0101",
                "Boulangerie Élise",
                None,
                Some("elise@pain.example"),
            ),
            ("CL0102", "Garage Martin", None, None),
        ];
        let cabinets: Vec<(String, String)> = (0..12)
            .map(|i| {
                (
                    format!("CB{:04}", 200 + i),
                    format!("Cabinet Durand {i:02}"),
                )
            })
            .collect();
        customers.extend(
            cabinets
                .iter()
                .map(|(c, n)| (c.as_str(), n.as_str(), None, None)),
        );
        import(store, a, &customers).await;
        import(
            store,
            b,
            &[("CL0100", "Hôtel Durand Secret", Some("552100554"), None)],
        )
        .await;

        // Accents and case, both ways, and prefixes of words.
        for q in ["hotel", "HÔTEL", "hôt", "Hotel  DURAND", "ho du"] {
            assert_eq!(search(store, a, q).await, ["CL0100"], "{q}");
        }
        for q in ["elise", "ÉLISE", "élis", "boul el"] {
            assert_eq!(search(store, a, q).await, ["CL0101"], "{q}");
        }
        // Codes, whole or begun.
        assert_eq!(
            search(store, a, "cl01").await,
            ["CL0100", "CL0101", "CL0102"]
        );
        assert_eq!(search(store, a, "CL0102").await, ["CL0102"]);
        assert_eq!(search(store, a, "cb0211").await, ["CB0211"]);
        // The SIREN, with or without its spaces, and e-mail addresses.
        for q in ["552100554", "552 100 554", "552100"] {
            assert_eq!(search(store, a, q).await, ["CL0100"], "{q}");
        }
        assert_eq!(search(store, a, "compta@hotel-durand").await, ["CL0100"]);
        assert_eq!(search(store, a, "pain.example").await, ["CL0101"]);
        // Words are found by their beginning only, and every word must be found.
        assert!(search(store, a, "urand").await.is_empty());
        assert!(search(store, a, "hotel martin").await.is_empty());
        assert!(search(store, a, "xyz").await.is_empty());
        // Punctuation alone searches nothing: the whole list.
        assert_eq!(search(store, a, "%_\\").await.len(), 15);
        // Another creditor's customers never show.
        assert_eq!(search(store, b, "durand").await, ["CL0100"]);
        assert_eq!(search(store, a, "secret").await, Vec::<String>::new());

        // A search pages with the keyset cursor, by name and by code descending.
        let mut durands: Vec<String> = cabinets.iter().map(|(c, _)| c.clone()).collect();
        durands.push("CL0100".into());
        for (sort, descending) in [(CustomerSort::Name, false), (CustomerSort::Code, true)] {
            let mut seen = Vec::new();
            let mut after = None;
            loop {
                let page = store
                    .customer_page(
                        a,
                        &CustomerQuery {
                            search: "durand".into(),
                            sort,
                            descending,
                            after: after.clone(),
                            limit: 5,
                            ..CustomerQuery::default()
                        },
                    )
                    .await
                    .expect("page");
                assert!(page.rows.len() <= 5);
                seen.extend(page.rows.into_iter().map(|r| (r.name, r.code)));
                match page.next {
                    Some(n) => after = Some(n),
                    None => break,
                }
            }
            let mut expected = seen.clone();
            if sort == CustomerSort::Name {
                expected.sort();
            } else {
                expected.sort_by(|x, y| y.1.cmp(&x.1));
            }
            assert_eq!(seen, expected);
            let mut codes: Vec<String> = seen.into_iter().map(|(_, c)| c).collect();
            codes.sort();
            let mut want = durands.clone();
            want.sort();
            assert_eq!(codes, want);
        }

        // A re-import that renames a customer moves it in the index.
        import(store, a, &[("CL0102", "Garage Moreau", None, None)]).await;
        assert!(search(store, a, "martin").await.is_empty());
        assert_eq!(search(store, a, "moreau").await, ["CL0102"]);
        assert_eq!(search(store, a, "garage").await, ["CL0102"]);
    }
);

#[test]
fn search_words_split_like_the_index() {
    assert_eq!(search_words(" Durand  1999 "), ["Durand", "1999"]);
    assert_eq!(
        search_words("compta@c1.example"),
        ["compta", "c1", "example"]
    );
    assert_eq!(search_words("552 100 554"), ["552100554"]);
    assert_eq!(search_words("l’Hôtel"), ["l", "Hôtel"]);
    assert!(search_words("\"*%_").is_empty());
    assert_eq!(search_words("a b c d e f g h i j").len(), 8);
}

on_both_databases!(
    a_large_first_load_is_searchable_and_stays_in_step,
    |db: TestDb| async move {
        // Over one batch (1,000 rows) into an empty ledger: the bulk load sets the indexes and
        // the search's triggers aside and builds them once; they must be back afterwards.
        let store = &db.store;
        let a = creditor(store, "A").await;
        let rows: Vec<(String, String)> = (0..2100)
            .map(|i| (format!("K{i:05}"), format!("Société Lumière {i}")))
            .collect();
        let customers: Vec<Customer> = rows
            .iter()
            .map(|(c, n)| (c.as_str(), n.as_str(), None, None))
            .collect();
        import(store, a, &customers).await;
        assert_eq!(search(store, a, "societe lumiere 1199").await, ["K01199"]);
        assert_eq!(search(store, a, "k0119").await.len(), 10);
        // A word in every name (more matches than SQLite sorts): pages by name, in order.
        let mut after = None;
        let mut seen = Vec::new();
        for _ in 0..3 {
            let page = store
                .customer_page(
                    a,
                    &CustomerQuery {
                        search: "Lumière".into(),
                        sort: CustomerSort::Name,
                        after: after.clone(),
                        limit: 100,
                        ..CustomerQuery::default()
                    },
                )
                .await
                .expect("page");
            assert_eq!(page.rows.len(), 100);
            seen.extend(page.rows.into_iter().map(|r| r.name));
            after = page.next;
        }
        let mut names: Vec<String> = rows.iter().map(|(_, n)| n.clone()).collect();
        names.sort();
        assert_eq!(seen, names[..300]);
        import(store, a, &[("K01199", "Atelier Renommé", None, None)]).await;
        assert!(search(store, a, "lumiere 1199").await.is_empty());
        assert_eq!(search(store, a, "renomme").await, ["K01199"]);
        import(store, a, &[("K99999", "Nouvelle Entrée", None, None)]).await;
        assert_eq!(search(store, a, "entree").await, ["K99999"]);
    }
);
