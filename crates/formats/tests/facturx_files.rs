//! Factur-X / ZUGFeRD PDFs. No Factur-X sample ships in ../shared/data, so each test builds a
//! PDF/A-3 style file with pdf-writer that embeds an official EN 16931 CII example
//! (tests/data/en16931) the way Factur-X 1.0 asks: an embedded file stream, a file
//! specification with /AFRelationship, the catalog's /EmbeddedFiles name tree and /AF.

use std::path::Path;

use pdf_writer::{Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use relance_formats::{
    detect_invoice_syntax, extract_embedded_invoice, read_invoice_pdf, read_invoice_xml,
    InvoiceRow, InvoiceSyntax,
};

fn example(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/en16931")
            .join(name),
    )
    .expect("example")
}

/// A one-page PDF carrying `files` (name, bytes), each deflated when `compress`.
fn pdf(files: &[(&str, &[u8])], compress: bool) -> Vec<u8> {
    let catalog_id = Ref::new(1);
    let pages_id = Ref::new(2);
    let page_id = Ref::new(3);
    let mut pdf = Pdf::new();
    let mut next = 10;
    let mut specs = Vec::new();
    for (name, bytes) in files {
        let file_id = Ref::new(next);
        let spec_id = Ref::new(next + 1);
        next += 2;
        let data = if compress {
            miniz_oxide::deflate::compress_to_vec_zlib(bytes, 6)
        } else {
            bytes.to_vec()
        };
        let mut file = pdf.embedded_file(file_id, &data);
        file.subtype(Name(b"text/xml"));
        if compress {
            file.filter(Filter::FlateDecode);
        }
        file.finish();
        let mut spec = pdf.file_spec(spec_id);
        spec.path(Str(name.as_bytes()))
            .unic_file(TextStr(name))
            .embedded_file(file_id)
            .association_kind(pdf_writer::types::AssociationKind::Data);
        spec.finish();
        specs.push((*name, spec_id));
    }
    {
        let mut catalog = pdf.catalog(catalog_id);
        catalog.pages(pages_id);
        if !specs.is_empty() {
            let mut names = catalog.names();
            let mut tree = names.embedded_files();
            let mut entries = tree.names();
            let mut sorted = specs.clone();
            sorted.sort();
            for (name, id) in &sorted {
                entries.insert(Str(name.as_bytes()), *id);
            }
            entries.finish();
            tree.finish();
            names.finish();
            catalog
                .insert(Name(b"AF"))
                .array()
                .items(specs.iter().map(|(_, id)| *id));
        }
    }
    pdf.pages(pages_id).kids([page_id]).count(1);
    pdf.page(page_id)
        .parent(pages_id)
        .media_box(Rect::new(0.0, 0.0, 595.0, 842.0));
    pdf.finish()
}

fn rows_of_xml(name: &str) -> Vec<InvoiceRow> {
    let mut rows = Vec::new();
    let report = read_invoice_xml(name, &example(name), &mut |r| rows.push(r));
    assert!(!report.has_errors(), "{:?}", report.problems);
    rows
}

#[test]
fn the_embedded_cii_is_read_as_the_xml_file_itself() {
    for compress in [true, false] {
        let xml = example("CII_example1.xml");
        let bytes = pdf(&[("factur-x.xml", &xml)], compress);
        assert_eq!(detect_invoice_syntax(&bytes), InvoiceSyntax::Pdf);
        let found = extract_embedded_invoice(&bytes).expect("an invoice");
        assert_eq!(found.name.as_deref(), Some("factur-x.xml"));
        assert_eq!(found.xml, xml);
        let mut rows = Vec::new();
        let report = read_invoice_pdf("f.pdf", &bytes, &mut |r| rows.push(r));
        assert!(!report.has_errors(), "{:?}", report.problems);
        assert_eq!(rows, rows_of_xml("CII_example1.xml"));
        assert_eq!(rows[0].number, "12115118");
        assert_eq!(rows[0].total.amount.to_string(), "250.33");
    }
}

#[test]
fn the_invoice_is_chosen_among_other_attachments_by_its_name() {
    let other = example("CII_example2.xml");
    let invoice = example("CII_example5.xml");
    let bytes = pdf(
        &[
            ("annexe.xml", &other),
            ("zugferd-invoice.xml", &invoice),
            ("bon-de-livraison.txt", b"hello"),
        ],
        true,
    );
    let found = extract_embedded_invoice(&bytes).expect("an invoice");
    assert_eq!(found.name.as_deref(), Some("zugferd-invoice.xml"));
    let mut rows = Vec::new();
    read_invoice_pdf("z.pdf", &bytes, &mut |r| rows.push(r));
    assert_eq!(rows, rows_of_xml("CII_example5.xml"));
}

#[test]
fn a_pdf_without_an_embedded_invoice_is_refused_clearly() {
    let plain = pdf(&[], true);
    let report = read_invoice_pdf("scan.pdf", &plain, &mut |_| {});
    let errors: Vec<String> = report.errors().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with("scan.pdf:1: the PDF carries no embedded invoice"),
        "{errors:?}"
    );
    let text_only = pdf(&[("notes.txt", b"rien")], false);
    assert!(extract_embedded_invoice(&text_only).is_err());

    // A broken invoice inside: the XML's problems, positioned in the attachment.
    let broken = pdf(&[("factur-x.xml", b"<rsm:CrossIndustryInvoice>")], true);
    let report = read_invoice_pdf("bad.pdf", &broken, &mut |_| {});
    let first = report.errors().next().expect("an error").to_string();
    assert!(first.starts_with("bad.pdf[factur-x.xml]:"), "{first}");

    // Truncated anywhere: an error, never a panic.
    let whole = pdf(&[("factur-x.xml", &example("CII_example1.xml"))], true);
    for cut in (0..whole.len()).step_by(97) {
        let report = read_invoice_pdf("cut.pdf", &whole[..cut], &mut |_| {});
        assert!(report.has_errors() || report.rows == 1);
    }
}
