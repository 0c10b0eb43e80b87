//! Excel workbooks (`.xlsx`): the same column rules as the CSV readers.
//!
//! The first worksheet that holds anything is turned into delimited text, one record per sheet
//! row, and read by the CSV reader, so headers, cells and checks are exactly the CSV's. Problems
//! are reported as `FILE[SHEET]:ROW: column "x": …`, ROW being the row number Excel shows.
//!
//! Cells are written as the CSV readers expect them: dates as `YYYY-MM-DD`, numbers with at most
//! 15 significant digits (Excel's own precision, so `0.1 + 0.2` reads `0.3`), text as is.

use std::io::Cursor;

use calamine::{DataRef, Reader, Xlsx};

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
    // calamine is a large parser of untrusted zip and XML: a damaged workbook has been seen to
    // make it panic (the fuzz test found an arithmetic overflow on a cell reference). A user's
    // bad file must get an error naming it, never bring the process down, so its panics are
    // caught here and reported as such.
    let opened = std::panic::catch_unwind(|| first_sheet(bytes)).unwrap_or_else(|_| {
        Err(Refusal {
            sheet: None,
            message: "not a readable Excel workbook (.xlsx): the file is damaged".to_string(),
        })
    });
    let (sheet, cells) = match opened {
        Ok(found) => found,
        Err(Refusal { sheet, message }) => {
            let name = match sheet {
                Some(sheet) => format!("{source}[{sheet}]"),
                None => source.to_string(),
            };
            return refused(&name, message);
        }
    };
    let name = format!("{source}[{sheet}]");
    let (text, rows) = to_text(cells);
    let mut report = read(&name, &text, &rows);
    for problem in &mut report.problems {
        problem.line = sheet_row(&rows, problem.line);
    }
    report
}

/// Why a workbook was refused before any row was read, and in which sheet when known.
struct Refusal {
    sheet: Option<String>,
    message: String,
}

/// Excel's own limits: 1,048,576 rows and 16,384 columns (A to XFD).
const MAX_ROWS: u32 = 1_048_576;
const MAX_COLUMNS: u32 = 16_384;

/// Fields (rows holding something × the widest row) read at most: a million invoice lines of
/// twenty columns fit; a damaged file that claims more does not exhaust memory.
const MAX_FIELDS: u64 = 50_000_000;

/// A non-empty cell: 0-based row and column, and its text.
type SheetCell = (u32, u32, String);

/// The first worksheet that holds anything: its name and non-empty cells.
///
/// Cells are streamed rather than read as one rectangular range: a two-cell workbook with one
/// cell in A1 and the other in XFD1048576 would otherwise allocate seventeen billion cells.
fn first_sheet(bytes: &[u8]) -> Result<(String, Vec<SheetCell>), Refusal> {
    let mut workbook = Xlsx::new(Cursor::new(bytes)).map_err(|e| Refusal {
        sheet: None,
        message: format!("not a readable Excel workbook (.xlsx): {e}"),
    })?;
    let names = workbook.sheet_names();
    if names.is_empty() {
        return Err(Refusal {
            sheet: None,
            message: "the workbook has no worksheet".to_string(),
        });
    }
    for name in &names {
        let unreadable = |e: calamine::XlsxError| Refusal {
            sheet: Some(name.clone()),
            message: format!("unreadable worksheet: {e}"),
        };
        let mut reader = workbook.worksheet_cells_reader(name).map_err(unreadable)?;
        let mut cells = Vec::new();
        while let Some(cell) = reader.next_cell().map_err(unreadable)? {
            let (row, column) = cell.get_position();
            if row >= MAX_ROWS || column >= MAX_COLUMNS {
                return Err(Refusal {
                    sheet: Some(name.clone()),
                    message: format!(
                        "a cell lies beyond Excel's limits (row {}, column {}): the file is damaged",
                        u64::from(row) + 1,
                        u64::from(column) + 1
                    ),
                });
            }
            let text = cell_text(cell.get_value());
            if !text.is_empty() {
                cells.push((row, column, text));
            }
        }
        if !cells.is_empty() {
            let width = cells
                .iter()
                .map(|&(_, column, _)| u64::from(column) + 1)
                .max();
            let mut rows: Vec<u32> = cells.iter().map(|&(row, _, _)| row).collect();
            rows.dedup();
            let fields = width.unwrap_or(0).saturating_mul(rows.len() as u64);
            if fields > MAX_FIELDS {
                return Err(Refusal {
                    sheet: Some(name.clone()),
                    message: format!(
                        "the sheet is too large to read: {} rows of {} columns",
                        rows.len(),
                        width.unwrap_or(0)
                    ),
                });
            }
            return Ok((name.clone(), cells));
        }
    }
    Err(Refusal {
        sheet: None,
        message: "every worksheet of the workbook is empty".to_string(),
    })
}

/// The cells as `;`-separated text, one record per sheet row from row 1, and for each text line
/// the sheet row (1-based) it belongs to. Empty rows and leading empty columns are kept as empty
/// lines and fields, so positions stay true; every other row has as many fields as the widest.
fn to_text(mut cells: Vec<SheetCell>) -> (Vec<u8>, Vec<u32>) {
    cells.sort_by_key(|&(row, column, _)| (row, column));
    let width = cells
        .iter()
        .map(|&(_, column, _)| column + 1)
        .max()
        .unwrap_or(0);
    let mut out = Vec::new();
    let mut rows: Vec<u32> = Vec::new();
    // Sheet rows (0-based) written so far.
    let mut next_row = 0u32;
    let mut index = 0;
    while index < cells.len() {
        let row = cells[index].0;
        // Empty rows before this one: bounded by MAX_ROWS.
        while next_row < row {
            next_row += 1;
            rows.push(next_row);
            out.push(b'\n');
        }
        let mut column = 0u32;
        let mut lines = 1;
        let mut first = true;
        while index < cells.len() && cells[index].0 == row {
            let (_, at, field) = &cells[index];
            // A duplicated cell (a damaged file may repeat one) keeps the first value.
            if !first && *at < column {
                index += 1;
                continue;
            }
            while column < *at {
                if !first {
                    out.push(b';');
                }
                first = false;
                column += 1;
            }
            if !first {
                out.push(b';');
            }
            first = false;
            column += 1;
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
            index += 1;
        }
        while column < width {
            out.push(b';');
            column += 1;
        }
        out.push(b'\n');
        next_row = row + 1;
        rows.extend(std::iter::repeat_n(next_row, lines));
    }
    (out, rows)
}

/// One cell as the CSV readers would see it.
fn cell_text(cell: &DataRef<'_>) -> String {
    match cell {
        DataRef::Empty => String::new(),
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_string(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => float_text(*f),
        DataRef::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        DataRef::DateTime(dt) => match dt.as_datetime() {
            Some(dt) if !dt.time().eq(&chrono::NaiveTime::MIN) => {
                dt.format("%Y-%m-%dT%H:%M:%S").to_string()
            }
            Some(dt) => dt.date().format("%Y-%m-%d").to_string(),
            None => float_text(dt.as_f64()),
        },
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => format!("#{e:?}"),
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
