//! A4 PDF letters and statements of account, typeset directly with `pdf-writer`.
//!
//! Layout (mm from the top-left corner): letterhead at 15; the debtor's address in the window
//! of a French DL window envelope (left 110, top 50, 90 × 35); place and date under it; the
//! registered-mail mention, the subject and the references at 100; then the body, the invoice
//! table, the payment block with its EPC QR code, the signature. A page break repeats the table
//! header; multi-page documents are numbered "Page n/N". Text is DejaVu Sans (embedded subset,
//! with a ToUnicode map, so every word can be extracted and searched).

use chrono::NaiveDate;
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use relance_core::party::{CustomerKind, Language};
use relance_core::planner::policy::Channel;
use relance_core::Money;
use serde::Serialize;

use crate::font::{fonts, Face, SubsetFont};
use crate::format;
use crate::model::{CreditorInfo, DebtorInfo, LetterData};
use crate::qr::{epc_payload, qr_matrix, EpcTransfer};
use crate::templates::{Part, Templates};
use crate::RenderError;

pub mod batch;
pub mod litigation;
pub mod png;

const MM: f32 = 72.0 / 25.4;
const PAGE_W: f32 = 210.0 * MM;
const PAGE_H: f32 = 297.0 * MM;
const LEFT: f32 = 20.0 * MM;
const RIGHT: f32 = PAGE_W - 20.0 * MM;
const TOP: f32 = PAGE_H - 18.0 * MM;
const BOTTOM: f32 = 20.0 * MM;
const BODY_SIZE: f32 = 9.5;
const LEADING: f32 = 12.5;

#[derive(Clone, Copy, PartialEq)]
enum Align {
    Left,
    Right,
    Center,
}

/// A document being laid out: pages of content operators, a cursor.
struct Layout {
    regular: &'static SubsetFont,
    bold: &'static SubsetFont,
    pages: Vec<Content>,
    y: f32,
    scratch: Vec<u8>,
    footer: Vec<String>,
    logo: Option<LogoImage>,
    /// The page drawn on.
    current: usize,
}

impl Layout {
    fn new(footer: Vec<String>) -> Result<Layout, RenderError> {
        let (regular, bold) = fonts()?;
        Ok(Layout {
            regular,
            bold,
            pages: vec![Content::new()],
            y: TOP,
            scratch: Vec::with_capacity(256),
            footer,
            logo: None,
            current: 0,
        })
    }

    fn font(&self, face: Face) -> &'static SubsetFont {
        match face {
            Face::Regular => self.regular,
            Face::Bold => self.bold,
        }
    }

    fn page(&mut self) -> &mut Content {
        if self.pages.is_empty() {
            self.pages.push(Content::new());
        }
        let i = self.current.min(self.pages.len() - 1);
        &mut self.pages[i]
    }

    /// Draws one line of text; `x` is the left, right or centre point per `align`.
    fn text(&mut self, x: f32, y: f32, text: &str, face: Face, size: f32, align: Align) {
        if text.is_empty() {
            return;
        }
        let font = self.font(face);
        let x = match align {
            Align::Left => x,
            Align::Right => x - font.width(text, size),
            Align::Center => x - font.width(text, size) / 2.0,
        };
        let mut bytes = std::mem::take(&mut self.scratch);
        font.encode(text, &mut bytes);
        let name = match face {
            Face::Regular => Name(b"F1"),
            Face::Bold => Name(b"F2"),
        };
        self.page()
            .begin_text()
            .set_font(name, size)
            .next_line(x, y)
            .show(Str(&bytes))
            .end_text();
        self.scratch = bytes;
    }

    fn new_page(&mut self) {
        self.pages.push(Content::new());
        self.current = self.pages.len() - 1;
        self.y = TOP;
    }

    /// Starts a new page when fewer than `height` points are left.
    fn ensure(&mut self, height: f32) -> bool {
        if self.y - height < BOTTOM {
            self.new_page();
            true
        } else {
            false
        }
    }

    /// Greedy word wrap.
    fn wrap(&self, text: &str, face: Face, size: f32, width: f32) -> Vec<String> {
        let font = self.font(face);
        let space = font.width(" ", size);
        let mut lines = Vec::new();
        let mut line = String::new();
        let mut line_w = 0.0;
        for word in text.split(' ').filter(|w| !w.is_empty()) {
            let w = font.width(word, size);
            if !line.is_empty() && line_w + space + w > width {
                lines.push(std::mem::take(&mut line));
                line_w = 0.0;
            }
            if !line.is_empty() {
                line.push(' ');
                line_w += space;
            }
            line.push_str(word);
            line_w += w;
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
    }

    /// A wrapped paragraph from the cursor, breaking pages as needed.
    fn paragraph(&mut self, text: &str, face: Face, size: f32, indent: f32, bullet: bool) {
        let x = LEFT + indent;
        let lines = self.wrap(text, face, size, RIGHT - x);
        for (i, line) in lines.iter().enumerate() {
            self.ensure(LEADING);
            self.y -= LEADING;
            if bullet && i == 0 {
                self.text(x - 3.5 * MM, self.y, "•", Face::Regular, size, Align::Left);
            }
            self.text(x, self.y, line, face, size, Align::Left);
        }
    }

    fn rect_fill(&mut self, x: f32, y: f32, w: f32, h: f32, gray: f32) {
        self.page()
            .save_state()
            .set_fill_gray(gray)
            .rect(x, y, w, h)
            .fill_nonzero()
            .restore_state();
    }

    fn hline(&mut self, x1: f32, x2: f32, y: f32, width: f32) {
        self.page()
            .save_state()
            .set_line_width(width)
            .move_to(x1, y)
            .line_to(x2, y)
            .stroke()
            .restore_state();
    }

    /// The QR code as filled squares (runs of dark modules merged), with a 4-module margin.
    fn qr(&mut self, x: f32, y_top: f32, size: f32, payload: &str) -> Result<(), RenderError> {
        let (width, dark) = qr_matrix(payload)?;
        let modules = width + 8;
        let m = size / modules as f32;
        let page = self.page();
        page.save_state().set_fill_gray(0.0);
        for row in 0..width {
            let mut col = 0;
            while col < width {
                if dark[row * width + col] {
                    let start = col;
                    while col < width && dark[row * width + col] {
                        col += 1;
                    }
                    let rx = x + (start as f32 + 4.0) * m;
                    let ry = y_top - (row as f32 + 5.0) * m;
                    page.rect(rx, ry, (col - start) as f32 * m, m);
                } else {
                    col += 1;
                }
            }
        }
        page.fill_nonzero().restore_state();
        Ok(())
    }

    /// Writes the PDF: fonts, pages with footers and page numbers.
    fn finish(mut self, title: &str, lang: Language) -> Vec<u8> {
        let total = self.pages.len();
        let footer = std::mem::take(&mut self.footer);
        for i in 0..total {
            self.current = i;
            let mut fy = 14.0 * MM;
            for line in &footer {
                self.text(PAGE_W / 2.0, fy, line, Face::Regular, 7.0, Align::Center);
                fy -= 9.0;
            }
            if total > 1 {
                let label = match lang {
                    Language::Fr => format!("Page {}/{}", i + 1, total),
                    Language::En => format!("Page {} of {}", i + 1, total),
                };
                self.text(RIGHT, 8.0 * MM, &label, Face::Regular, 8.0, Align::Right);
            }
        }
        let pages = std::mem::take(&mut self.pages);
        write_pdf(pages, self.regular, self.bold, self.logo.as_ref(), title)
    }
}

fn write_font(pdf: &mut Pdf, font: &SubsetFont, first: i32) {
    let type0 = Ref::new(first);
    let cid = Ref::new(first + 1);
    let descriptor = Ref::new(first + 2);
    let file = Ref::new(first + 3);
    let cmap = Ref::new(first + 4);
    let name = Name(font.base_font.as_bytes());
    pdf.type0_font(type0)
        .base_font(name)
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid)
        .to_unicode(cmap);
    let mut c = pdf.cid_font(cid);
    c.subtype(CidFontType::Type2)
        .base_font(name)
        .system_info(SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        })
        .font_descriptor(descriptor)
        .default_width(0.0)
        .cid_to_gid_map_predefined(Name(b"Identity"));
    c.widths().consecutive(0, font.widths.iter().copied());
    c.finish();
    pdf.font_descriptor(descriptor)
        .name(name)
        .flags(FontFlags::NON_SYMBOLIC)
        .bbox(Rect::new(
            font.bbox[0],
            font.bbox[1],
            font.bbox[2],
            font.bbox[3],
        ))
        .italic_angle(0.0)
        .ascent(font.ascent)
        .descent(font.descent)
        .cap_height(font.cap_height)
        .stem_v(80.0)
        .font_file2(file);
    pdf.stream(file, &font.program_deflated)
        .filter(Filter::FlateDecode)
        .pair(Name(b"Length1"), font.program_len as i32);
    pdf.stream(cmap, &font.to_unicode);
}

fn write_pdf(
    pages: Vec<Content>,
    regular: &SubsetFont,
    bold: &SubsetFont,
    logo: Option<&LogoImage>,
    title: &str,
) -> Vec<u8> {
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let info = Ref::new(3);
    write_font(&mut pdf, regular, 10);
    write_font(&mut pdf, bold, 20);
    let logo_id = Ref::new(5);
    if let Some(img) = logo {
        let mut image = pdf.image_xobject(logo_id, &img.data);
        image.filter(if img.flate {
            Filter::FlateDecode
        } else {
            Filter::DctDecode
        });
        image
            .width(i32::from(img.width))
            .height(i32::from(img.height))
            .bits_per_component(8)
            .color_space_name(Name(match img.components {
                1 => b"DeviceGray".as_slice(),
                4 => b"DeviceCMYK".as_slice(),
                _ => b"DeviceRGB".as_slice(),
            }));
        image.finish();
    }
    let mut next = 30;
    let mut page_ids = Vec::with_capacity(pages.len());
    for content in pages {
        let page_id = Ref::new(next);
        let content_id = Ref::new(next + 1);
        next += 2;
        page_ids.push(page_id);
        let raw = content.finish();
        let packed = miniz_oxide::deflate::compress_to_vec_zlib(&raw, 1);
        pdf.stream(content_id, &packed).filter(Filter::FlateDecode);
        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H))
            .parent(tree)
            .contents(content_id);
        let mut resources = page.resources();
        resources
            .fonts()
            .pair(Name(b"F1"), Ref::new(10))
            .pair(Name(b"F2"), Ref::new(20));
        if logo.is_some() {
            resources.x_objects().pair(Name(b"Im1"), logo_id);
        }
        resources.finish();
        page.finish();
    }
    let count = page_ids.len() as i32;
    pdf.pages(tree).kids(page_ids).count(count);
    pdf.catalog(catalog).pages(tree);
    pdf.document_info(info)
        .title(TextStr(title))
        .producer(TextStr("relance"));
    pdf.finish()
}

/// Labels of the fixed parts of a letter.
struct Labels {
    subject: &'static str,
    customer: &'static str,
    reference: &'static str,
    columns: [&'static str; 6],
    total: &'static str,
    penalties: &'static str,
    interest: &'static str,
    indemnity: &'static str,
    total_due: &'static str,
    pay_title: &'static str,
    amount: &'static str,
    scan: &'static str,
    online: &'static str,
    registered_ar: &'static str,
    registered: &'static str,
    date_prefix: &'static str,
}

fn labels(lang: Language) -> Labels {
    match lang {
        Language::Fr => Labels {
            subject: "Objet : ",
            customer: "Code client : ",
            reference: "Référence de paiement : ",
            columns: [
                "Facture",
                "Date",
                "Échéance",
                "Montant TTC",
                "Réglé",
                "Reste dû",
            ],
            total: "Total",
            penalties: "Pénalités de retard (art. L441-10 C. com.)",
            interest: "Intérêts au taux légal (art. 1231-6 C. civ.)",
            indemnity: "Indemnité forfaitaire de recouvrement (art. D441-5 C. com.)",
            total_due: "Total dû",
            pay_title: "Règlement par virement",
            amount: "Montant : ",
            scan: "Scannez avec votre application bancaire",
            online: "En ligne : ",
            registered_ar: "Lettre recommandée avec accusé de réception",
            registered: "Lettre recommandée",
            date_prefix: ", le ",
        },
        Language::En => Labels {
            subject: "Subject: ",
            customer: "Customer code: ",
            reference: "Payment reference: ",
            columns: ["Invoice", "Date", "Due", "Amount", "Paid", "Outstanding"],
            total: "Total",
            penalties: "Late-payment penalties (art. L441-10 Code de commerce)",
            interest: "Interest at the legal rate (art. 1231-6 Civil Code)",
            indemnity: "Fixed recovery indemnity (art. D441-5 Code de commerce)",
            total_due: "Total due",
            pay_title: "Payment by bank transfer",
            amount: "Amount: ",
            scan: "Scan with your banking app",
            online: "Online: ",
            registered_ar: "Registered letter with acknowledgement of receipt",
            registered: "Registered letter",
            date_prefix: ", ",
        },
    }
}

fn legal_footer(c: &CreditorInfo) -> Vec<String> {
    let mut parts = vec![c.name.clone()];
    parts.extend(c.address_lines.iter().cloned());
    let mut second = Vec::new();
    if let Some(s) = &c.siren {
        second.push(format!("SIREN {s}"));
    }
    if let Some(r) = &c.rcs {
        second.push(r.clone());
    }
    if let Some(v) = &c.vat_number {
        second.push(format!("TVA {v}"));
    }
    vec![parts.join(" · "), second.join(" · ")]
        .into_iter()
        .filter(|l| !l.is_empty())
        .collect()
}

/// Letterhead (top left) and the debtor's address in the envelope window (top right).
fn head(
    l: &mut Layout,
    c: &CreditorInfo,
    d: &DebtorInfo,
    place: &str,
    date: NaiveDate,
) -> Result<(), RenderError> {
    let lang = d.language;
    let mut y = TOP;
    let mut x = LEFT;
    let logo = c
        .logo_jpeg
        .as_deref()
        .and_then(jpeg_info)
        .or_else(|| c.logo_png.as_deref().and_then(png_logo));
    if let Some(logo) = logo {
        // At most 16 mm high and 45 mm wide, top left; the letterhead text moves to its right.
        let mut h = 16.0 * MM;
        let mut w = h * f32::from(logo.width) / f32::from(logo.height);
        if w > 45.0 * MM {
            w = 45.0 * MM;
            h = w * f32::from(logo.height) / f32::from(logo.width);
        }
        l.page()
            .save_state()
            .transform([w, 0.0, 0.0, h, LEFT, y - h])
            .x_object(Name(b"Im1"))
            .restore_state();
        l.logo = Some(logo);
        x = LEFT + w + 4.0 * MM;
    }
    l.text(x, y - 12.0, &c.name, Face::Bold, 14.0, Align::Left);
    y -= 18.0;
    for line in &c.address_lines {
        y -= 10.0;
        l.text(x, y, line, Face::Regular, 8.5, Align::Left);
    }
    let mut ids = Vec::new();
    if let Some(s) = &c.siren {
        ids.push(format!("SIREN {}", group_siren(s)));
    }
    if let Some(r) = &c.rcs {
        ids.push(r.clone());
    }
    if let Some(v) = &c.vat_number {
        ids.push(match lang {
            Language::Fr => format!("TVA intracom. {v}"),
            Language::En => format!("VAT {v}"),
        });
    }
    if !ids.is_empty() {
        y -= 10.0;
        l.text(x, y, &ids.join(" · "), Face::Regular, 7.5, Align::Left);
    }
    let contact: Vec<&str> = [c.phone.as_deref(), c.email.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if !contact.is_empty() {
        y -= 10.0;
        l.text(x, y, &contact.join(" · "), Face::Regular, 7.5, Align::Left);
    }
    // Window of a DL envelope with the window on the right: 110 mm from the left, 50 mm from the top.
    let wx = 110.0 * MM;
    let mut wy = PAGE_H - 50.0 * MM - 10.0;
    l.text(wx, wy, &d.name, Face::Bold, 10.0, Align::Left);
    for line in d.address_lines.iter().take(5) {
        wy -= 12.0;
        l.text(wx, wy, line, Face::Regular, 10.0, Align::Left);
    }
    let lab = labels(lang);
    let when = format!(
        "{place}{}{}",
        if place.is_empty() {
            ""
        } else {
            lab.date_prefix
        },
        format::date_long(date, lang)
    );
    l.text(
        wx,
        PAGE_H - 93.0 * MM,
        &when,
        Face::Regular,
        9.5,
        Align::Left,
    );
    l.y = PAGE_H - 100.0 * MM;
    Ok(())
}

fn group_siren(s: &str) -> String {
    if s.len() == 9 && s.chars().all(|c| c.is_ascii_digit()) {
        format!("{} {} {}", &s[0..3], &s[3..6], &s[6..9])
    } else {
        s.to_string()
    }
}

/// A logo: a JPEG's bytes as they are (DCTDecode), or a PNG's pixels deflated (FlateDecode).
#[derive(Clone)]
struct LogoImage {
    data: Vec<u8>,
    width: u16,
    height: u16,
    components: u8,
    flate: bool,
}

/// A PNG logo, decoded and composited on white (see [`png`]).
fn png_logo(data: &[u8]) -> Option<LogoImage> {
    let pixels = png::decode(data)?;
    Some(LogoImage {
        data: miniz_oxide::deflate::compress_to_vec_zlib(&pixels.data, 6),
        width: pixels.width,
        height: pixels.height,
        components: pixels.colors,
        flate: true,
    })
}

/// Reads the frame header (SOF0–SOF2) of a JPEG: width, height, colour components.
fn jpeg_info(data: &[u8]) -> Option<LogoImage> {
    if data.get(0..2)? != [0xff, 0xd8] {
        return None;
    }
    let mut i = 2;
    while i + 9 < data.len() {
        if data[i] != 0xff {
            return None;
        }
        let marker = data[i + 1];
        if marker == 0xff {
            i += 1;
            continue;
        }
        let len = usize::from(u16::from_be_bytes([data[i + 2], data[i + 3]]));
        if (0xc0..=0xc2).contains(&marker) {
            let height = u16::from_be_bytes([data[i + 5], data[i + 6]]);
            let width = u16::from_be_bytes([data[i + 7], data[i + 8]]);
            let components = data[i + 9];
            if width == 0 || height == 0 || ![1, 3, 4].contains(&components) {
                return None;
            }
            return Some(LogoImage {
                data: data.to_vec(),
                width,
                height,
                components,
                flate: false,
            });
        }
        i += 2 + len;
    }
    None
}

const COLS: [f32; 6] = [0.0, 38.0, 62.0, 86.0, 118.0, 144.0];

fn table_header(l: &mut Layout, lab: &Labels) {
    l.ensure(2.0 * LEADING);
    l.y -= LEADING + 2.0;
    l.rect_fill(LEFT, l.y - 3.0, RIGHT - LEFT, LEADING, 0.9);
    for (i, title) in lab.columns.iter().enumerate() {
        if i >= 3 {
            let x = if i == 5 {
                RIGHT - 1.0 * MM
            } else {
                LEFT + COLS[i + 1] * MM - 3.0 * MM
            };
            l.text(x, l.y, title, Face::Bold, 8.5, Align::Right);
        } else {
            l.text(
                LEFT + COLS[i] * MM + 1.0 * MM,
                l.y,
                title,
                Face::Bold,
                8.5,
                Align::Left,
            );
        }
    }
}

fn money_row(l: &mut Layout, label: &str, value: &Money, lang: Language, face: Face) {
    l.ensure(LEADING);
    l.y -= LEADING;
    l.text(RIGHT - 32.0 * MM, l.y, label, face, 8.5, Align::Right);
    l.text(
        RIGHT - 1.0 * MM,
        l.y,
        &format::money(value, lang),
        face,
        8.5,
        Align::Right,
    );
}

fn invoice_table(l: &mut Layout, data: &LetterData) {
    let lang = data.language();
    let lab = labels(lang);
    table_header(l, &lab);
    for inv in &data.invoices {
        if l.ensure(LEADING) {
            table_header(l, &lab);
        }
        l.y -= LEADING;
        let y = l.y;
        let cells = [
            inv.number.clone(),
            format::date_short(inv.issue_date),
            format::date_short(inv.due_date),
            format::money(&inv.amount, lang),
            format::money(&inv.paid, lang),
            format::money(&inv.open, lang),
        ];
        for (i, cell) in cells.iter().enumerate() {
            if i >= 3 {
                let x = if i == 5 {
                    RIGHT - 1.0 * MM
                } else {
                    LEFT + COLS[i + 1] * MM - 3.0 * MM
                };
                l.text(x, y, cell, Face::Regular, 8.5, Align::Right);
            } else {
                l.text(
                    LEFT + COLS[i] * MM + 1.0 * MM,
                    y,
                    cell,
                    Face::Regular,
                    8.5,
                    Align::Left,
                );
            }
        }
        l.hline(LEFT, RIGHT, y - 3.5, 0.3);
    }
    let t = &data.totals;
    l.ensure(LEADING);
    l.y -= LEADING;
    let y = l.y;
    l.text(LEFT + 1.0 * MM, y, lab.total, Face::Bold, 8.5, Align::Left);
    l.text(
        LEFT + COLS[4] * MM - 3.0 * MM,
        y,
        &format::money(&t.amount, lang),
        Face::Bold,
        8.5,
        Align::Right,
    );
    l.text(
        LEFT + COLS[5] * MM - 3.0 * MM,
        y,
        &format::money(&t.paid, lang),
        Face::Bold,
        8.5,
        Align::Right,
    );
    l.text(
        RIGHT - 1.0 * MM,
        y,
        &format::money(&t.open, lang),
        Face::Bold,
        8.5,
        Align::Right,
    );
    if let Some(p) = &data.penalties {
        if !p.interest.is_zero() {
            let label = match data.debtor.kind {
                CustomerKind::Business => lab.penalties,
                CustomerKind::Consumer => lab.interest,
            };
            money_row(l, label, &p.interest, lang, Face::Regular);
        }
        if data.debtor.kind == CustomerKind::Business && !p.indemnity.is_zero() {
            money_row(l, lab.indemnity, &p.indemnity, lang, Face::Regular);
        }
        money_row(l, lab.total_due, &t.total_due, lang, Face::Bold);
    }
    l.y -= 4.0;
}

fn payment_block(l: &mut Layout, data: &LetterData) -> Result<(), RenderError> {
    let lang = data.language();
    let lab = labels(lang);
    let c = &data.creditor;
    let qr_size = 32.0 * MM;
    l.ensure(qr_size + 2.0 * LEADING);
    let top = l.y - 4.0;
    l.y = top;
    l.y -= LEADING;
    l.text(LEFT, l.y, lab.pay_title, Face::Bold, 10.0, Align::Left);
    let mut lines = Vec::new();
    if let Some(iban) = &c.iban {
        lines.push(format!("IBAN : {}", format::iban(iban)));
    }
    if let Some(bic) = &c.bic {
        lines.push(format!("BIC : {bic}"));
    }
    lines.push(format!("{}{}", lab.reference, data.payment_reference));
    lines.push(format!(
        "{}{}",
        lab.amount,
        format::money(&data.totals.total_due, lang)
    ));
    if let Some(url) = &data.portal_url {
        lines.push(format!("{}{url}", lab.online));
    }
    if lang == Language::En {
        for line in &mut lines {
            *line = line.replacen(" : ", ": ", 1);
        }
    }
    for line in &lines {
        l.y -= LEADING;
        l.text(LEFT, l.y, line, Face::Regular, 9.5, Align::Left);
    }
    if let Some(iban) = &c.iban {
        if data.totals.total_due.currency.code() == "EUR" && data.totals.total_due.is_positive() {
            let payload = epc_payload(&EpcTransfer {
                bic: c.bic.clone(),
                name: c.name.clone(),
                iban: iban.clone(),
                amount: data.totals.total_due,
                reference: data.payment_reference.clone(),
            })?;
            let x = RIGHT - qr_size;
            l.qr(x, top, qr_size, &payload)?;
            l.text(
                x + qr_size / 2.0,
                top - qr_size - 2.0,
                lab.scan,
                Face::Regular,
                6.5,
                Align::Center,
            );
            l.y = l.y.min(top - qr_size - 6.0);
        }
    }
    l.y -= 4.0;
    Ok(())
}

/// Lays out the body markup: each line is a paragraph (templates write one paragraph a line,
/// as in the text e-mail), a blank line adds space, `# titles`, `- bullets`, `[[invoices]]`,
/// `[[payment]]`.
fn body(l: &mut Layout, data: &LetterData, text: &str) -> Result<(bool, bool), RenderError> {
    let mut has_table = false;
    let mut has_payment = false;
    let mut gap = false;
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() {
            if !gap {
                l.y -= 5.0;
                gap = true;
            }
            continue;
        }
        gap = false;
        if t == "[[invoices]]" {
            invoice_table(l, data);
            has_table = true;
        } else if t == "[[payment]]" {
            payment_block(l, data)?;
            has_payment = true;
        } else if let Some(title) = t.strip_prefix("# ") {
            l.ensure(2.0 * LEADING);
            l.y -= LEADING + 4.0;
            l.text(PAGE_W / 2.0, l.y, title, Face::Bold, 14.0, Align::Center);
            l.y -= 8.0;
        } else if let Some(item) = t.strip_prefix("- ") {
            l.paragraph(item, Face::Regular, BODY_SIZE, 6.0 * MM, true);
            l.y -= 1.5;
        } else {
            l.paragraph(t, Face::Regular, BODY_SIZE, 0.0, false);
        }
    }
    Ok((has_table, has_payment))
}

/// Lays out a letter from its rendered subject and body (markup as produced by the letter template).
pub fn letter_pdf(
    data: &LetterData,
    subject: &str,
    body_text: &str,
) -> Result<Vec<u8>, RenderError> {
    if data.invoices.is_empty() {
        return Err(RenderError::Data(
            "a letter needs at least one invoice".into(),
        ));
    }
    let lang = data.language();
    let lab = labels(lang);
    let mut l = Layout::new(legal_footer(&data.creditor))?;
    head(&mut l, &data.creditor, &data.debtor, &data.place, data.date)?;
    let mention = match data.channel {
        Channel::RegisteredLetterAr => Some(lab.registered_ar),
        Channel::RegisteredLetter => Some(lab.registered),
        _ => None,
    };
    if let Some(m) = mention {
        l.y -= LEADING;
        l.text(LEFT, l.y, m, Face::Bold, 9.5, Align::Left);
    }
    let subject_line = format!("{}{subject}", lab.subject);
    l.paragraph(&subject_line, Face::Bold, 9.5, 0.0, false);
    l.y -= LEADING;
    l.text(
        LEFT,
        l.y,
        &format!(
            "{}{} · {}{}",
            lab.customer, data.debtor.customer_code, lab.reference, data.payment_reference
        ),
        Face::Regular,
        8.5,
        Align::Left,
    );
    l.y -= 10.0;
    let (has_table, has_payment) = body(&mut l, data, body_text)?;
    if !has_table {
        invoice_table(&mut l, data);
    }
    if !has_payment && data.step != crate::StepId::PhoneCall {
        payment_block(&mut l, data)?;
    }
    // Signature block, right half.
    let signatory_lines = data
        .creditor
        .signatory
        .as_deref()
        .map(|s| s.split(", ").count())
        .unwrap_or(0);
    l.ensure((signatory_lines as f32 + 1.5) * LEADING);
    l.y -= LEADING * 0.5;
    let x = 110.0 * MM;
    if let Some(s) = &data.creditor.signatory {
        for line in s.split(", ") {
            l.y -= LEADING;
            l.text(x, l.y, line, Face::Regular, 9.5, Align::Left);
        }
    }
    l.y -= LEADING;
    l.text(x, l.y, &data.creditor.name, Face::Bold, 9.5, Align::Left);
    Ok(l.finish(subject, lang))
}

/// A letter without invoices or payment block — a supplier letter (issue 9): our company's
/// letterhead, the addressee (a supplier) in the window, the registered mention for
/// `channel`, the subject, a reference line, the body markup (`# title`, `- item`, one
/// paragraph a line) and the signature.
#[allow(clippy::too_many_arguments)]
pub fn plain_letter_pdf(
    creditor: &CreditorInfo,
    addressee: &DebtorInfo,
    place: &str,
    date: NaiveDate,
    channel: Channel,
    subject: &str,
    reference_line: &str,
    body_text: &str,
) -> Result<Vec<u8>, RenderError> {
    let lang = addressee.language;
    let lab = labels(lang);
    let mut l = Layout::new(legal_footer(creditor))?;
    head(&mut l, creditor, addressee, place, date)?;
    let mention = match channel {
        Channel::RegisteredLetterAr => Some(lab.registered_ar),
        Channel::RegisteredLetter => Some(lab.registered),
        _ => None,
    };
    if let Some(m) = mention {
        l.y -= LEADING;
        l.text(LEFT, l.y, m, Face::Bold, 9.5, Align::Left);
    }
    l.paragraph(
        &format!("{}{subject}", lab.subject),
        Face::Bold,
        9.5,
        0.0,
        false,
    );
    if !reference_line.is_empty() {
        l.y -= LEADING;
        l.text(LEFT, l.y, reference_line, Face::Regular, 8.5, Align::Left);
    }
    l.y -= 10.0;
    let mut gap = false;
    for line in body_text.lines() {
        let t = line.trim();
        if t.is_empty() {
            if !gap {
                l.y -= 5.0;
                gap = true;
            }
            continue;
        }
        gap = false;
        if let Some(title) = t.strip_prefix("# ") {
            l.ensure(2.0 * LEADING);
            l.y -= LEADING + 4.0;
            l.text(PAGE_W / 2.0, l.y, title, Face::Bold, 14.0, Align::Center);
            l.y -= 8.0;
        } else if let Some(item) = t.strip_prefix("- ") {
            l.paragraph(item, Face::Regular, BODY_SIZE, 6.0 * MM, true);
            l.y -= 1.5;
        } else {
            l.paragraph(t, Face::Regular, BODY_SIZE, 0.0, false);
        }
    }
    let signatory_lines = creditor
        .signatory
        .as_deref()
        .map(|s| s.split(", ").count())
        .unwrap_or(0);
    l.ensure((signatory_lines as f32 + 1.5) * LEADING);
    l.y -= LEADING * 0.5;
    let x = 110.0 * MM;
    if let Some(s) = &creditor.signatory {
        for line in s.split(", ") {
            l.y -= LEADING;
            l.text(x, l.y, line, Face::Regular, 9.5, Align::Left);
        }
    }
    l.y -= LEADING;
    l.text(x, l.y, &creditor.name, Face::Bold, 9.5, Align::Left);
    Ok(l.finish(subject, lang))
}

/// Renders the letter of the data's step: subject and body from the templates, then the PDF.
pub fn render_letter_pdf(data: &LetterData, templates: &Templates) -> Result<Vec<u8>, RenderError> {
    let subject = templates.render(Part::Subject, data)?;
    let body_text = templates.render(Part::Letter, data)?;
    letter_pdf(data, &subject, &body_text)
}

/// One line of a statement of account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatementLine {
    pub date: NaiveDate,
    /// Invoice, credit note or payment number.
    pub reference: String,
    /// "Facture", "Avoir", "Règlement"…
    pub label: String,
    pub due_date: Option<NaiveDate>,
    pub debit: Option<Money>,
    pub credit: Option<Money>,
}

/// A customer's statement of account (relevé de compte).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatementData {
    pub creditor: CreditorInfo,
    pub debtor: DebtorInfo,
    pub place: String,
    pub date: NaiveDate,
    pub lines: Vec<StatementLine>,
    pub payment_reference: String,
}

/// The statement of account PDF: every line with a running balance, the balance due, how to pay.
pub fn render_statement_pdf(s: &StatementData) -> Result<Vec<u8>, RenderError> {
    let lang = s.debtor.language;
    let first = s
        .lines
        .iter()
        .find_map(|l| l.debit.or(l.credit))
        .map(|m| m.currency)
        .unwrap_or(relance_core::Currency::EUR);
    let mut l = Layout::new(legal_footer(&s.creditor))?;
    head(&mut l, &s.creditor, &s.debtor, &s.place, s.date)?;
    let (title, cols, balance_label): (String, [&str; 7], &str) = match lang {
        Language::Fr => (
            format!("RELEVÉ DE COMPTE au {}", format::date_long(s.date, lang)),
            [
                "Date",
                "Pièce",
                "Libellé",
                "Échéance",
                "Débit",
                "Crédit",
                "Solde",
            ],
            "Solde dû",
        ),
        Language::En => (
            format!(
                "STATEMENT OF ACCOUNT at {}",
                format::date_long(s.date, lang)
            ),
            [
                "Date",
                "Document",
                "Description",
                "Due",
                "Debit",
                "Credit",
                "Balance",
            ],
            "Balance due",
        ),
    };
    l.y -= LEADING + 6.0;
    l.text(PAGE_W / 2.0, l.y, &title, Face::Bold, 13.0, Align::Center);
    l.y -= 6.0;
    let lab = labels(lang);
    l.y -= LEADING;
    l.text(
        LEFT,
        l.y,
        &format!("{}{}", lab.customer, s.debtor.customer_code),
        Face::Regular,
        8.5,
        Align::Left,
    );
    let xs = [0.0, 22.0, 52.0, 96.0, 128.0, 150.0, 170.0];
    let header = |l: &mut Layout| {
        l.ensure(2.0 * LEADING);
        l.y -= LEADING + 2.0;
        l.rect_fill(LEFT, l.y - 3.0, RIGHT - LEFT, LEADING, 0.9);
        for (i, c) in cols.iter().enumerate() {
            if i >= 4 {
                l.text(LEFT + xs[i] * MM, l.y, c, Face::Bold, 8.0, Align::Right);
            } else {
                l.text(
                    LEFT + xs[i] * MM + 1.0 * MM,
                    l.y,
                    c,
                    Face::Bold,
                    8.0,
                    Align::Left,
                );
            }
        }
    };
    header(&mut l);
    let mut balance = Money::zero(first);
    for line in &s.lines {
        if l.ensure(LEADING) {
            header(&mut l);
        }
        if let Some(d) = line.debit {
            balance = balance
                .checked_add(d)
                .map_err(|e| RenderError::Data(e.to_string()))?;
        }
        if let Some(c) = line.credit {
            balance = balance
                .checked_sub(c)
                .map_err(|e| RenderError::Data(e.to_string()))?;
        }
        l.y -= LEADING;
        let y = l.y;
        l.text(
            LEFT + 1.0 * MM,
            y,
            &format::date_short(line.date),
            Face::Regular,
            8.0,
            Align::Left,
        );
        l.text(
            LEFT + xs[1] * MM + 1.0 * MM,
            y,
            &line.reference,
            Face::Regular,
            8.0,
            Align::Left,
        );
        l.text(
            LEFT + xs[2] * MM + 1.0 * MM,
            y,
            &line.label,
            Face::Regular,
            8.0,
            Align::Left,
        );
        if let Some(d) = line.due_date {
            l.text(
                LEFT + xs[3] * MM + 1.0 * MM,
                y,
                &format::date_short(d),
                Face::Regular,
                8.0,
                Align::Left,
            );
        }
        if let Some(d) = &line.debit {
            l.text(
                LEFT + xs[4] * MM,
                y,
                &format::money(d, lang),
                Face::Regular,
                8.0,
                Align::Right,
            );
        }
        if let Some(c) = &line.credit {
            l.text(
                LEFT + xs[5] * MM,
                y,
                &format::money(c, lang),
                Face::Regular,
                8.0,
                Align::Right,
            );
        }
        l.text(
            LEFT + xs[6] * MM,
            y,
            &format::money(&balance, lang),
            Face::Regular,
            8.0,
            Align::Right,
        );
        l.hline(LEFT, RIGHT, y - 3.5, 0.3);
    }
    l.ensure(2.0 * LEADING);
    l.y -= LEADING + 2.0;
    l.text(
        LEFT + xs[5] * MM,
        l.y,
        balance_label,
        Face::Bold,
        9.0,
        Align::Right,
    );
    l.text(
        LEFT + xs[6] * MM,
        l.y,
        &format::money(&balance, lang),
        Face::Bold,
        9.0,
        Align::Right,
    );
    l.y -= 6.0;
    if let Some(iban) = &s.creditor.iban {
        l.ensure(3.0 * LEADING);
        l.y -= LEADING;
        l.text(LEFT, l.y, lab.pay_title, Face::Bold, 9.5, Align::Left);
        l.y -= LEADING;
        let mut line = format!("IBAN {}", format::iban(iban));
        if let Some(bic) = &s.creditor.bic {
            line.push_str(&format!(" · BIC {bic}"));
        }
        line.push_str(&format!(" · {}{}", lab.reference, s.payment_reference));
        l.paragraph(&line, Face::Regular, 9.0, 0.0, false);
    }
    Ok(l.finish(&title, lang))
}
