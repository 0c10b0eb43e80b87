//! CFONB 120: the French "relevé de compte" on 120 characters a line (AFB/CFONB brochure
//! "Relevé de compte sur support informatique", edition of October 2004).
//!
//! Layout implemented (positions 1-based, inclusive):
//!
//! | pos     | 01 old balance / 07 new balance | 04 movement                     | 05 complement            |
//! |---------|---------------------------------|---------------------------------|--------------------------|
//! | 1–2     | record code `01` / `07`         | `04`                            | `05`                     |
//! | 3–7     | bank code                       | bank code                       | bank code                |
//! | 8–11    | reserved                        | interbank operation code        | interbank operation code |
//! | 12–16   | agency (guichet) code           | agency code                     | agency code              |
//! | 17–19   | currency code (ISO 4217)        | currency code                   | currency code            |
//! | 20      | number of decimals of amounts   | number of decimals              | number of decimals       |
//! | 21      | reserved                        | reserved                        | reserved                 |
//! | 22–32   | account number                  | account number                  | account number           |
//! | 33–34   | reserved                        | internal operation code         | internal operation code  |
//! | 35–40   | balance date DDMMYY             | date d'opération DDMMYY         | date d'opération         |
//! | 41–42   | reserved                        | rejection reason code           | reserved (41–45)         |
//! | 43–48   | reserved                        | value date DDMMYY               | 46–48 qualifier          |
//! | 49–79   | reserved                        | libellé (31)                    | 49–118 complement (70)   |
//! | 80–81   | reserved                        | reserved                        |                          |
//! | 82–88   | reserved                        | entry number (numéro d'écriture)|                          |
//! | 89      | reserved                        | commission exemption index      |                          |
//! | 90      | reserved                        | unavailability index            |                          |
//! | 91–104  | balance amount, signed          | amount, signed                  |                          |
//! | 105–120 | reserved                        | entry reference                 | 119–120 reserved         |
//!
//! Amounts are 13 digits and a "caractère signé" last: `{` = +0, `A`..`I` = +1..+9,
//! `}` = −0, `J`..`R` = −1..−9, the number of decimals taken from position 20. Positive is
//! a credit to the account. Two-digit years 00–79 are 20YY, 80–99 are 19YY.
//!
//! 05 complements with qualifier `NPY` (payer name) and `RCN` (the payer's end-to-end
//! reference of a SEPA transfer) also fill `payer_name` and `end_to_end_id`; every complement
//! is appended to the remittance text.
//!
//! The bank reference is `bank agency account|YYYY-MM-DD|entry number|amount`; when the entry
//! number is blank the entry reference (105–120) stands in, and when that is blank too, the
//! line number.

use chrono::NaiveDate;
use relance_core::money::{Currency, Money};
use rust_decimal::Decimal;

use super::{decimals_error, join_words, shown, BankEntry, Out, StatementSummary};
use crate::problem::ReadReport;
use crate::text::decode_text;

const RECORD: usize = 120;

/// Reads a CFONB 120 statement; every credit movement (04 with its 05 complements) goes to
/// `sink`, in file order.
pub fn read_cfonb120(
    source: &str,
    bytes: &[u8],
    sink: &mut dyn FnMut(BankEntry),
) -> (ReadReport, StatementSummary) {
    let mut out = Out::new(source, sink);
    let text = decode_text(bytes);
    let records = split_records(&text);
    if records.is_empty() {
        out.problems.error(
            1,
            None,
            None,
            "the file holds no CFONB 120 record".to_string(),
        );
        return out.finish();
    }
    let mut reader = Reader {
        out,
        pending: None,
        after_movement: false,
        balance: None,
    };
    for (line, record) in records {
        reader.record(line, record);
    }
    reader.flush();
    reader.out.finish()
}

/// The records with their line numbers: one per line (CRLF or LF, a trailing line break
/// tolerated), or every 120 characters when the file has no line break at all.
fn split_records(text: &str) -> Vec<(u64, &str)> {
    let text = text.trim_end_matches(['\r', '\n', '\u{1a}']);
    if text.is_empty() {
        return Vec::new();
    }
    if text.contains('\n') {
        return text
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .zip(1u64..)
            .map(|(l, n)| (n, l))
            .collect();
    }
    let mut records = Vec::new();
    let mut start = 0;
    let mut count = 0;
    let mut line = 1u64;
    for (i, _) in text.char_indices() {
        if count == RECORD {
            records.push((line, &text[start..i]));
            line += 1;
            start = i;
            count = 0;
        }
        count += 1;
    }
    records.push((line, &text[start..]));
    records
}

/// Characters `from..=to` (1-based) of a record of exactly 120 characters.
fn field(record: &str, from: usize, to: usize) -> &str {
    if record.is_ascii() {
        return record.get(from - 1..to).unwrap_or("");
    }
    let mut indices = record.char_indices().map(|(i, _)| i).chain([record.len()]);
    let start = indices.nth(from - 1).unwrap_or(record.len());
    let end = indices.nth(to - from).unwrap_or(record.len());
    record.get(start..end).unwrap_or("")
}

/// A credit movement waiting for its 05 complements.
struct Pending {
    entry: BankEntry,
    complements: Vec<String>,
}

/// The old balance of the account block being read and the movements seen since.
struct Balance {
    old: Decimal,
    movements: Decimal,
    ok: bool,
}

struct Reader<'a, 's> {
    out: Out<'a, 's>,
    pending: Option<Pending>,
    /// True after a 04 record (even a debit or a wrong one): 05 records may follow.
    after_movement: bool,
    balance: Option<Balance>,
}

/// The fields every record type shares.
struct Common {
    currency: Option<Currency>,
    decimals: Option<u32>,
}

impl Reader<'_, '_> {
    fn record(&mut self, line: u64, record: &str) {
        let length = record.chars().count();
        if length != RECORD {
            self.out.problems.error(
                line,
                None,
                None,
                format!("the line is {length} characters long; a CFONB 120 record has 120"),
            );
            self.flush();
            self.after_movement = false;
            if let Some(b) = self.balance.as_mut() {
                b.ok = false;
            }
            return;
        }
        let code = field(record, 1, 2);
        if code != "05" {
            self.flush();
        }
        match code {
            "01" => {
                self.after_movement = false;
                let common = self.common(line, record);
                let date = field(record, 35, 40);
                if ddmmyy(date).is_none() {
                    self.date_error(line, "date de l'ancien solde", date);
                }
                let amount = self.amount(line, record, &common, "ancien solde");
                self.balance = amount.map(|old| Balance {
                    old,
                    movements: Decimal::ZERO,
                    ok: true,
                });
            }
            "04" => {
                self.after_movement = true;
                self.movement(line, record);
            }
            "05" => self.complement(line, record),
            "07" => {
                self.after_movement = false;
                let common = self.common(line, record);
                let date = field(record, 35, 40);
                if ddmmyy(date).is_none() {
                    self.date_error(line, "date du nouveau solde", date);
                }
                let new = self.amount(line, record, &common, "nouveau solde");
                if let (Some(new), Some(balance)) = (new, self.balance.take()) {
                    let expected = balance.old + balance.movements;
                    if balance.ok && expected != new {
                        self.out.warning(
                            line,
                            Some("nouveau solde"),
                            format!(
                                "the new balance {new} differs from the old balance {} plus the movements {} ({expected})",
                                balance.old, balance.movements
                            ),
                        );
                    }
                }
            }
            other => {
                self.after_movement = false;
                self.out.error(
                    line,
                    "code enregistrement",
                    Some(other),
                    format!("\"{other}\" is not a CFONB 120 record code (01, 04, 05, 07)"),
                );
            }
        }
    }

    fn common(&mut self, line: u64, record: &str) -> Common {
        let code = field(record, 17, 19);
        let currency = match Currency::parse(code) {
            Ok(c) => Some(c),
            Err(e) => {
                self.out
                    .error(line, "code devise", Some(code), e.to_string());
                None
            }
        };
        let digit = field(record, 20, 20);
        let decimals = digit.parse::<u32>().ok();
        if decimals.is_none() {
            self.out.error(
                line,
                "nombre de décimales",
                Some(digit),
                format!("\"{digit}\" is not a number of decimals"),
            );
        }
        Common { currency, decimals }
    }

    fn date_error(&mut self, line: u64, column: &str, text: &str) {
        self.out.error(
            line,
            column,
            Some(text),
            format!("\"{text}\" is not a date (DDMMYY)"),
        );
    }

    /// The signed amount at 91–104, checked against the currency's decimals.
    fn amount(
        &mut self,
        line: u64,
        record: &str,
        common: &Common,
        column: &str,
    ) -> Option<Decimal> {
        let text = field(record, 91, 104);
        let value = signed_amount(text, common.decimals?);
        let Some(value) = value else {
            self.out.error(
                line,
                column,
                Some(text),
                format!("\"{text}\" is not a CFONB signed amount"),
            );
            return None;
        };
        if let Some(message) = common
            .currency
            .and_then(|c| decimals_error(value, c, &value.to_string()))
        {
            self.out.error(line, column, Some(text), message);
            return None;
        }
        Some(value)
    }

    fn movement(&mut self, line: u64, record: &str) {
        let common = self.common(line, record);
        let date_text = field(record, 35, 40);
        let date = ddmmyy(date_text);
        if date.is_none() {
            self.date_error(line, "date d'opération", date_text);
        }
        let value_text = field(record, 43, 48);
        let mut value_ok = true;
        let value_date = if value_text.trim().is_empty() || value_text == "000000" {
            None
        } else {
            let parsed = ddmmyy(value_text);
            if parsed.is_none() {
                self.date_error(line, "date de valeur", value_text);
                value_ok = false;
            }
            parsed
        };
        let amount = self.amount(line, record, &common, "montant");
        match (amount, self.balance.as_mut()) {
            (Some(a), Some(b)) => b.movements += a,
            (None, Some(b)) => b.ok = false,
            _ => {}
        }
        let (Some(date), Some(amount), Some(currency), true) =
            (date, amount, common.currency, value_ok)
        else {
            return;
        };
        if amount.is_sign_negative() {
            self.out.summary.debits_ignored += 1;
            return;
        }
        if amount.is_zero() {
            self.out.summary.others_ignored += 1;
            self.out.warning(
                line,
                Some("montant"),
                "movement skipped: its amount is zero".to_string(),
            );
            return;
        }
        let entry_number = field(record, 82, 88).trim();
        let entry_reference = field(record, 105, 120).trim();
        let line_text = line.to_string();
        let number = [entry_number, entry_reference, &line_text]
            .into_iter()
            .find(|t| !t.is_empty())
            .unwrap_or_default();
        let bank_reference = format!(
            "{} {} {}|{date}|{number}|{amount}",
            field(record, 3, 7).trim(),
            field(record, 12, 16).trim(),
            field(record, 22, 32).trim(),
        );
        self.pending = Some(Pending {
            entry: BankEntry {
                line,
                booking_date: date,
                value_date,
                amount: Money::new(amount, currency),
                bank_reference,
                remittance: field(record, 49, 79).trim().to_string(),
                structured_reference: None,
                payer_name: None,
                payer_iban: None,
                end_to_end_id: None,
            },
            complements: Vec::new(),
        });
    }

    fn complement(&mut self, line: u64, record: &str) {
        if !self.after_movement {
            self.out.error(
                line,
                "code enregistrement",
                Some("05"),
                "\"05\" complement record without a 04 movement before it".to_string(),
            );
            return;
        }
        let Some(pending) = self.pending.as_mut() else {
            return;
        };
        let qualifier = field(record, 46, 48);
        let text = field(record, 49, 118).trim();
        if text.is_empty() {
            return;
        }
        match qualifier {
            "NPY" if pending.entry.payer_name.is_none() => {
                pending.entry.payer_name = Some(text.to_string());
            }
            "RCN" if pending.entry.end_to_end_id.is_none() && text != "NOTPROVIDED" => {
                pending.entry.end_to_end_id = Some(text.to_string());
            }
            _ => {}
        }
        // Bounded by the file: one string per complement line.
        pending.complements.push(shown(text).to_string());
    }

    fn flush(&mut self) {
        if let Some(mut pending) = self.pending.take() {
            pending.entry.remittance = join_words(
                std::iter::once(pending.entry.remittance.as_str())
                    .chain(pending.complements.iter().map(String::as_str)),
            );
            self.out.emit(pending.entry);
        }
    }
}

/// `DDMMYY`, years 00–79 in this century.
fn ddmmyy(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    if b.len() != 6 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = |i: usize| u32::from(b[i] - b'0') * 10 + u32::from(b[i + 1] - b'0');
    let yy = n(4);
    let year = if yy < 80 { 2000 + yy } else { 1900 + yy };
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, n(2), n(0))
}

/// 13 digits and a signed last character, `decimals` of them after the point.
fn signed_amount(text: &str, decimals: u32) -> Option<Decimal> {
    let b = text.as_bytes();
    if b.len() != 14 || !b[..13].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let (negative, last) = match b[13] {
        b'{' => (false, 0),
        c @ b'A'..=b'I' => (false, c - b'A' + 1),
        b'}' => (true, 0),
        c @ b'J'..=b'R' => (true, c - b'J' + 1),
        _ => return None,
    };
    let mut mantissa = 0i64;
    for &d in &b[..13] {
        mantissa = mantissa * 10 + i64::from(d - b'0');
    }
    mantissa = mantissa * 10 + i64::from(last);
    let value = Decimal::new(if negative { -mantissa } else { mantissa }, decimals);
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn decodes_the_signed_last_character() {
        assert_eq!(signed_amount("0000000012345{", 2), Some(dec!(1234.50)));
        assert_eq!(signed_amount("0000000012345E", 2), Some(dec!(1234.55)));
        assert_eq!(signed_amount("0000000012345}", 2), Some(dec!(-1234.50)));
        assert_eq!(signed_amount("0000000012345R", 2), Some(dec!(-1234.59)));
        assert_eq!(signed_amount("0000000012345J", 0), Some(dec!(-123451)));
        assert_eq!(signed_amount("00000000123450", 2), None);
        assert_eq!(signed_amount("0000000012 45{", 2), None);
        assert_eq!(signed_amount("000000012345{", 2), None);
    }

    #[test]
    fn reads_two_digit_years() {
        assert_eq!(ddmmyy("020326"), NaiveDate::from_ymd_opt(2026, 3, 2));
        assert_eq!(ddmmyy("311299"), NaiveDate::from_ymd_opt(1999, 12, 31));
        assert_eq!(ddmmyy("310226"), None);
        assert_eq!(ddmmyy("0203 6"), None);
    }

    #[test]
    fn splits_records_by_line_or_every_120_characters() {
        let a = "a".repeat(120);
        let b = "b".repeat(120);
        assert_eq!(
            split_records(&format!("{a}\r\n{b}\r\n")),
            [(1, a.as_str()), (2, b.as_str())]
        );
        assert_eq!(
            split_records(&format!("{a}{b}xy")),
            [(1, a.as_str()), (2, b.as_str()), (3, "xy")]
        );
        assert!(split_records("\r\n").is_empty());
        let accented = format!("é{}", "a".repeat(119));
        assert_eq!(field(&accented, 1, 2), "éa");
        assert_eq!(field(&accented, 120, 120), "a");
    }

    #[test]
    fn never_panics_on_prefixes_and_flipped_bytes() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/bank/releve.cfonb120"
        );
        let Ok(bytes) = std::fs::read(path) else {
            return;
        };
        for end in 0..bytes.len() {
            read_cfonb120("x", &bytes[..end], &mut |_| {});
        }
        let mut seed = 0x2545_f491_u32;
        for _ in 0..2000 {
            let mut copy = bytes.clone();
            for _ in 0..4 {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                let at = seed as usize % copy.len().max(1);
                if let Some(b) = copy.get_mut(at) {
                    *b = (seed >> 8) as u8;
                }
            }
            read_cfonb120("x", &copy, &mut |_| {});
        }
    }
}
