//! The payments CSV: one payment received per line, columns found by name.
//!
//! Same rules as the invoice CSV (encodings, separators, dates, amounts). A payment's amount
//! must be positive: a refund or a bank debit is not a payment and is refused.

use chrono::NaiveDate;
use relance_core::money::Money;
use relance_core::party::CustomerCode;

use crate::cells::{amount, currency, optional, required_date};
use crate::columns::ColumnSpec;
use crate::problem::ReadReport;
use crate::table::{read_table, Row};

/// One valid line of a payments file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRow {
    /// Physical line in the file.
    pub line: u64,
    pub date: NaiveDate,
    /// Always positive.
    pub amount: Money,
    /// The payer's wording (libellé); empty when the file has none.
    pub reference: String,
    pub customer_code: Option<CustomerCode>,
    pub invoice_number: Option<String>,
    /// The bank's own entry reference, the best guard against importing twice.
    pub bank_reference: Option<String>,
}

const DATE: usize = 0;
const AMOUNT: usize = 1;
const REFERENCE: usize = 2;
const CUSTOMER_ID: usize = 3;
const INVOICE_NUMBER: usize = 4;
const BANK_REFERENCE: usize = 5;
const CURRENCY: usize = 6;

const SPECS: &[ColumnSpec] = &[
    ColumnSpec {
        english: "date",
        french: "date de règlement",
        aliases: &[
            "date",
            "payment date",
            "date de règlement",
            "date règlement",
            "date de paiement",
            "date paiement",
            "date d'encaissement",
            "date opération",
            "date d'opération",
        ],
        required: true,
    },
    ColumnSpec {
        english: "amount",
        french: "montant",
        aliases: &[
            "amount",
            "amount paid",
            "montant",
            "montant réglé",
            "montant payé",
        ],
        required: true,
    },
    ColumnSpec {
        english: "reference",
        french: "libellé",
        aliases: &[
            "reference",
            "label",
            "description",
            "libellé",
            "libelle",
            "référence",
        ],
        required: false,
    },
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
            "compte client",
            "code tiers",
            "id client",
        ],
        required: false,
    },
    ColumnSpec {
        english: "invoice_number",
        french: "numéro",
        aliases: &[
            "invoice_number",
            "invoice no",
            "invoice",
            "numéro",
            "numero",
            "n° facture",
            "no facture",
            "numéro de facture",
            "numéro facture",
            "facture",
        ],
        required: false,
    },
    ColumnSpec {
        english: "bank_reference",
        french: "référence bancaire",
        aliases: &[
            "bank_reference",
            "bank ref",
            "transaction id",
            "référence bancaire",
            "référence banque",
            "réf bancaire",
            "id transaction",
        ],
        required: false,
    },
    ColumnSpec {
        english: "currency",
        french: "devise",
        aliases: &["currency", "devise", "monnaie"],
        required: false,
    },
];

/// Reads a payments CSV. Every valid row goes to `sink`, in file order; rows with an Error do
/// not. The report holds every problem of the file.
pub fn read_payments_csv(
    source: &str,
    bytes: &[u8],
    sink: &mut dyn FnMut(PaymentRow),
) -> ReadReport {
    read_table(source, bytes, SPECS, |row| match check_row(row) {
        Some(payment) => {
            sink(payment);
            true
        }
        None => false,
    })
}

fn check_row(row: &mut Row<'_, '_, '_>) -> Option<PaymentRow> {
    if row.get(DATE).is_empty()
        && row.get(REFERENCE).is_empty()
        && row.get(CUSTOMER_ID).is_empty()
        && row.get(INVOICE_NUMBER).is_empty()
        && row.get(BANK_REFERENCE).is_empty()
    {
        row.problems.warning(
            row.line,
            None,
            None,
            "line skipped: no date, reference, customer or invoice (a totals line?)".to_string(),
        );
        return None;
    }
    let date = required_date(row, DATE, "payment date");
    let currency = currency(row, CURRENCY);
    let value = amount(row, AMOUNT, currency, false);
    if let Some(value) = value {
        let text = row.get(AMOUNT);
        if value.is_sign_negative() && !value.is_zero() {
            row.error(
                AMOUNT,
                Some(text),
                format!("\"{text}\" is negative: a refund or a debit is not a payment"),
            );
        } else if value.is_zero() {
            row.error(
                AMOUNT,
                Some(text),
                "the amount is zero: a payment must be positive".to_string(),
            );
        }
    }
    if !row.ok {
        return None;
    }
    let customer_code = optional(row.get(CUSTOMER_ID)).and_then(|c| CustomerCode::parse(c).ok());
    Some(PaymentRow {
        line: row.line,
        date: date?,
        amount: Money::new(value?, currency?),
        reference: row.get(REFERENCE).to_string(),
        customer_code,
        invoice_number: optional(row.get(INVOICE_NUMBER)).map(str::to_string),
        bank_reference: optional(row.get(BANK_REFERENCE)).map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn read(text: &str) -> (Vec<PaymentRow>, ReadReport) {
        let mut rows = Vec::new();
        let report = read_payments_csv("p.csv", text.as_bytes(), &mut |r| rows.push(r));
        (rows, report)
    }

    #[test]
    fn only_date_and_amount_are_required() {
        let (rows, report) = read("Montant;Date\n12,50;2026-03-01\n");
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert_eq!(rows[0].amount, Money::eur(dec!(12.50)));
        assert_eq!(rows[0].reference, "");
        assert_eq!(rows[0].customer_code, None);
        assert_eq!(rows[0].invoice_number, None);
    }

    #[test]
    fn refuses_unknown_currencies_and_sub_cent_amounts() {
        let (rows, report) = read("date,amount,devise\n2026-03-01,10,XYZ\n2026-03-01,10.001,\n");
        assert!(rows.is_empty());
        let messages: Vec<String> = report.problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            messages,
            [
                "p.csv:2: column \"devise\": \"XYZ\" is not an ISO 4217 currency code",
                "p.csv:3: column \"amount\": \"10.001\" has more decimals than EUR allows (2)",
            ]
        );
    }
}
