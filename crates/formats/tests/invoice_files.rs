//! Reads real invoice files from `tests/data/` and checks every value and every problem.

use chrono::NaiveDate;
use relance_core::ledger::ItemKind;
use relance_core::money::{Currency, Money};
use relance_core::party::{CustomerKind, Language};
use relance_formats::{read_invoices_csv, InvoiceRow, ReadReport, Severity};
use rust_decimal_macros::dec;

fn read(name: &str) -> (Vec<InvoiceRow>, ReadReport) {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).expect("test file");
    let mut rows = Vec::new();
    let report = read_invoices_csv(name, &bytes, &mut |row| rows.push(row));
    assert_eq!(report.rows, rows.len() as u64);
    (rows, report)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

/// (line, column, severity, message) of every problem, for exact comparison.
fn problems(report: &ReadReport) -> Vec<(u64, Option<&str>, Severity, &str)> {
    report
        .problems
        .iter()
        .map(|p| (p.line, p.column.as_deref(), p.severity, p.message.as_str()))
        .collect()
}

#[test]
fn reads_a_french_export_with_bom_crlf_and_french_amounts() {
    let (rows, report) = read("factures_fr.csv");
    assert!(!report.has_errors(), "{:?}", report.problems);
    assert_eq!(
        problems(&report),
        [(
            6,
            None,
            Severity::Warning,
            "line skipped: no invoice number and no customer id (a totals line?)"
        )]
    );
    assert_eq!(rows.len(), 3);

    let first = &rows[0];
    assert_eq!(first.line, 2);
    assert_eq!(first.kind, ItemKind::Invoice);
    assert_eq!(first.number, "F-2026-001");
    assert_eq!(first.customer_code.as_str(), "C001");
    assert_eq!(first.customer_name.as_deref(), Some("Société Générale"));
    assert_eq!(first.customer_kind, Some(CustomerKind::Business));
    let emails: Vec<&str> = first.emails.iter().map(|e| e.as_str()).collect();
    assert_eq!(emails, ["compta@sg.fr", "dg@sg.fr"]);
    assert_eq!(first.phone.as_deref(), Some("01 23 45 67 89"));
    assert_eq!(
        first.address.as_deref(),
        Some("29 bd Haussmann / 75009 Paris")
    );
    assert_eq!(first.siren.as_ref().map(|s| s.as_str()), Some("552100554"));
    assert_eq!(first.language, Some(Language::Fr));
    assert_eq!(first.issue_date, date(2026, 1, 15));
    assert_eq!(first.due_date, date(2026, 2, 14));
    assert_eq!(first.total, Money::eur(dec!(1234.56)));
    assert_eq!(first.paid, Money::eur(dec!(0)));

    // A consumer: 89 days of terms are not an L441-10 matter; no-break space in the amount.
    let second = &rows[1];
    assert_eq!(second.line, 3);
    assert_eq!(second.customer_kind, Some(CustomerKind::Consumer));
    assert_eq!(second.language, Some(Language::En));
    assert_eq!(second.total, Money::eur(dec!(2400.00)));
    assert_eq!(second.paid, Money::eur(dec!(400.00)));
    assert!(second.phone.is_none() && second.address.is_none() && second.siren.is_none());

    // The blank line 4 is skipped but counted: the credit note is on line 5, stored negative.
    let credit = &rows[2];
    assert_eq!(credit.line, 5);
    assert_eq!(credit.kind, ItemKind::CreditNote);
    assert_eq!(credit.number, "A-2026-001");
    assert_eq!(credit.total, Money::eur(dec!(-150.00)));
    assert_eq!(credit.paid, Money::eur(dec!(0)));
    assert!(credit.emails.is_empty());
}

#[test]
fn reads_an_english_export_with_commas_and_quotes() {
    let (rows, report) = read("invoices_en.csv");
    assert!(!report.has_errors(), "{:?}", report.problems);
    assert_eq!(
        problems(&report),
        [
            (
                1,
                None,
                Severity::Warning,
                "unknown column(s) ignored: \"Notes\""
            ),
            (
                3,
                Some("Due_Date"),
                Severity::Warning,
                "\"2026-05-11\" gives 90 days of payment terms, beyond the cap of Code de commerce \
                 L441-10 I (60 days from the invoice date, or 45 days end of month: 2026-04-14 at the latest)"
            ),
            (
                3,
                Some("Paid"),
                Severity::Warning,
                "paid equals the total: already settled"
            ),
        ]
    );
    let usd = Currency::parse("USD").expect("USD");
    let numbers: Vec<&str> = rows.iter().map(|r| r.number.as_str()).collect();
    assert_eq!(numbers, ["INV-100", "INV-101", "CN-7", "INV-102"]);
    assert_eq!(rows[0].customer_name.as_deref(), Some("Acme, Inc."));
    assert_eq!(rows[0].total, Money::new(dec!(1234.56), usd));
    assert_eq!(rows[0].paid, Money::new(dec!(0), usd));
    assert_eq!(rows[0].customer_kind, None);
    assert_eq!(rows[1].total, Money::new(dec!(500), usd));
    assert_eq!(rows[1].paid, Money::new(dec!(500), usd));
    assert_eq!(rows[2].kind, ItemKind::CreditNote);
    assert_eq!(rows[2].total, Money::eur(dec!(-80.5)));
    assert_eq!(rows[2].due_date, date(2026, 2, 15));
    assert_eq!(rows[3].issue_date, date(2026, 2, 20));
    assert_eq!(rows[3].due_date, date(2026, 3, 22));
    assert_eq!(rows[3].total, Money::eur(dec!(1234.50)));
    assert_eq!(rows[3].paid, Money::eur(dec!(34.50)));
    assert_eq!(rows[3].emails.len(), 2);
    assert_eq!(rows[3].emails[1].as_str(), "cfo@bolt.example");
}

#[test]
fn reads_a_windows_1252_file() {
    let bytes = std::fs::read(format!(
        "{}/tests/data/factures_cp1252.csv",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("test file");
    // The file really is Windows-1252: é is the single byte 0xE9, not UTF-8.
    assert!(std::str::from_utf8(&bytes).is_err());
    assert!(bytes.windows(3).any(|w| w == b"Soc"));
    assert!(bytes.contains(&0xE9));

    let (rows, report) = read("factures_cp1252.csv");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].customer_name.as_deref(), Some("Société Générale"));
    assert_eq!(rows[0].customer_code.as_str(), "SG");
    assert_eq!(rows[0].total, Money::eur(dec!(1500.00)));
    assert_eq!(rows[0].due_date, date(2026, 4, 1));
    assert_eq!(rows[1].customer_name.as_deref(), Some("Café de la Gare"));
    assert_eq!(rows[1].paid, Money::eur(dec!(10.00)));
    assert_eq!(
        rows[2].customer_name.as_deref(),
        Some("Crêperie Œuvre & Fils")
    );
    // "99,00 €" with the euro sign as the single byte 0x80.
    assert_eq!(rows[2].total, Money::eur(dec!(99.00)));
}

#[test]
fn reports_every_problem_of_a_bad_file() {
    let (rows, report) = read("factures_erreurs.csv");
    assert!(report.has_errors());
    use Severity::{Error, Warning};
    let expected: Vec<(u64, Option<&str>, Severity, &str)> = vec![
        (3, Some("échéance"), Error, "\"31/02/2026\" is not a date"),
        (4, Some("montant"), Error, "\"12a\" is not an amount"),
        (
            5,
            Some("devise"),
            Error,
            "\"EURO\" is not an ISO 4217 currency code",
        ),
        (6, Some("numéro"), Error, "the invoice number is empty"),
        (7, Some("code client"), Error, "the customer id is empty"),
        (
            8,
            Some("échéance"),
            Error,
            "the due date 2026-02-28 is before the issue date 2026-03-01",
        ),
        (
            9,
            Some("montant"),
            Error,
            "\"-100,00\" is negative but the line is not marked as a credit note: add a \
             \"document_type\" (\"type de document\") column and write \"credit_note\" (or \
             \"avoir\") in it",
        ),
        (
            10,
            Some("numéro"),
            Error,
            "invoice number \"F-1\" already appears on line 2",
        ),
        (
            11,
            Some("réglé"),
            Error,
            "paid 150.00 is greater than the total 100.00",
        ),
        (
            12,
            Some("type"),
            Error,
            "\"martien\" is neither business (entreprise) nor consumer (particulier)",
        ),
        (
            13,
            Some("email"),
            Warning,
            "\"pas-une-adresse\" is not an e-mail address: address ignored",
        ),
        (
            14,
            Some("siren"),
            Warning,
            "\"552100555\" is not a SIREN (nine digits with a valid Luhn key): ignored",
        ),
        (
            15,
            None,
            Error,
            "8 field(s) where the header has 11: check the separators and the quotes",
        ),
        (16, Some("date"), Error, "\"2026-02-30\" is not a date"),
        (16, Some("montant"), Error, "\"1O0,00\" is not an amount"),
        (17, Some("montant"), Warning, "the amount is zero"),
        (
            18,
            Some("échéance"),
            Warning,
            "\"31/03/2026\" gives 89 days of payment terms, beyond the cap of Code de commerce \
             L441-10 I (60 days from the invoice date, or 45 days end of month: 2026-03-17 at the latest)",
        ),
        (
            18,
            Some("réglé"),
            Warning,
            "paid equals the total: already settled",
        ),
        (
            19,
            Some("montant"),
            Error,
            "\"100,005\" has more decimals than EUR allows (2)",
        ),
    ];
    assert_eq!(problems(&report), expected);

    // Values are kept for the person fixing the file, and Display names file, line, column.
    let bad_date = &report.problems[0];
    assert_eq!(bad_date.value.as_deref(), Some("31/02/2026"));
    assert_eq!(
        bad_date.to_string(),
        "factures_erreurs.csv:3: column \"échéance\": \"31/02/2026\" is not a date"
    );
    assert_eq!(
        report.problems[10].to_string(),
        "factures_erreurs.csv:13: warning: column \"email\": \"pas-une-adresse\" is not an \
         e-mail address: address ignored"
    );

    // Rows with only warnings reach the sink; rows with an error never do.
    let lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, [2, 13, 14, 17, 18]);
    assert!(rows[1].emails.is_empty());
    assert!(rows[2].siren.is_none());
    assert_eq!(report.errors().count(), 14);
    assert_eq!(report.warnings().count(), 5);
}
