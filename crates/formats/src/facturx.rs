//! Factur-X / ZUGFeRD / XRechnung PDFs: the invoice is the XML file embedded in the PDF
//! (PDF/A-3 `EmbeddedFiles` and `AF`, named `factur-x.xml`, `zugferd-invoice.xml`,
//! `ZUGFeRD-invoice.xml` or `xrechnung.xml`), read with the CII (or UBL) reader.
//!
//! A deliberately small scanner rather than a PDF library: it walks the file's indirect objects,
//! keeps the streams whose dictionary says `/Type /EmbeddedFile`, inflates them (FlateDecode,
//! with a size cap) and keeps those that are an EN 16931 invoice. File specifications give the
//! names, so a file that carries several XML attachments picks the Factur-X one. Embedded file
//! streams are never inside object streams (PDF 32000-1, 7.5.7), so this finds them in every
//! PDF that is not encrypted.

use crate::en16931::{detect_invoice_syntax, read_invoice_xml, InvoiceSyntax};
use crate::problem::{Problem, ReadReport, Severity};
use crate::InvoiceRow;

/// The names the Factur-X, ZUGFeRD and XRechnung specifications give the embedded invoice.
pub const INVOICE_FILE_NAMES: &[&str] = &[
    "factur-x.xml",
    "zugferd-invoice.xml",
    "ZUGFeRD-invoice.xml",
    "xrechnung.xml",
    "order-x.xml",
];

/// An inflated embedded file larger than this is refused (an invoice is kilobytes).
const MAX_EMBEDDED_BYTES: usize = 32 * 1024 * 1024;

/// The invoice XML found in a PDF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedInvoice {
    /// The attachment's name, when the PDF gives it.
    pub name: Option<String>,
    pub xml: Vec<u8>,
}

/// Finds the embedded invoice of a Factur-X / ZUGFeRD PDF; the error says why there is none.
pub fn extract_embedded_invoice(bytes: &[u8]) -> Result<EmbeddedInvoice, String> {
    if !bytes.starts_with(b"%PDF") {
        return Err("not a PDF (no %PDF header)".to_string());
    }
    let objects = scan_objects(bytes);
    let mut names: Vec<(u64, String)> = Vec::new();
    for object in &objects {
        if let Some((target, name)) = file_spec(object.dict) {
            names.push((target, name));
        }
    }
    let mut candidates: Vec<EmbeddedInvoice> = Vec::new();
    let mut skipped: Vec<String> = Vec::new();
    for object in &objects {
        let Some(data) = object.stream else { continue };
        if !has_name(object.dict, b"/Type", b"/EmbeddedFile") {
            continue;
        }
        let name = names
            .iter()
            .rev()
            .find(|(n, _)| *n == object.number)
            .map(|(_, name)| name.clone());
        let xml = match decode(object.dict, data) {
            Ok(xml) => xml,
            Err(why) => {
                skipped.push(format!(
                    "{}: {why}",
                    name.as_deref().unwrap_or("an attachment")
                ));
                continue;
            }
        };
        if matches!(
            detect_invoice_syntax(&xml),
            InvoiceSyntax::Cii | InvoiceSyntax::Ubl
        ) && looks_like_xml(&xml)
        {
            candidates.push(EmbeddedInvoice { name, xml });
        }
    }
    if candidates.is_empty() && contains(bytes, b"/Encrypt") {
        return Err("the PDF is encrypted: its attachments cannot be read".to_string());
    }
    let known = |c: &EmbeddedInvoice| {
        c.name
            .as_deref()
            .is_some_and(|n| INVOICE_FILE_NAMES.iter().any(|k| k.eq_ignore_ascii_case(n)))
    };
    if let Some(index) = candidates.iter().rposition(known) {
        return Ok(candidates.swap_remove(index));
    }
    if let Some(last) = candidates.pop() {
        return Ok(last);
    }
    let mut message = format!(
        "the PDF carries no embedded invoice (Factur-X / ZUGFeRD: {}); import the invoice's XML or a CSV instead",
        INVOICE_FILE_NAMES[..4].join(", ")
    );
    if !skipped.is_empty() {
        message.push_str(&format!(
            " (unreadable attachments: {})",
            skipped.join("; ")
        ));
    }
    Err(message)
}

/// Reads the invoice embedded in a Factur-X / ZUGFeRD PDF. Problems of the XML are reported
/// as `FILE.pdf[factur-x.xml]:LINE: …`.
pub fn read_invoice_pdf(
    source: &str,
    bytes: &[u8],
    sink: &mut dyn FnMut(InvoiceRow),
) -> ReadReport {
    match extract_embedded_invoice(bytes) {
        Ok(found) => {
            let name = format!(
                "{source}[{}]",
                found.name.as_deref().unwrap_or("embedded invoice")
            );
            read_invoice_xml(&name, &found.xml, sink)
        }
        Err(message) => ReadReport {
            rows: 0,
            problems: vec![Problem {
                source: source.to_string(),
                line: 1,
                column: None,
                value: None,
                message,
                severity: Severity::Error,
            }],
        },
    }
}

fn looks_like_xml(bytes: &[u8]) -> bool {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    text.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'<')
}

/// One indirect object: its number, its dictionary (if any) and its stream data (if any).
struct Object<'a> {
    number: u64,
    dict: &'a [u8],
    stream: Option<&'a [u8]>,
}

/// Every `N G obj … endobj` of the file, in file order (later revisions after earlier ones).
fn scan_objects(bytes: &[u8]) -> Vec<Object<'_>> {
    let mut objects = Vec::new();
    let mut at = 0;
    while let Some(found) = find(bytes, b"obj", at) {
        at = found + 3;
        // "endobj" is not a start; neither is "obj" inside a word.
        if found >= 3 && &bytes[found - 3..found] == b"end" {
            continue;
        }
        if bytes.get(found + 3).is_some_and(u8::is_ascii_alphanumeric) {
            continue;
        }
        let Some(number) = object_number(&bytes[..found]) else {
            continue;
        };
        let body_start = skip_space(bytes, found + 3);
        if !bytes[body_start..].starts_with(b"<<") {
            continue;
        }
        // A dictionary that never closes: the rest of the file is broken; stop rather than
        // rescan it from every later "obj" (quadratic on hostile input).
        let Some(dict_end) = dict_end(bytes, body_start) else {
            break;
        };
        let dict = &bytes[body_start..dict_end];
        let after = skip_space(bytes, dict_end);
        let mut stream = None;
        if bytes[after..].starts_with(b"stream") {
            let mut data_start = after + 6;
            if bytes[data_start..].starts_with(b"\r\n") {
                data_start += 2;
            } else if bytes[data_start..].starts_with(b"\n")
                || bytes[data_start..].starts_with(b"\r")
            {
                data_start += 1;
            }
            let by_length = direct_integer(dict, b"/Length")
                .and_then(|n| usize::try_from(n).ok())
                .and_then(|n| data_start.checked_add(n))
                .filter(|&end| {
                    end <= bytes.len() && bytes[skip_space(bytes, end)..].starts_with(b"endstream")
                });
            let end = by_length.or_else(|| {
                find(bytes, b"endstream", data_start).map(|e| {
                    let mut e = e;
                    if e > data_start && bytes[e - 1] == b'\n' {
                        e -= 1;
                    }
                    if e > data_start && bytes[e - 1] == b'\r' {
                        e -= 1;
                    }
                    e
                })
            });
            if let Some(end) = end {
                stream = Some(&bytes[data_start..end]);
                at = end;
            }
        } else {
            at = dict_end;
        }
        objects.push(Object {
            number,
            dict,
            stream,
        });
    }
    objects
}

/// The `N` of `N G ` that ends `before` (the text just before `obj`).
fn object_number(before: &[u8]) -> Option<u64> {
    let mut end = before.len();
    // At least one space between "G" and "obj".
    let spaces = before
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_whitespace())
        .count();
    if spaces == 0 {
        return None;
    }
    end -= spaces;
    let generation = before[..end]
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if generation == 0 {
        return None;
    }
    end -= generation;
    let spaces = before[..end]
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_whitespace())
        .count();
    if spaces == 0 {
        return None;
    }
    end -= spaces;
    let digits = before[..end]
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_digit())
        .count()
        .min(18);
    if digits == 0 {
        return None;
    }
    std::str::from_utf8(&before[end - digits..end])
        .ok()?
        .parse()
        .ok()
}

/// Where the dictionary that opens at `start` (`<<`) closes (just after its `>>`), skipping
/// strings and nested dictionaries.
fn dict_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'<' if bytes.get(i + 1) == Some(&b'<') => {
                depth += 1;
                i += 2;
            }
            b'>' if bytes.get(i + 1) == Some(&b'>') => {
                depth = depth.checked_sub(1)?;
                i += 2;
                if depth == 0 {
                    return Some(i);
                }
            }
            b'(' => i = string_end(bytes, i)?,
            b'%' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// Just after the literal string that opens at `start` (`(`), with nesting and escapes.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'(' => {
                depth += 1;
                i += 1;
            }
            b')' => {
                depth = depth.checked_sub(1)?;
                i += 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// The literal string that opens at `start`, unescaped (and decoded from UTF-16 with a BOM).
fn string_value(bytes: &[u8], start: usize) -> Option<String> {
    let end = string_end(bytes, start)?;
    let raw = &bytes[start + 1..end - 1];
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\\' && i + 1 < raw.len() {
            i += 1;
            match raw[i] {
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'0'..=b'7' => {
                    let digits = raw[i..]
                        .iter()
                        .take(3)
                        .take_while(|b| (b'0'..=b'7').contains(b))
                        .fold(0u32, |n, b| n * 8 + u32::from(b - b'0'));
                    out.push(u8::try_from(digits & 0xFF).unwrap_or(0));
                    let taken = raw[i..]
                        .iter()
                        .take(3)
                        .take_while(|b| (b'0'..=b'7').contains(b))
                        .count();
                    i += taken;
                    continue;
                }
                b'\r' | b'\n' => {}
                other => out.push(other),
            }
            i += 1;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    if let Some(utf16) = out.strip_prefix(b"\xFE\xFF") {
        let units: Vec<u16> = utf16
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        return Some(String::from_utf16_lossy(&units));
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// A file specification's target stream and name: `/EF << /F 12 0 R >>` with `/UF (…)` or
/// `/F (…)`.
fn file_spec(dict: &[u8]) -> Option<(u64, String)> {
    let ef = find_key(dict, b"/EF", 0)?;
    let inner = skip_space(dict, ef + 3);
    if !dict[inner..].starts_with(b"<<") {
        return None;
    }
    let inner_end = dict_end(dict, inner)?;
    let inner_dict = &dict[inner..inner_end];
    let key = find_key(inner_dict, b"/UF", 0).or_else(|| find_key(inner_dict, b"/F", 0))?;
    let key_len = if inner_dict[key..].starts_with(b"/UF") {
        3
    } else {
        2
    };
    let target = leading_integer(inner_dict, skip_space(inner_dict, key + key_len))?;
    // The name: /UF, else /F, outside the /EF dictionary.
    let mut name = None;
    for key in [&b"/UF"[..], &b"/F"[..]] {
        let mut from = 0;
        while let Some(at) = find_key(dict, key, from) {
            from = at + key.len();
            if (inner..inner_end).contains(&at) {
                continue;
            }
            let value = skip_space(dict, at + key.len());
            if dict.get(value) == Some(&b'(') {
                name = string_value(dict, value);
                break;
            }
        }
        if name.is_some() {
            break;
        }
    }
    Some((target, name?))
}

/// The stream's bytes, inflated when the filter is FlateDecode.
fn decode(dict: &[u8], data: &[u8]) -> Result<Vec<u8>, String> {
    let Some(filter) = find_key(dict, b"/Filter", 0) else {
        return Ok(data.to_vec());
    };
    let value = skip_space(dict, filter + 7);
    let rest = &dict[value..];
    let single = rest.starts_with(b"/FlateDecode") || rest.starts_with(b"/Fl");
    let array_of_one = rest.starts_with(b"[") && {
        let close = rest.iter().position(|&b| b == b']').unwrap_or(rest.len());
        let inside = &rest[1..close];
        let names = inside.iter().filter(|&&b| b == b'/').count();
        names == 1 && contains(inside, b"/FlateDecode")
    };
    if !(single || array_of_one) {
        return Err("a stream filter other than FlateDecode".to_string());
    }
    if find_key(dict, b"/DecodeParms", 0).is_some() {
        return Err("a compressed stream with a predictor".to_string());
    }
    miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(data, MAX_EMBEDDED_BYTES)
        .or_else(|_| miniz_oxide::inflate::decompress_to_vec_with_limit(data, MAX_EMBEDDED_BYTES))
        .map_err(|e| format!("cannot be inflated ({:?})", e.status))
}

/// Whether `dict` says `key value` (e.g. `/Type /EmbeddedFile`, not `/EmbeddedFiles`).
fn has_name(dict: &[u8], key: &[u8], value: &[u8]) -> bool {
    let mut from = 0;
    while let Some(at) = find_key(dict, key, from) {
        from = at + key.len();
        let v = skip_space(dict, at + key.len());
        if dict[v..].starts_with(value)
            && !dict
                .get(v + value.len())
                .is_some_and(|b| b.is_ascii_alphanumeric())
        {
            return true;
        }
    }
    false
}

/// `key`'s value when it is a direct integer (not `N G R`).
fn direct_integer(dict: &[u8], key: &[u8]) -> Option<u64> {
    let at = find_key(dict, key, 0)?;
    let start = skip_space(dict, at + key.len());
    let n = leading_integer(dict, start)?;
    let digits = dict[start..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let after = skip_space(dict, start + digits);
    // "12 0 R" is a reference.
    let next_digits = dict[after..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if next_digits > 0 && dict[skip_space(dict, after + next_digits)..].starts_with(b"R") {
        return None;
    }
    Some(n)
}

fn leading_integer(bytes: &[u8], start: usize) -> Option<u64> {
    let digits = bytes
        .get(start..)?
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count()
        .min(18);
    if digits == 0 {
        return None;
    }
    std::str::from_utf8(&bytes[start..start + digits])
        .ok()?
        .parse()
        .ok()
}

/// `key` as a whole name (not a prefix of a longer one) at or after `from`.
fn find_key(bytes: &[u8], key: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(found) = find(bytes, key, at) {
        let next = bytes.get(found + key.len());
        if !next.is_some_and(|b| b.is_ascii_alphanumeric()) {
            return Some(found);
        }
        at = found + 1;
    }
    None
}

fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && (bytes[at].is_ascii_whitespace() || bytes[at] == 0) {
        at += 1;
    }
    at.min(bytes.len())
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    find(hay, needle, 0).is_some()
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = *needle.first()?;
    let mut at = from;
    while at + needle.len() <= hay.len() {
        let offset = hay[at..].iter().position(|&b| b == first)?;
        let candidate = at + offset;
        if candidate + needle.len() > hay.len() {
            return None;
        }
        if &hay[candidate..candidate + needle.len()] == needle {
            return Some(candidate);
        }
        at = candidate + 1;
    }
    None
}
