//! PDF letters read back with a real extractor: every mandatory mention and amount is there.

mod common;

use common::pdf_text;
use relance_core::party::{CustomerKind, Language};
use relance_render::{
    render_letter_pdf, render_statement_pdf, LetterData, StatementData, StatementLine, StepId,
    Templates,
};

fn letter(step: StepId, kind: CustomerKind, lang: Language) -> (Vec<u8>, LetterData) {
    let templates = Templates::new().expect("templates");
    let data = LetterData::sample(step, kind, lang);
    let pdf = render_letter_pdf(&data, &templates).expect("pdf");
    assert!(pdf.starts_with(b"%PDF-"));
    (pdf, data)
}

fn assert_all(text: &str, wanted: &[&str]) {
    let missing: Vec<&&str> = wanted.iter().filter(|w| !text.contains(**w)).collect();
    assert!(missing.is_empty(), "missing {missing:?} in:\n{text}");
}

#[test]
fn business_formal_notice_carries_every_mandatory_mention() {
    let (pdf, _) = letter(StepId::FormalNotice, CustomerKind::Business, Language::Fr);
    std::fs::write("/tmp/relance-render-formal-b2b.pdf", &pdf).ok();
    let Some(text) = pdf_text(&pdf) else { return };
    assert_all(
        &text,
        &[
            "MISE EN DEMEURE",
            "Lettre recommandée avec accusé de réception",
            "Atelier Cézanne SAS",
            "SIREN 732 829 320",
            "RCS Lyon 732 829 320",
            "FR44732829320",
            "Boulangerie Dupré SARL",
            "12 rue de la République",
            "Lyon, le 1er avril 2026",
            // Earlier reminders and the call, with their dates.
            "courriel du 16 février 2026",
            "appel téléphonique du 20 février 2026",
            "lettre recommandée du 24 février 2026",
            "absence de règlement malgré nos relances",
            // Each invoice, with its dates and amounts.
            "F-2026-0042",
            "15/01/2026",
            "14/02/2026",
            "1 234,56 €",
            "F-2026-0057",
            "600,00 €",
            "200,00 €",
            "400,00 €",
            // Principal, penalties, indemnity, total.
            "1 634,56 €",
            "32,17 €",
            "80,00 €",
            "1 746,73 €",
            "12,15 %",
            // Deadline and legal basis.
            "16 avril 2026",
            "16/04/2026",
            "L441-10",
            "D441-5",
            "1344 du Code civil",
            "40 € par facture",
            // What follows.
            "injonction de payer",
            "tribunal de commerce",
            "commissaire de justice",
            // How to pay.
            "FR76 3000 6000 0112 3456 7890 189",
            "AGRIFRPP",
            "C001-F20260042",
            "Claire Martin",
        ],
    );
    assert!(!text.contains("1ère relance") && !text.contains("1re relance"));
}

#[test]
fn consumer_formal_notice_has_legal_interest_and_no_indemnity() {
    let (pdf, _) = letter(StepId::FormalNotice, CustomerKind::Consumer, Language::Fr);
    std::fs::write("/tmp/relance-render-formal-b2c.pdf", &pdf).ok();
    let Some(text) = pdf_text(&pdf) else { return };
    assert_all(
        &text,
        &[
            "MISE EN DEMEURE",
            "Lettre recommandée avec accusé de réception",
            "Mme Hélène Lefèvre",
            "8 allée des Érables",
            "1231-6",
            "1344",
            "1 634,56 €",
            "16 avril 2026",
            "injonction de payer",
            "tribunal judiciaire",
            "commissaire de justice",
            "courriel du 16 février 2026",
        ],
    );
    for forbidden in ["D441-5", "40 €", "Indemnité forfaitaire", "L441-10"] {
        assert!(
            !text.contains(forbidden),
            "{forbidden:?} in a consumer letter:\n{text}"
        );
    }
}

#[test]
fn every_step_and_language_renders_a_readable_pdf() {
    for step in StepId::ALL {
        for kind in [CustomerKind::Business, CustomerKind::Consumer] {
            for lang in [Language::Fr, Language::En] {
                let (pdf, data) = letter(step, kind, lang);
                let Some(text) = pdf_text(&pdf) else { return };
                assert!(text.contains("F-2026-0057"), "{step:?} {lang:?}:\n{text}");
                assert!(text.contains(&data.debtor.name), "{step:?} {lang:?}");
                let euro = if lang == Language::Fr {
                    "1 634,56 €"
                } else {
                    "€1,634.56"
                };
                assert!(text.contains(euro), "{step:?} {lang:?}:\n{text}");
                assert!(!text.contains("[["), "placeholder left in {step:?}");
            }
        }
    }
}

#[test]
fn long_letters_break_pages_and_number_them() {
    let templates = Templates::new().expect("templates");
    let mut data = LetterData::sample(StepId::SecondReminder, CustomerKind::Business, Language::Fr);
    let first = data.invoices[0].clone();
    data.invoices = (0..70)
        .map(|i| relance_render::InvoiceLine {
            number: format!("F-2026-{i:04}"),
            ..first.clone()
        })
        .collect();
    data.totals =
        LetterData::compute_totals(&data.invoices, data.penalties.as_ref()).expect("totals");
    let pdf = render_letter_pdf(&data, &templates).expect("pdf");
    let Some(text) = pdf_text(&pdf) else { return };
    assert!(text.contains("Page 1/"), "{text}");
    assert!(text.contains("Page 2/"), "{text}");
    assert!(text.contains("F-2026-0069"));
    assert!(text.contains("86 419,20 €"), "{text}");
}

#[test]
fn statement_of_account_lists_lines_and_balance() {
    let data = LetterData::sample(StepId::FirstReminder, CustomerKind::Business, Language::Fr);
    let d = |m, day| chrono::NaiveDate::from_ymd_opt(2026, m, day).expect("date");
    let eur = |c| relance_core::Money::from_minor(c, relance_core::Currency::EUR);
    let s = StatementData {
        creditor: data.creditor.clone(),
        debtor: data.debtor.clone(),
        place: "Lyon".into(),
        date: d(4, 1),
        lines: vec![
            StatementLine {
                date: d(1, 15),
                reference: "F-2026-0042".into(),
                label: "Facture".into(),
                due_date: Some(d(2, 14)),
                debit: Some(eur(123_456)),
                credit: None,
            },
            StatementLine {
                date: d(2, 2),
                reference: "AV-2026-0003".into(),
                label: "Avoir".into(),
                due_date: None,
                debit: None,
                credit: Some(eur(10_000)),
            },
        ],
        payment_reference: "C001".into(),
    };
    let pdf = render_statement_pdf(&s).expect("statement");
    let Some(text) = pdf_text(&pdf) else { return };
    assert_all(
        &text,
        &[
            "RELEVÉ DE COMPTE",
            "F-2026-0042",
            "AV-2026-0003",
            "1 134,56 €",
            "Solde dû",
            "Boulangerie Dupré SARL",
        ],
    );
}

#[test]
fn debtor_address_sits_in_the_window_of_a_dl_envelope() {
    let (pdf, _) = letter(StepId::FirstReminder, CustomerKind::Business, Language::Fr);
    let Some(name) = common::word_positions_mm(&pdf, "Boulangerie") else {
        return;
    };
    let (x, y) = name[0];
    assert!(
        (100.0..=112.0).contains(&x),
        "address starts {x} mm from the left"
    );
    assert!(
        (45.0..=55.0).contains(&y),
        "address starts {y} mm from the top"
    );
    let Some(city) = common::word_positions_mm(&pdf, "69002") else {
        return;
    };
    // The postcode line of the debtor (the creditor's is in the letterhead, on the left) still
    // inside the window, which ends about 90 mm from the top.
    let (cx, cy) = city
        .into_iter()
        .find(|(cx, _)| *cx > 100.0)
        .expect("debtor postcode in the window");
    assert!((cx - x).abs() < 0.5, "address lines aligned: {cx} vs {x}");
    assert!(cy > y && cy < 85.0, "last line at {cy} mm");
}

#[test]
fn the_qr_code_decodes_to_the_epc_payload_of_the_amount_due() {
    let (pdf, data) = letter(StepId::FormalNotice, CustomerKind::Business, Language::Fr);
    let Some(decoded) = common::decode_qr(&pdf) else {
        return;
    };
    let expected = relance_render::epc_payload(&relance_render::EpcTransfer {
        bic: data.creditor.bic.clone(),
        name: data.creditor.name.clone(),
        iban: data.creditor.iban.clone().expect("iban"),
        amount: data.totals.total_due,
        reference: data.payment_reference.clone(),
    })
    .expect("payload");
    assert!(decoded.starts_with(&expected), "decoded {decoded:?}");
    assert!(decoded.contains("EUR1746.73"));
    assert!(decoded.contains("Atelier Cézanne SAS"));
}

#[test]
fn a_jpeg_logo_is_embedded_in_the_letterhead() {
    let templates = Templates::new().expect("templates");
    let mut data = LetterData::sample(StepId::FirstReminder, CustomerKind::Business, Language::Fr);
    data.creditor.logo_jpeg = Some(include_bytes!("fixtures/logo.jpg").to_vec());
    let pdf = render_letter_pdf(&data, &templates).expect("pdf");
    let path = common::temp_file("logo.pdf", &pdf);
    let out = match std::process::Command::new("pdfimages")
        .arg("-list")
        .arg(&path)
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "pdfimages: {e}");
            return;
        }
    };
    if let Some(dir) = path.parent() {
        std::fs::remove_dir_all(dir).ok();
    }
    let list = String::from_utf8_lossy(&out.stdout);
    let images: Vec<&str> = list.lines().skip(2).collect();
    assert_eq!(images.len(), 1, "{list}");
    assert!(
        images[0].contains("240") && images[0].contains("120"),
        "{list}"
    );
    assert!(images[0].contains("jpeg"), "{list}");
    // The letterhead text moved right of the logo but is still there.
    let Some(text) = pdf_text(&pdf) else { return };
    assert!(text.contains("Atelier Cézanne SAS"));
    // Not a JPEG: ignored, the letter still renders.
    data.creditor.logo_jpeg = Some(b"not a jpeg".to_vec());
    assert!(render_letter_pdf(&data, &templates).is_ok());
}

/// A 3×2 RGBA PNG (filter "Sub" on each row), chunks without their CRC (not checked).
fn tiny_png() -> Vec<u8> {
    let chunk = |kind: &[u8], body: &[u8]| {
        let mut c = (body.len() as u32).to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(body);
        c.extend_from_slice(&[0, 0, 0, 0]);
        c
    };
    let mut ihdr = 3u32.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&2u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let row = [1u8, 200, 10, 10, 255, 0, 0, 0, 0, 0, 0, 0, 0];
    let rows: Vec<u8> = row.iter().chain(row.iter()).copied().collect();
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &ihdr));
    png.extend(chunk(
        b"IDAT",
        &miniz_oxide::deflate::compress_to_vec_zlib(&rows, 6),
    ));
    png.extend(chunk(b"IEND", &[]));
    png
}

#[test]
fn a_png_logo_is_embedded_in_the_letterhead() {
    let templates = Templates::new().expect("templates");
    let mut data = LetterData::sample(StepId::FirstReminder, CustomerKind::Business, Language::Fr);
    data.creditor.logo_png = Some(tiny_png());
    let pdf = render_letter_pdf(&data, &templates).expect("pdf");
    let without = {
        let mut d = data.clone();
        d.creditor.logo_png = None;
        render_letter_pdf(&d, &templates).expect("pdf")
    };
    let text = String::from_utf8_lossy(&pdf);
    assert!(text.contains("/Im1"), "the page uses the logo");
    assert!(!String::from_utf8_lossy(&without).contains("/Im1"));
    let path = common::temp_file("png-logo.pdf", &pdf);
    let out = match std::process::Command::new("pdfimages")
        .arg("-list")
        .arg(&path)
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "pdfimages: {e}");
            return;
        }
    };
    if let Some(dir) = path.parent() {
        std::fs::remove_dir_all(dir).ok();
    }
    let list = String::from_utf8_lossy(&out.stdout);
    let images: Vec<&str> = list.lines().skip(2).collect();
    assert_eq!(images.len(), 1, "{list}");
    let columns: Vec<&str> = images[0].split_whitespace().collect();
    // page num type width height color comp bpc enc
    assert_eq!(
        &columns[3..9],
        ["3", "2", "rgb", "3", "8", "image"],
        "{list}"
    );
}

/// Writes every step's letter to `$TMPDIR/relance-render-samples/` for a person to look at:
/// `cargo test -p relance-render --test pdf -- --ignored write_samples`.
#[test]
#[ignore]
fn write_samples() {
    let dir = std::env::temp_dir().join("relance-render-samples");
    std::fs::create_dir_all(&dir).expect("dir");
    for step in StepId::ALL {
        for kind in [CustomerKind::Business, CustomerKind::Consumer] {
            for lang in [Language::Fr, Language::En] {
                let (pdf, _) = letter(step, kind, lang);
                let name = format!("{}-{}-{}.pdf", step.as_str(), kind.as_str(), lang.as_str());
                std::fs::write(dir.join(name), pdf).expect("write");
            }
        }
    }
}

#[test]
fn the_print_batch_copies_each_letters_pages_after_a_cover_list_and_refuses_a_foreign_pdf() {
    use relance_core::planner::policy::Channel;
    use relance_render::{render_print_batch, BatchCover, BatchLetter};
    let (plain, _) = letter(StepId::FirstReminder, CustomerKind::Business, Language::Fr);
    // A letter with a logo: its image must follow its pages into the batch.
    let templates = Templates::new().expect("templates");
    let mut data = LetterData::sample(StepId::FormalNotice, CustomerKind::Business, Language::Fr);
    data.creditor.logo_jpeg = Some(include_bytes!("fixtures/logo.jpg").to_vec());
    let with_logo = render_letter_pdf(&data, &templates).expect("pdf");
    let letters = vec![
        BatchLetter {
            reference: 7,
            addressee: "Boulangerie Dupré SARL".into(),
            postcode: Some("69002".into()),
            channel: Channel::RegisteredLetterAr,
            pdf: with_logo.clone(),
        },
        BatchLetter {
            reference: 9,
            addressee: "Un nom de client bien trop long pour tenir dans la colonne du bordereau"
                .into(),
            postcode: None,
            channel: Channel::Letter,
            pdf: plain.clone(),
        },
    ];
    let cover = BatchCover {
        creditor: "Atelier Cézanne SAS".into(),
        day: chrono::NaiveDate::from_ymd_opt(2026, 3, 11).expect("date"),
        language: Language::Fr,
    };
    let batch = render_print_batch(&cover, &letters).expect("batch");
    assert_eq!(batch.cover_pages, 1);
    assert!(batch.pages.iter().all(|p| *p >= 1), "{:?}", batch.pages);
    let path = common::temp_file("batch.pdf", &batch.pdf);
    if let Ok(out) = std::process::Command::new("pdfinfo").arg(&path).output() {
        let info = String::from_utf8_lossy(&out.stdout);
        let pages: usize = info
            .lines()
            .find_map(|l| l.strip_prefix("Pages:"))
            .and_then(|n| n.trim().parse().ok())
            .expect("page count");
        assert_eq!(pages, 1 + batch.pages.iter().sum::<usize>(), "{info}");
        let images = std::process::Command::new("pdfimages")
            .args(["-list", &path.display().to_string()])
            .output()
            .expect("pdfimages");
        let listed = String::from_utf8_lossy(&images.stdout);
        // Header (2 lines), then the logo drawn once: in the letterhead of the first letter,
        // page 2 of the batch (the cover has no image, nor has the second letter).
        let rows: Vec<&str> = listed.lines().skip(2).collect();
        assert_eq!(rows.len(), 1, "{listed}");
        assert_eq!(rows[0].split_whitespace().next(), Some("2"), "{listed}");
    }
    if let Some(text) = pdf_text(&batch.pdf) {
        assert_all(
            &text,
            &[
                "LOT D'IMPRESSION DU 11/03/2026",
                "2 courriers",
                "recommandé AR",
                "lettre simple",
                "Un nom de client bien trop long",
                "…",
                "MISE EN DEMEURE",
                "Boulangerie Dupré SARL",
            ],
        );
        let notice = text.find("MISE EN DEMEURE").expect("formal notice");
        let cover_end = text.find("lettre simple").expect("cover");
        assert!(cover_end < notice, "the cover comes first");
    }
    // Not a PDF of ours: refused, naming the letter.
    let mut foreign = letters;
    foreign[1].pdf = b"%PDF-1.4\n1 0 obj\n<< >>\nendobj\ntrailer\n<< >>\n%%EOF".to_vec();
    let err = render_print_batch(&cover, &foreign).expect_err("foreign PDF");
    assert!(err.to_string().contains("letter 9"), "{err}");
}
