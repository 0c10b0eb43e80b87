//! Reads real payment files from `tests/data/` and checks every value and every problem.

use chrono::NaiveDate;
use relance_core::money::{Currency, Money};
use relance_formats::{read_payments_csv, PaymentRow, ReadReport, Severity};
use rust_decimal_macros::dec;

fn read(name: &str) -> (Vec<PaymentRow>, ReadReport) {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).expect("test file");
    let mut rows = Vec::new();
    let report = read_payments_csv(name, &bytes, &mut |row| rows.push(row));
    assert_eq!(report.rows, rows.len() as u64);
    (rows, report)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn problems(report: &ReadReport) -> Vec<(u64, Option<&str>, Severity, &str)> {
    report
        .problems
        .iter()
        .map(|p| (p.line, p.column.as_deref(), p.severity, p.message.as_str()))
        .collect()
}

#[test]
fn reads_a_french_bank_export() {
    let (rows, report) = read("reglements_fr.csv");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(rows.len(), 3);
    let first = &rows[0];
    assert_eq!(first.line, 2);
    assert_eq!(first.date, date(2026, 3, 5));
    assert_eq!(first.amount, Money::eur(dec!(1234.56)));
    assert_eq!(first.reference, "VIR SOCIETE GENERALE F-2026-001");
    assert_eq!(
        first.customer_code.as_ref().map(|c| c.as_str()),
        Some("C001")
    );
    assert_eq!(first.invoice_number.as_deref(), Some("F-2026-001"));
    assert_eq!(first.bank_reference.as_deref(), Some("BQ-0001"));
    assert_eq!(rows[1].amount, Money::eur(dec!(2000.00)));
    assert_eq!(rows[1].invoice_number, None);
    let cheque = &rows[2];
    assert_eq!(cheque.line, 5);
    assert_eq!(cheque.amount, Money::eur(dec!(15.5)));
    assert_eq!(cheque.customer_code, None);
    assert_eq!(cheque.bank_reference, None);
}

#[test]
fn reads_an_english_export_in_another_column_order() {
    let (rows, report) = read("payments_en.csv");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let usd = Currency::parse("USD").expect("USD");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].amount, Money::new(dec!(1234.56), usd));
    assert_eq!(rows[0].date, date(2026, 3, 5));
    assert_eq!(rows[0].invoice_number.as_deref(), Some("INV-100"));
    assert_eq!(rows[1].amount, Money::eur(dec!(1000.00)));
    assert_eq!(rows[1].reference, "Bolt, settlement");
}

#[test]
fn reports_every_problem_of_a_bad_payments_file() {
    let (rows, report) = read("reglements_erreurs.csv");
    use Severity::{Error, Warning};
    assert_eq!(
        problems(&report),
        vec![
            (
                1,
                None,
                Warning,
                "unknown column(s) ignored: \"commentaire\""
            ),
            (
                3,
                Some("montant"),
                Error,
                "\"-50,00\" is negative: a refund or a debit is not a payment"
            ),
            (
                4,
                Some("montant"),
                Error,
                "the amount is zero: a payment must be positive"
            ),
            (5, Some("date"), Error, "\"32/03/2026\" is not a date"),
            (6, Some("date"), Error, "the payment date is empty"),
            (7, Some("montant"), Error, "\"dix euros\" is not an amount"),
            (
                8,
                None,
                Warning,
                "line skipped: no date, reference, customer or invoice (a totals line?)"
            ),
        ]
    );
    assert!(report.has_errors());
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].line, 2);
    assert_eq!(rows[0].amount, Money::eur(dec!(100.00)));
}

#[test]
fn names_missing_required_columns_in_both_languages() {
    let (rows, report) = read("reglements_sans_colonnes.csv");
    assert!(rows.is_empty());
    assert_eq!(
        problems(&report),
        [(
            1,
            None,
            Severity::Error,
            "missing required column(s): \"date\" (\"date de règlement\"), \"amount\" \
             (\"montant\"); the header row must name them, in English or in French"
        )]
    );
}
