//! ISO 20022 camt.053 "bank to customer statement", versions .001.02 to .001.08 and later
//! (elements matched by local name, whatever the namespace prefix).
//!
//! Read per `Stmt/Ntry`: `Amt@Ccy`, `CdtDbtInd` (DBIT skipped and counted), `RvslInd`
//! (true: skipped with a warning), `Sts` (a code, or `Sts/Cd` from .001.08; other than
//! `BOOK`: skipped with a warning), `BookgDt` and `ValDt` (`Dt` or `DtTm`), `AcctSvcrRef`,
//! `NtryRef`, and per `NtryDtls/TxDtls`: `Refs/AcctSvcrRef`, `Refs/EndToEndId`,
//! `AmtDtls/TxAmt/Amt` or `Amt`, `CdtDbtInd`, `RltdPties/Dbtr/Nm` (`Dbtr/Pty/Nm` in .001.08),
//! `RltdPties/DbtrAcct/Id/IBAN`, `RmtInf/Ustrd`, `RmtInf/Strd/CdtrRefInf/Ref`, `AddtlTxInf`.
//!
//! An entry with several `TxDtls` (a batch) gives one [`BankEntry`] per credit transaction,
//! with the transaction's own amount and line, and the entry's reference followed by `/` and
//! the transaction's position in the entry.

use chrono::NaiveDate;
use relance_core::money::{Currency, Money};
use roxmltree::{Document, Node, ParsingOptions};
use rust_decimal::Decimal;

use super::{decimals_error, join_words, shown, BankEntry, Out, StatementSummary};
use crate::problem::ReadReport;

/// True when the XML declaration names ISO-8859-1 or Windows-1252, as a few banks write.
fn declares_latin1(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(200)];
    let Some(end) = head.windows(2).position(|w| w == b"?>") else {
        return false;
    };
    let declaration = String::from_utf8_lossy(&head[..end]).to_ascii_lowercase();
    declaration.starts_with("<?xml")
        && [
            "iso-8859-1",
            "iso-8859-15",
            "latin1",
            "windows-1252",
            "cp1252",
        ]
        .iter()
        .any(|name| declaration.contains(name))
}

/// A statement of many thousand entries has a few million nodes; more is not a statement.
const MAX_NODES: u32 = 20_000_000;

/// Reads a camt.053 file; every credit transaction goes to `sink`, in file order.
pub fn read_camt053(
    source: &str,
    bytes: &[u8],
    sink: &mut dyn FnMut(BankEntry),
) -> (ReadReport, StatementSummary) {
    let mut out = Out::new(source, sink);
    let decoded;
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.strip_prefix('\u{feff}').unwrap_or(t),
        Err(_) if declares_latin1(bytes) => {
            // Windows-1252 maps every byte and is a superset of ISO-8859-1's printable range.
            decoded = encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(bytes)
                .0;
            &decoded
        }
        Err(e) => {
            let line = 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            out.problems
                .error(line, None, None, format!("the file is not UTF-8 XML ({e})"));
            return out.finish();
        }
    };
    let options = ParsingOptions {
        nodes_limit: MAX_NODES,
        ..ParsingOptions::default()
    };
    let doc = match Document::parse_with_options(text, options) {
        Ok(d) => d,
        Err(e) => {
            out.problems.error(
                u64::from(e.pos().row),
                None,
                None,
                format!("the file is not well-formed XML: {e}"),
            );
            return out.finish();
        }
    };
    // Line numbers by binary search in the offsets of the line ends: roxmltree's text_pos_at
    // scans from the start each time, quadratic on a statement of 100,000 entries.
    let newlines: Vec<usize> = text
        .bytes()
        .enumerate()
        .filter_map(|(i, b)| (b == b'\n').then_some(i))
        .collect();
    let mut reader = Reader {
        doc: &doc,
        out,
        newlines,
    };
    reader.document();
    reader.out.finish()
}

struct Reader<'d, 'input, 'a, 's> {
    doc: &'d Document<'input>,
    out: Out<'a, 's>,
    /// Byte offsets of the text's `\n`, in order.
    newlines: Vec<usize>,
}

/// One transaction of an entry, ready to be checked.
struct Transaction<'d, 'input> {
    node: Option<Node<'d, 'input>>,
    amount: Money,
    bank_reference: String,
}

impl<'d, 'input> Reader<'d, 'input, '_, '_> {
    fn line(&self, node: Node<'_, '_>) -> u64 {
        let start = node.range().start;
        1 + self.newlines.partition_point(|&at| at < start) as u64
    }

    fn error(&mut self, node: Node<'_, '_>, column: &str, value: Option<&str>, message: String) {
        let line = self.line(node);
        self.out.error(line, column, value.map(shown), message);
    }

    fn missing(&mut self, node: Node<'_, '_>, column: &str) {
        let line = self.line(node);
        self.out
            .error(line, column, None, format!("{column} is missing"));
    }

    fn document(&mut self) {
        let root = self.doc.root_element();
        let statement = child(root, "BkToCstmrStmt");
        let Some(statement) = statement.filter(|_| root.tag_name().name() == "Document") else {
            let namespace = root.tag_name().namespace().unwrap_or("no namespace");
            let name = root.tag_name().name();
            self.error(
                root,
                "Document",
                Some(name),
                format!(
                    "\"{}\" ({}) is not a camt.053 Document holding a BkToCstmrStmt",
                    shown(name),
                    shown(namespace)
                ),
            );
            return;
        };
        if let Some(ns) = root.tag_name().namespace() {
            if !ns.starts_with("urn:iso:std:iso:20022:tech:xsd:camt.053.") {
                let line = self.line(root);
                self.out.warning(
                    line,
                    Some("Document"),
                    format!(
                        "namespace \"{}\" is not camt.053's; read as camt.053",
                        shown(ns)
                    ),
                );
            }
        }
        for stmt in children(statement, "Stmt") {
            self.statement(stmt);
        }
    }

    fn statement(&mut self, stmt: Node<'d, 'input>) {
        let id = child(stmt, "Id").map(text).filter(|t| !t.is_empty());
        if id.is_none() {
            self.missing(stmt, "Stmt/Id");
        }
        let id = id.unwrap_or_default();
        for (entry, number) in children(stmt, "Ntry").zip(1u64..) {
            self.entry(entry, number, id);
        }
    }

    fn entry(&mut self, ntry: Node<'d, 'input>, number: u64, stmt_id: &str) {
        let indicator = child(ntry, "CdtDbtInd").map(text);
        match indicator {
            Some("CRDT") => {}
            Some("DBIT") => {
                self.out.summary.debits_ignored += 1;
                return;
            }
            Some(other) => {
                let node = child(ntry, "CdtDbtInd").unwrap_or(ntry);
                self.error(
                    node,
                    "Ntry/CdtDbtInd",
                    Some(other),
                    format!("\"{}\" is neither CRDT nor DBIT", shown(other)),
                );
                return;
            }
            None => {
                self.missing(ntry, "Ntry/CdtDbtInd");
                return;
            }
        }
        if let Some(reversal) = child(ntry, "RvslInd").map(text) {
            if matches!(reversal, "true" | "1") {
                self.out.summary.reversals_ignored += 1;
                let line = self.line(ntry);
                self.out.warning(
                    line,
                    Some("Ntry/RvslInd"),
                    "entry skipped: it is a reversal (RvslInd true)".to_string(),
                );
                return;
            }
        }
        let status = child(ntry, "Sts").map(|s| match child(s, "Cd").or(child(s, "Prtry")) {
            Some(code) => text(code),
            None => text(s),
        });
        if let Some(status) = status.filter(|s| *s != "BOOK") {
            self.out.summary.others_ignored += 1;
            let line = self.line(ntry);
            self.out.warning(
                line,
                Some("Ntry/Sts"),
                format!(
                    "entry skipped: its status \"{}\" is not BOOK",
                    shown(status)
                ),
            );
            return;
        }
        let mut ok = true;
        let amount = match child(ntry, "Amt") {
            Some(node) => self.amount(node, "Ntry/Amt", None),
            None => {
                self.missing(ntry, "Ntry/Amt");
                None
            }
        };
        ok &= amount.is_some();
        let booking = match child(ntry, "BookgDt") {
            Some(node) => self.date(node, "Ntry/BookgDt"),
            None => {
                self.missing(ntry, "Ntry/BookgDt");
                None
            }
        };
        ok &= booking.is_some();
        let value = match child(ntry, "ValDt") {
            Some(node) => {
                let parsed = self.date(node, "Ntry/ValDt");
                ok &= parsed.is_some();
                parsed
            }
            None => None,
        };
        let details: Vec<Node<'d, 'input>> = children(ntry, "NtryDtls")
            .flat_map(|d| children(d, "TxDtls"))
            .collect();
        let (Some(amount), Some(booking), true) = (amount, booking, ok) else {
            return;
        };
        if amount.is_zero() {
            self.out.summary.others_ignored += 1;
            let line = self.line(ntry);
            self.out.warning(
                line,
                Some("Ntry/Amt"),
                "entry skipped: its amount is zero".to_string(),
            );
            return;
        }
        let nonempty = |node: Option<Node<'d, 'input>>| node.map(text).filter(|t| !t.is_empty());
        let entry_ref = nonempty(child(ntry, "AcctSvcrRef"));
        let ntry_ref = nonempty(child(ntry, "NtryRef"));
        let composite = format!("{booking}|{}|{number}|{stmt_id}", amount.amount);
        let batch = details.len() > 1;
        let transactions = if !batch {
            let tx = details.first().copied();
            let reference = entry_ref
                .or_else(|| nonempty(tx.and_then(|t| path(t, &["Refs", "AcctSvcrRef"]))))
                .or(ntry_ref)
                .or_else(|| tx.and_then(end_to_end_id))
                .map(str::to_string)
                .unwrap_or(composite);
            vec![Transaction {
                node: tx,
                amount,
                bank_reference: reference,
            }]
        } else {
            let base = entry_ref.or(ntry_ref).unwrap_or(&composite);
            match self.batch(ntry, &details, amount, base) {
                Some(t) => t,
                None => return,
            }
        };
        let entry_info = child(ntry, "AddtlNtryInf").map(text).unwrap_or_default();
        for t in transactions {
            // A single transaction is the entry; a batch's transactions start where they are.
            let line = self.line(if batch { t.node.unwrap_or(ntry) } else { ntry });
            let payer = payer_side(t.node, entry_info);
            self.out.emit(BankEntry {
                line,
                booking_date: booking,
                value_date: value,
                amount: t.amount,
                bank_reference: t.bank_reference,
                remittance: payer.remittance,
                structured_reference: payer.structured_reference,
                payer_name: payer.payer_name,
                payer_iban: payer.payer_iban,
                end_to_end_id: payer.end_to_end_id,
            });
        }
    }

    /// The credit transactions of a batch, each with its own amount; `None` after an Error.
    fn batch(
        &mut self,
        ntry: Node<'d, 'input>,
        details: &[Node<'d, 'input>],
        total: Money,
        base: &str,
    ) -> Option<Vec<Transaction<'d, 'input>>> {
        let mut ok = true;
        let mut sum = Some(Decimal::ZERO);
        let mut transactions = Vec::new();
        for (tx, index) in details.iter().copied().zip(1u64..) {
            let node = path(tx, &["AmtDtls", "TxAmt", "Amt"]).or(child(tx, "Amt"));
            let Some(node) = node else {
                self.missing(tx, "TxDtls/Amt");
                ok = false;
                continue;
            };
            let Some(amount) = self.amount(node, "TxDtls/Amt", Some(total.currency)) else {
                ok = false;
                continue;
            };
            let debit = child(tx, "CdtDbtInd").map(text) == Some("DBIT");
            sum = match (sum, amount.currency == total.currency) {
                (Some(s), true) if debit => Some(s - amount.amount),
                (Some(s), true) => Some(s + amount.amount),
                _ => None,
            };
            if debit {
                self.out.summary.debits_ignored += 1;
                continue;
            }
            transactions.push(Transaction {
                node: Some(tx),
                amount,
                bank_reference: format!("{base}/{index}"),
            });
        }
        if !ok {
            return None;
        }
        if let Some(sum) = sum.filter(|s| *s != total.amount) {
            let line = self.line(ntry);
            self.out.warning(
                line,
                Some("Ntry/Amt"),
                format!(
                    "the entry's amount {} differs from the sum of its transactions {sum}",
                    total.amount
                ),
            );
        }
        Some(transactions)
    }

    /// An `Amt` element: an unsigned amount and its `Ccy` (else `default`).
    fn amount(
        &mut self,
        node: Node<'_, '_>,
        column: &str,
        default: Option<Currency>,
    ) -> Option<Money> {
        let value_text = text(node);
        let value = plain_amount(value_text);
        if value.is_none() {
            self.error(
                node,
                column,
                Some(value_text),
                format!("\"{}\" is not an amount", shown(value_text)),
            );
        }
        let currency = match (node.attribute("Ccy"), default) {
            (Some(code), _) => match Currency::parse(code) {
                Ok(c) => Some(c),
                Err(_) => {
                    let message = format!("\"{}\" is not an ISO 4217 currency code", shown(code));
                    self.error(node, column, Some(code), message);
                    None
                }
            },
            (None, Some(c)) => Some(c),
            (None, None) => {
                self.error(node, column, None, format!("{column} has no Ccy attribute"));
                None
            }
        };
        let (value, currency) = (value?, currency?);
        if let Some(message) = decimals_error(value, currency, shown(value_text)) {
            self.error(node, column, Some(value_text), message);
            return None;
        }
        Some(Money::new(value, currency))
    }

    /// `BookgDt` or `ValDt`: a `Dt` or a `DtTm` (its date as written).
    fn date(&mut self, node: Node<'_, '_>, column: &str) -> Option<NaiveDate> {
        let Some(inner) = child(node, "Dt").or(child(node, "DtTm")) else {
            self.error(node, column, None, format!("{column} has no Dt or DtTm"));
            return None;
        };
        let value = text(inner);
        let parsed = iso_date(value);
        if parsed.is_none() {
            self.error(
                inner,
                column,
                Some(value),
                format!("\"{}\" is not a date", shown(value)),
            );
        }
        parsed
    }
}

/// What a transaction says of the payer; `None` for an entry without `TxDtls`.
struct PayerSide {
    remittance: String,
    structured_reference: Option<String>,
    payer_name: Option<String>,
    payer_iban: Option<String>,
    end_to_end_id: Option<String>,
}

/// The payer's side of a transaction: remittance, references, payer. Without remittance
/// information, the transaction's `AddtlTxInf` and the entry's `AddtlNtryInf` stand in.
fn payer_side(tx: Option<Node<'_, '_>>, entry_info: &str) -> PayerSide {
    let remittance_info = tx.and_then(|t| child(t, "RmtInf"));
    let structured: Vec<&str> = remittance_info
        .map(|r| {
            children(r, "Strd")
                .filter_map(|s| path(s, &["CdtrRefInf", "Ref"]))
                .map(text)
                .filter(|t| !t.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let unstructured = remittance_info
        .into_iter()
        .flat_map(|r| children(r, "Ustrd"))
        .map(text);
    let mut remittance = join_words(unstructured.chain(structured.iter().copied()));
    if remittance.is_empty() {
        let info = tx
            .and_then(|t| child(t, "AddtlTxInf"))
            .map(text)
            .unwrap_or_default();
        remittance = join_words([info, entry_info]);
    }
    let parties = tx.and_then(|t| child(t, "RltdPties"));
    let debtor = parties.and_then(|p| child(p, "Dbtr"));
    let payer_name = debtor
        .and_then(|d| child(d, "Nm").or_else(|| path(d, &["Pty", "Nm"])))
        .map(text)
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    let payer_iban = parties
        .and_then(|p| path(p, &["DbtrAcct", "Id", "IBAN"]))
        .map(text)
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    PayerSide {
        remittance,
        structured_reference: structured.first().map(|s| s.to_string()),
        payer_name,
        payer_iban,
        end_to_end_id: tx.and_then(end_to_end_id).map(str::to_string),
    }
}

fn end_to_end_id<'d>(tx: Node<'d, '_>) -> Option<&'d str> {
    path(tx, &["Refs", "EndToEndId"])
        .map(text)
        .filter(|t| !t.is_empty() && *t != "NOTPROVIDED")
}

fn child<'d, 'input>(node: Node<'d, 'input>, name: &str) -> Option<Node<'d, 'input>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

fn children<'d, 'input, 'n>(
    node: Node<'d, 'input>,
    name: &'n str,
) -> impl Iterator<Item = Node<'d, 'input>> + 'n
where
    'd: 'n,
    'input: 'n,
{
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == name)
}

fn path<'d, 'input>(node: Node<'d, 'input>, names: &[&str]) -> Option<Node<'d, 'input>> {
    names.iter().try_fold(node, |n, name| child(n, name))
}

fn text<'d>(node: Node<'d, '_>) -> &'d str {
    node.text().unwrap_or("").trim()
}

/// An ISO 20022 amount: digits with at most one decimal point, no sign, no exponent.
fn plain_amount(text: &str) -> Option<Decimal> {
    let digits = text.bytes().filter(u8::is_ascii_digit).count();
    let points = text.bytes().filter(|&b| b == b'.').count();
    let shape = digits > 0
        && digits <= 18
        && points <= 1
        && digits + points == text.len()
        && !text.starts_with('.')
        && !text.ends_with('.');
    if !shape {
        return None;
    }
    let value = text.parse::<Decimal>().ok()?;
    relance_core::check_amount_bound(text, value).ok()
}

/// `YYYY-MM-DD`, or the date of `YYYY-MM-DDThh:mm:ss[.s][Z|±hh:mm]` as written.
fn iso_date(text: &str) -> Option<NaiveDate> {
    let date = text.get(..10)?;
    let rest = text.get(10..)?;
    let b = date.as_bytes();
    let shape = b.iter().enumerate().all(|(i, c)| match i {
        4 | 7 => *c == b'-',
        _ => c.is_ascii_digit(),
    });
    if !shape || !(rest.is_empty() || rest.starts_with('T')) {
        return None;
    }
    NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn reads_iso_amounts_and_dates() {
        assert_eq!(plain_amount("150.00"), Some(dec!(150.00)));
        assert_eq!(plain_amount("7"), Some(dec!(7)));
        for bad in ["", "-5", "1,5", "1.", ".5", "1e3", "1.2.3", " 1"] {
            assert_eq!(plain_amount(bad), None, "{bad:?}");
        }
        assert_eq!(iso_date("2026-03-02"), NaiveDate::from_ymd_opt(2026, 3, 2));
        assert_eq!(
            iso_date("2026-03-02T23:59:00+01:00"),
            NaiveDate::from_ymd_opt(2026, 3, 2)
        );
        for bad in [
            "2026-02-30",
            "02/03/2026",
            "2026-3-2",
            "2026-03-02 10:00",
            "",
        ] {
            assert_eq!(iso_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn reads_a_statement_declared_in_latin1() {
        let xml = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<Document><BkToCstmrStmt><Stmt><Id>S</Id>\n<Ntry><Amt Ccy=\"EUR\">5.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2026-03-02</Dt></BookgDt>\n<AddtlNtryInf>VIR \xc9COLE</AddtlNtryInf></Ntry></Stmt></BkToCstmrStmt></Document>";
        let mut entries = Vec::new();
        let (report, _) = read_camt053("l.xml", xml, &mut |e| entries.push(e));
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].remittance, "VIR ÉCOLE");
        assert_eq!(entries[0].line, 3);
        let (report, _) = read_camt053(
            "u.xml",
            b"<?xml version=\"1.0\"?>\n<a>\xc9</a>",
            &mut |_| {},
        );
        assert_eq!(report.problems.len(), 1);
        assert_eq!(report.problems[0].line, 2);
    }

    #[test]
    fn never_panics_on_prefixes_and_flipped_bytes() {
        for name in ["camt053_v02.xml", "camt053_v08.xml"] {
            let path = format!("{}/tests/data/bank/{name}", env!("CARGO_MANIFEST_DIR"));
            let Ok(bytes) = std::fs::read(path) else {
                continue;
            };
            for end in (0..bytes.len()).step_by(7) {
                read_camt053("x", &bytes[..end], &mut |_| {});
            }
            let mut seed = 0x9e37_79b9_u32;
            for _ in 0..500 {
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
                read_camt053("x", &copy, &mut |_| {});
            }
        }
    }
}
