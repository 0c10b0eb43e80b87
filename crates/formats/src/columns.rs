//! Finding columns by name: English or French, any order, case, accents and punctuation
//! tolerated.
//!
//! Each reader describes its columns with a table of [`ColumnSpec`]; [`resolve`] matches the
//! header row against it once, so that rows are then read by precomputed index.

use csv::StringRecord;

use crate::problem::Problems;
use crate::text::normalise_header;

/// One column a reader understands.
#[derive(Clone)]
pub(crate) struct ColumnSpec {
    /// The English name, as documented (`invoice_number`).
    pub english: &'static str,
    /// The French name, as documented (`numéro`).
    pub french: &'static str,
    /// Every accepted spelling; compared after [`normalise_header`].
    pub aliases: &'static [&'static str],
    pub required: bool,
}

/// Where each column of a spec table is in the file, and what the file calls it.
pub(crate) struct Columns {
    index: Vec<Option<usize>>,
    /// The header cells as written (trimmed), by position in the file.
    headers: Vec<String>,
    /// Number of fields of the header row.
    pub width: usize,
}

impl Columns {
    /// Position in the file of the spec's column `spec`.
    pub fn index(&self, spec: usize) -> Option<usize> {
        self.index[spec]
    }

    /// The header text of the spec's column `spec`, as the file writes it.
    pub fn name(&self, spec: usize) -> &str {
        self.index[spec]
            .and_then(|i| self.headers.get(i))
            .map_or("", String::as_str)
    }

    pub fn has(&self, spec: usize) -> bool {
        self.index[spec].is_some()
    }
}

/// Matches the header row against `specs`. Reports at `line`: one Error naming every missing
/// required column in both languages, an Error for a column given twice, and one Warning
/// listing the columns it does not know (ignored). Returns `None` when a required column is
/// missing: rows cannot be read then.
pub(crate) fn resolve(
    header: &StringRecord,
    specs: &[ColumnSpec],
    line: u64,
    problems: &mut Problems<'_>,
) -> Option<Columns> {
    let headers: Vec<String> = header
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
        .collect();
    let mut index: Vec<Option<usize>> = vec![None; specs.len()];
    let mut unknown = Vec::new();
    for (position, text) in headers.iter().enumerate() {
        let key = normalise_header(text);
        if key.is_empty() {
            continue;
        }
        let found = specs
            .iter()
            .position(|s| s.aliases.iter().any(|a| normalise_header(a) == key));
        match found {
            Some(spec) => match index[spec] {
                Some(first) => problems.error(
                    line,
                    Some(text),
                    None,
                    format!(
                        "columns \"{}\" and \"{}\" both give {} ({}): keep one",
                        headers[first], text, specs[spec].english, specs[spec].french
                    ),
                ),
                None => index[spec] = Some(position),
            },
            None => unknown.push(format!("\"{text}\"")),
        }
    }
    let missing: Vec<String> = specs
        .iter()
        .zip(&index)
        .filter(|(s, i)| s.required && i.is_none())
        .map(|(s, _)| format!("\"{}\" (\"{}\")", s.english, s.french))
        .collect();
    if !unknown.is_empty() {
        problems.warning(
            line,
            None,
            None,
            format!("unknown column(s) ignored: {}", unknown.join(", ")),
        );
    }
    if !missing.is_empty() {
        problems.error(
            line,
            None,
            None,
            format!(
                "missing required column(s): {}; the header row must name them, in English or in French",
                missing.join(", ")
            ),
        );
        return None;
    }
    Some(Columns {
        index,
        width: headers.len(),
        headers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECS: &[ColumnSpec] = &[
        ColumnSpec {
            english: "invoice_number",
            french: "numéro",
            aliases: &["invoice_number", "numéro"],
            required: true,
        },
        ColumnSpec {
            english: "due_date",
            french: "échéance",
            aliases: &["due_date", "échéance"],
            required: true,
        },
        ColumnSpec {
            english: "email",
            french: "courriel",
            aliases: &["email", "courriel"],
            required: false,
        },
    ];

    #[test]
    fn finds_columns_in_any_order_and_spelling() {
        let mut problems = Problems::new("f.csv");
        let header = StringRecord::from(vec!["Notes", " ÉCHÉANCE ", "Numero", "x"]);
        let cols = resolve(&header, SPECS, 1, &mut problems).expect("columns");
        assert_eq!(cols.index(0), Some(2));
        assert_eq!(cols.index(1), Some(1));
        assert!(!cols.has(2));
        assert_eq!(cols.name(1), "ÉCHÉANCE");
        assert_eq!(cols.width, 4);
        assert_eq!(problems.list.len(), 1);
        assert_eq!(
            problems.list[0].message,
            "unknown column(s) ignored: \"Notes\", \"x\""
        );
    }

    #[test]
    fn names_every_missing_column_in_both_languages() {
        let mut problems = Problems::new("f.csv");
        let header = StringRecord::from(vec!["courriel"]);
        assert!(resolve(&header, SPECS, 1, &mut problems).is_none());
        assert_eq!(problems.list.len(), 1);
        assert!(problems.list[0].is_error());
        assert_eq!(problems.list[0].line, 1);
        assert_eq!(
            problems.list[0].message,
            "missing required column(s): \"invoice_number\" (\"numéro\"), \"due_date\" (\"échéance\"); \
             the header row must name them, in English or in French"
        );
    }

    #[test]
    fn refuses_a_column_given_twice() {
        let mut problems = Problems::new("f.csv");
        let header = StringRecord::from(vec!["numéro", "échéance", "invoice_number"]);
        assert!(resolve(&header, SPECS, 1, &mut problems).is_some());
        assert_eq!(problems.error_count(), 1);
        assert_eq!(problems.list[0].column.as_deref(), Some("invoice_number"));
    }
}
