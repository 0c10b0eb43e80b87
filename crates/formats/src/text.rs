//! Text as files carry it: encodings, separators, dates and amounts written the French or the
//! English way.
//!
//! The common shapes (`YYYY-MM-DD`, `DD/MM/YYYY`, `1234.56`) have fast paths: an import of a
//! million lines spends its time here, so these avoid allocating.

use std::borrow::Cow;

use chrono::NaiveDate;
use relance_core::money::{check_amount_bound, parse_amount, MoneyError};
use rust_decimal::Decimal;

/// Decodes a file's bytes: UTF-8 (its byte order mark stripped) when the bytes are valid
/// UTF-8, UTF-16 when they start with a UTF-16 byte order mark (Excel's "Unicode text"), and
/// Windows-1252 otherwise (what Excel and most French accounting software write on Windows).
/// Windows-1252 maps every byte, so decoding never fails.
pub fn decode_text(bytes: &[u8]) -> Cow<'_, str> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(body) {
        return Cow::Borrowed(text);
    }
    if bytes.starts_with(b"\xFF\xFE") {
        let (text, _) = encoding_rs::UTF_16LE.decode_with_bom_removal(bytes);
        return text;
    }
    if bytes.starts_with(b"\xFE\xFF") {
        let (text, _) = encoding_rs::UTF_16BE.decode_with_bom_removal(bytes);
        return text;
    }
    encoding_rs::WINDOWS_1252
        .decode_without_bom_handling(body)
        .0
}

/// Guesses the field separator from the first non-blank line: the most frequent of `;`, tab
/// and `,` outside double quotes (`;` wins a tie, then tab; `,` when none appears).
pub fn detect_separator(text: &str) -> u8 {
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    let (mut semicolons, mut tabs, mut commas) = (0usize, 0usize, 0usize);
    let mut quoted = false;
    for b in line.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b';' if !quoted => semicolons += 1,
            b'\t' if !quoted => tabs += 1,
            b',' if !quoted => commas += 1,
            _ => {}
        }
    }
    if semicolons > 0 && semicolons >= tabs && semicolons >= commas {
        b';'
    } else if tabs > 0 && tabs >= commas {
        b'\t'
    } else {
        b','
    }
}

/// Parses a calendar date as exports write it: `DD/MM/YYYY`, `DD-MM-YYYY`, `DD.MM.YYYY`
/// (day and month may have one digit), `YYYY-MM-DD`, `YYYY/MM/DD` and `YYYYMMDD`. A time of
/// day after the date (`2026-01-31T00:00:00`, `31/01/2026 00:00`), as spreadsheets add, is
/// ignored. Impossible dates (31/02/2026) and two-digit years (ambiguous) give `None`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim().as_bytes();
    // Fast paths: the two shapes nearly every file uses.
    if t.len() == 10 {
        if t[4] == b'-' && t[7] == b'-' {
            return ymd(digits(&t[0..4])?, digits(&t[5..7])?, digits(&t[8..10])?);
        }
        if t[2] == b'/' && t[5] == b'/' {
            return ymd(digits(&t[6..10])?, digits(&t[3..5])?, digits(&t[0..2])?);
        }
    }
    parse_date_general(t)
}

fn parse_date_general(t: &[u8]) -> Option<NaiveDate> {
    // Drop a time of day: "31/01/2026 00:00:00", "2026-01-31T10:00:00Z".
    let date = match t.iter().position(|&b| b == b' ' || b == b'T') {
        Some(cut) => {
            let time = &t[cut + 1..];
            let looks_like_time = !time.is_empty()
                && time[0].is_ascii_digit()
                && time.iter().all(|b| {
                    b.is_ascii_digit() || matches!(b, b':' | b'.' | b'Z' | b'+' | b'-' | b' ')
                });
            if !looks_like_time {
                return None;
            }
            &t[..cut]
        }
        None => t,
    };
    if date.len() == 8 && date.iter().all(u8::is_ascii_digit) {
        return ymd(
            digits(&date[0..4])?,
            digits(&date[4..6])?,
            digits(&date[6..8])?,
        );
    }
    let sep = *date.iter().find(|b| matches!(b, b'/' | b'-' | b'.'))?;
    let mut parts = date.split(|&b| b == sep);
    let (a, b, c) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !(1..=2).contains(&b.len()) {
        return None;
    }
    match (a.len(), c.len()) {
        (4, 1..=2) => ymd(digits(a)?, digits(b)?, digits(c)?),
        (1..=2, 4) => ymd(digits(c)?, digits(b)?, digits(a)?),
        _ => None,
    }
}

fn digits(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() {
        return None;
    }
    let mut n = 0u32;
    for &b in bytes {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u32::from(b - b'0');
    }
    Some(n)
}

fn ymd(year: u32, month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)
}

/// Parses an amount: a fast path for plain `1234.56`, `-12,5` or `100` (no grouping), then
/// core's general `parse_amount` (`1 234,56`, `1.234,56`, `1,234.56`, `12 €`). Both agree on
/// every input the fast path takes.
pub fn parse_decimal(text: &str) -> Result<Decimal, MoneyError> {
    match parse_plain_decimal(text.trim().as_bytes()) {
        Some(d) => check_amount_bound(text, d),
        None => parse_amount(text),
    }
}

/// `[+-]digits[(.|,)digits]` with at most 18 digits in all.
fn parse_plain_decimal(t: &[u8]) -> Option<Decimal> {
    let (negative, body) = match t.first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    if body.is_empty() || body.len() > 19 {
        return None;
    }
    let mut mantissa = 0i64;
    let mut scale: Option<u32> = None;
    let mut count = 0u32;
    for &b in body {
        match b {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + i64::from(b - b'0');
                count += 1;
                if let Some(s) = scale.as_mut() {
                    *s += 1;
                }
            }
            b'.' | b',' if scale.is_none() && count > 0 => scale = Some(0),
            _ => return None,
        }
    }
    let scale = scale.unwrap_or(0);
    if count > 18 || count == 0 || (scale == 0 && matches!(body.last(), Some(b'.' | b','))) {
        return None;
    }
    Some(Decimal::new(
        if negative { -mantissa } else { mantissa },
        scale,
    ))
}

/// Normalises a header for matching: lower case, accents folded, `_`, `.`, `-` and runs of
/// spaces turned into one space, typographic apostrophes made straight, a trailing unit in
/// parentheses (`Montant TTC (€)`) dropped, surrounding spaces trimmed.
pub fn normalise_header(text: &str) -> String {
    let mut t = text.trim().trim_start_matches('\u{feff}').trim();
    if let Some(open) = t.rfind('(') {
        if t.ends_with(')') && open > 0 {
            t = t[..open].trim_end();
        }
    }
    let mut out = String::with_capacity(t.len());
    let mut pending_space = false;
    for ch in t.chars().flat_map(char::to_lowercase) {
        let folded: &str = match ch {
            'à' | 'á' | 'â' | 'ä' | 'ã' => "a",
            'é' | 'è' | 'ê' | 'ë' => "e",
            'î' | 'ï' | 'í' | 'ì' => "i",
            'ô' | 'ö' | 'ó' | 'ò' | 'õ' => "o",
            'ù' | 'û' | 'ü' | 'ú' => "u",
            'ç' => "c",
            'ÿ' => "y",
            'ñ' => "n",
            'œ' => "oe",
            'æ' => "ae",
            '’' | '‘' | '`' => "'",
            'º' => "°",
            '_' | '.' | '-' | ' ' | '\t' | '\u{a0}' | '\u{202f}' => {
                pending_space = true;
                continue;
            }
            _ => {
                if pending_space && !out.is_empty() {
                    out.push(' ');
                }
                pending_space = false;
                out.push(ch);
                continue;
            }
        };
        if pending_space && !out.is_empty() {
            out.push(' ');
        }
        pending_space = false;
        out.push_str(folded);
    }
    out
}

/// Splits a cell holding several e-mail addresses (`a@x.fr; b@y.fr`, `a@x.fr, b@y.fr`).
pub fn split_emails(text: &str) -> impl Iterator<Item = &str> {
    text.split([',', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn d(y: i32, m: u32, day: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, day)
    }

    #[test]
    fn reads_the_date_shapes_exports_use() {
        assert_eq!(parse_date("2026-01-31"), d(2026, 1, 31));
        assert_eq!(parse_date(" 31/01/2026 "), d(2026, 1, 31));
        assert_eq!(parse_date("31-01-2026"), d(2026, 1, 31));
        assert_eq!(parse_date("31.01.2026"), d(2026, 1, 31));
        assert_eq!(parse_date("20260131"), d(2026, 1, 31));
        assert_eq!(parse_date("1/2/2026"), d(2026, 2, 1));
        assert_eq!(parse_date("2026/02/01"), d(2026, 2, 1));
        assert_eq!(parse_date("31/01/2026 00:00:00"), d(2026, 1, 31));
        assert_eq!(parse_date("2026-01-31T10:30:00Z"), d(2026, 1, 31));
    }

    #[test]
    fn refuses_what_is_not_a_date() {
        for bad in [
            "",
            "31/02/2026",
            "2026-13-01",
            "31/01/26",
            "01/31/2026",
            "hier",
            "2026-01-31 midi",
            "31/01/2026/1",
            "2026-1-",
            "+026-01-31",
        ] {
            assert_eq!(parse_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn fast_and_general_amount_parsers_agree() {
        for text in [
            "1234.56", "1234,56", "-12,5", "+7", "100", "0.001", "1,234", "0", "-0.50",
        ] {
            assert_eq!(
                parse_plain_decimal(text.as_bytes()),
                parse_amount(text).ok(),
                "{text}"
            );
        }
        assert_eq!(parse_decimal("1 234,56"), Ok(dec!(1234.56)));
        assert_eq!(parse_decimal("1\u{a0}234,56"), Ok(dec!(1234.56)));
        assert_eq!(parse_decimal("1.234,56 €"), Ok(dec!(1234.56)));
        assert_eq!(parse_decimal("-1234.50"), Ok(dec!(-1234.50)));
        for bad in ["", "12a", ".5x", "-", "--1", "abc"] {
            assert!(parse_decimal(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn detects_the_separator_outside_quotes() {
        assert_eq!(detect_separator("numéro;date;montant\r\n"), b';');
        assert_eq!(detect_separator("\n\"a;b\",c,d\n"), b',');
        assert_eq!(detect_separator("a\tb\tc"), b'\t');
        assert_eq!(detect_separator("montant"), b',');
    }

    #[test]
    fn normalises_headers_for_matching() {
        assert_eq!(normalise_header(" Échéance "), "echeance");
        assert_eq!(normalise_header("Date d’échéance"), "date d'echeance");
        assert_eq!(normalise_header("customer_ID"), "customer id");
        assert_eq!(normalise_header("Montant  TTC (€)"), "montant ttc");
        assert_eq!(normalise_header("N° Facture."), "n° facture");
        assert_eq!(normalise_header("E-mail"), "e mail");
        assert_eq!(normalise_header("\u{feff}numéro"), "numero");
    }

    #[test]
    fn decodes_utf8_with_or_without_bom_and_windows_1252() {
        assert_eq!(decode_text(b"\xEF\xBB\xBFSoci\xC3\xA9t\xC3\xA9"), "Société");
        assert_eq!(decode_text("Société".as_bytes()), "Société");
        assert_eq!(decode_text(b"Soci\xE9t\xE9 \x80"), "Société €");
        assert!(matches!(decode_text(b"plain"), Cow::Borrowed("plain")));
        assert_eq!(decode_text(b"\xFF\xFEa\x00\xE9\x00"), "aé");
    }

    #[test]
    fn splits_several_emails_in_one_cell() {
        let got: Vec<&str> = split_emails(" a@x.fr; b@y.fr ,c@z.fr;").collect();
        assert_eq!(got, ["a@x.fr", "b@y.fr", "c@z.fr"]);
    }
}
