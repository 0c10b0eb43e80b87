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
}

fn usd(text: &str) -> Money {
    Money::new(
        text.parse::<Decimal>().expect("amount"),
        Currency::parse("USD").expect("USD"),
    )
}

#[test]
fn reads_a_camt_053_001_02_statement() {
    let name = "camt053_v02.xml";
    let (entries, report, counts) = read(read_camt053, name);
    assert_eq!(
        problems(&report),
        [(
            107,
            Severity::Warning,
            format!("{name}:107: warning: column \"Ntry/RvslInd\": entry skipped: it is a reversal (RvslInd true)")
        )]
    );
    let d5 = date(2026, 3, 5);
    assert_eq!(
        entries,
        [
            entry(
                24,
                d5,
                Some(date(2026, 3, 6)),
                eur("150.00"),
                "2026030500001",
                "VIR SEPA F-2026-0042 FACT",
                None,
                Some("SARL DUPONT ET FILS"),
                Some("FR7610107001011234567890129"),
                Some("E2E-0042"),
            ),
            entry(
                48,
                d5,
                Some(d5),
                eur("480.00"),
                "NTRY-0002",
                "RF18539007547034",
                Some("RF18539007547034"),
                Some("Martin Électricité"),
                None,
                None,
            ),
            entry(
                83,
                d5,
                Some(d5),
                eur("200.00"),
                "2026030500003/1",
                "F-2026-0050",
                None,
                Some("BOULANGERIE DURAND"),
                None,
                Some("LOT-1"),
            ),
            entry(
                89,
                d5,
                Some(d5),
                eur("150.00"),
                "2026030500003/2",
                "FACTURE F-2026-0051 / F-2026-0052",
                None,
                Some("GARAGE PETIT"),
                Some("FR7630006000011234567890189"),
                Some("LOT-2"),
            ),
            entry(
                115,
                d5,
                None,
                eur("300.00"),
                "2026-03-05|300.00|6|STMT-2026-03-05",
                "VERSEMENT ESPECES AGENCE 00123",
                None,
                None,
                None,
                None,
            ),
        ]
    );
    assert_eq!(counts, summary(5, 1, 1, 0));
    assert_eq!(detect_payment_syntax(&bytes(name)), PaymentSyntax::Camt053);
}

#[test]
fn reads_a_camt_053_001_08_statement_with_prefixed_elements() {
    let name = "camt053_v08.xml";
    let (entries, report, counts) = read(read_camt053, name);
    assert_eq!(
        problems(&report),
        [
            (
                69,
                Severity::Warning,
                format!("{name}:69: warning: column \"Ntry/RvslInd\": entry skipped: it is a reversal (RvslInd true)")
            ),
            (
                76,
                Severity::Warning,
                format!("{name}:76: warning: column \"Ntry/Sts\": entry skipped: its status \"PDNG\" is not BOOK")
            ),
        ]
    );
    let d6 = date(2026, 3, 6);
    assert_eq!(
        entries,
        [
            entry(
                11,
                d6,
                Some(d6),
                eur("1250.00"),
                "BNK-0801",
                "VIR SEPA F-2026-0101 ET F-2026-0102 MERCI",
                None,
                Some("ACME SAS"),
                Some("FR1420041010050500013M02606"),
                Some("ACME-PAY-778"),
            ),
            entry(
                45,
                d6,
                None,
                eur("80.00"),
                "NREF-0802/1",
                "REGLEMENT RF712348231",
                Some("RF712348231"),
                None,
                None,
                None,
            ),
            entry(
                53,
                d6,
                None,
                eur("20.50"),
                "NREF-0802/2",
                "F-2026-0110",
                None,
                Some("Café de la Gare"),
                None,
                None,
            ),
            entry(
                82,
                d6,
                Some(date(2026, 3, 9)),
                usd("12.34"),
                "TXREF-6",
                "INTERETS CREDITEURS",
                None,
                None,
                None,
                None,
            ),
        ]
    );
    assert_eq!(counts, summary(4, 1, 1, 1));
}

#[test]
fn reports_every_problem_of_a_wrong_camt_053_file() {
    let name = "camt053_erreurs.xml";
    let (entries, report, counts) = read(read_camt053, name);
    let e = Severity::Error;
    let w = Severity::Warning;
    let f = |line: u64, rest: &str| format!("{name}:{line}: {rest}");
    assert_eq!(
        problems(&report),
        [
            (5, e, f(5, "column \"Stmt/Id\": Stmt/Id is missing")),
            (11, e, f(11, "column \"Ntry/BookgDt\": \"2026-02-30\" is not a date")),
            (14, e, f(14, "column \"Ntry/Amt\": \"12,50\" is not an amount")),
            (19, e, f(19, "column \"Ntry/Amt\": \"XYZ\" is not an ISO 4217 currency code")),
            (23, e, f(23, "column \"Ntry/CdtDbtInd\": Ntry/CdtDbtInd is missing")),
            (29, e, f(29, "column \"Ntry/CdtDbtInd\": \"CRED\" is neither CRDT nor DBIT")),
            (32, e, f(32, "column \"Ntry/BookgDt\": Ntry/BookgDt is missing")),
            (37, e, f(37, "column \"Ntry/Amt\": \"10.001\" has more decimals than EUR allows (2)")),
            (47, e, f(47, "column \"TxDtls/Amt\": TxDtls/Amt is missing")),
            (50, w, f(50, "warning: column \"Ntry/Amt\": the entry's amount 30.00 differs from the sum of its transactions 25.00")),
            (59, w, f(59, "warning: column \"Ntry/Amt\": entry skipped: its amount is zero")),
        ]
    );
    let d5 = date(2026, 3, 5);
    assert_eq!(
        entries,
        [
            entry(
                55,
                d5,
                None,
                eur("10.00"),
                "2026-03-05|30.00|9|/1",
                "",
                None,
                None,
                None,
                None
            ),
            entry(
                56,
                d5,
                None,
                eur("15.00"),
                "2026-03-05|30.00|9|/2",
                "",
                None,
                None,
                None,
                None
            ),
        ]
    );
    assert_eq!(counts, summary(2, 0, 0, 1));
}

#[test]
fn a_broken_camt_file_gets_a_positioned_error() {
    let name = "camt053_casse.xml";
    let (entries, report, _) = read(read_camt053, name);
    assert!(entries.is_empty());
    assert_eq!(
        problems(&report),
        [(
            8,
            Severity::Error,
            format!(
                "{name}:8: the file is not well-formed XML: expected 'Ntry' tag, not 'Stmt' at 8:5"
            )
        )]
    );
    let (report, _) = read_camt053("x.xml", b"<Invoice/>", &mut |_| {});
    assert_eq!(
        problems(&report),
        [(
            1,
            Severity::Error,
            "x.xml:1: column \"Document\": \"Invoice\" (no namespace) is not a camt.053 Document holding a BkToCstmrStmt".to_string()
        )]
    );
    let (report, _) = read_camt053("x.xml", b"<a>\n\xff</a>", &mut |_| {});
    assert_eq!(report.problems.len(), 1);
    assert_eq!(report.problems[0].line, 2);
}

fn money(text: &str, code: &str) -> Money {
    Money::new(
        text.parse::<Decimal>().expect("amount"),
        Currency::parse(code).expect("currency"),
    )
}

#[test]
fn reads_an_ofx_1_sgml_statement() {
    let name = "releve_v1.ofx";
    let (entries, report, counts) = read(read_ofx, name);
    assert!(report.problems.is_empty(), "{:?}", problems(&report));
    assert_eq!(
        entries,
        [
            entry(
                40,
                date(2026, 3, 2),
                None,
                eur("150.00"),
                "OFX-20260302-001",
                "VIR SEPA SARL DUPONT F-2026-0042 FACT",
                None,
                Some("VIR SEPA SARL DUPONT"),
                None,
                None,
            ),
            entry(
                56,
                date(2026, 3, 4),
                Some(date(2026, 3, 5)),
                eur("1234.56"),
                "OFX-20260304-003",
                "M. LEFÈVRE & FILS FACTURES F-2026-0050 F-2026-0051",
                None,
                Some("M. LEFÈVRE & FILS"),
                None,
                None,
            ),
            entry(
                65,
                date(2026, 3, 6),
                None,
                eur("20.00"),
                "OFX-20260306-004",
                "REMISE ESPECES",
                None,
                None,
                None,
                None,
            ),
        ]
    );
    assert_eq!(counts, summary(3, 1, 0, 0));
    assert_eq!(detect_payment_syntax(&bytes(name)), PaymentSyntax::Ofx);
}

#[test]
fn reads_an_ofx_2_xml_statement() {
    let name = "releve_v2.ofx";
    let (entries, report, counts) = read(read_ofx, name);
    assert_eq!(
        problems(&report),
        [(
            55,
            Severity::Warning,
            format!(
                "{name}:55: warning: column \"TRNAMT\": transaction skipped: its amount is zero"
            )
        )]
    );
    assert_eq!(
        entries,
        [
            entry(
                26,
                date(2026, 3, 2),
                None,
                eur("500.00"),
                "2026030200017",
                "Café de la Gare VIR F-2026-0110",
                None,
                Some("Café de la Gare"),
                None,
                None,
            ),
            entry(
                46,
                date(2026, 3, 4),
                None,
                money("99.90", "CHF"),
                "2026030400019",
                "ACME GMBH RF18539007547034",
                None,
                Some("ACME GMBH"),
                None,
                None,
            ),
        ]
    );
    assert_eq!(counts, summary(2, 1, 0, 1));
    assert_eq!(detect_payment_syntax(&bytes(name)), PaymentSyntax::Ofx);
}

#[test]
fn reports_every_problem_of_a_wrong_ofx_file() {
    let name = "releve_erreurs.ofx";
    let (entries, report, counts) = read(read_ofx, name);
    let e = Severity::Error;
    let f = |line: u64, rest: &str| format!("{name}:{line}: {rest}");
    assert_eq!(
        problems(&report),
        [
            (
                13,
                e,
                f(13, "column \"DTPOSTED\": \"20260230\" is not a date")
            ),
            (
                20,
                e,
                f(20, "column \"TRNAMT\": \"12.5x\" is not an amount")
            ),
            (23, e, f(23, "column \"FITID\": FITID is missing")),
            (
                29,
                e,
                f(
                    29,
                    "column \"TRNTYPE\": \"GIFT\" is not an OFX transaction type"
                )
            ),
            (
                37,
                e,
                f(
                    37,
                    "column \"TRNAMT\": \"12.505\" has more decimals than EUR allows (2)"
                )
            ),
            (
                47,
                e,
                f(
                    47,
                    "column \"STMTTRN\": <STMTTRN> is not closed before line 52"
                )
            ),
            (
                55,
                e,
                f(
                    55,
                    "column \"CURDEF\": \"XYZ\" is not an ISO 4217 currency code"
                )
            ),
        ]
    );
    assert_eq!(
        entries,
        [entry(
            40,
            date(2026, 3, 3),
            None,
            eur("33.00"),
            "E-6",
            "BON PAYEUR",
            None,
            Some("BON PAYEUR"),
            None,
            None,
        )]
    );
    assert_eq!(counts, summary(1, 0, 0, 0));
}

#[test]
fn a_broken_ofx_2_file_gets_a_positioned_error() {
    let name = "releve_casse_v2.ofx";
    let (entries, report, _) = read(read_ofx, name);
    assert!(entries.is_empty());
    assert_eq!(
        problems(&report),
        [(
            9,
            Severity::Error,
            format!("{name}:9: \"</MEMO>\" closes an element that is not open")
        )]
    );
    let (report, _) = read_ofx("x.ofx", b"date;montant\n", &mut |_| {});
    assert_eq!(
        problems(&report),
        [(
            1,
            Severity::Error,
            "x.ofx:1: no <OFX> element: this is not an OFX file".to_string()
        )]
    );
}

#[test]
fn sgml_leaves_may_be_closed_and_a_reference_given_twice_draws_a_warning() {
    let text = "OFXHEADER:100\nDATA:OFXSGML\n\n<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS>\n<CURDEF>EUR</CURDEF>\n\
                <BANKTRANLIST>\n\
                <STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20260302<TRNAMT>10.00<FITID>A1<NAME>X</NAME></STMTTRN>\n\
                <STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20260303<TRNAMT>11.00<FITID>A1<MEMO>Y</STMTTRN>\n\
                </BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n";
    let mut entries = Vec::new();
    let (report, counts) = read_ofx("dup.ofx", text.as_bytes(), &mut |e| entries.push(e));
    assert_eq!(
        problems(&report),
        [(
            8,
            Severity::Warning,
            "dup.ofx:8: warning: bank reference \"A1\" was already given to the entry on line 7"
                .to_string()
        )]
    );
    assert_eq!(
        entries,
        [
            entry(
                7,
                date(2026, 3, 2),
                None,
                eur("10.00"),
                "A1",
                "X",
                None,
                Some("X"),
                None,
                None
            ),
            entry(
                8,
                date(2026, 3, 3),
                None,
                eur("11.00"),
                "A1",
                "Y",
                None,
                None,
                None,
                None
            ),
        ]
    );
    assert_eq!(counts, summary(2, 0, 0, 0));
}
