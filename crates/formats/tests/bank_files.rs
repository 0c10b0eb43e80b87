//! Bank statements written from the specifications in `tests/data/bank` (see its README):
//! every field of every entry and every problem must equal what the file says.

use chrono::NaiveDate;
use relance_core::money::{Currency, Money};
use relance_formats::{
    detect_payment_syntax, read_camt053, read_cfonb120, read_ofx, BankEntry, PaymentSyntax,
    ReadReport, Severity, StatementSummary,
};
use rust_decimal::Decimal;

type Reader = fn(&str, &[u8], &mut dyn FnMut(BankEntry)) -> (ReadReport, StatementSummary);

fn bytes(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/bank/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).expect("test file")
}

fn read(reader: Reader, name: &str) -> (Vec<BankEntry>, ReadReport, StatementSummary) {
    let mut entries = Vec::new();
    let (report, summary) = reader(name, &bytes(name), &mut |e| entries.push(e));
    assert_eq!(report.rows, entries.len() as u64);
    assert_eq!(summary.credits, entries.len() as u64);
    (entries, report, summary)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn eur(text: &str) -> Money {
    Money::eur(text.parse::<Decimal>().expect("amount"))
}

fn problems(report: &ReadReport) -> Vec<(u64, Severity, String)> {
    report
        .problems
        .iter()
        .map(|p| (p.line, p.severity, p.to_string()))
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn entry(
    line: u64,
    booking: NaiveDate,
    value: Option<NaiveDate>,
    amount: Money,
    bank_reference: &str,
    remittance: &str,
    structured: Option<&str>,
    payer_name: Option<&str>,
    payer_iban: Option<&str>,
    end_to_end_id: Option<&str>,
) -> BankEntry {
    BankEntry {
        line,
        booking_date: booking,
        value_date: value,
        amount,
        bank_reference: bank_reference.to_string(),
        remittance: remittance.to_string(),
        structured_reference: structured.map(str::to_string),
        payer_name: payer_name.map(str::to_string),
        payer_iban: payer_iban.map(str::to_string),
        end_to_end_id: end_to_end_id.map(str::to_string),
    }
}

fn summary(credits: u64, debits: u64, reversals: u64, others: u64) -> StatementSummary {
    StatementSummary {
        credits,
        debits_ignored: debits,
        reversals_ignored: reversals,
        others_ignored: others,
    }
}

fn cfonb_entries() -> Vec<BankEntry> {
    vec![
        entry(
            2,
            date(2026, 3, 2),
            Some(date(2026, 3, 2)),
            eur("150.00"),
            "30004 00123 00012345678|2026-03-02|0000101|150.00",
            "VIR SEPA F-2026-0042 FACT SARL DUPONT ET FILS FACTURE F-2026-0042 ET F-2026-0043",
            None,
            Some("SARL DUPONT ET FILS"),
            None,
            None,
        ),
        entry(
            7,
            date(2026, 3, 3),
            Some(date(2026, 3, 4)),
            eur("2500.05"),
            "30004 00123 00012345678|2026-03-03|CHQ-2026-03-004|2500.05",
            "REMISE CHEQUES 1234567",
            None,
            None,
            None,
            None,
        ),
        entry(
            8,
            date(2026, 3, 4),
            None,
            eur("42.10"),
            "30004 00123 00012345678|2026-03-04|0000104|42.10",
            "VIR M. LEFÈVRE F-2026-0050 JEAN LEFÈVRE E2E-2026-0050",
            None,
            Some("JEAN LEFÈVRE"),
            None,
            Some("E2E-2026-0050"),
        ),
    ]
}

#[test]
fn reads_a_cfonb_120_statement() {
    let (entries, report, counts) = read(read_cfonb120, "releve.cfonb120");
    assert!(report.problems.is_empty(), "{:?}", problems(&report));
    assert_eq!(entries, cfonb_entries());
    assert_eq!(counts, summary(3, 1, 0, 0));
    assert_eq!(
        detect_payment_syntax(&bytes("releve.cfonb120")),
        PaymentSyntax::Cfonb120
    );
}

#[test]
fn reads_a_cfonb_120_statement_without_line_breaks() {
    let (entries, report, counts) = read(read_cfonb120, "releve_sans_sauts.cfonb120");
    assert!(report.problems.is_empty(), "{:?}", problems(&report));
    assert_eq!(entries, cfonb_entries());
    assert_eq!(counts, summary(3, 1, 0, 0));
    assert_eq!(
        detect_payment_syntax(&bytes("releve_sans_sauts.cfonb120")),
        PaymentSyntax::Cfonb120
    );
}

#[test]
fn reports_every_problem_of_a_broken_cfonb_120_file() {
    let name = "releve_erreurs.cfonb120";
    let (entries, report, counts) = read(read_cfonb120, name);
    let e = Severity::Error;
    let w = Severity::Warning;
    let f = |line: u64, rest: &str| format!("{name}:{line}: {rest}");
    assert_eq!(
        problems(&report),
        [
            (2, e, f(2, "column \"date d'opération\": \"310226\" is not a date (DDMMYY)")),
            (3, e, f(3, "column \"montant\": \"00000000015005\" is not a CFONB signed amount")),
            (4, e, f(4, "column \"code devise\": \"XYZ\" is not an ISO 4217 currency code")),
            (5, e, f(5, "the line is 118 characters long; a CFONB 120 record has 120")),
            (6, e, f(6, "column \"code enregistrement\": \"05\" complement record without a 04 movement before it")),
            (7, e, f(7, "column \"code enregistrement\": \"09\" is not a CFONB 120 record code (01, 04, 05, 07)")),
            (8, e, f(8, "column \"date de valeur\": \"320326\" is not a date (DDMMYY)")),
            (12, w, f(12, "warning: column \"montant\": movement skipped: its amount is zero")),
            (14, w, f(14, "warning: column \"nouveau solde\": the new balance 600.00 differs from the old balance 500.00 plus the movements 20.00 (520.00)")),
        ]
    );
    assert_eq!(
        entries,
        [
            entry(
                9,
                date(2026, 3, 2),
                Some(date(2026, 3, 2)),
                eur("10.00"),
                "30004 00123 00012345678|2026-03-02|0000206|10.00",
                "VIR BON",
                None,
                None,
                None,
                None,
            ),
            entry(
                13,
                date(2026, 3, 3),
                Some(date(2026, 3, 3)),
                eur("20.00"),
                "30004 00123 00012345678|2026-03-03|0000208|20.00",
                "VIR AUTRE",
                None,
                None,
                None,
                None,
            ),
        ]
    );
    assert_eq!(counts, summary(2, 0, 0, 1));
}

#[test]
fn an_empty_cfonb_file_is_an_error() {
    let (report, _) = read_cfonb120("vide.txt", b"\r\n", &mut |_| {});
    assert_eq!(
        problems(&report),
        [(
            1,
            Severity::Error,
            "vide.txt:1: the file holds no CFONB 120 record".to_string()
        )]
    );
    let _ = (read_camt053, read_ofx, Currency::EUR);
}
