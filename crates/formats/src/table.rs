//! The part every CSV reader shares: decoding, separator detection, the header row, and the
//! loop over records with their physical line numbers.

use csv::{ReaderBuilder, StringRecord};

use crate::columns::{resolve, ColumnSpec, Columns};
use crate::problem::{Problems, ReadReport};
use crate::text::{decode_text, detect_separator};

/// One data record being checked: its fields, its line, and whether it is still valid.
pub(crate) struct Row<'r, 'p, 's> {
    record: &'r StringRecord,
    pub columns: &'r Columns,
    pub line: u64,
    pub problems: &'p mut Problems<'s>,
    /// False once an Error was reported for this row.
    pub ok: bool,
    /// Where the record starts in `text`, for [`Row::field_at`].
    pub byte: u64,
    text: &'r str,
    delimiter: u8,
}

impl<'r> Row<'r, '_, '_> {
    /// The trimmed value of the spec's column `spec`, or `""` when the file has no such column.
    pub fn get(&self, spec: usize) -> &'r str {
        let record: &'r StringRecord = self.record;
        self.columns
            .index(spec)
            .and_then(|i| record.get(i))
            .map_or("", trim_cell)
    }

    /// The trimmed value of column `spec` in the record that starts at `byte` (an earlier
    /// row's [`Row::byte`]): re-reads that record, for the rare checks that need it.
    pub fn field_at(&self, byte: u64, spec: usize) -> Option<String> {
        let start = usize::try_from(byte).ok()?;
        let mut reader = ReaderBuilder::new()
            .delimiter(self.delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(self.text.as_bytes().get(start..)?);
        let mut record = StringRecord::new();
        reader.read_record(&mut record).ok()?;
        let index = self.columns.index(spec)?;
        record.get(index).map(|f| f.trim().to_string())
    }

    /// Reports an Error on column `spec` and marks the row refused.
    pub fn error(&mut self, spec: usize, value: Option<&str>, message: String) {
        self.ok = false;
        let column = self.columns.name(spec);
        self.problems.error(self.line, Some(column), value, message);
    }

    /// Reports a Warning on column `spec`.
    pub fn warning(&mut self, spec: usize, value: Option<&str>, message: String) {
        let column = self.columns.name(spec);
        self.problems
            .warning(self.line, Some(column), value, message);
    }
}

/// Reads a delimited text file: decodes `bytes`, detects the separator, matches the header
/// against `specs` and calls `check` on every non-blank record that has the header's number of
/// fields. `check` returns whether the row went to the sink; the report counts those.
pub(crate) fn read_table(
    source: &str,
    bytes: &[u8],
    specs: &[ColumnSpec],
    mut check: impl FnMut(&mut Row<'_, '_, '_>) -> bool,
) -> ReadReport {
    let text = decode_text(bytes);
    let mut problems = Problems::new(source);
    let delimiter = detect_separator(&text);
    let mut reader = ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut record = StringRecord::new();
    let mut rows = 0u64;

    let header_line = loop {
        match reader.read_record(&mut record) {
            Ok(true) if is_blank(&record) => continue,
            Ok(true) => break line_of(&record, &text),
            Ok(false) => {
                problems.error(
                    1,
                    None,
                    None,
                    "the file is empty: a header row naming the columns is required".to_string(),
                );
                return ReadReport {
                    rows,
                    problems: problems.list,
                };
            }
            Err(e) => {
                problems.error(1, None, None, format!("unreadable header row: {e}"));
                return ReadReport {
                    rows,
                    problems: problems.list,
                };
            }
        }
    };
    let Some(columns) = resolve(&record, specs, header_line, &mut problems) else {
        return ReadReport {
            rows,
            problems: problems.list,
        };
    };

    let mut records = 0u64;
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => {
                if records == 0 {
                    problems.warning(
                        header_line,
                        None,
                        None,
                        "the file has a header row but no data rows".to_string(),
                    );
                }
                break;
            }
            Err(e) => {
                // Only I/O or UTF-8 failures end up here, and the input is decoded text in
                // memory; report rather than panic all the same.
                let line = e.position().map_or(0, csv::Position::line);
                problems.error(line, None, None, format!("unreadable record: {e}"));
                break;
            }
        }
        if is_blank(&record) {
            continue;
        }
        records += 1;
        let line = line_of(&record, &text);
        if record.len() != columns.width {
            let extra_blank = record.len() > columns.width
                && record
                    .iter()
                    .skip(columns.width)
                    .all(|f| f.trim().is_empty());
            if !extra_blank {
                problems.error(
                    line,
                    None,
                    None,
                    format!(
                        "{} field(s) where the header has {}: check the separators and the quotes",
                        record.len(),
                        columns.width
                    ),
                );
                continue;
            }
        }
        let mut row = Row {
            record: &record,
            columns: &columns,
            line,
            problems: &mut problems,
            ok: true,
            byte: record.position().map_or(0, csv::Position::byte),
            text: &text,
            delimiter,
        };
        if check(&mut row) {
            rows += 1;
        }
    }
    ReadReport {
        rows,
        problems: problems.list,
    }
}

/// `str::trim`, with a fast path for the usual cell that has only ASCII around it.
pub(crate) fn trim_cell(cell: &str) -> &str {
    let t = cell.trim_ascii();
    match (t.as_bytes().first(), t.as_bytes().last()) {
        (Some(&a), Some(&b)) if a >= 0x80 || b >= 0x80 => t.trim(),
        _ => t,
    }
}

fn is_blank(record: &StringRecord) -> bool {
    record.iter().all(|f| f.trim().is_empty())
}

/// The physical line where the record's content starts. The csv crate stamps a record with
/// the position where reading began, before the line ends it skips (the `\n` of the previous
/// CRLF, blank lines): count those.
fn line_of(record: &StringRecord, text: &str) -> u64 {
    let Some(position) = record.position() else {
        return 0;
    };
    let mut line = position.line();
    let start = usize::try_from(position.byte()).unwrap_or(usize::MAX);
    for &b in text.as_bytes().get(start..).unwrap_or_default() {
        match b {
            b'\n' => line += 1,
            b'\r' => {}
            _ => break,
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::trim_cell;

    #[test]
    fn trims_ascii_and_unicode_spaces() {
        assert_eq!(trim_cell("  F-1 \t"), "F-1");
        assert_eq!(trim_cell("\u{a0}1 234,56\u{a0}"), "1 234,56");
        assert_eq!(trim_cell(" été "), "été");
        assert_eq!(trim_cell("   "), "");
    }
}
