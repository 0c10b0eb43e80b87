//! Helpers shared by the render tests: PDF text extraction with poppler's pdftotext.
// Each test binary uses only some of these helpers.
#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Stdio};

/// Text of a PDF, via `pdftotext -layout`; `None` when the tool is missing outside CI.
/// Under `CI=true` a missing tool is a failure, never a silent skip.
pub fn pdf_text(pdf: &[u8]) -> Option<String> {
    let child = Command::new("pdftotext")
        .args(["-enc", "UTF-8", "-", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("pdftotext is required under CI (apt-get install -y poppler-utils): {e}");
            }
            eprintln!("pdftotext not found ({e}); skipping the PDF text checks");
            return None;
        }
    };
    let mut stdin = child.stdin.take().expect("stdin");
    let data = pdf.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().expect("pdftotext runs");
    writer.join().expect("writer").expect("pdf written");
    assert!(
        out.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(normalise(
        &String::from_utf8(out.stdout).expect("UTF-8 text"),
    ))
}

/// Collapses runs of spaces (including no-break and narrow no-break spaces) to one space.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c == ' ' || c == '\u{a0}' || c == '\u{202f}' || c == '\n' || c == '\t' {
            if !space {
                out.push(' ');
            }
            space = true;
        } else {
            out.push(c);
            space = false;
        }
    }
    out
}

fn tool_missing(tool: &str, e: &std::io::Error) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{tool} is required under CI (apt-get install -y poppler-utils zbar-tools): {e}");
    }
    eprintln!("{tool} not found ({e}); skipping");
}

/// Writes bytes to a fresh temporary file and returns its path.
pub fn temp_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!(
        "relance-render-{}-{n}-{}",
        std::process::id(),
        name.replace('.', "-")
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("temp file");
    path
}

/// Positions of the words equal to `word` on page 1, in mm from the top-left corner
/// (`pdftotext -bbox`): `(x_min, y_min)`.
pub fn word_positions_mm(pdf: &[u8], word: &str) -> Option<Vec<(f32, f32)>> {
    let path = temp_file("bbox.pdf", pdf);
    let out = match Command::new("pdftotext")
        .args(["-bbox", "-f", "1", "-l", "1"])
        .arg(&path)
        .arg("-")
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            tool_missing("pdftotext", &e);
            return None;
        }
    };
    let html = String::from_utf8_lossy(&out.stdout).into_owned();
    if let Some(dir) = path.parent() {
        std::fs::remove_dir_all(dir).ok();
    }
    let pt_to_mm = 25.4 / 72.0;
    let found: Vec<(f32, f32)> = html
        .lines()
        .filter(|l| l.contains(&format!(">{word}</word>")))
        .map(|line| {
            let attr = |name: &str| -> f32 {
                let start = line.find(&format!("{name}=\"")).expect("attribute") + name.len() + 2;
                let rest = &line[start..];
                rest[..rest.find('"').expect("quote")]
                    .parse()
                    .expect("number")
            };
            (attr("xMin") * pt_to_mm, attr("yMin") * pt_to_mm)
        })
        .collect();
    assert!(!found.is_empty(), "{word:?} not found in {html}");
    Some(found)
}

/// The QR codes of every page decoded by zbarimg (UTF-8 text, one per line).
pub fn decode_qr(pdf: &[u8]) -> Option<String> {
    let path = temp_file("qr.pdf", pdf);
    let prefix = path.with_file_name("page");
    match Command::new("pdftoppm")
        .args(["-r", "200", "-png"])
        .arg(&path)
        .arg(&prefix)
        .status()
    {
        Ok(s) => assert!(s.success(), "pdftoppm failed"),
        Err(e) => {
            tool_missing("pdftoppm", &e);
            return None;
        }
    }
    let pngs: Vec<_> = std::fs::read_dir(path.parent().expect("dir"))
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .collect();
    assert!(!pngs.is_empty(), "no page image");
    let out = match Command::new("zbarimg")
        .args(["--raw", "-q", "-Sbinary"])
        .args(&pngs)
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            tool_missing("zbarimg", &e);
            return None;
        }
    };
    if let Some(dir) = path.parent() {
        std::fs::remove_dir_all(dir).ok();
    }
    Some(String::from_utf8(out.stdout).expect("UTF-8 payload"))
}
