//! OFX bank statements, both SGML (OFX 1.x: a `KEY:VALUE` header, leaf elements without
//! closing tags) and XML (OFX 2.x), read by one tag scanner without recursion.
//!
//! Read per `STMTTRN`: `TRNTYPE`, `DTPOSTED` (`YYYYMMDD[HHMMSS[.XXX]][[offset:TZ]]`, the date
//! as written), `DTAVAIL` (the value date), `TRNAMT` (a point or a comma; negative is a
//! debit, skipped and counted), `FITID` (the bank reference), `NAME` or `PAYEE/NAME`, `MEMO`,
//! and `CURRENCY/CURSYM` when the amounts are in another currency than the statement's
//! `CURDEF`.

use chrono::NaiveDate;
use relance_core::money::{Currency, Money};

use super::{decimals_error, join_words, shown, BankEntry, Out, StatementSummary};
use crate::problem::ReadReport;
use crate::text::{decode_text, parse_decimal};

/// OFX nests a dozen levels; deeper is not a statement.
const MAX_DEPTH: usize = 256;

/// The transaction types of OFX 2.2 section 11.4.4.3.
const TRANSACTION_TYPES: &[&str] = &[
    "CREDIT",
    "DEBIT",
    "INT",
    "DIV",
    "FEE",
    "SRVCHG",
    "DEP",
    "ATM",
    "POS",
    "XFER",
    "CHECK",
    "PAYMENT",
    "CASH",
    "DIRECTDEP",
    "DIRECTDEBIT",
    "REPEATPMT",
    "HOLD",
    "OTHER",
];

/// Aggregates inside `STMTTRN` whose leaves are not the transaction's own.
const SUB_AGGREGATES: &[&str] = &[
    "PAYEE",
    "BANKACCTTO",
    "CCACCTTO",
    "CURRENCY",
    "ORIGCURRENCY",
    "IMAGEDATA",
];

/// Reads an OFX file; every credit transaction goes to `sink`, in file order.
pub fn read_ofx(
    source: &str,
    bytes: &[u8],
    sink: &mut dyn FnMut(BankEntry),
) -> (ReadReport, StatementSummary) {
    let mut out = Out::new(source, sink);
    let text = decode_text(bytes);
    let mut reader = Reader {
        out: &mut out,
        xml: false,
        seen_ofx: false,
        stack: Vec::new(),
        last_open: None,
        last_leaf: None,
        currency: None,
        transaction: None,
    };
    reader.scan(&text);
    out.finish()
}

/// A field as written, with the line of its tag.
#[derive(Clone, Copy)]
struct Field<'t> {
    value: &'t str,
    line: u64,
}

#[derive(Default)]
struct Transaction<'t> {
    line: u64,
    /// The sub-aggregate being read (`PAYEE`, `CURRENCY`…), if any.
    sub: Option<&'t str>,
    trntype: Option<Field<'t>>,
    posted: Option<Field<'t>>,
    available: Option<Field<'t>>,
    amount: Option<Field<'t>>,
    fitid: Option<Field<'t>>,
    name: Option<Field<'t>>,
    payee: Option<Field<'t>>,
    memo: Option<Field<'t>>,
    currency: Option<Field<'t>>,
}

/// The statement currency: not seen yet, seen but wrong (already reported), or known.
#[derive(Clone, Copy)]
enum Statement {
    Wrong,
    Known(Currency),
}

struct Reader<'o, 'a, 's, 't> {
    out: &'o mut Out<'a, 's>,
    /// OFX 2 (XML): every element is closed and mismatches are errors.
    xml: bool,
    seen_ofx: bool,
    /// Open elements with their lines.
    stack: Vec<(&'t str, u64)>,
    /// The element whose text comes next.
    last_open: Option<(&'t str, u64)>,
    /// SGML: the last leaf read, whose optional closing tag is then accepted.
    last_leaf: Option<&'t str>,
    currency: Option<Statement>,
    transaction: Option<Transaction<'t>>,
}

impl<'t> Reader<'_, '_, '_, 't> {
    fn scan(&mut self, text: &'t str) {
        let bytes = text.as_bytes();
        let mut line = 1u64;
        let mut i = 0;
        let mut first_tag = true;
        while i < bytes.len() {
            let Some(open) = bytes[i..].iter().position(|&b| b == b'<').map(|p| p + i) else {
                break;
            };
            let between = &text[i..open];
            if !between.trim().is_empty() {
                self.text(between.trim());
            }
            line += count_lines(between);
            let Some(close) = bytes[open..]
                .iter()
                .position(|&b| b == b'>')
                .map(|p| p + open)
            else {
                self.out.problems.error(
                    line,
                    None,
                    None,
                    "a tag is opened with \"<\" and never closed with \">\"".to_string(),
                );
                return;
            };
            let tag = &text[open + 1..close];
            let tag_line = line;
            line += count_lines(tag);
            i = close + 1;
            if first_tag {
                first_tag = false;
                self.xml = tag.starts_with("?xml");
            }
            if tag.starts_with("!--") && !tag.ends_with("--") {
                // A comment holding ">": skip to its real end.
                match text[open..].find("-->") {
                    Some(end) => {
                        line += count_lines(&text[close..open + end]);
                        i = open + end + 3;
                    }
                    None => return,
                }
                continue;
            }
            if tag.starts_with('?') || tag.starts_with('!') {
                continue;
            }
            if let Some(name) = tag.strip_prefix('/') {
                if !self.close(name.trim(), tag_line) {
                    return;
                }
                continue;
            }
            let self_closing = tag.ends_with('/');
            let name = tag
                .trim_end_matches('/')
                .split_ascii_whitespace()
                .next()
                .unwrap_or("");
            if name.is_empty() {
                self.out
                    .problems
                    .error(tag_line, None, None, "\"<>\" is an empty tag".to_string());
                return;
            }
            if !self.open(name, tag_line) {
                return;
            }
            if self_closing && !self.close(name, tag_line) {
                return;
            }
        }
        self.end(line);
    }

    /// False when reading must stop.
    fn open(&mut self, name: &'t str, line: u64) -> bool {
        if self.stack.len() >= MAX_DEPTH {
            self.out.problems.error(
                line,
                None,
                None,
                format!("elements are nested more than {MAX_DEPTH} levels deep"),
            );
            return false;
        }
        if name == "OFX" {
            self.seen_ofx = true;
        }
        self.stack.push((name, line));
        self.last_open = Some((name, line));
        self.last_leaf = None;
        if name == "STMTTRN" {
            if let Some(previous) = self.transaction.take() {
                self.not_closed(previous.line, line);
            }
            self.transaction = Some(Transaction {
                line,
                ..Transaction::default()
            });
        } else if let Some(t) = self.transaction.as_mut() {
            if t.sub.is_none() && SUB_AGGREGATES.contains(&name) {
                t.sub = Some(name);
            }
        }
        true
    }

    fn close(&mut self, name: &'t str, line: u64) -> bool {
        self.last_open = None;
        if self.last_leaf.take() == Some(name) {
            return true;
        }
        let Some(at) = self.stack.iter().rposition(|(open, _)| *open == name) else {
            self.out.problems.error(
                line,
                None,
                Some(shown(name)),
                format!("\"</{}>\" closes an element that is not open", shown(name)),
            );
            return !self.xml;
        };
        if self.xml && at + 1 != self.stack.len() {
            let (inner, inner_line) = self.stack[self.stack.len() - 1];
            self.out.problems.error(
                line,
                None,
                Some(shown(name)),
                format!(
                    "\"</{}>\" closes an element while <{}> opened on line {inner_line} is still open",
                    shown(name),
                    shown(inner)
                ),
            );
            return false;
        }
        let closes_transaction = self.stack[at..].iter().any(|(n, _)| *n == "STMTTRN");
        self.stack.truncate(at);
        if let Some(t) = self.transaction.as_mut() {
            if t.sub == Some(name) {
                t.sub = None;
            }
        }
        if closes_transaction {
            if let Some(t) = self.transaction.take() {
                if name == "STMTTRN" {
                    self.finish(t);
                } else {
                    self.not_closed(t.line, line);
                }
            }
        }
        true
    }

    fn not_closed(&mut self, opened: u64, at: u64) {
        self.out.problems.error(
            opened,
            Some("STMTTRN"),
            None,
            format!("<STMTTRN> is not closed before line {at}"),
        );
    }

    fn text(&mut self, value: &'t str) {
        let Some((name, line)) = self.last_open.take() else {
            return;
        };
        if !self.xml && self.stack.last().map(|(n, _)| *n) == Some(name) {
            // SGML: an element followed by text is a leaf and closes itself.
            self.stack.pop();
            self.last_leaf = Some(name);
        }
        let field = Some(Field { value, line });
        let Some(t) = self.transaction.as_mut() else {
            if name == "CURDEF" {
                self.currency = Some(match Currency::parse(value) {
                    Ok(c) => Statement::Known(c),
                    Err(_) => {
                        self.out.error(
                            line,
                            "CURDEF",
                            Some(shown(value)),
                            format!("\"{}\" is not an ISO 4217 currency code", shown(value)),
                        );
                        Statement::Wrong
                    }
                });
            }
            return;
        };
        match (t.sub, name) {
            (None, "TRNTYPE") => t.trntype = field,
            (None, "DTPOSTED") => t.posted = field,
            (None, "DTAVAIL") => t.available = field,
            (None, "TRNAMT") => t.amount = field,
            (None, "FITID") => t.fitid = field,
            (None, "NAME") => t.name = field,
            (None, "MEMO") => t.memo = field,
            (Some("PAYEE"), "NAME") => t.payee = field,
            (Some("CURRENCY"), "CURSYM") => t.currency = field,
            _ => {}
        }
    }

    fn end(&mut self, line: u64) {
        if let Some(t) = self.transaction.take() {
            self.not_closed(t.line, line);
        }
        if !self.seen_ofx {
            self.out.problems.error(
                1,
                None,
                None,
                "no <OFX> element: this is not an OFX file".to_string(),
            );
        } else if self.xml {
            if let Some((name, opened)) = self.stack.last().copied() {
                self.out.problems.error(
                    opened,
                    None,
                    Some(shown(name)),
                    format!("<{}> is never closed", shown(name)),
                );
            }
        }
    }

    fn required(&mut self, field: Option<Field<'t>>, line: u64, name: &str) -> Option<Field<'t>> {
        if field.is_none() {
            self.out
                .error(line, name, None, format!("{name} is missing"));
        }
        field
    }

    fn date(&mut self, field: Field<'t>, name: &str) -> Option<NaiveDate> {
        let parsed = ofx_date(field.value);
        if parsed.is_none() {
            self.out.error(
                field.line,
                name,
                Some(shown(field.value)),
                format!("\"{}\" is not a date", shown(field.value)),
            );
        }
        parsed
    }

    fn finish(&mut self, t: Transaction<'t>) {
        let line = t.line;
        let mut ok = true;
        if let Some(kind) = self.required(t.trntype, line, "TRNTYPE") {
            if !TRANSACTION_TYPES.contains(&kind.value) {
                ok = false;
                self.out.error(
                    kind.line,
                    "TRNTYPE",
                    Some(shown(kind.value)),
                    format!("\"{}\" is not an OFX transaction type", shown(kind.value)),
                );
            }
        } else {
            ok = false;
        }
        let posted = self
            .required(t.posted, line, "DTPOSTED")
            .and_then(|f| self.date(f, "DTPOSTED"));
        let available = match t.available {
            Some(f) => {
                let parsed = self.date(f, "DTAVAIL");
                ok &= parsed.is_some();
                parsed
            }
            None => None,
        };
        let fitid = self.required(t.fitid, line, "FITID");
        let currency = match t.currency {
            Some(f) => match Currency::parse(f.value) {
                Ok(c) => Some(c),
                Err(_) => {
                    self.out.error(
                        f.line,
                        "CURSYM",
                        Some(shown(f.value)),
                        format!("\"{}\" is not an ISO 4217 currency code", shown(f.value)),
                    );
                    None
                }
            },
            None => match self.currency {
                Some(Statement::Known(c)) => Some(c),
                Some(Statement::Wrong) => None,
                None => {
                    self.out.error(
                        line,
                        "CURDEF",
                        None,
                        "no statement currency (CURDEF) before this transaction".to_string(),
                    );
                    None
                }
            },
        };
        let amount =
            self.required(t.amount, line, "TRNAMT")
                .and_then(|f| match parse_decimal(f.value) {
                    Ok(v) => Some((v, f)),
                    Err(_) => {
                        self.out.error(
                            f.line,
                            "TRNAMT",
                            Some(shown(f.value)),
                            format!("\"{}\" is not an amount", shown(f.value)),
                        );
                        None
                    }
                });
        let (Some(posted), Some(fitid), Some(currency), Some((amount, amount_field)), true) =
            (posted, fitid, currency, amount, ok)
        else {
            return;
        };
        if let Some(message) = decimals_error(amount, currency, shown(amount_field.value)) {
            self.out.error(
                amount_field.line,
                "TRNAMT",
                Some(shown(amount_field.value)),
                message,
            );
            return;
        }
        if amount.is_sign_negative() && !amount.is_zero() {
            self.out.summary.debits_ignored += 1;
            return;
        }
        if amount.is_zero() {
            self.out.summary.others_ignored += 1;
            self.out.warning(
                line,
                Some("TRNAMT"),
                "transaction skipped: its amount is zero".to_string(),
            );
            return;
        }
        let name = t.name.or(t.payee).map(|f| unescape(f.value));
        let memo = t.memo.map(|f| unescape(f.value)).unwrap_or_default();
        let remittance = join_words([name.as_deref().unwrap_or(""), memo.as_str()]);
        self.out.emit(BankEntry {
            line,
            booking_date: posted,
            value_date: available,
            amount: Money::new(amount.abs(), currency),
            bank_reference: unescape(fitid.value),
            remittance,
            structured_reference: None,
            payer_name: name.filter(|n| !n.is_empty()),
            payer_iban: None,
            end_to_end_id: None,
        });
    }
}

fn count_lines(text: &str) -> u64 {
    text.bytes().filter(|&b| b == b'\n').count() as u64
}

/// The five XML entities and numeric references; anything else is kept as written.
fn unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest.find(';').filter(|&e| e <= 10);
        let decoded = end.and_then(|e| match &rest[1..e] {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            n => n
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| n.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        });
        match (decoded, end) {
            (Some(c), Some(e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `YYYYMMDD`, then optionally `HHMMSS`, `.XXX` and `[offset:TZ]`; the date as written.
fn ofx_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    if b.len() < 8 || !b[..8].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let rest = &b[8..];
    let time_ok = rest.is_empty()
        || rest[0] == b'['
        || (rest.len() >= 6
            && rest[..6].iter().all(u8::is_ascii_digit)
            && (rest.len() == 6 || matches!(rest[6], b'.' | b'[')));
    if !time_ok {
        return None;
    }
    NaiveDate::parse_from_str(text.get(..8)?, "%Y%m%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ofx_dates() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 4);
        assert_eq!(ofx_date("20260304"), d);
        assert_eq!(ofx_date("20260304120000"), d);
        assert_eq!(ofx_date("20260304120000.000[+1:CET]"), d);
        assert_eq!(ofx_date("20260304[-5:EST]"), d);
        for bad in [
            "",
            "2026030",
            "20260230",
            "2026-03-04",
            "20260304 12",
            "202603041200",
        ] {
            assert_eq!(ofx_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn unescapes_entities() {
        assert_eq!(unescape("A &amp; B &lt;&#233;&#xE9;&gt;"), "A & B <éé>");
        assert_eq!(unescape("R&D &unknown; &"), "R&D &unknown; &");
    }

    #[test]
    fn never_panics_on_prefixes_and_flipped_bytes() {
        for name in ["releve_v1.ofx", "releve_v2.ofx"] {
            let path = format!("{}/tests/data/bank/{name}", env!("CARGO_MANIFEST_DIR"));
            let Ok(bytes) = std::fs::read(path) else {
                continue;
            };
            for end in 0..bytes.len() {
                read_ofx("x", &bytes[..end], &mut |_| {});
            }
            let mut seed = 0x1234_5677_u32;
            for _ in 0..1000 {
                let mut copy = bytes.clone();
                for _ in 0..3 {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    let at = seed as usize % copy.len().max(1);
                    if let Some(b) = copy.get_mut(at) {
                        *b = (seed >> 8) as u8;
                    }
                }
                read_ofx("x", &copy, &mut |_| {});
            }
        }
        let deep = "<OFX>".repeat(10_000);
        let (report, _) = read_ofx("deep.ofx", deep.as_bytes(), &mut |_| {});
        assert!(report.has_errors());
    }
}
