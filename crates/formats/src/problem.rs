//! Problems found while reading a file, and the report that collects them.
//!
//! A reader never stops at the first problem: it reports every one of them, each with the file
//! name, the physical line (the header is line 1), the column as the file spells it and the
//! offending value, so that a person can fix the file in one pass.

use std::fmt;

/// How serious a problem is. Any `Error` makes the caller refuse the whole file; a `Warning`
/// is worth reading but the row is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem in one place of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file name, as given by the caller.
    pub source: String,
    /// 1-based physical line in the file; the header is line 1.
    pub line: u64,
    /// The header text as written in the file, e.g. `échéance`.
    pub column: Option<String>,
    /// The offending value, as written in the file.
    pub value: Option<String>,
    pub message: String,
    pub severity: Severity,
}

impl Problem {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Problem {
    /// `FILE:LINE: column "échéance": "31/02/2026" is not a date`, with `warning: ` after the
    /// position for a warning and without the column part when there is no column.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.source, self.line)?;
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        if let Some(column) = &self.column {
            write!(f, "column \"{column}\": ")?;
        }
        f.write_str(&self.message)
    }
}

/// What reading a file gave: how many rows went to the sink, and every problem found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadReport {
    /// Number of valid rows passed to the sink.
    pub rows: u64,
    /// Every problem of the file, in file order.
    pub problems: Vec<Problem>,
}

impl ReadReport {
    /// True when the file must be refused.
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(Problem::is_error)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Problem> + '_ {
        self.problems.iter().filter(|p| p.is_error())
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Problem> + '_ {
        self.problems.iter().filter(|p| !p.is_error())
    }
}

/// Collects problems for one file, stamping each with the file name.
pub(crate) struct Problems<'a> {
    source: &'a str,
    pub(crate) list: Vec<Problem>,
}

impl<'a> Problems<'a> {
    pub(crate) fn new(source: &'a str) -> Self {
        Problems {
            source,
            list: Vec::new(),
        }
    }

    pub(crate) fn push(
        &mut self,
        severity: Severity,
        line: u64,
        column: Option<&str>,
        value: Option<&str>,
        message: String,
    ) {
        self.list.push(Problem {
            source: self.source.to_string(),
            line,
            column: column.map(str::to_string),
            value: value.map(str::to_string),
            message,
            severity,
        });
    }

    pub(crate) fn error(
        &mut self,
        line: u64,
        column: Option<&str>,
        value: Option<&str>,
        message: String,
    ) {
        self.push(Severity::Error, line, column, value, message);
    }

    pub(crate) fn warning(
        &mut self,
        line: u64,
        column: Option<&str>,
        value: Option<&str>,
        message: String,
    ) {
        self.push(Severity::Warning, line, column, value, message);
    }

    #[cfg(test)]
    pub(crate) fn error_count(&self) -> usize {
        self.list.iter().filter(|p| p.is_error()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(severity: Severity, column: Option<&str>) -> Problem {
        Problem {
            source: "factures.csv".into(),
            line: 7,
            column: column.map(str::to_string),
            value: Some("31/02/2026".into()),
            message: "\"31/02/2026\" is not a date".into(),
            severity,
        }
    }

    #[test]
    fn displays_file_line_column_and_message() {
        assert_eq!(
            problem(Severity::Error, Some("échéance")).to_string(),
            "factures.csv:7: column \"échéance\": \"31/02/2026\" is not a date"
        );
        assert_eq!(
            problem(Severity::Error, None).to_string(),
            "factures.csv:7: \"31/02/2026\" is not a date"
        );
        assert_eq!(
            problem(Severity::Warning, Some("échéance")).to_string(),
            "factures.csv:7: warning: column \"échéance\": \"31/02/2026\" is not a date"
        );
    }

    #[test]
    fn report_separates_errors_from_warnings() {
        let mut report = ReadReport::default();
        assert!(!report.has_errors());
        report.problems.push(problem(Severity::Warning, None));
        assert!(!report.has_errors());
        report.problems.push(problem(Severity::Error, None));
        assert!(report.has_errors());
        assert_eq!(report.errors().count(), 1);
        assert_eq!(report.warnings().count(), 1);
    }
}
