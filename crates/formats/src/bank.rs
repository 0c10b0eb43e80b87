//! Bank statements: ISO 20022 camt.053, French CFONB 120 and OFX, read into one [`BankEntry`]
//! per credit so that matching payments to invoices does not care where they came from.
//!
//! Debits are skipped and counted, never errors: a statement holds both and only the money
//! received matters here. Every malformed value is an Error naming its line and value; the
//! entries that are well formed still go to the sink, and the caller refuses a file with any
//! Error as a whole, as for the CSV readers.

mod camt;
mod cfonb;
mod ofx;

use std::collections::HashMap;

use chrono::NaiveDate;
use relance_core::money::{Currency, Money};
use rust_decimal::Decimal;

use crate::problem::{Problems, ReadReport};

pub use camt::read_camt053;
pub use cfonb::read_cfonb120;
pub use ofx::read_ofx;

/// One credit of a bank statement: money received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankEntry {
    /// Line in the file where the entry (or, in a camt batch, the transaction) starts.
    pub line: u64,
    /// camt `BookgDt`, CFONB date d'opération (comptabilisation), OFX `DTPOSTED`.
    pub booking_date: NaiveDate,
    /// camt `ValDt`, CFONB date de valeur, OFX `DTAVAIL`.
    pub value_date: Option<NaiveDate>,
    /// Always positive.
    pub amount: Money,
    /// Unique per entry in the account: camt `AcctSvcrRef` of the entry (else of its single
    /// transaction, else `NtryRef`, else `EndToEndId`, else
    /// `date|amount|entry number in the statement|statement id`), a composite for CFONB
    /// (see `cfonb.rs`), OFX `FITID`. A camt batch's transactions get `/1`, `/2`… appended.
    /// A reference given twice in one file draws a warning.
    pub bank_reference: String,
    /// The payer's wording: camt `Ustrd` (all of them) and structured references, CFONB
    /// libellé and its 05 complements, OFX `NAME` and `MEMO`; joined with one space.
    pub remittance: String,
    /// camt `Strd/CdtrRefInf/Ref`, e.g. an RF creditor reference.
    pub structured_reference: Option<String>,
    pub payer_name: Option<String>,
    pub payer_iban: Option<String>,
    /// camt `Refs/EndToEndId`, `NOTPROVIDED` left out.
    pub end_to_end_id: Option<String>,
}

/// What a statement held besides the credits passed to the sink.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatementSummary {
    /// Credits passed to the sink (one per transaction of a camt batch).
    pub credits: u64,
    /// Debits skipped.
    pub debits_ignored: u64,
    /// camt reversals (`RvslInd` true) skipped, each with a warning.
    pub reversals_ignored: u64,
    /// Other entries skipped with a warning: camt entries not booked (`Sts` other than
    /// `BOOK`), zero amounts.
    pub others_ignored: u64,
}

/// Which syntax a payments file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentSyntax {
    Csv,
    Camt053,
    Cfonb120,
    Ofx,
    /// An Excel workbook (`.xlsx`) with the payment CSV's columns.
    Xlsx,
}

/// Looks at the first bytes: a zip (an `.xlsx` workbook), an OFX header or `<OFX>`, an XML document (camt.053), a first
/// line of 120 characters starting with `01` (CFONB 120), else CSV.
pub fn detect_payment_syntax(bytes: &[u8]) -> PaymentSyntax {
    if crate::xlsx::looks_like_xlsx(bytes) {
        return PaymentSyntax::Xlsx;
    }
    let head = &bytes[..bytes.len().min(4096)];
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let text = String::from_utf8_lossy(head);
    let trimmed = text.trim_start();
    let upper = trimmed.to_ascii_uppercase();
    if upper.starts_with("OFXHEADER") || upper.contains("<OFX>") || upper.contains("<?OFX ") {
        return PaymentSyntax::Ofx;
    }
    if trimmed.starts_with('<') {
        return PaymentSyntax::Camt053;
    }
    if head.starts_with(b"01") {
        let first = head.split(|&b| b == b'\n').next().unwrap_or(head);
        let first = first.strip_suffix(b"\r").unwrap_or(first);
        // Some banks send the records without line breaks.
        let unbroken = first.len() == head.len() && first.len() >= 120;
        if first.len() == 120 || unbroken {
            return PaymentSyntax::Cfonb120;
        }
    }
    PaymentSyntax::Csv
}

/// What every reader collects while it goes: the problems, the counts and the sink.
pub(crate) struct Out<'a, 's> {
    pub(crate) problems: Problems<'a>,
    pub(crate) summary: StatementSummary,
    sink: &'s mut dyn FnMut(BankEntry),
    /// Bank references given so far, with their lines (one per entry: bounded by the file).
    references: HashMap<String, u64>,
}

impl<'a, 's> Out<'a, 's> {
    pub(crate) fn new(source: &'a str, sink: &'s mut dyn FnMut(BankEntry)) -> Self {
        Out {
            problems: Problems::new(source),
            summary: StatementSummary::default(),
            sink,
            references: HashMap::new(),
        }
    }

    pub(crate) fn emit(&mut self, entry: BankEntry) {
        if let Some(first) = self
            .references
            .insert(entry.bank_reference.clone(), entry.line)
        {
            self.problems.warning(
                entry.line,
                None,
                Some(shown(&entry.bank_reference)),
                format!(
                    "bank reference \"{}\" was already given to the entry on line {first}",
                    shown(&entry.bank_reference)
                ),
            );
        }
        self.summary.credits += 1;
        (self.sink)(entry);
    }

    pub(crate) fn error(&mut self, line: u64, column: &str, value: Option<&str>, message: String) {
        self.problems.error(line, Some(column), value, message);
    }

    pub(crate) fn warning(&mut self, line: u64, column: Option<&str>, message: String) {
        self.problems.warning(line, column, None, message);
    }

    pub(crate) fn finish(self) -> (ReadReport, StatementSummary) {
        let report = ReadReport {
            rows: self.summary.credits,
            problems: self.problems.list,
        };
        (report, self.summary)
    }
}

/// Checks that an amount has no more decimals than its currency has; the message names the
/// value as written.
pub(crate) fn decimals_error(value: Decimal, currency: Currency, text: &str) -> Option<String> {
    let minor = if currency == Currency::EUR {
        2
    } else {
        currency.minor_units()
    };
    (value.scale() > minor && value.normalize().scale() > minor)
        .then(|| format!("\"{text}\" has more decimals than {currency} allows ({minor})"))
}

/// Joins the non-empty parts with one space.
pub(crate) fn join_words<'t>(parts: impl IntoIterator<Item = &'t str>) -> String {
    let mut out = String::new();
    for part in parts {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(part);
    }
    out
}

/// Keeps at most `max` characters of a value quoted in a message: hostile files may hold
/// huge values, and a message is for a person.
pub(crate) fn shown(text: &str) -> &str {
    const MAX: usize = 80;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => &text[..cut],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_the_syntax_from_the_first_bytes() {
        assert_eq!(
            detect_payment_syntax(b"OFXHEADER:100\r\nDATA:OFXSGML\r\n"),
            PaymentSyntax::Ofx
        );
        assert_eq!(
            detect_payment_syntax(b"<?xml version=\"1.0\"?>\n<?OFX OFXHEADER=\"200\"?><OFX>"),
            PaymentSyntax::Ofx
        );
        assert_eq!(
            detect_payment_syntax(b"\xEF\xBB\xBF<?xml version=\"1.0\"?><Document>"),
            PaymentSyntax::Camt053
        );
        let line = format!("01{}", "0".repeat(118));
        assert_eq!(
            detect_payment_syntax(format!("{line}\r\n{line}\r\n").as_bytes()),
            PaymentSyntax::Cfonb120
        );
        assert_eq!(
            detect_payment_syntax(format!("{line}{line}").as_bytes()),
            PaymentSyntax::Cfonb120
        );
        assert_eq!(
            detect_payment_syntax("date;montant\n01/03/2026;12\n".as_bytes()),
            PaymentSyntax::Csv
        );
    }

    #[test]
    fn shows_at_most_eighty_characters() {
        assert_eq!(shown("abc"), "abc");
        assert_eq!(shown(&"é".repeat(100)).chars().count(), 80);
    }
}
