//! The FEC (Fichier des écritures comptables, Livre des procédures fiscales A47 A-1): every
//! French accounting package exports it, so it is the universal way in.
//!
//! Eighteen columns, tab or `|` separated, dates `YYYYMMDD`, amounts with a decimal comma. Only
//! customer accounts (class 411, with the customer in `CompAuxNum`/`CompAuxLib`) matter here:
//! - a debit on a customer account is an invoice (`PieceRef` its number, `PieceDate` its date);
//! - a credit from a sales journal is a credit note; any other credit (bank, cash) is a payment;
//! - a lettered line (`EcritureLet` set) is settled; an unlettered one is open;
//! - an unlettered payment is money received but not yet matched to an invoice: it comes in as
//!   a credit (`kind` credit note, number `REGLT-<journal>-<entry>`) that relance applies to the
//!   customer's oldest open invoices, as the accountant would;
//! - the FEC has no due date: it is the piece date plus a default term, with a warning.

use std::collections::HashMap;

use chrono::NaiveDate;
use relance_core::ledger::ItemKind;
use relance_core::money::{Currency, Money, MoneyError};
use relance_core::party::{CustomerCode, CustomerKind};
use rust_decimal::Decimal;

use crate::problem::{Problem, ReadReport, Severity};
use crate::text::{decode_text, parse_decimal};
use crate::InvoiceRow;

const COLUMNS: [&str; 18] = [
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
];

/// True when the first line is a FEC header.
pub fn looks_like_fec(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]);
    let head = head.trim_start_matches('\u{feff}');
    head.starts_with("JournalCode\t") || head.starts_with("JournalCode|")
}

/// An invoice or credit being assembled from its lines (a piece may span several lines).
struct Piece {
    line: u64,
    kind: ItemKind,
    number: String,
    customer: String,
    customer_name: String,
    date: NaiveDate,
    amount: Decimal,
    lettered: bool,
}

/// Reads the customer items of a FEC. `default_term_days` gives the due dates.
pub fn read_fec(
    source: &str,
    bytes: &[u8],
    default_term_days: i64,
    sink: &mut dyn FnMut(InvoiceRow),
) -> ReadReport {
    let mut report = ReadReport::default();
    let text = decode_text(bytes);
    let mut problem = |line: u64, column: Option<&str>, message: String, severity: Severity| {
        report.problems.push(Problem {
            source: source.to_string(),
            line,
            column: column.map(String::from),
            value: None,
            message,
            severity,
        });
    };
    let mut lines = text.lines().enumerate();
    let Some((_, header)) = lines.next() else {
        problem(
            1,
            None,
            "is empty: a FEC starts with its header line".into(),
            Severity::Error,
        );
        return report;
    };
    let separator = if header.contains('\t') { '\t' } else { '|' };
    let names: Vec<&str> = header
        .trim_start_matches('\u{feff}')
        .split(separator)
        .map(str::trim)
        .collect();
    let index: HashMap<&str, usize> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let missing: Vec<&str> = COLUMNS
        .iter()
        .copied()
        .filter(|c| !index.contains_key(c) && !c.starts_with("Montantdevise") && *c != "Idevise")
        .collect();
    if !missing.is_empty() {
        problem(
            1,
            None,
            format!(
                "missing FEC column(s): {} (LPF A47 A-1 lists 18)",
                missing.join(", ")
            ),
            Severity::Error,
        );
        return report;
    }
    let col = |name: &str| index.get(name).copied().unwrap_or(usize::MAX);
    let (
        journal,
        entry,
        account,
        aux,
        aux_name,
        piece,
        piece_date,
        debit,
        credit,
        letter,
        currency,
    ) = (
        col("JournalCode"),
        col("EcritureNum"),
        col("CompteNum"),
        col("CompAuxNum"),
        col("CompAuxLib"),
        col("PieceRef"),
        col("PieceDate"),
        col("Debit"),
        col("Credit"),
        col("EcritureLet"),
        col("Idevise"),
    );
    let mut pieces: Vec<Piece> = Vec::new();
    let mut by_key: HashMap<(String, String, bool), usize> = HashMap::new();
    let mut currencies: HashMap<String, Currency> = HashMap::new();
    for (i, raw) in lines {
        let line = i as u64 + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = raw.split(separator).collect();
        if fields.len() < names.len().min(16) {
            problem(
                line,
                None,
                format!(
                    "{} field(s) where the header has {}",
                    fields.len(),
                    names.len()
                ),
                Severity::Error,
            );
            continue;
        }
        let get = |c: usize| fields.get(c).map(|f| f.trim()).unwrap_or("");
        if !get(account).starts_with("411") {
            continue;
        }
        let code = get(aux);
        if code.is_empty() {
            problem(
                line,
                Some("CompAuxNum"),
                format!(
                    "customer account \"{}\" has no auxiliary account: cannot tell which customer",
                    get(account)
                ),
                Severity::Error,
            );
            continue;
        }
        let Some(date) = NaiveDate::parse_from_str(get(piece_date), "%Y%m%d").ok() else {
            problem(
                line,
                Some("PieceDate"),
                format!("\"{}\" is not a date (YYYYMMDD)", get(piece_date)),
                Severity::Error,
            );
            continue;
        };
        let (d, c) = match (fec_amount(get(debit)), fec_amount(get(credit))) {
            (Ok(d), Ok(c)) => (d, c),
            (d, c) => {
                for (result, name, text) in [(d, "Debit", get(debit)), (c, "Credit", get(credit))] {
                    if let Err(e) = result {
                        let message = match e {
                            MoneyError::TooLarge(_) => e.to_string(),
                            _ => format!("\"{text}\" is not an amount"),
                        };
                        problem(line, Some(name), message, Severity::Error);
                    }
                }
                continue;
            }
        };
        let cur = get(currency);
        if !cur.is_empty() && !currencies.contains_key(cur) {
            match Currency::parse(cur) {
                Ok(parsed) => {
                    currencies.insert(cur.to_string(), parsed);
                }
                Err(e) => problem(line, Some("Idevise"), e.to_string(), Severity::Error),
            }
        }
        let Some(net) = d.checked_sub(c) else {
            problem(
                line,
                Some("Debit"),
                "debit minus credit is out of range".into(),
                Severity::Error,
            );
            continue;
        };
        if net.is_zero() {
            continue;
        }
        let journal_code = get(journal);
        let sales = matches!(
            journal_code.to_ascii_uppercase().as_str(),
            "VE" | "VT" | "VTE" | "VEN" | "VENTES" | "FAC" | "AV"
        );
        let (kind, number) = if net > Decimal::ZERO {
            (ItemKind::Invoice, get(piece).to_string())
        } else if sales {
            (ItemKind::CreditNote, get(piece).to_string())
        } else {
            (
                ItemKind::CreditNote,
                format!("REGLT-{journal_code}-{}", get(entry)),
            )
        };
        if number.is_empty() {
            problem(
                line,
                Some("PieceRef"),
                "the piece reference is empty".into(),
                Severity::Error,
            );
            continue;
        }
        let lettered = !get(letter).is_empty();
        if lettered && kind == ItemKind::CreditNote && !sales {
            // A lettered payment is already accounted for on the invoices it settled.
            continue;
        }
        let key = (code.to_string(), number.clone(), kind == ItemKind::Invoice);
        match by_key.get(&key) {
            Some(&at) => {
                let Some(sum) = pieces[at].amount.checked_add(net.abs()) else {
                    problem(
                        line,
                        Some("Debit"),
                        format!(
                            "the lines of piece \"{}\" add up to more than an amount can hold",
                            pieces[at].number
                        ),
                        Severity::Error,
                    );
                    continue;
                };
                pieces[at].amount = sum;
                pieces[at].lettered &= lettered;
            }
            None => {
                by_key.insert(key, pieces.len());
                pieces.push(Piece {
                    line,
                    kind,
                    number,
                    customer: code.to_string(),
                    customer_name: get(aux_name).to_string(),
                    date,
                    amount: net.abs(),
                    lettered,
                });
            }
        }
    }
    let currency = if currencies.len() == 1 {
        currencies.values().next().copied().unwrap_or(Currency::EUR)
    } else {
        Currency::EUR
    };
    let mut derived = 0;
    for piece in pieces {
        let Ok(customer_code) = CustomerCode::parse(&piece.customer) else {
            continue;
        };
        let sign = if piece.kind == ItemKind::CreditNote {
            -Decimal::ONE
        } else {
            Decimal::ONE
        };
        let total = Money::new(sign * piece.amount, currency);
        let Some(due_date) = piece
            .date
            .checked_add_signed(chrono::Duration::days(default_term_days))
        else {
            report.problems.push(Problem {
                source: source.to_string(),
                line: piece.line,
                column: Some("PieceDate".into()),
                value: Some(piece.date.to_string()),
                message: format!(
                    "the piece date + {default_term_days} days is not a calendar date"
                ),
                severity: Severity::Error,
            });
            continue;
        };
        derived += 1;
        report.rows += 1;
        sink(InvoiceRow {
            line: piece.line,
            kind: piece.kind,
            number: piece.number,
            customer_code,
            customer_name: Some(piece.customer_name).filter(|n| !n.is_empty()),
            customer_kind: Some(CustomerKind::Business),
            emails: Vec::new(),
            phone: None,
            address: None,
            siren: None,
            language: None,
            issue_date: piece.date,
            due_date,
            total,
            paid: if piece.lettered {
                total
            } else {
                Money::zero(currency)
            },
        });
    }
    if derived > 0 {
        report.problems.push(Problem {
            source: source.to_string(),
            line: 1,
            column: None,
            value: None,
            message: format!("a FEC has no due dates: {derived} item(s) given the piece date + {default_term_days} days (--default-term)"),
            severity: Severity::Warning,
        });
    }
    report
}

/// An amount of the Debit or Credit column; empty means zero.
fn fec_amount(text: &str) -> Result<Decimal, relance_core::MoneyError> {
    if text.is_empty() {
        Ok(Decimal::ZERO)
    } else {
        parse_decimal(text)
    }
}
