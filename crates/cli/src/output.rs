//! Printing rows as an aligned table, CSV or JSON lines.

use std::io::Write;

use crate::cli::OutputFormat;

/// Prints `rows` under `headers` in the chosen format. `json` gives each row as one JSON object.
pub fn print_rows<T: serde::Serialize>(
    format: OutputFormat,
    headers: &[&str],
    rows: &[Vec<String>],
    json: &[T],
) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    write_rows(&mut out, format, headers, rows, json)?;
    out.flush()?;
    Ok(())
}

/// Writes `rows` under `headers` to `out` in the chosen format (see [`print_rows`]).
pub fn write_rows<T: serde::Serialize>(
    out: &mut dyn Write,
    format: OutputFormat,
    headers: &[&str],
    rows: &[Vec<String>],
    json: &[T],
) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => {
            for item in json {
                serde_json::to_writer(&mut *out, item)?;
                out.write_all(b"\n")?;
            }
        }
        OutputFormat::Csv => {
            let mut writer = csv::Writer::from_writer(&mut *out);
            writer.write_record(headers)?;
            for row in rows {
                writer.write_record(row)?;
            }
            writer.flush()?;
        }
        OutputFormat::Table => {
            let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
            for row in rows {
                for (w, cell) in widths.iter_mut().zip(row) {
                    *w = (*w).max(cell.chars().count());
                }
            }
            write_table_line(
                out,
                headers
                    .iter()
                    .map(|h| h.to_string())
                    .collect::<Vec<_>>()
                    .as_slice(),
                &widths,
            )?;
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            write_table_line(out, &rule, &widths)?;
            for row in rows {
                write_table_line(out, row, &widths)?;
            }
        }
    }
    Ok(())
}

fn write_table_line(
    out: &mut dyn Write,
    cells: &[String],
    widths: &[usize],
) -> std::io::Result<()> {
    let mut line = String::new();
    for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
        if i > 0 {
            line.push_str("  ");
        }
        let pad = width.saturating_sub(cell.chars().count());
        // Numbers right-aligned, text left-aligned.
        if looks_numeric(cell) {
            line.push_str(&" ".repeat(pad));
            line.push_str(cell);
        } else {
            line.push_str(cell);
            line.push_str(&" ".repeat(pad));
        }
    }
    writeln!(out, "{}", line.trim_end())
}

fn looks_numeric(cell: &str) -> bool {
    !cell.is_empty()
        && cell
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
        && cell.chars().any(|c| c.is_ascii_digit())
        && cell.matches('-').count() <= 1
}
