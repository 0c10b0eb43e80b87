//! The quotes CSV (issue 9): one quote sent per line, columns found by name, with the rules of
//! the invoice CSV (encodings, `;` or `,`, `1 234,56`, DD/MM/YYYY, French or English headers,
//! every problem reported with its line and column so the caller refuses the file as a whole).

use chrono::NaiveDate;
use relance_core::money::Money;
use relance_core::party::CustomerCode;

use crate::cells::{amount, currency, optional, required_date};
use crate::columns::ColumnSpec;
use crate::problem::ReadReport;
use crate::table::{read_table, Row};

/// One valid line of a quotes file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuoteRow {
    /// Physical line in the file.
    pub line: u64,
    pub customer_code: CustomerCode,
    pub customer_name: Option<String>,
    pub email: Option<String>,
    pub number: String,
    /// The day the quote was sent.
    pub sent_on: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub amount: Money,
}

const CUSTOMER_ID: usize = 0;
const CUSTOMER_NAME: usize = 1;
const EMAIL: usize = 2;
const NUMBER: usize = 3;
const DATE: usize = 4;
const VALID_UNTIL: usize = 5;
const AMOUNT: usize = 6;
const CURRENCY: usize = 7;

const SPECS: &[ColumnSpec] = &[
    ColumnSpec {
        english: "customer_id",
        french: "code client",
        aliases: &[
            "customer_id",
            "customer code",
            "client id",
            "client code",
            "code client",
            "n° client",
            "numéro client",
            "code tiers",
            "code prospect",
        ],
        required: true,
    },
    ColumnSpec {
        english: "customer_name",
        french: "raison sociale",
        aliases: &[
            "customer_name",
            "customer",
            "name",
            "client",
            "raison sociale",
            "nom",
            "nom client",
        ],
        required: false,
    },
    ColumnSpec {
        english: "email",
        french: "e-mail",
        aliases: &["email", "e-mail", "mail", "courriel", "adresse e-mail"],
        required: false,
    },
    ColumnSpec {
        english: "quote_number",
        french: "numéro de devis",
        aliases: &[
            "quote_number",
            "quote",
            "quote no",
            "number",
            "devis",
            "numéro",
            "numero",
            "n° devis",
            "numéro de devis",
            "numéro devis",
        ],
        required: true,
    },
    ColumnSpec {
        english: "sent_date",
        french: "date d'envoi",
        aliases: &[
            "sent_date",
            "date",
            "sent",
            "sent on",
            "quote date",
            "date d'envoi",
            "date envoi",
            "date du devis",
            "date devis",
        ],
        required: true,
    },
    ColumnSpec {
        english: "valid_until",
        french: "validité",
        aliases: &[
            "valid_until",
            "valid until",
            "expiry",
            "expiry date",
            "validité",
            "validite",
            "date de validité",
            "valable jusqu'au",
            "fin de validité",
        ],
        required: false,
    },
    ColumnSpec {
        english: "amount",
        french: "montant TTC",
        aliases: &["amount", "total", "montant", "montant ttc", "total ttc"],
        required: true,
    },
    ColumnSpec {
        english: "currency",
        french: "devise",
        aliases: &["currency", "devise", "monnaie"],
        required: false,
    },
];

/// Reads a quotes CSV. Every valid row goes to `sink`, in file order; rows with an Error do
/// not. The report holds every problem of the file.
pub fn read_quotes_csv(source: &str, bytes: &[u8], sink: &mut dyn FnMut(QuoteRow)) -> ReadReport {
    let mut numbers = std::collections::HashMap::<String, u64>::new();
    read_table(source, bytes, SPECS, |row| {
        match check_row(row, &mut numbers) {
            Some(quote) => {
                sink(quote);
                true
            }
            None => false,
        }
    })
}

fn check_row(
    row: &mut Row<'_, '_, '_>,
    numbers: &mut std::collections::HashMap<String, u64>,
) -> Option<QuoteRow> {
    let code_text = row.get(CUSTOMER_ID);
    let code = match CustomerCode::parse(code_text) {
        Ok(code) => Some(code),
        Err(e) => {
            row.error(CUSTOMER_ID, Some(code_text), e.to_string());
            None
        }
    };
    let number = row.get(NUMBER);
    if number.is_empty() {
        row.error(NUMBER, None, "the quote number is empty".to_string());
    } else if let Some(first) = numbers.get(number) {
        row.error(
            NUMBER,
            Some(number),
            format!("quote \"{number}\" is already on line {first}"),
        );
    } else {
        numbers.insert(number.to_string(), row.line);
    }
    let sent_on = required_date(row, DATE, "sending date");
    let valid_until = match optional(row.get(VALID_UNTIL)) {
        None => None,
        Some(text) => match crate::text::parse_date(text) {
            Some(day) => Some(day),
            None => {
                row.error(VALID_UNTIL, Some(text), format!("\"{text}\" is not a date"));
                None
            }
        },
    };
    if let (Some(sent), Some(until)) = (sent_on, valid_until) {
        if until < sent {
            let text = row.get(VALID_UNTIL);
            row.error(
                VALID_UNTIL,
                Some(text),
                format!("the quote would lapse ({until}) before it was sent ({sent})"),
            );
        }
    }
    let email = optional(row.get(EMAIL));
    if let Some(text) = email {
        if relance_core::party::EmailAddress::parse(text).is_err() {
            row.error(
                EMAIL,
                Some(text),
                format!("\"{text}\" is not an e-mail address"),
            );
        }
    }
    let currency = currency(row, CURRENCY);
    let value = amount(row, AMOUNT, currency, false);
    if value.is_some_and(|v| v.is_sign_negative() && !v.is_zero()) {
        let text = row.get(AMOUNT);
        row.error(AMOUNT, Some(text), format!("\"{text}\" is negative"));
    }
    if !row.ok {
        return None;
    }
    Some(QuoteRow {
        line: row.line,
        customer_code: code?,
        customer_name: optional(row.get(CUSTOMER_NAME)).map(str::to_string),
        email: email.map(str::to_string),
        number: number.to_string(),
        sent_on: sent_on?,
        valid_until,
        amount: Money::new(value?, currency?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn read(bytes: &[u8]) -> (Vec<QuoteRow>, ReadReport) {
        let mut rows = Vec::new();
        let report = read_quotes_csv("q.csv", bytes, &mut |r| rows.push(r));
        (rows, report)
    }

    #[test]
    fn french_file_in_windows_1252() {
        // "Numéro de devis" with é as 0xE9, a BOM-less Windows-1252 file, amounts `1 234,56`.
        let mut bytes = b"Code client;Raison sociale;Num\xe9ro de devis;Date d'envoi;Validit\xe9;Montant TTC\r\n".to_vec();
        bytes.extend_from_slice(b"C001;Dupont SA;DV-1;02/03/2026;31/03/2026;1 234,56\r\n");
        let (rows, report) = read(&bytes);
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].number, "DV-1");
        assert_eq!(rows[0].amount, Money::eur(dec!(1234.56)));
        assert_eq!(
            rows[0].sent_on,
            NaiveDate::from_ymd_opt(2026, 3, 2).expect("d")
        );
        assert_eq!(rows[0].valid_until, NaiveDate::from_ymd_opt(2026, 3, 31));
    }

    #[test]
    fn every_problem_with_its_line_and_column() {
        let text = "\u{feff}customer_id,quote_number,sent_date,valid_until,amount\n\
                    C1,Q-1,2026-03-02,2026-03-01,10\n\
                    C2,Q-1,yesterday,,abc\n";
        let (rows, report) = read(text.as_bytes());
        assert!(rows.is_empty());
        let messages: Vec<String> = report.problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            messages,
            [
                "q.csv:2: column \"valid_until\": the quote would lapse (2026-03-01) before it was sent (2026-03-02)",
                "q.csv:3: column \"quote_number\": quote \"Q-1\" is already on line 2",
                "q.csv:3: column \"sent_date\": \"yesterday\" is not a date",
                "q.csv:3: column \"amount\": \"abc\" is not an amount",
            ]
        );
    }
}
