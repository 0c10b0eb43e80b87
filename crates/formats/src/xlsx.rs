//! Excel workbooks (`.xlsx`): the same column rules as the CSV readers.
//!
//! The first worksheet that holds anything is turned into delimited text, one record per sheet
//! row, and read by the CSV reader, so headers, cells and checks are exactly the CSV's. Problems
//! are reported as `FILE[SHEET]:ROW: column "x": …`, ROW being the row number Excel shows.
//!
//! Cells are written as the CSV readers expect them: dates as `YYYY-MM-DD`, numbers with at most
//! 15 significant digits (Excel's own precision, so `0.1 + 0.2` reads `0.3`), text as is.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

use crate::problem::{Problem, ReadReport, Severity};
use crate::{read_invoices_csv, read_payments_csv, InvoiceRow, PaymentRow};

/// The zip signature every `.xlsx` starts with.
pub fn looks_like_xlsx(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// Reads the invoices of a workbook (see the module documentation).
pub fn read_invoices_xlsx(
    source: &str,
    bytes: &[u8],
    sink: &mut dyn FnMut(InvoiceRow),
) -> ReadReport {
    read_sheet(source, bytes, |name, text, rows| {
        read_invoices_csv(name, text, &mut |mut row| {
            row.line = sheet_row(rows, row.line);
            sink(row);
        })
    })
}

/// Reads the payments of a workbook (see the module documentation).
pub fn read_payments_xlsx(
    source: &str,
    bytes: &[u8],
    sink: &mut dyn FnMut(PaymentRow),
) -> ReadReport {
    read_sheet(source, bytes, |name, text, rows| {
        read_payments_csv(name, text, &mut |mut row| {
            row.line = sheet_row(rows, row.line);
            sink(row);
        })
    })
}

/// Text line (1-based) to sheet row (1-based): `rows[line - 1]`.
fn sheet_row(rows: &[u32], line: u64) -> u64 {
    usize::try_from(line)
        .ok()
        .and_then(|l| l.checked_sub(1))
        .and_then(|i| rows.get(i))
        .map_or(line, |&r| u64::from(r))
}

fn refused(source: &str, message: String) -> ReadReport {
    ReadReport {
        rows: 0,
        problems: vec![Problem {
            source: source.to_string(),
            line: 1,
            column: None,
            value: None,
            message,
            severity: Severity::Error,
        }],
    }
}

fn read_sheet(
    source: &str,
    bytes: &[u8],
    read: impl FnOnce(&str, &[u8], &[u32]) -> ReadReport,
) -> ReadReport {
    let mut workbook = match Xlsx::new(Cursor::new(bytes)) {
        Ok(workbook) => workbook,
        Err(e) => {
            return refused(
                source,
                format!("not a readable Excel workbook (.xlsx): {e}"),
            )
        }
    };
    let names = workbook.sheet_names();
    if names.is_empty() {
        return refused(source, "the workbook has no worksheet".to_string());
    }
    let mut chosen = None;
    for name in &names {
        match workbook.worksheet_range(name) {
            Ok(range) if !range.is_empty() => {
                chosen = Some((name.clone(), range));
                break;
            }
            Ok(_) => {}
            Err(e) => {
                return refused(
                    &format!("{source}[{name}]"),
                    format!("unreadable worksheet: {e}"),
                )
            }
        }
    }
    let Some((sheet, range)) = chosen else {
        return refused(
            source,
            "every worksheet of the workbook is empty".to_string(),
        );
    };
    let name = format!("{source}[{sheet}]");
    let (first_row, first_column) = range.start().unwrap_or((0, 0));
    let (text, rows) = to_text(&range, first_row, first_column);
    let mut report = read(&name, &text, &rows);
    for problem in &mut report.problems {
        problem.line = sheet_row(&rows, problem.line);
    }
    report
}

/// The range as `;`-separated text, and for each text line the sheet row it belongs to.
/// Leading empty rows and columns are kept as empty lines and fields, so positions stay true.
fn to_text(
    range: &calamine::Range<Data>,
    first_row: u32,
    first_column: u32,
) -> (Vec<u8>, Vec<u32>) {
    let mut rows: Vec<u32> = (1..=first_row).collect();
    // At most Excel's 1,048,576 rows: bounded.
    let mut out = vec![b'\n'; rows.len()];
    let leading = usize::try_from(first_column).unwrap_or(0);
    let mut record: Vec<String> = Vec::new();
    for (i, row) in range.rows().enumerate() {
        let number = first_row
            .saturating_add(u32::try_from(i).unwrap_or(u32::MAX))
            .saturating_add(1);
        record.clear();
        record.extend(std::iter::repeat_n(String::new(), leading));
        record.extend(row.iter().map(cell_text));
        if record.iter().all(String::is_empty) {
            rows.push(number);
            out.push(b'\n');
            continue;
        }
        let mut lines = 1;
        for (i, field) in record.iter().enumerate() {
            if i > 0 {
                out.push(b';');
            }
            // Always quoted: a cell may hold the separator, quotes or line breaks.
            out.push(b'"');
            for &b in field.as_bytes() {
                if b == b'"' {
                    out.push(b'"');
                }
                lines += usize::from(b == b'\n');
                out.push(b);
            }
            out.push(b'"');
        }
        out.push(b'\n');
        rows.extend(std::iter::repeat_n(number, lines));
    }
    (out, rows)
}

/// One cell as the CSV readers would see it.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => float_text(*f),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(dt) if !dt.time().eq(&chrono::NaiveTime::MIN) => {
                dt.format("%Y-%m-%dT%H:%M:%S").to_string()
            }
            Some(dt) => dt.date().format("%Y-%m-%d").to_string(),
            None => float_text(dt.as_f64()),
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// A float with at most 15 significant digits, without trailing zeros (`1234.5`, `411001`).
fn float_text(value: f64) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    if value == value.trunc() && value.abs() < 1e15 {
        return format!("{value:.0}");
    }
    let magnitude = if value == 0.0 {
        0
    } else {
        // Digits before the decimal point; bounded, so the cast is exact.
        value.abs().log10().floor().clamp(-300.0, 300.0) as i32 + 1
    };
    let decimals = usize::try_from((15 - magnitude).clamp(0, 30)).unwrap_or(0);
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::float_text;

    #[test]
    fn floats_read_as_excel_shows_them() {
        assert_eq!(float_text(1234.56), "1234.56");
        assert_eq!(float_text(0.1 + 0.2), "0.3");
        assert_eq!(float_text(411001.0), "411001");
        assert_eq!(float_text(-42.5), "-42.5");
        assert_eq!(float_text(1e20), "100000000000000000000");
        assert_eq!(float_text(0.0), "0");
    }
}
