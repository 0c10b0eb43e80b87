//! One entry point per parser, for the fuzz targets (`fuzz/`, cargo-fuzz) and the random-input
//! harness run as a test (`tests/fuzz.rs`). Each takes any bytes and checks what every reader
//! promises: it returns (no panic), and a refused input carries at least one error that names
//! the file and a line.

use crate::ReadReport;

/// The parsers, by target name.
pub const TARGETS: &[&str] = &[
    "invoice_csv",
    "payment_csv",
    "en16931",
    "fec",
    "camt053",
    "cfonb120",
    "ofx",
    "xlsx",
    "facturx",
    "purchase_order_csv",
    "supplier_invoice_csv",
    "quote_csv",
    "prospect_csv",
];

/// Runs parser `target` on `bytes`; `None` for an unknown target name.
pub fn run(target: &str, bytes: &[u8]) -> Option<ReadReport> {
    let source = "fuzz.input";
    let report = match target {
        "invoice_csv" => crate::read_invoices_csv(source, bytes, &mut |_| {}),
        "payment_csv" => crate::read_payments_csv(source, bytes, &mut |_| {}),
        "en16931" => crate::read_invoice_xml(source, bytes, &mut |_| {}),
        "fec" => crate::read_fec(source, bytes, 30, &mut |_| {}),
        "camt053" => crate::read_camt053(source, bytes, &mut |_| {}).0,
        "cfonb120" => crate::read_cfonb120(source, bytes, &mut |_| {}).0,
        "ofx" => crate::read_ofx(source, bytes, &mut |_| {}).0,
        "xlsx" => crate::read_invoices_xlsx(source, bytes, &mut |_| {}),
        "facturx" => crate::read_invoice_pdf(source, bytes, &mut |_| {}),
        "purchase_order_csv" => crate::read_purchase_orders_csv(source, bytes, &mut |_| {}),
        "supplier_invoice_csv" => crate::read_supplier_invoices_csv(source, bytes, &mut |_| {}),
        "quote_csv" => crate::read_quotes_csv(source, bytes, &mut |_| {}),
        "prospect_csv" => crate::read_prospects_csv(source, bytes, &mut |_| {}),
        _ => return None,
    };
    Some(report)
}

/// What is wrong with a report, if anything: an error without a source or a line.
pub fn unpositioned(report: &ReadReport) -> Option<String> {
    report
        .errors()
        .find(|p| p.source.is_empty() || p.line == 0)
        .map(ToString::to_string)
}
