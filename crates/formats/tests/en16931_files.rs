//! The official EN 16931 examples (tests/data/en16931, EUPL 1.2): every business term relance
//! reads must equal the value written in the file.

use std::path::Path;

use relance_formats::{
    detect_invoice_syntax, read_invoice_xml, InvoiceRow, InvoiceSyntax, ReadReport,
};

fn read(name: &str) -> (Vec<InvoiceRow>, ReadReport) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/en16931")
        .join(name);
    let bytes = std::fs::read(&path).expect("test file");
    let mut rows = Vec::new();
    let report = read_invoice_xml(name, &bytes, &mut |r| rows.push(r));
    (rows, report)
}

/// (file, syntax, BT-1, BT-2, BT-9, BT-5, BT-112 signed, BT-113 signed, buyer code, buyer name, e-mail)
#[allow(clippy::type_complexity)]
const EXPECTED: &[(
    &str,
    InvoiceSyntax,
    &str,
    &str,
    &str,
    &str,
    &str,
    &str,
    &str,
    &str,
    &str,
)] = &[
    (
        "ubl-tc434-example1.xml",
        InvoiceSyntax::Ubl,
        "12115118",
        "2015-01-09",
        "2015-01-09",
        "EUR",
        "250.33",
        "0",
        "10202",
        "ODIN 59",
        "",
    ),
    (
        "ubl-tc434-example2.xml",
        InvoiceSyntax::Ubl,
        "TOSL108",
        "2013-06-30",
        "2013-07-20",
        "NOK",
        "1801.78",
        "1000.00",
        "3456789012098",
        "The Buyercompany",
        "john@buyercompany.no",
    ),
    (
        "ubl-tc434-example3.xml",
        InvoiceSyntax::Ubl,
        "TOSL108",
        "2013-04-10",
        "2013-05-10",
        "DKK",
        "2005.00",
        "0",
        "5790000435975",
        "Buyercompany ltd",
        "",
    ),
    (
        "ubl-tc434-example4.xml",
        InvoiceSyntax::Ubl,
        "TOSL110",
        "2013-04-10",
        "2013-05-10",
        "DKK",
        "4675.00",
        "0",
        "5790000436057",
        "Buyercompany ltd",
        "",
    ),
    (
        "ubl-tc434-example5.xml",
        InvoiceSyntax::Ubl,
        "TOSL110",
        "2013-04-10",
        "2013-05-10",
        "DKK",
        "4675.00",
        "2337.50",
        "5790000436057",
        "Buyercompany ltd",
        "john.hansen@buyercompany.dk",
    ),
    (
        "CII_example1.xml",
        InvoiceSyntax::Cii,
        "12115118",
        "2015-01-09",
        "2015-01-09",
        "EUR",
        "250.33",
        "0",
        "10202",
        "ODIN 59",
        "",
    ),
    (
        "CII_example2.xml",
        InvoiceSyntax::Cii,
        "TOSL108",
        "2013-06-30",
        "2013-07-20",
        "NOK",
        "1801.78",
        "1000",
        "987654321",
        "The Buyercompany",
        "john@buyercompany.no",
    ),
    (
        "CII_example3.xml",
        InvoiceSyntax::Cii,
        "TOSL108",
        "2013-04-10",
        "2013-05-10",
        "DKK",
        "1125",
        "0",
        "Buyercompany ltd",
        "Buyercompany ltd",
        "",
    ),
    (
        "CII_example4.xml",
        InvoiceSyntax::Cii,
        "TOSL110",
        "2013-04-10",
        "2013-05-10",
        "DKK",
        "4675",
        "0",
        "Buyercompany ltd",
        "Buyercompany ltd",
        "",
    ),
    (
        "CII_example5.xml",
        InvoiceSyntax::Cii,
        "TOSL110",
        "2013-04-10",
        "2013-05-10",
        "DKK",
        "4675",
        "2337.5",
        "DK16356607",
        "Buyercompany ltd",
        "info@buyercompany.dk",
    ),
];

#[test]
fn every_official_example_reads_as_its_business_terms_say() {
    for (file, syntax, number, issue, due, currency, total, paid, code, name, email) in EXPECTED {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/en16931")
            .join(file);
        assert_eq!(
            detect_invoice_syntax(&std::fs::read(&path).expect("file")),
            *syntax,
            "{file}"
        );
        let (rows, report) = read(file);
        assert!(
            !report.has_errors(),
            "{file}: {:?}",
            report
                .problems
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
        );
        assert_eq!(rows.len(), 1, "{file}");
        let r = &rows[0];
        assert_eq!(r.number, *number, "{file} BT-1");
        assert_eq!(r.issue_date.to_string(), *issue, "{file} BT-2");
        assert_eq!(r.due_date.to_string(), *due, "{file} BT-9");
        assert_eq!(r.total.currency.code(), *currency, "{file} BT-5");
        assert_eq!(
            r.total.amount,
            total.parse().expect("decimal"),
            "{file} BT-112"
        );
        assert_eq!(
            r.paid.amount,
            paid.parse().expect("decimal"),
            "{file} BT-113"
        );
        assert_eq!(r.customer_code.as_str(), *code, "{file} buyer code");
        assert_eq!(r.customer_name.as_deref(), Some(*name), "{file} BT-44");
        assert_eq!(
            r.emails.first().map(|e| e.as_str()).unwrap_or(""),
            *email,
            "{file} BT-58"
        );
    }
}

#[test]
fn the_official_credit_note_is_negative_and_gets_a_derived_due_date() {
    let (rows, report) = read("ubl-tc434-creditnote1.xml");
    assert!(!report.has_errors());
    let r = &rows[0];
    assert_eq!(r.kind, relance_core::ledger::ItemKind::CreditNote);
    assert_eq!(r.number, "018304 / 28865");
    assert_eq!(r.total.amount.to_string(), "-100.11");
    assert_eq!(
        r.customer_code.as_str(),
        "0000000295",
        "BT-47 legal id when there is no buyer identifier"
    );
    assert_eq!(r.issue_date.to_string(), "2019-09-23");
    // No BT-9 and no readable BT-20: the default term of 30 days, and a warning says so.
    assert_eq!(r.due_date.to_string(), "2019-10-23");
    let warnings: Vec<String> = report.warnings().map(|p| p.to_string()).collect();
    assert!(
        warnings.iter().any(|w| w.contains(
            "no due date in the file: 2019-10-23 derived with the default term of 30 days"
        )),
        "{warnings:?}"
    );
}

#[test]
fn addresses_come_in_envelope_order() {
    let (rows, _) = read("ubl-tc434-example1.xml");
    assert_eq!(
        rows[0].address.as_deref(),
        Some("POSTBUS 367\n1960 AJ HEEMSKERK\nNL")
    );
}
