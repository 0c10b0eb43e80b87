//! relance-formats: readers of the files people have — today the invoice and payment CSV.
//!
//! Every reader streams: it calls a sink for each valid row and returns a [`ReadReport`] that
//! holds every problem of the file (never only the first), each with its line, column and
//! value. A file with any [`Severity::Error`] is to be refused as a whole by the caller.

mod cells;
mod columns;
mod invoice_csv;
mod payment_csv;
mod problem;
mod seen;
mod table;
mod text;

pub use invoice_csv::{read_invoices_csv, InvoiceRow, MAX_TERMS_DAYS};
pub use payment_csv::{read_payments_csv, PaymentRow};
pub use problem::{Problem, ReadReport, Severity};
pub use text::{decode_text, detect_separator, normalise_header, parse_date, parse_decimal};
