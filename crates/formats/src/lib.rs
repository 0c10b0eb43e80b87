//! relance-formats: readers of the files people have — invoice and payment CSV, EN 16931
//! e-invoices (UBL 2.1, UN/CEFACT CII), Excel workbooks, bank statements (camt.053, CFONB 120, OFX).
//!
//! Every reader streams: it calls a sink for each valid row and returns a [`ReadReport`] that
//! holds every problem of the file (never only the first), each with its line, column and
//! value. A file with any [`Severity::Error`] is to be refused as a whole by the caller.

mod bank;
mod cells;
mod columns;
mod en16931;
mod facturx;
mod fec;
#[doc(hidden)]
pub mod fuzzing;
mod invoice_csv;
mod payment_csv;
mod problem;
mod prospect_csv;
mod quote_csv;
mod seen;
mod supplier_csv;
mod table;
mod text;
mod xlsx;

pub use bank::{
    detect_payment_syntax, read_camt053, read_cfonb120, read_ofx, BankEntry, PaymentSyntax,
    StatementSummary,
};
pub use en16931::{
    detect_invoice_syntax, read_invoice_xml, term_days, InvoiceSyntax, DEFAULT_TERM_DAYS,
};
pub use facturx::{
    extract_embedded_invoice, read_invoice_pdf, EmbeddedInvoice, INVOICE_FILE_NAMES,
};
pub use fec::{looks_like_fec, read_fec};
pub use invoice_csv::{read_invoices_csv, InvoiceRow};
pub use payment_csv::{read_payments_csv, PaymentRow};
pub use problem::{Problem, ReadReport, Severity};
pub use prospect_csv::{read_prospects_csv, ProspectRow};
pub use quote_csv::{read_quotes_csv, QuoteRow};
pub use supplier_csv::{
    read_purchase_orders_csv, read_supplier_invoices_csv, PurchaseOrderRow, SupplierCells,
    SupplierInvoiceRow,
};
pub use text::{decode_text, detect_separator, normalise_header, parse_date, parse_decimal};
pub use xlsx::{looks_like_xlsx, read_invoices_xlsx, read_payments_xlsx};
