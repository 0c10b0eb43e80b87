//! The daily print batch: one PDF holding a cover list and then the day's letters, in postal
//! order, ready for the printer and the post office.
//!
//! The letters are not typeset again: the batch copies the pages of the PDF files that were
//! filed when the letters were sent (the caller checks their SHA-256 first), so what is printed
//! is byte for byte what the litigation file proves was sent — a new rendering could differ if
//! the ledger or a template changed since. Those files come from this crate's own writer
//! ([`super::write_pdf`]: classic cross-reference table, the two fixed font subsets as objects
//! 10–14 and 20–24, one content stream per page), so copying pages needs no general PDF
//! library: a small reader of that layout, which refuses any other file, and a writer that puts
//! the pages under one page tree sharing the fonts (checked identical in every file).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use relance_core::party::Language;
use relance_core::planner::policy::Channel;

use super::{Align, Layout, LEADING, LEFT, MM, PAGE_H, PAGE_W, RIGHT};
use crate::font::Face;
use crate::format;
use crate::RenderError;

/// Objects of a file of ours that hold the two fonts (see `write_font`).
const FONT_OBJECTS: [u32; 10] = [10, 11, 12, 13, 14, 20, 21, 22, 23, 24];

/// One letter of the batch, in the order it is printed.
#[derive(Debug, Clone)]
pub struct BatchLetter {
    /// The letter's reference (its outbox id).
    pub reference: i64,
    pub addressee: String,
    pub postcode: Option<String>,
    pub channel: Channel,
    /// The letter's PDF as filed.
    pub pdf: Vec<u8>,
}

/// What the cover says besides the letters.
#[derive(Debug, Clone)]
pub struct BatchCover {
    pub creditor: String,
    pub day: NaiveDate,
    pub language: Language,
}

/// The batch PDF and, for each letter, its number of pages.
#[derive(Debug, Clone)]
pub struct Batch {
    pub pdf: Vec<u8>,
    pub cover_pages: usize,
    pub pages: Vec<usize>,
}

/// Builds the batch: the cover list, then every letter's pages in the given order.
pub fn render_print_batch(
    cover: &BatchCover,
    letters: &[BatchLetter],
) -> Result<Batch, RenderError> {
    let parsed: Vec<OwnPdf> = letters
        .iter()
        .map(|l| {
            OwnPdf::read(&l.pdf).map_err(|e| {
                RenderError::Data(format!(
                    "letter {}: not a letter PDF of relance: {e}",
                    l.reference
                ))
            })
        })
        .collect::<Result<_, _>>()?;
    let pages: Vec<usize> = parsed.iter().map(|p| p.pages.len()).collect();
    let cover_pdf = cover_pdf(cover, letters, &pages)?;
    let cover_parsed =
        OwnPdf::read(&cover_pdf).map_err(|e| RenderError::Data(format!("the cover: {e}")))?;
    for (letter, pdf) in letters.iter().zip(&parsed) {
        for id in FONT_OBJECTS {
            if pdf.object(id)? != cover_parsed.object(id)? {
                return Err(RenderError::Data(format!(
                    "letter {} was typeset with other fonts than this version of relance: print it from its own file",
                    letter.reference
                )));
            }
        }
    }
    let mut sources = vec![&cover_parsed];
    sources.extend(parsed.iter());
    Ok(Batch {
        pdf: merge(&cover_parsed, &sources)?,
        cover_pages: cover_parsed.pages.len(),
        pages,
    })
}

/// One PDF holding the pages of `documents` in order: a letter and the statement of account
/// posted in the same envelope. Each must come from this crate's writer with the same fonts
/// (the same version of relance); the result is itself one of ours, so the print batch and the
/// litigation file read it like any letter.
pub fn concat_pdfs(documents: &[&[u8]]) -> Result<Vec<u8>, RenderError> {
    let parsed: Vec<OwnPdf> = documents
        .iter()
        .enumerate()
        .map(|(n, bytes)| {
            OwnPdf::read(bytes).map_err(|e| {
                RenderError::Data(format!("document {}: not a PDF of relance: {e}", n + 1))
            })
        })
        .collect::<Result<_, _>>()?;
    let first = parsed
        .first()
        .ok_or_else(|| RenderError::Data("no document to put together".into()))?;
    for (n, pdf) in parsed.iter().enumerate().skip(1) {
        for id in FONT_OBJECTS {
            if pdf.object(id)? != first.object(id)? {
                return Err(RenderError::Data(format!(
                    "document {} was typeset with other fonts than document 1",
                    n + 1
                )));
            }
        }
    }
    let sources: Vec<&OwnPdf> = parsed.iter().collect();
    merge(first, &sources)
}

struct CoverWords {
    title: &'static str,
    count: &'static str,
    letters: &'static str,
    columns: [&'static str; 6],
    simple: &'static str,
    registered: &'static str,
    registered_ar: &'static str,
}

fn cover_words(lang: Language) -> CoverWords {
    match lang {
        Language::Fr => CoverWords {
            title: "LOT D'IMPRESSION DU",
            letters: "courriers",
            count: "pages hors cette liste, en ordre postal (code postal, puis nom)",
            columns: [
                "N°",
                "Destinataire",
                "Code postal",
                "Référence",
                "Envoi",
                "Pages",
            ],
            simple: "lettre simple",
            registered: "recommandé",
            registered_ar: "recommandé AR",
        },
        Language::En => CoverWords {
            title: "PRINT BATCH OF",
            letters: "letters",
            count: "pages besides this list, in postal order (postcode, then name)",
            columns: [
                "No.",
                "Addressee",
                "Postcode",
                "Reference",
                "Posting",
                "Pages",
            ],
            simple: "ordinary letter",
            registered: "registered",
            registered_ar: "registered with AR",
        },
    }
}

/// How a letter is posted, in words.
pub fn posting_label(channel: Channel, lang: Language) -> &'static str {
    let w = cover_words(lang);
    match channel {
        Channel::RegisteredLetter => w.registered,
        Channel::RegisteredLetterAr => w.registered_ar,
        _ => w.simple,
    }
}

fn cover_pdf(
    cover: &BatchCover,
    letters: &[BatchLetter],
    pages: &[usize],
) -> Result<Vec<u8>, RenderError> {
    let lang = cover.language;
    let w = cover_words(lang);
    let mut l = Layout::new(Vec::new())?;
    let title = format!("{} {}", w.title, format::date_short(cover.day));
    l.text(
        PAGE_W / 2.0,
        l.y - 14.0,
        &title,
        Face::Bold,
        16.0,
        Align::Center,
    );
    l.y -= 30.0;
    l.text(
        PAGE_W / 2.0,
        l.y,
        &cover.creditor,
        Face::Regular,
        10.0,
        Align::Center,
    );
    l.y -= 2.0 * LEADING;
    let total: usize = pages.iter().sum();
    let count = format!("{} {}, {total} {}", letters.len(), w.letters, w.count);
    l.text(LEFT, l.y, &count, Face::Bold, 10.0, Align::Left);
    l.y -= LEADING;
    let x = [
        LEFT,
        LEFT + 12.0 * MM,
        LEFT + 82.0 * MM,
        LEFT + 104.0 * MM,
        LEFT + 126.0 * MM,
        RIGHT,
    ];
    let header = |l: &mut Layout| {
        l.y -= LEADING;
        for (i, title) in w.columns.iter().enumerate() {
            let align = if i == 5 { Align::Right } else { Align::Left };
            l.text(x[i], l.y, title, Face::Bold, 8.5, align);
        }
        l.hline(LEFT, RIGHT, l.y - 3.0, 0.5);
        l.y -= 2.0;
    };
    header(&mut l);
    for (n, (letter, pages)) in letters.iter().zip(pages).enumerate() {
        if l.ensure(LEADING) {
            header(&mut l);
        }
        l.y -= LEADING;
        let name = clip(&l, &letter.addressee, x[2] - x[1] - 2.0 * MM);
        let cells = [
            (n + 1).to_string(),
            name,
            letter.postcode.clone().unwrap_or_else(|| "—".into()),
            letter.reference.to_string(),
            posting_label(letter.channel, lang).to_string(),
            pages.to_string(),
        ];
        for (i, cell) in cells.iter().enumerate() {
            let align = if i == 5 { Align::Right } else { Align::Left };
            l.text(x[i], l.y, cell, Face::Regular, 8.5, align);
        }
    }
    Ok(l.finish(&title, lang))
}

/// The text cut with "…" to fit `width` points at the cover's size.
fn clip(l: &Layout, text: &str, width: f32) -> String {
    let font = l.font(Face::Regular);
    if font.width(text, 8.5) <= width {
        return text.to_string();
    }
    let mut out = String::new();
    for c in text.chars() {
        if font.width(&format!("{out}{c}…"), 8.5) > width {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

/// A PDF written by [`super::write_pdf`], read back: its objects by number, its pages.
struct OwnPdf<'a> {
    bytes: &'a [u8],
    offsets: BTreeMap<u32, usize>,
    pages: Vec<OwnPage>,
}

struct OwnPage {
    content: u32,
    image: Option<u32>,
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

fn number_after(text: &[u8], key: &[u8]) -> Option<u32> {
    let at = find(text, key, 0)? + key.len();
    let rest = &text[at..];
    let start = rest.iter().position(|b| !b.is_ascii_whitespace())?;
    let digits: String = rest[start..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .map(|b| char::from(*b))
        .collect();
    digits.parse().ok()
}

impl<'a> OwnPdf<'a> {
    fn read(bytes: &'a [u8]) -> Result<OwnPdf<'a>, String> {
        if !bytes.starts_with(b"%PDF-") {
            return Err("no %PDF header".into());
        }
        let tail_from = bytes.len().saturating_sub(64);
        let at = find(bytes, b"startxref", tail_from).ok_or("no startxref")?;
        let xref = number_after(&bytes[at..], b"startxref").ok_or("no xref offset")? as usize;
        let table = bytes.get(xref..).ok_or("xref offset out of the file")?;
        if !table.starts_with(b"xref") {
            return Err("no classic cross-reference table".into());
        }
        let mut lines = table.split(|b| *b == b'\n').skip(1);
        let head = String::from_utf8_lossy(lines.next().ok_or("empty xref")?).to_string();
        let (first, count) = head
            .trim()
            .split_once(' ')
            .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)))
            .ok_or("bad xref subsection")?;
        let mut offsets = BTreeMap::new();
        for id in first..first + count {
            let line = lines.next().ok_or("short xref")?;
            let text = String::from_utf8_lossy(line);
            let mut parts = text.split_whitespace();
            let (offset, _, kind) = (parts.next(), parts.next(), parts.next());
            if kind == Some("n") {
                let offset = offset
                    .and_then(|o| o.parse().ok())
                    .ok_or("bad xref entry")?;
                offsets.insert(id, offset);
            }
        }
        let mut pdf = OwnPdf {
            bytes,
            offsets,
            pages: Vec::new(),
        };
        let tree = pdf.object(2).map_err(|e| e.to_string())?;
        let kids_at = find(tree, b"/Kids", 0).ok_or("no /Kids in the page tree")?;
        let kids_end = find(tree, b"]", kids_at).ok_or("unterminated /Kids")?;
        let kids = String::from_utf8_lossy(&tree[kids_at + 5..kids_end]).replace('[', " ");
        let words: Vec<&str> = kids.split_whitespace().collect();
        for triple in words.chunks(3) {
            let id: u32 = triple[0].parse().map_err(|_| "bad /Kids entry")?;
            let page = pdf.object(id).map_err(|e| e.to_string())?;
            let content = number_after(page, b"/Contents").ok_or("a page without /Contents")?;
            let image = number_after(page, b"/Im1");
            pdf.pages.push(OwnPage { content, image });
        }
        if pdf.pages.is_empty() {
            return Err("no page".into());
        }
        Ok(pdf)
    }

    /// The object's body: between `N 0 obj` and `endobj`, streams included (skipped by their
    /// `/Length`, so binary data never confuses the reader).
    fn object(&self, id: u32) -> Result<&'a [u8], RenderError> {
        let bad = |what: &str| RenderError::Data(format!("object {id}: {what}"));
        let start = *self.offsets.get(&id).ok_or_else(|| bad("missing"))?;
        let head = format!("{id} 0 obj");
        let bytes = self.bytes;
        if !bytes
            .get(start..)
            .is_some_and(|b| b.starts_with(head.as_bytes()))
        {
            return Err(bad("not where the cross-reference table says"));
        }
        let body = start + head.len();
        let stream_at = find(bytes, b"stream", body);
        let end_at = find(bytes, b"endobj", body).ok_or_else(|| bad("no endobj"))?;
        let end = match stream_at {
            Some(s) if s < end_at => {
                let length = number_after(&bytes[body..s], b"/Length")
                    .ok_or_else(|| bad("a stream without a direct /Length"))?;
                let mut data = s + b"stream".len();
                if bytes.get(data) == Some(&b'\r') {
                    data += 1;
                }
                if bytes.get(data) == Some(&b'\n') {
                    data += 1;
                }
                let after = data + length as usize;
                find(bytes, b"endobj", after).ok_or_else(|| bad("no endobj after the stream"))?
            }
            _ => end_at,
        };
        Ok(&bytes[body..end])
    }
}

/// Writes one PDF with the pages of `sources` in order, sharing `fonts_from`'s fonts.
fn merge(fonts_from: &OwnPdf, sources: &[&OwnPdf]) -> Result<Vec<u8>, RenderError> {
    let mut objects: BTreeMap<u32, Vec<u8>> = BTreeMap::new();
    for id in FONT_OBJECTS {
        objects.insert(id, fonts_from.object(id)?.to_vec());
    }
    let mut next = 30u32;
    let mut kids = Vec::new();
    for source in sources {
        let mut images: BTreeMap<u32, u32> = BTreeMap::new();
        for page in &source.pages {
            let content = next;
            objects.insert(content, source.object(page.content)?.to_vec());
            next += 1;
            let image = match page.image {
                Some(old) => Some(match images.get(&old) {
                    Some(new) => *new,
                    None => {
                        let new = next;
                        next += 1;
                        objects.insert(new, source.object(old)?.to_vec());
                        images.insert(old, new);
                        new
                    }
                }),
                None => None,
            };
            let id = next;
            next += 1;
            let xobject = image
                .map(|i| format!(" /XObject << /Im1 {i} 0 R >>"))
                .unwrap_or_default();
            objects.insert(
                id,
                format!(
                    "\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W:.4} {PAGE_H:.4}] /Contents {content} 0 R \
                     /Resources << /Font << /F1 10 0 R /F2 20 0 R >>{xobject} >> >>\n"
                )
                .into_bytes(),
            );
            kids.push(id);
        }
    }
    let kid_refs: Vec<String> = kids.iter().map(|k| format!("{k} 0 R")).collect();
    objects.insert(1, b"\n<< /Type /Catalog /Pages 2 0 R >>\n".to_vec());
    objects.insert(
        2,
        format!(
            "\n<< /Type /Pages /Kids [{}] /Count {} >>\n",
            kid_refs.join(" "),
            kids.len()
        )
        .into_bytes(),
    );
    objects.insert(3, b"\n<< /Producer (relance) >>\n".to_vec());
    let mut out = b"%PDF-1.7\n%\x80\x80\x80\x80\n\n".to_vec();
    let mut offsets = BTreeMap::new();
    for (id, body) in &objects {
        offsets.insert(*id, out.len());
        out.extend_from_slice(format!("{id} 0 obj").as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"endobj\n\n");
    }
    let size = next.max(31);
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {size}\n0000000000 65535 f\r\n").as_bytes());
    for id in 1..size {
        match offsets.get(&id) {
            Some(offset) => out.extend_from_slice(format!("{offset:010} 00000 n\r\n").as_bytes()),
            None => out.extend_from_slice(b"0000000000 65535 f\r\n"),
        }
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {size} /Root 1 0 R /Info 3 0 R >>\nstartxref\n{xref}\n%%EOF")
            .as_bytes(),
    );
    Ok(out)
}
