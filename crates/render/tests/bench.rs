//! Throughput benchmark (ignored by default): 10,000 one-page letters with eight invoices each.
//!
//! Run: `cargo test -p relance-render --release --test bench -- --ignored --nocapture`.
//! When WeasyPrint is installed (`pip install weasyprint`), the same letter as HTML is also
//! converted by it and the ratio is printed.

mod common;

use std::process::Command;
use std::time::Instant;

use relance_core::party::{CustomerKind, Language};
use relance_render::{render_letter_pdf, InvoiceLine, LetterData, Part, StepId, Templates};

fn eight_invoice_letter(i: usize) -> LetterData {
    let mut data = LetterData::sample(StepId::FirstReminder, CustomerKind::Business, Language::Fr);
    let first = data.invoices[0].clone();
    data.invoices = (0..8)
        .map(|k| InvoiceLine {
            number: format!("F-2026-{:05}", i * 8 + k),
            amount: relance_core::Money::from_minor(
                10_000 + (i * 37 + k * 1_013) as i64,
                relance_core::Currency::EUR,
            ),
            open: relance_core::Money::from_minor(
                10_000 + (i * 37 + k * 1_013) as i64,
                relance_core::Currency::EUR,
            ),
            ..first.clone()
        })
        .collect();
    data.debtor.customer_code = format!("C{i:05}");
    data.penalties = None;
    data.totals = LetterData::compute_totals(&data.invoices, None).expect("totals");
    data
}

#[test]
fn an_eight_invoice_letter_fits_on_one_page() {
    let templates = Templates::new().expect("templates");
    let pdf = render_letter_pdf(&eight_invoice_letter(1), &templates).expect("pdf");
    let text = String::from_utf8_lossy(&pdf);
    assert_eq!(
        text.matches("/Type /Page").count() - text.matches("/Type /Pages").count(),
        1
    );
    if let Some(t) = common::pdf_text(&pdf) {
        assert!(t.contains("F-2026-00015"));
        assert!(!t.contains("Page 1/"));
    }
}

#[test]
#[ignore]
fn bench_10000_letters() {
    let templates = Templates::new().expect("templates");
    let letters: Vec<LetterData> = (0..10_000).map(eight_invoice_letter).collect();
    // Warm-up: builds the font subsets once.
    let _ = render_letter_pdf(&letters[0], &templates).expect("pdf");
    let start = Instant::now();
    let mut bytes = 0usize;
    for data in &letters {
        bytes += render_letter_pdf(data, &templates).expect("pdf").len();
    }
    let secs = start.elapsed().as_secs_f64();
    let rate = letters.len() as f64 / secs;
    println!(
        "relance-render: {} letters in {secs:.2} s on one thread = {rate:.0} letters/s (average {} bytes)",
        letters.len(),
        bytes / letters.len()
    );

    // The same letter as HTML through WeasyPrint, when it is installed.
    let html = templates.render(Part::Html, &letters[0]).expect("html");
    let dir = std::env::temp_dir().join("relance-weasy");
    std::fs::create_dir_all(&dir).expect("dir");
    let input = dir.join("letter.html");
    std::fs::write(&input, html).expect("html written");
    let script = format!(
        "import time, weasyprint\n\
         html = open({input:?}).read()\n\
         weasyprint.HTML(string=html).write_pdf()\n\
         n = 20\n\
         t = time.perf_counter()\n\
         for _ in range(n): weasyprint.HTML(string=html).write_pdf()\n\
         print(n / (time.perf_counter() - t))\n",
        input = input.display().to_string()
    );
    match Command::new("python3").args(["-c", &script]).output() {
        Ok(out) if out.status.success() => {
            let weasy: f64 = String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse()
                .unwrap_or(0.0);
            println!(
                "WeasyPrint: {weasy:.1} letters/s; relance-render is {:.0}× faster",
                rate / weasy
            );
        }
        Ok(out) => println!(
            "WeasyPrint not measured: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        ),
        Err(e) => println!("WeasyPrint not measured: {e}"),
    }
    assert!(
        rate >= 300.0,
        "{rate:.0} letters/s is below the 300/s target"
    );
}

#[test]
fn write_sample_eight_invoice_letter() {
    let templates = Templates::new().expect("templates");
    let pdf = render_letter_pdf(&eight_invoice_letter(1), &templates).expect("pdf");
    std::fs::write("/tmp/relance-render-8.pdf", pdf).expect("write");
}
