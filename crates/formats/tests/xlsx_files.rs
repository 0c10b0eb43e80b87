//! Excel workbooks written here with rust_xlsxwriter, read back with the XLSX readers.

use relance_core::ledger::ItemKind;
use relance_formats::{
    detect_invoice_syntax, detect_payment_syntax, read_invoices_xlsx, read_payments_xlsx,
    InvoiceRow, InvoiceSyntax, PaymentRow, PaymentSyntax,
};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

type Cell<'a> = (&'a str, Option<f64>, Option<(u16, u8, u8)>);

fn text(s: &str) -> Cell<'_> {
    (s, None, None)
}
fn number(n: f64) -> Cell<'static> {
    ("", Some(n), None)
}
fn date(y: u16, m: u8, d: u8) -> Cell<'static> {
    ("", None, Some((y, m, d)))
}

/// A workbook with an empty first sheet, then `sheet` holding `rows` from row `top` (0-based).
fn workbook(sheet: &str, top: u32, rows: &[Vec<Cell<'_>>]) -> Vec<u8> {
    let mut book = Workbook::new();
    book.add_worksheet().set_name("Vide").expect("name");
    let ws = book.add_worksheet();
    ws.set_name(sheet).expect("name");
    let dates = Format::new().set_num_format("dd/mm/yyyy");
    for (r, row) in rows.iter().enumerate() {
        let r = top + u32::try_from(r).expect("row");
        for (c, cell) in row.iter().enumerate() {
            let c = u16::try_from(c).expect("col");
            match cell {
                (_, Some(n), _) => {
                    ws.write_number(r, c, *n).expect("number");
                }
                (_, _, Some((y, m, d))) => {
                    let value = ExcelDateTime::from_ymd(*y, *m, *d).expect("date");
                    ws.write_datetime_with_format(r, c, &value, &dates)
                        .expect("date");
                }
                ("", None, None) => {}
                (s, None, None) => {
                    ws.write_string(r, c, *s).expect("text");
                }
            }
        }
    }
    book.save_to_buffer().expect("xlsx")
}

fn header() -> Vec<Cell<'static>> {
    [
        "N° facture",
        "Code client",
        "Client",
        "Date",
        "Échéance",
        "Montant TTC",
        "Type de document",
    ]
    .into_iter()
    .map(text)
    .collect()
}

#[test]
#[allow(clippy::type_complexity)]
fn invoices_are_read_with_the_csv_column_rules() {
    let bytes = workbook(
        "Factures",
        1,
        &[
            header(),
            vec![
                text("F-2026-001"),
                number(411001.0),
                text("Dupont SARL"),
                date(2026, 1, 15),
                date(2026, 2, 14),
                number(1234.56),
                text("facture"),
            ],
            vec![],
            vec![
                text("AV-7"),
                text("C2"),
                text("Martin\net fils"),
                text("20/01/2026"),
                text("20/01/2026"),
                number(0.1 + 0.2),
                text("avoir"),
            ],
        ],
    );
    assert_eq!(detect_invoice_syntax(&bytes), InvoiceSyntax::Xlsx);
    let mut rows: Vec<InvoiceRow> = Vec::new();
    let report = read_invoices_xlsx("f.xlsx", &bytes, &mut |r| rows.push(r));
    assert!(!report.has_errors(), "{:?}", report.problems);
    assert_eq!(report.rows, 2);
    let got: Vec<(
        u64,
        ItemKind,
        &str,
        &str,
        Option<&str>,
        String,
        String,
        String,
    )> = rows
        .iter()
        .map(|r| {
            (
                r.line,
                r.kind,
                r.number.as_str(),
                r.customer_code.as_str(),
                r.customer_name.as_deref(),
                r.issue_date.to_string(),
                r.due_date.to_string(),
                r.total.amount.to_string(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                3,
                ItemKind::Invoice,
                "F-2026-001",
                "411001",
                Some("Dupont SARL"),
                "2026-01-15".into(),
                "2026-02-14".into(),
                "1234.56".into()
            ),
            (
                5,
                ItemKind::CreditNote,
                "AV-7",
                "C2",
                Some("Martin\net fils"),
                "2026-01-20".into(),
                "2026-01-20".into(),
                "-0.3".into()
            ),
        ]
    );
}

#[test]
fn problems_name_the_file_the_sheet_the_row_and_the_column() {
    let bytes = workbook(
        "Factures",
        0,
        &[
            header(),
            vec![
                text("F-1"),
                text("C1"),
                text("Multi\nligne\nclient"),
                date(2026, 1, 15),
                date(2026, 2, 14),
                number(10.0),
            ],
            vec![
                text("F-2"),
                text("C1"),
                text(""),
                date(2026, 1, 15),
                text("31/02/2026"),
                text("douze"),
            ],
            vec![
                text("F-1"),
                text("C1"),
                text(""),
                date(2026, 1, 15),
                date(2026, 2, 14),
                number(10.0),
            ],
        ],
    );
    let mut rows = 0;
    let report = read_invoices_xlsx("dir/f.xlsx", &bytes, &mut |_| rows += 1);
    let errors: Vec<String> = report.errors().map(ToString::to_string).collect();
    assert_eq!(
        errors,
        vec![
            "dir/f.xlsx[Factures]:3: column \"Échéance\": \"31/02/2026\" is not a date".to_string(),
            "dir/f.xlsx[Factures]:3: column \"Montant TTC\": \"douze\" is not an amount".to_string(),
            "dir/f.xlsx[Factures]:4: column \"N° facture\": invoice number \"F-1\" already appears on line 2"
                .to_string(),
        ]
    );
    assert_eq!(rows, 1);
}

#[test]
fn payments_are_read_with_the_csv_column_rules() {
    let bytes = workbook(
        "Banque",
        0,
        &[
            vec![
                text("Date"),
                text("Montant"),
                text("Code client"),
                text("Facture"),
                text("Référence"),
            ],
            vec![
                date(2026, 3, 2),
                number(500.0),
                text("C1"),
                text("F-1"),
                text("VIR 123"),
            ],
        ],
    );
    assert_eq!(detect_payment_syntax(&bytes), PaymentSyntax::Xlsx);
    let mut rows: Vec<PaymentRow> = Vec::new();
    let report = read_payments_xlsx("p.xlsx", &bytes, &mut |r| rows.push(r));
    assert!(!report.has_errors(), "{:?}", report.problems);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].line, 2);
    assert_eq!(rows[0].date.to_string(), "2026-03-02");
    assert_eq!(rows[0].amount.amount.to_string(), "500");
    assert_eq!(rows[0].invoice_number.as_deref(), Some("F-1"));
}

#[test]
fn broken_workbooks_are_refused_with_a_position() {
    let mut bytes = workbook("Factures", 0, &[header()]);
    bytes.truncate(bytes.len() / 2);
    let report = read_invoices_xlsx("half.xlsx", &bytes, &mut |_| {});
    assert!(report.has_errors());
    let first = report.errors().next().expect("an error").to_string();
    assert!(first.starts_with("half.xlsx:1: "), "{first}");

    let empty = {
        let mut book = Workbook::new();
        book.add_worksheet();
        book.save_to_buffer().expect("xlsx")
    };
    let report = read_invoices_xlsx("empty.xlsx", &empty, &mut |_| {});
    assert_eq!(
        report.errors().next().map(ToString::to_string).as_deref(),
        Some("empty.xlsx:1: every worksheet of the workbook is empty")
    );
}

/// A cell at Excel's last row and column beside a header in A1: read as sparse cells, so the
/// file is handled in a moment instead of allocating the whole rectangle (17 billion cells),
/// and a problem in a row near the top still names that row.
#[test]
fn a_cell_in_the_far_corner_does_not_exhaust_memory() {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    let line = ["F-1", "C1", "Client", "2026-01-15", "31/02/2026", "12", ""];
    for (c, (title, value)) in header().iter().zip(line).enumerate() {
        let c = u16::try_from(c).expect("col");
        ws.write_string(0, c, title.0).expect("text");
        ws.write_string(1, c, value).expect("text");
    }
    ws.write_string(1_048_575, 16_383, "loin")
        .expect("far cell");
    let bytes = book.save_to_buffer().expect("xlsx");
    let report = read_invoices_xlsx("far.xlsx", &bytes, &mut |_| {});
    let first = report.errors().next().expect("an error").to_string();
    assert_eq!(
        first,
        "far.xlsx[Sheet1]:2: column \"Échéance\": \"31/02/2026\" is not a date"
    );
}
