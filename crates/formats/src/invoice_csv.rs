//! The default invoice CSV: one invoice or credit note per line, columns found by name.
//!
//! Sign convention: a credit note's total (and its `paid`) is stored negative. A credit note
//! may be written with either sign (exports differ); a positive one is negated. An invoice
//! with a negative total is refused: it is a credit note that was not marked as one.
//! Duplicates are keyed by (kind, number), as the store keys items.

use chrono::NaiveDate;
use relance_core::ledger::ItemKind;
use relance_core::money::Money;
use relance_core::party::{CustomerCode, CustomerKind, EmailAddress, Language, Siren};
use rust_decimal::Decimal;

use crate::cells::{amount, currency, optional, required_date};
use crate::columns::ColumnSpec;
use crate::problem::ReadReport;
use crate::seen::SeenNumbers;
use crate::table::{read_table, Row};
use crate::text::split_emails;

/// One valid line of an invoice file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceRow {
    /// Physical line in the file.
    pub line: u64,
    pub kind: ItemKind,
    pub number: String,
    pub customer_code: CustomerCode,
    pub customer_name: Option<String>,
    pub customer_kind: Option<CustomerKind>,
    pub emails: Vec<EmailAddress>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub siren: Option<Siren>,
    pub language: Option<Language>,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    /// Total due, VAT included; negative for a credit note.
    pub total: Money,
    /// Already settled outside relance; same sign as `total`, zero by default.
    pub paid: Money,
}

const NUMBER: usize = 0;
const CUSTOMER_ID: usize = 1;
const CUSTOMER_NAME: usize = 2;
const CUSTOMER_KIND: usize = 3;
const EMAIL: usize = 4;
const PHONE: usize = 5;
const ADDRESS: usize = 6;
const ISSUE_DATE: usize = 7;
const DUE_DATE: usize = 8;
const AMOUNT: usize = 9;
const CURRENCY: usize = 10;
const PAID: usize = 11;
const DOCUMENT_TYPE: usize = 12;
const SIREN: usize = 13;
const LANGUAGE: usize = 14;

const fn spec(
    english: &'static str,
    french: &'static str,
    aliases: &'static [&'static str],
    required: bool,
) -> ColumnSpec {
    ColumnSpec {
        english,
        french,
        aliases,
        required,
    }
}

/// The columns, in the order of the constants above.
const SPECS: &[ColumnSpec] = &[
    spec(
        "invoice_number",
        "numéro",
        &[
            "invoice_number",
            "invoice no",
            "invoice",
            "number",
            "numéro",
            "numero",
            "n° facture",
            "n° de facture",
            "no facture",
            "num facture",
            "numéro facture",
            "numéro de facture",
            "facture",
            "n°",
            "document number",
            "n° pièce",
            "numéro de pièce",
        ],
        true,
    ),
    spec(
        "customer_id",
        "code client",
        &[
            "customer_id",
            "customer code",
            "client id",
            "client code",
            "code client",
            "n° client",
            "numéro client",
            "numéro de client",
            "compte client",
            "code tiers",
            "id client",
        ],
        true,
    ),
    spec(
        "customer_name",
        "client",
        &[
            "customer_name",
            "customer",
            "name",
            "client",
            "raison sociale",
            "nom",
            "nom client",
            "nom du client",
            "client name",
        ],
        false,
    ),
    spec(
        "customer_kind",
        "type",
        &[
            "customer_kind",
            "customer type",
            "type",
            "type client",
            "type de client",
        ],
        false,
    ),
    spec(
        "email",
        "courriel",
        &[
            "email",
            "e-mail",
            "emails",
            "mail",
            "courriel",
            "adresse email",
            "adresse e-mail",
            "adresse mail",
        ],
        false,
    ),
    spec(
        "phone",
        "téléphone",
        &[
            "phone",
            "phone number",
            "téléphone",
            "telephone",
            "tel",
            "tél",
            "portable",
            "mobile",
        ],
        false,
    ),
    spec(
        "address",
        "adresse",
        &["address", "postal address", "adresse", "adresse postale"],
        false,
    ),
    spec(
        "issue_date",
        "date",
        &[
            "issue_date",
            "invoice date",
            "date",
            "date facture",
            "date de facture",
            "date d'émission",
            "date émission",
            "date de la facture",
        ],
        true,
    ),
    spec(
        "due_date",
        "échéance",
        &[
            "due_date",
            "due",
            "échéance",
            "echeance",
            "date d'échéance",
            "date échéance",
            "date de l'échéance",
        ],
        true,
    ),
    spec(
        "amount",
        "montant TTC",
        &[
            "amount",
            "total",
            "amount incl vat",
            "total incl vat",
            "montant TTC",
            "montant",
            "total TTC",
            "montant facture",
        ],
        true,
    ),
    spec(
        "currency",
        "devise",
        &["currency", "devise", "monnaie"],
        false,
    ),
    spec(
        "paid",
        "montant réglé",
        &[
            "paid",
            "amount paid",
            "paid amount",
            "montant réglé",
            "réglé",
            "déjà réglé",
            "montant payé",
            "payé",
        ],
        false,
    ),
    spec(
        "document_type",
        "type de document",
        &[
            "document_type",
            "type de document",
            "type document",
            "pièce",
            "type de pièce",
            "type pièce",
        ],
        false,
    ),
    spec(
        "siren",
        "siren",
        &["siren", "n° siren", "numéro siren"],
        false,
    ),
    spec("language", "langue", &["language", "langue", "lang"], false),
];

/// Reads an invoice CSV. Every valid row goes to `sink`, in file order; rows with an Error do
/// not. The report holds every problem of the file; the caller refuses the file when
/// [`ReadReport::has_errors`].
pub fn read_invoices_csv(
    source: &str,
    bytes: &[u8],
    sink: &mut dyn FnMut(InvoiceRow),
) -> ReadReport {
    // First line of each (kind, number), for duplicates.
    let mut seen: [SeenNumbers; 2] = Default::default();
    read_table(source, bytes, SPECS, |row| {
        match check_row(row, &mut seen) {
            Some(invoice) => {
                sink(invoice);
                true
            }
            None => false,
        }
    })
}

fn check_row(row: &mut Row<'_, '_, '_>, seen: &mut [SeenNumbers; 2]) -> Option<InvoiceRow> {
    let number = row.get(NUMBER);
    let customer = row.get(CUSTOMER_ID);
    if number.is_empty() && customer.is_empty() {
        row.problems.warning(
            row.line,
            None,
            None,
            "line skipped: no invoice number and no customer id (a totals line?)".to_string(),
        );
        return None;
    }

    let document_type = row.get(DOCUMENT_TYPE);
    let kind = match item_kind(document_type) {
        Some(kind) => Some(kind),
        None => {
            row.error(
                DOCUMENT_TYPE,
                Some(document_type),
                format!(
                    "\"{document_type}\" is neither an invoice (\"invoice\", \"facture\") nor a credit note (\"credit_note\", \"avoir\")"
                ),
            );
            None
        }
    };
    let kind_name = match kind {
        Some(ItemKind::CreditNote) => "credit note",
        _ => "invoice",
    };

    if number.is_empty() {
        row.error(NUMBER, None, format!("the {kind_name} number is empty"));
    } else if let Some(kind) = kind {
        let byte = row.byte;
        let first = seen[usize::from(kind == ItemKind::CreditNote)].first_line(
            number,
            row.line,
            byte,
            |at| row.field_at(at, NUMBER),
        );
        if let Some(first) = first {
            row.error(
                NUMBER,
                Some(number),
                format!("{kind_name} number \"{number}\" already appears on line {first}"),
            );
        }
    }
    let customer_code = match CustomerCode::parse(customer) {
        Ok(code) => Some(code),
        Err(_) => {
            row.error(CUSTOMER_ID, None, "the customer id is empty".to_string());
            None
        }
    };

    let customer_kind = optional(row.get(CUSTOMER_KIND)).and_then(|text| {
        customer_kind(text)
            .map_err(|e| {
                // A "type" column that holds facture/avoir is a document type.
                let hint = match ItemKind::parse(text) {
                    Some(_) => "; a credit note is marked in a \"document_type\" (\"type de document\") column",
                    None => "",
                };
                row.error(CUSTOMER_KIND, Some(text), format!("{e}{hint}"))
            })
            .ok()
    });

    let mut emails = Vec::new();
    for address in split_emails(row.get(EMAIL)) {
        match EmailAddress::parse(address) {
            Ok(email) => emails.push(email),
            Err(e) => row.warning(EMAIL, Some(address), format!("{e}: address ignored")),
        }
    }
    let siren = optional(row.get(SIREN)).and_then(|text| {
        Siren::parse(text)
            .map_err(|e| row.warning(SIREN, Some(text), format!("{e}: ignored")))
            .ok()
    });
    let language = optional(row.get(LANGUAGE)).and_then(|text| {
        let language = Language::parse(text);
        if language.is_none() {
            row.warning(
                LANGUAGE,
                Some(text),
                format!(
                    "\"{text}\" is not a language relance writes in (fr, en): the default applies"
                ),
            );
        }
        language
    });

    let issue_date = required_date(row, ISSUE_DATE, "issue date");
    let due_date = required_date(row, DUE_DATE, "due date");
    if let (Some(issue), Some(due)) = (issue_date, due_date) {
        let days = (due - issue).num_days();
        if days < 0 {
            let text = row.get(DUE_DATE);
            row.error(
                DUE_DATE,
                Some(text),
                format!("the due date {due} is before the issue date {issue}"),
            );
        } else if customer_kind != Some(CustomerKind::Consumer) {
            // L441-10 I caps apply between businesses: 60 days, or 45 days end of month.
            if let Some(warning) = relance_core::law::check_payment_terms(issue, due) {
                let text = row.get(DUE_DATE);
                row.warning(
                    DUE_DATE,
                    Some(text),
                    format!(
                        "\"{text}\" gives {} days of payment terms, beyond the cap of Code de commerce L441-10 I \
                         (60 days from the invoice date, or 45 days end of month: {} at the latest)",
                        warning.term_days, warning.latest_due_date
                    ),
                );
            }
        }
    }

    let currency = currency(row, CURRENCY);
    let total = amount(row, AMOUNT, currency, false);
    let paid = amount(row, PAID, currency, true);
    let (total, paid) = match (kind, currency, total, paid) {
        (Some(kind), Some(currency), Some(total), Some(paid)) => {
            check_sign_and_paid(row, kind, total, paid)
                .map(|(total, paid)| (Money::new(total, currency), Money::new(paid, currency)))?
        }
        _ => return None,
    };

    if !row.ok {
        return None;
    }
    Some(InvoiceRow {
        line: row.line,
        kind: kind?,
        number: number.to_string(),
        customer_code: customer_code?,
        customer_name: optional(row.get(CUSTOMER_NAME)).map(str::to_string),
        customer_kind,
        emails,
        phone: optional(row.get(PHONE)).map(str::to_string),
        address: optional(row.get(ADDRESS)).map(str::to_string),
        siren,
        language,
        issue_date: issue_date?,
        due_date: due_date?,
        total,
        paid,
    })
}

/// `ItemKind::parse` without its allocation for the words nearly every file uses.
fn item_kind(text: &str) -> Option<ItemKind> {
    if text.is_empty()
        || text.eq_ignore_ascii_case("facture")
        || text.eq_ignore_ascii_case("invoice")
    {
        Some(ItemKind::Invoice)
    } else if text.eq_ignore_ascii_case("avoir") || text.eq_ignore_ascii_case("credit_note") {
        Some(ItemKind::CreditNote)
    } else {
        ItemKind::parse(text)
    }
}

/// `CustomerKind::parse` without its allocation for the usual words.
fn customer_kind(text: &str) -> Result<CustomerKind, relance_core::party::PartyError> {
    if text.eq_ignore_ascii_case("entreprise") || text.eq_ignore_ascii_case("business") {
        Ok(CustomerKind::Business)
    } else if text.eq_ignore_ascii_case("particulier") || text.eq_ignore_ascii_case("consumer") {
        Ok(CustomerKind::Consumer)
    } else {
        CustomerKind::parse(text)
    }
}

/// Applies the sign convention and compares `paid` with the total. Returns the normalised
/// (total, paid), or `None` after reporting an Error.
fn check_sign_and_paid(
    row: &mut Row<'_, '_, '_>,
    kind: ItemKind,
    total: Decimal,
    paid: Decimal,
) -> Option<(Decimal, Decimal)> {
    let mut ok = true;
    let (total, paid) = match kind {
        ItemKind::Invoice => {
            if total.is_sign_negative() && !total.is_zero() {
                ok = false;
                let text = row.get(AMOUNT);
                let how = if row.columns.has(DOCUMENT_TYPE) {
                    format!(
                        "write \"credit_note\" (or \"avoir\") in its \"{}\" column",
                        row.columns.name(DOCUMENT_TYPE)
                    )
                } else {
                    "add a \"document_type\" (\"type de document\") column and write \"credit_note\" (or \"avoir\") in it".to_string()
                };
                row.error(
                    AMOUNT,
                    Some(text),
                    format!(
                        "\"{text}\" is negative but the line is not marked as a credit note: {how}"
                    ),
                );
            }
            if paid.is_sign_negative() && !paid.is_zero() {
                ok = false;
                let text = row.get(PAID);
                row.error(
                    PAID,
                    Some(text),
                    format!(
                        "\"{text}\" is negative: the amount already paid of an invoice cannot be"
                    ),
                );
            }
            (total, paid)
        }
        // Exports write credit notes either way: store both negative.
        ItemKind::CreditNote => (-total.abs(), -paid.abs()),
    };
    if !ok {
        return None;
    }
    if total.is_zero() {
        let text = row.get(AMOUNT);
        row.warning(AMOUNT, Some(text), "the amount is zero".to_string());
    }
    if paid.abs() > total.abs() {
        let text = row.get(PAID);
        row.error(
            PAID,
            Some(text),
            format!(
                "paid {} is greater than the total {}",
                paid.abs(),
                total.abs()
            ),
        );
        return None;
    }
    if !total.is_zero() && paid == total {
        let text = row.get(PAID);
        row.warning(
            PAID,
            Some(text),
            "paid equals the total: already settled".to_string(),
        );
    }
    Some((total, paid))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::Severity;
    use relance_core::money::Currency;
    use rust_decimal_macros::dec;

    fn read(text: &str) -> (Vec<InvoiceRow>, ReadReport) {
        let mut rows = Vec::new();
        let report = read_invoices_csv("t.csv", text.as_bytes(), &mut |r| rows.push(r));
        (rows, report)
    }

    fn messages(report: &ReadReport) -> Vec<String> {
        report.problems.iter().map(|p| p.to_string()).collect()
    }

    const HEAD: &str = "invoice_number,customer_id,issue_date,due_date,amount";

    #[test]
    fn empty_file_and_header_only() {
        let (rows, report) = read("");
        assert!(rows.is_empty());
        assert_eq!(
            messages(&report),
            ["t.csv:1: the file is empty: a header row naming the columns is required"]
        );
        let (rows, report) = read(HEAD);
        assert!(rows.is_empty() && report.rows == 0 && !report.has_errors());
        assert_eq!(
            messages(&report),
            ["t.csv:1: warning: the file has a header row but no data rows"]
        );
    }

    #[test]
    fn counts_lines_across_blank_lines_and_quoted_line_breaks() {
        let text = format!(
            "\n{HEAD},address\n\nF1,C1,2026-01-01,2026-01-31,10,\"1 rue A\n75001 Paris\"\n\n\nF2,C1,2026-01-01,2026-01-31,x,\n"
        );
        let (rows, report) = read(&text);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].line, 4);
        assert_eq!(rows[0].address.as_deref(), Some("1 rue A\n75001 Paris"));
        assert_eq!(
            messages(&report),
            ["t.csv:8: column \"amount\": \"x\" is not an amount"]
        );
    }

    #[test]
    fn reads_tab_separated_files_and_tolerates_trailing_empty_fields() {
        let text = "Numéro\tCode_Client\tDate\tÉchéance\tMontant TTC (€)\n\
                    F1\tC1\t01/02/2026\t03/03/2026\t1 234,50\t\t\n";
        let (rows, report) = read(text);
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert_eq!(rows[0].total, Money::eur(dec!(1234.50)));
        assert_eq!(
            rows[0].due_date,
            NaiveDate::from_ymd_opt(2026, 3, 3).expect("date")
        );
    }

    #[test]
    fn credit_notes_are_stored_negative_whichever_sign_the_file_uses() {
        let text = "numéro;code client;date;échéance;montant;réglé;pièce\n\
                    A1;C1;01/02/2026;01/02/2026;-100,00;-40;avoir\n\
                    A2;C1;01/02/2026;01/02/2026;100,00;40;Avoir\n\
                    A1;C1;01/02/2026;01/02/2026;100,00;;facture\n";
        let (rows, report) = read(text);
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert_eq!(rows[0].kind, ItemKind::CreditNote);
        assert_eq!(rows[0].total.amount, dec!(-100.00));
        assert_eq!(rows[0].paid.amount, dec!(-40));
        assert_eq!(rows[1].total.amount, dec!(-100.00));
        assert_eq!(rows[1].paid.amount, dec!(-40));
        // An invoice may share its number with a credit note: the store keys (kind, number).
        assert_eq!(rows[2].kind, ItemKind::Invoice);
        assert_eq!(rows[2].total.amount, dec!(100.00));
    }

    #[test]
    fn a_negative_invoice_says_how_to_mark_a_credit_note() {
        let text = "numéro;code client;date;échéance;montant;type de document\n\
                    F1;C1;01/02/2026;01/02/2026;-5;\n\
                    F2;C1;01/02/2026;01/02/2026;5;bon de commande\n";
        let (rows, report) = read(text);
        assert!(rows.is_empty());
        assert_eq!(
            messages(&report),
            [
                "t.csv:2: column \"montant\": \"-5\" is negative but the line is not marked as a \
                 credit note: write \"credit_note\" (or \"avoir\") in its \"type de document\" column",
                "t.csv:3: column \"type de document\": \"bon de commande\" is neither an invoice \
                 (\"invoice\", \"facture\") nor a credit note (\"credit_note\", \"avoir\")",
            ]
        );
    }

    #[test]
    fn a_type_column_holding_document_types_gets_a_hint() {
        let text = "numéro;code client;type;date;échéance;montant\n\
                    A1;C1;Avoir;01/01/2026;01/01/2026;10\n";
        let (_, report) = read(text);
        assert_eq!(
            messages(&report),
            ["t.csv:2: column \"type\": \"Avoir\" is neither business (entreprise) nor consumer \
              (particulier); a credit note is marked in a \"document_type\" (\"type de document\") column"]
        );
    }

    #[test]
    fn long_terms_warn_for_businesses_only() {
        let text = "numéro;code client;type;date;échéance;montant\n\
                    F1;C1;entreprise;01/01/2026;01/04/2026;10\n\
                    F2;C2;particulier;01/01/2026;01/04/2026;10\n\
                    F3;C3;;01/01/2026;02/03/2026;10\n\
                    F4;C4;;31/01/2026;31/03/2026;10\n";
        // F3: exactly 60 days; F4: 59 days; F2: a consumer (L441-10 does not apply).
        let (rows, report) = read(text);
        assert_eq!(rows.len(), 4);
        assert_eq!(
            messages(&report),
            ["t.csv:2: warning: column \"échéance\": \"01/04/2026\" gives 90 days of payment terms, \
              beyond the cap of Code de commerce L441-10 I (60 days from the invoice date, or 45 days end \
              of month: 2026-03-17 at the latest)"]
        );
    }

    #[test]
    fn checks_decimals_against_the_currency() {
        let text = "numéro;code client;date;échéance;montant;devise;langue\n\
                    F1;C1;01/01/2026;01/01/2026;100,5;JPY;fr\n\
                    F2;C1;01/01/2026;01/01/2026;1500;jpy;klingon\n\
                    F3;C1;01/01/2026;01/01/2026;12,500;;\n";
        let (rows, report) = read(text);
        let jpy = Currency::parse("JPY").expect("JPY");
        assert_eq!(
            messages(&report),
            [
                "t.csv:2: column \"montant\": \"100,5\" has more decimals than JPY allows (0)",
                "t.csv:3: warning: column \"langue\": \"klingon\" is not a language relance writes \
                 in (fr, en): the default applies",
            ]
        );
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].total, Money::new(dec!(1500), jpy));
        assert_eq!(rows[0].language, None);
        // Trailing zeros are not extra precision.
        assert_eq!(rows[1].total, Money::eur(dec!(12.5)));
    }

    #[test]
    fn reports_all_errors_of_one_row_and_refuses_a_column_given_twice() {
        let text = "numéro;code client;date;échéance;montant;devise;date facture\n\
                    ;;x;y;z;ABC;\n";
        let (rows, report) = read(text);
        assert!(rows.is_empty());
        // Missing number and customer together make a totals line: the header error remains.
        assert_eq!(report.errors().count(), 1);
        assert_eq!(report.problems[0].column.as_deref(), Some("date facture"));
        let text = "numéro;code client;date;échéance;montant;devise\n\
                    F1;;x;y;z;ABC\n";
        let (_, report) = read(text);
        let columns: Vec<Option<&str>> = report
            .problems
            .iter()
            .map(|p| p.column.as_deref())
            .collect();
        assert_eq!(
            columns,
            [
                Some("code client"),
                Some("date"),
                Some("échéance"),
                Some("devise"),
                Some("montant")
            ]
        );
        assert!(report
            .problems
            .iter()
            .all(|p| p.severity == Severity::Error));
    }
}
