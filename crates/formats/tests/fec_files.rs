//! The FEC reader on files written after LPF A47 A-1 (tests/data/fec).

use std::path::Path;

use relance_core::ledger::ItemKind;
use relance_formats::{detect_invoice_syntax, read_fec, InvoiceRow, InvoiceSyntax};

fn read(name: &str) -> (Vec<InvoiceRow>, relance_formats::ReadReport) {
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/fec")
            .join(name),
    )
    .expect("file");
    assert_eq!(detect_invoice_syntax(&bytes), InvoiceSyntax::Fec);
    let mut rows = Vec::new();
    let report = read_fec(name, &bytes, 30, &mut |r| rows.push(r));
    (rows, report)
}

#[test]
fn customer_items_are_rebuilt_from_the_411_accounts() {
    let (rows, report) = read("552100554FEC20261231.txt");
    assert!(!report.has_errors(), "{:?}", report.problems);
    let summary: Vec<(ItemKind, &str, &str, String, String, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r.kind,
                r.number.as_str(),
                r.customer_code.as_str(),
                r.issue_date.to_string(),
                r.due_date.to_string(),
                r.total.amount.to_string(),
                r.paid.amount.to_string(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                ItemKind::Invoice,
                "FA-001",
                "C001",
                "2026-01-05".into(),
                "2026-02-04".into(),
                "1200.00".into(),
                "0".into()
            ),
            (
                ItemKind::Invoice,
                "FA-002",
                "C002",
                "2026-01-10".into(),
                "2026-02-09".into(),
                "1800.00".into(),
                "1800.00".into()
            ),
            (
                ItemKind::Invoice,
                "FA-003",
                "C001",
                "2026-01-20".into(),
                "2026-02-19".into(),
                "960.00".into(),
                "0".into()
            ),
            (
                ItemKind::CreditNote,
                "AV-001",
                "C001",
                "2026-01-25".into(),
                "2026-02-24".into(),
                "-120.00".into(),
                "0".into()
            ),
            (
                ItemKind::CreditNote,
                "REGLT-BQ-6",
                "C001",
                "2026-03-01".into(),
                "2026-03-31".into(),
                "-500.00".into(),
                "0".into()
            ),
        ]
    );
    assert_eq!(rows[1].customer_name.as_deref(), Some("Garage Petit"));
    let warnings: Vec<String> = report.warnings().map(|p| p.to_string()).collect();
    assert!(
        warnings.iter().any(|w| w.contains("piece date + 30 days")),
        "{warnings:?}"
    );
}

#[test]
fn a_bad_fec_names_every_problem() {
    let (rows, report) = read("bad-FEC.txt");
    assert!(rows.is_empty());
    let errors: Vec<String> = report.errors().map(|p| p.to_string()).collect();
    assert_eq!(
        errors,
        vec![
            "bad-FEC.txt:2: column \"PieceDate\": \"20260231\" is not a date (YYYYMMDD)",
            "bad-FEC.txt:3: column \"CompAuxNum\": customer account \"411000\" has no auxiliary account: cannot tell which customer",
            "bad-FEC.txt:4: column \"Debit\": \"1OO,00\" is not an amount",
        ]
    );
}

/// Found by cargo-fuzz: two lines of one piece whose amounts add up beyond the decimal range
/// made the reader panic. Amounts are bounded when read, and the sum is checked.
#[test]
fn huge_amounts_are_refused_not_overflowed() {
    let header = "JournalCode\tJournalLib\tEcritureNum\tEcritureDate\tCompteNum\tCompteLib\tCompAuxNum\tCompAuxLib\tPieceRef\tPieceDate\tEcritureLib\tDebit\tCredit\tEcritureLet\tDateLet\tValidDate\tMontantdevise\tIdevise";
    let line = |debit: &str| {
        format!("VE\tVentes\t1\t20260105\t411000\tClients\tC001\tMartin\tFA-001\t20260105\tFacture\t{debit}\t0,00\t\t\t20260105\t\t")
    };
    let file = format!(
        "{header}\n{}\n{}\n{}\n",
        line("79228162514264337593543950335"),
        line("9999999999999,99"),
        line("9999999999999,99"),
    );
    let mut rows = Vec::new();
    let report = read_fec("huge.txt", file.as_bytes(), 30, &mut |r| rows.push(r));
    let errors: Vec<String> = report.errors().map(|p| p.to_string()).collect();
    assert_eq!(
        errors,
        vec![
            "huge.txt:2: column \"Debit\": \"79228162514264337593543950335\" is too large for an amount (the limit is 9 999 999 999 999.99)",
        ]
    );
    // The two bounded lines of the same piece add up without overflow.
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].total.amount.to_string(), "19999999999999.98");
}
