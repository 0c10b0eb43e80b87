//! EN 16931 e-invoices: UBL 2.1 (Invoice, CreditNote) and UN/CEFACT CII, read into the same
//! rows as the invoice CSV so that the rest of the import is identical.
//!
//! What receivables need, by business term: BT-1 number, BT-2 issue date, BT-9 due date (else
//! derived from BT-20 payment terms, else a default term, with a warning), BT-5 currency,
//! BT-112 total with VAT, BT-113 paid amount, BT-115 amount due, BG-7 the buyer (identifier,
//! name, legal id, VAT id, address, e-mail, phone). The buyer's code in relance is, in order:
//! BT-46 buyer identifier, BT-47 legal registration id, BT-48 VAT id, the name.

use chrono::NaiveDate;
use relance_core::ledger::ItemKind;
use relance_core::money::{Currency, Money};
use relance_core::party::{CustomerCode, CustomerKind, EmailAddress, Siren};
use roxmltree::{Document, Node};
use rust_decimal::Decimal;

use crate::problem::{Problem, ReadReport, Severity};
use crate::InvoiceRow;

/// Which syntax a file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceSyntax {
    Csv,
    Ubl,
    Cii,
    /// A PDF (Factur-X / ZUGFeRD carries a CII file inside).
    Pdf,
    /// A FEC (Fichier des écritures comptables).
    Fec,
    /// An Excel workbook (`.xlsx`) with the CSV's columns.
    Xlsx,
}

/// Looks at the first bytes: a PDF, a zip (an `.xlsx` workbook), an XML root element, a FEC
/// header, or else CSV.
pub fn detect_invoice_syntax(bytes: &[u8]) -> InvoiceSyntax {
    if bytes.starts_with(b"%PDF") {
        return InvoiceSyntax::Pdf;
    }
    if crate::xlsx::looks_like_xlsx(bytes) {
        return InvoiceSyntax::Xlsx;
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    let trimmed = head.trim_start_matches('\u{feff}').trim_start();
    if crate::fec::looks_like_fec(bytes) {
        return InvoiceSyntax::Fec;
    }
    if !trimmed.starts_with('<') {
        return InvoiceSyntax::Csv;
    }
    if head.contains("CrossIndustryInvoice") {
        InvoiceSyntax::Cii
    } else {
        InvoiceSyntax::Ubl
    }
}

/// Default payment term applied when an e-invoice states neither a due date nor a term we can
/// read: 30 days, the Code de commerce's default (L441-10 I).
pub const DEFAULT_TERM_DAYS: i64 = 30;

/// Reads one UBL or CII invoice or credit note.
pub fn read_invoice_xml(
    source: &str,
    bytes: &[u8],
    sink: &mut dyn FnMut(InvoiceRow),
) -> ReadReport {
    let mut report = ReadReport::default();
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.trim_start_matches('\u{feff}'),
        Err(e) => {
            report.problems.push(problem(
                source,
                1,
                None,
                None,
                format!("is not UTF-8 XML ({e})"),
                Severity::Error,
            ));
            return report;
        }
    };
    let doc = match Document::parse(text) {
        Ok(d) => d,
        Err(e) => {
            report.problems.push(problem(
                source,
                u64::from(e.pos().row),
                None,
                None,
                format!("is not well-formed XML: {e}"),
                Severity::Error,
            ));
            return report;
        }
    };
    let mut reader = Reader {
        source,
        doc: &doc,
        problems: Vec::new(),
    };
    let row = match doc.root_element().tag_name().name() {
        "Invoice" => reader.ubl(ItemKind::Invoice),
        "CreditNote" => reader.ubl(ItemKind::CreditNote),
        "CrossIndustryInvoice" => reader.cii(),
        other => {
            reader.error(doc.root_element(), None, format!("root element <{other}> is neither a UBL Invoice/CreditNote nor a CII CrossIndustryInvoice"));
            None
        }
    };
    report.problems = reader.problems;
    if let Some(row) = row {
        if !report.has_errors() {
            report.rows = 1;
            sink(row);
        }
    }
    report
}

struct Reader<'a, 'input> {
    source: &'a str,
    doc: &'a Document<'input>,
    problems: Vec<Problem>,
}

/// The parts of an invoice both syntaxes give, before checks.
#[derive(Default)]
struct Fields<'a, 'input> {
    number: Option<Node<'a, 'input>>,
    issue: Option<Node<'a, 'input>>,
    due: Option<Node<'a, 'input>>,
    terms: Option<Node<'a, 'input>>,
    currency: Option<Node<'a, 'input>>,
    total: Option<Node<'a, 'input>>,
    prepaid: Option<Node<'a, 'input>>,
    payable: Option<Node<'a, 'input>>,
    buyer_id: Option<Node<'a, 'input>>,
    buyer_legal_id: Option<Node<'a, 'input>>,
    buyer_vat: Option<Node<'a, 'input>>,
    buyer_name: Option<Node<'a, 'input>>,
    email: Option<Node<'a, 'input>>,
    phone: Option<Node<'a, 'input>>,
    address: Vec<String>,
}

impl<'a, 'input> Reader<'a, 'input> {
    fn line(&self, node: Node<'_, '_>) -> u64 {
        u64::from(self.doc.text_pos_at(node.range().start).row)
    }

    fn error(&mut self, node: Node<'_, '_>, field: Option<&str>, message: String) {
        let line = self.line(node);
        self.problems.push(problem(
            self.source,
            line,
            field,
            None,
            message,
            Severity::Error,
        ));
    }

    fn warn(&mut self, node: Node<'_, '_>, field: Option<&str>, message: String) {
        let line = self.line(node);
        self.problems.push(problem(
            self.source,
            line,
            field,
            None,
            message,
            Severity::Warning,
        ));
    }

    fn ubl(&mut self, kind: ItemKind) -> Option<InvoiceRow> {
        let root = self.doc.root_element();
        let buyer = path(root, &["AccountingCustomerParty", "Party"]);
        let address = buyer.and_then(|b| child(b, "PostalAddress")).map(|a| {
            let mut lines: Vec<String> = ["StreetName", "AdditionalStreetName"]
                .iter()
                .filter_map(|n| child(a, n).map(text))
                .filter(|t| !t.is_empty())
                .collect();
            let city = [
                child(a, "PostalZone").map(text),
                child(a, "CityName").map(text),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
            if !city.trim().is_empty() {
                lines.push(city.trim().to_string());
            }
            if let Some(country) = path(a, &["Country", "IdentificationCode"]).map(text) {
                lines.push(country);
            }
            lines
        });
        let due =
            child(root, "DueDate").or_else(|| path(root, &["PaymentMeans", "PaymentDueDate"]));
        let fields = Fields {
            number: child(root, "ID"),
            issue: child(root, "IssueDate"),
            due,
            terms: path(root, &["PaymentTerms", "Note"]),
            currency: child(root, "DocumentCurrencyCode"),
            total: path(root, &["LegalMonetaryTotal", "TaxInclusiveAmount"]),
            prepaid: path(root, &["LegalMonetaryTotal", "PrepaidAmount"]),
            payable: path(root, &["LegalMonetaryTotal", "PayableAmount"]),
            buyer_id: buyer.and_then(|b| path(b, &["PartyIdentification", "ID"])),
            buyer_legal_id: buyer.and_then(|b| path(b, &["PartyLegalEntity", "CompanyID"])),
            buyer_vat: buyer.and_then(|b| path(b, &["PartyTaxScheme", "CompanyID"])),
            buyer_name: buyer.and_then(|b| {
                path(b, &["PartyLegalEntity", "RegistrationName"])
                    .or_else(|| path(b, &["PartyName", "Name"]))
            }),
            email: buyer.and_then(|b| path(b, &["Contact", "ElectronicMail"])),
            phone: buyer.and_then(|b| path(b, &["Contact", "Telephone"])),
            address: address.unwrap_or_default(),
        };
        self.finish(kind, fields, parse_iso_date)
    }

    fn cii(&mut self) -> Option<InvoiceRow> {
        let root = self.doc.root_element();
        let document = child(root, "ExchangedDocument");
        let transaction = child(root, "SupplyChainTradeTransaction");
        let settlement = transaction.and_then(|t| child(t, "ApplicableHeaderTradeSettlement"));
        let buyer = transaction
            .and_then(|t| path(t, &["ApplicableHeaderTradeAgreement", "BuyerTradeParty"]));
        let summation =
            settlement.and_then(|s| child(s, "SpecifiedTradeSettlementHeaderMonetarySummation"));
        let kind = match document
            .and_then(|d| child(d, "TypeCode"))
            .map(text)
            .as_deref()
        {
            // UNTDID 1001: 381 credit note, 396 factored credit note, 261 self-billed credit note.
            Some("381" | "396" | "261" | "262") => ItemKind::CreditNote,
            _ => ItemKind::Invoice,
        };
        let address = buyer.and_then(|b| child(b, "PostalTradeAddress")).map(|a| {
            let mut lines: Vec<String> = ["LineOne", "LineTwo", "LineThree"]
                .iter()
                .filter_map(|n| child(a, n).map(text))
                .filter(|t| !t.is_empty())
                .collect();
            let city = [
                child(a, "PostcodeCode").map(text),
                child(a, "CityName").map(text),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
            if !city.trim().is_empty() {
                lines.push(city.trim().to_string());
            }
            if let Some(country) = child(a, "CountryID").map(text) {
                lines.push(country);
            }
            lines
        });
        let fields = Fields {
            number: document.and_then(|d| child(d, "ID")),
            issue: document.and_then(|d| path(d, &["IssueDateTime", "DateTimeString"])),
            due: settlement.and_then(|s| {
                path(
                    s,
                    &[
                        "SpecifiedTradePaymentTerms",
                        "DueDateDateTime",
                        "DateTimeString",
                    ],
                )
            }),
            terms: settlement.and_then(|s| path(s, &["SpecifiedTradePaymentTerms", "Description"])),
            currency: settlement.and_then(|s| child(s, "InvoiceCurrencyCode")),
            total: summation.and_then(|s| child(s, "GrandTotalAmount")),
            prepaid: summation.and_then(|s| child(s, "TotalPrepaidAmount")),
            payable: summation.and_then(|s| child(s, "DuePayableAmount")),
            buyer_id: buyer.and_then(|b| child(b, "ID")),
            buyer_legal_id: buyer.and_then(|b| path(b, &["SpecifiedLegalOrganization", "ID"])),
            buyer_vat: buyer.and_then(|b| path(b, &["SpecifiedTaxRegistration", "ID"])),
            buyer_name: buyer.and_then(|b| child(b, "Name")),
            email: buyer.and_then(|b| {
                path(b, &["URIUniversalCommunication", "URIID"]).or_else(|| {
                    path(
                        b,
                        &[
                            "DefinedTradeContact",
                            "EmailURIUniversalCommunication",
                            "URIID",
                        ],
                    )
                })
            }),
            phone: buyer.and_then(|b| {
                path(
                    b,
                    &[
                        "DefinedTradeContact",
                        "TelephoneUniversalCommunication",
                        "CompleteNumber",
                    ],
                )
            }),
            address: address.unwrap_or_default(),
        };
        self.finish(kind, fields, parse_cii_date)
    }

    /// Checks the fields common to both syntaxes and builds the row.
    fn finish(
        &mut self,
        kind: ItemKind,
        f: Fields<'_, '_>,
        date: fn(&str) -> Option<NaiveDate>,
    ) -> Option<InvoiceRow> {
        let root = self.doc.root_element();
        let number = self
            .required(f.number, root, "BT-1 invoice number")
            .map(text)
            .filter(|n| !n.is_empty());
        let issue = self
            .required(f.issue, root, "BT-2 issue date")
            .and_then(|n| {
                let parsed = date(&text(n));
                if parsed.is_none() {
                    self.error(
                        n,
                        Some("BT-2 issue date"),
                        format!("\"{}\" is not a date", text(n)),
                    );
                }
                parsed
            });
        let currency = match f.currency {
            None => Some(Currency::EUR),
            Some(n) => match Currency::parse(&text(n)) {
                Ok(c) => Some(c),
                Err(e) => {
                    self.error(n, Some("BT-5 currency"), e.to_string());
                    None
                }
            },
        };
        let total = self.amount(f.total.or(f.payable), root, "BT-112 total with VAT");
        let prepaid = match f.prepaid {
            Some(n) => self.amount(Some(n), root, "BT-113 paid amount"),
            None => Some(Decimal::ZERO),
        };
        if let (Some(t), Some(p), Some(payable)) = (total, prepaid, f.payable) {
            if let Some(due_amount) = decimal(&text(payable)) {
                if due_amount != t - p {
                    self.warn(payable, Some("BT-115 amount due"), format!(
                        "amount due {due_amount} differs from total {t} less paid {p} (rounding amount BT-114?); the open amount is taken as total less paid"
                    ));
                }
            }
        }
        let due = match f.due {
            Some(n) => {
                let parsed = date(&text(n));
                if parsed.is_none() {
                    self.error(
                        n,
                        Some("BT-9 due date"),
                        format!("\"{}\" is not a date", text(n)),
                    );
                }
                parsed
            }
            None => issue.map(|issue| {
                let terms_text = f.terms.map(text).unwrap_or_default();
                let (days, how) = match term_days(&terms_text) {
                    Some(days) => (
                        days,
                        format!("from the payment terms \"{}\"", terms_text.trim()),
                    ),
                    None => (
                        DEFAULT_TERM_DAYS,
                        format!("with the default term of {DEFAULT_TERM_DAYS} days (L441-10 I)"),
                    ),
                };
                let due = issue + chrono::Duration::days(days);
                self.warn(
                    f.terms.unwrap_or(root),
                    Some("BT-9 due date"),
                    format!("no due date in the file: {due} derived {how}"),
                );
                due
            }),
        };
        let code_node = f
            .buyer_id
            .or(f.buyer_legal_id)
            .or(f.buyer_vat)
            .or(f.buyer_name);
        let customer_code = match code_node.map(text).filter(|c| !c.is_empty()) {
            Some(code) => CustomerCode::parse(&code).ok(),
            None => {
                self.error(
                    root,
                    Some("BG-7 buyer"),
                    "no buyer identifier, legal id, VAT id or name".into(),
                );
                None
            }
        };
        let emails = match f.email.map(text).filter(|e| !e.is_empty()) {
            Some(e) => match EmailAddress::parse(&e) {
                Ok(addr) => vec![addr],
                Err(err) => {
                    if let Some(n) = f.email {
                        self.warn(n, Some("BT-58 buyer e-mail"), err.to_string());
                    }
                    Vec::new()
                }
            },
            None => Vec::new(),
        };
        // A French legal id of nine digits is a SIREN.
        let siren = f
            .buyer_legal_id
            .map(text)
            .and_then(|id| Siren::parse(&id).ok());
        let (
            Some(number),
            Some(issue),
            Some(due),
            Some(currency),
            Some(total),
            Some(prepaid),
            Some(customer_code),
        ) = (number, issue, due, currency, total, prepaid, customer_code)
        else {
            return None;
        };
        if due < issue {
            self.error(
                f.due.unwrap_or(root),
                Some("BT-9 due date"),
                format!("due date {due} is before the issue date {issue}"),
            );
            return None;
        }
        let sign = if kind == ItemKind::CreditNote {
            -Decimal::ONE
        } else {
            Decimal::ONE
        };
        let line = f.number.map(|n| self.line(n)).unwrap_or(1);
        Some(InvoiceRow {
            line,
            kind,
            number,
            customer_code,
            customer_name: f.buyer_name.map(text),
            customer_kind: Some(CustomerKind::Business),
            emails,
            phone: f.phone.map(text),
            address: (!f.address.is_empty()).then(|| f.address.join("\n")),
            siren,
            language: None,
            issue_date: issue,
            due_date: due,
            total: Money::new(sign * total.abs(), currency),
            paid: Money::new(sign * prepaid.abs(), currency),
        })
    }

    fn required<'n, 'i>(
        &mut self,
        node: Option<Node<'n, 'i>>,
        root: Node<'_, '_>,
        field: &str,
    ) -> Option<Node<'n, 'i>> {
        if node.is_none() {
            self.error(root, Some(field), format!("{field} is missing"));
        }
        node
    }

    fn amount(
        &mut self,
        node: Option<Node<'_, '_>>,
        root: Node<'_, '_>,
        field: &str,
    ) -> Option<Decimal> {
        let node = self.required(node, root, field)?;
        let value = text(node);
        let parsed = decimal(&value);
        if parsed.is_none() {
            self.error(node, Some(field), format!("\"{value}\" is not an amount"));
        }
        parsed
    }
}

fn problem(
    source: &str,
    line: u64,
    column: Option<&str>,
    value: Option<String>,
    message: String,
    severity: Severity,
) -> Problem {
    Problem {
        source: source.to_string(),
        line,
        column: column.map(String::from),
        value,
        message,
        severity,
    }
}

fn child<'a, 'input>(node: Node<'a, 'input>, name: &str) -> Option<Node<'a, 'input>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

fn path<'a, 'input>(node: Node<'a, 'input>, names: &[&str]) -> Option<Node<'a, 'input>> {
    names.iter().try_fold(node, |n, name| child(n, name))
}

fn text(node: Node<'_, '_>) -> String {
    node.text().unwrap_or("").trim().to_string()
}

/// An XML decimal, refused beyond [`relance_core::MAX_AMOUNT`] so that totals computed from
/// it (due = total − prepaid) cannot overflow.
fn decimal(text: &str) -> Option<Decimal> {
    let value = text.trim().parse::<Decimal>().ok()?;
    relance_core::check_amount_bound(text, value).ok()
}

fn parse_iso_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// CII dates use format 102 (`YYYYMMDD`).
fn parse_cii_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    NaiveDate::parse_from_str(t, "%Y%m%d")
        .ok()
        .or_else(|| parse_iso_date(t))
}

/// Reads a number of days from payment terms as people write them: "30 jours", "net 30",
/// "Payable within 30 days", "45 jours fin de mois" (end of month not applied: a warning says
/// how the date was derived). `None` when no single number of days is stated.
pub fn term_days(terms: &str) -> Option<i64> {
    let lower = terms.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    for (i, w) in words.iter().enumerate() {
        if let Ok(n) = w.parse::<i64>() {
            let next = words.get(i + 1).copied().unwrap_or("");
            let prev = if i > 0 { words[i - 1] } else { "" };
            if matches!(
                next,
                "jours" | "jour" | "days" | "day" | "j" | "dagen" | "tage"
            ) || prev == "net"
            {
                return (1..=365).contains(&n).then_some(n);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_terms_written_in_words() {
        assert_eq!(term_days("Paiement à 30 jours"), Some(30));
        assert_eq!(term_days("Net 45"), Some(45));
        assert_eq!(term_days("Payable within 14 days"), Some(14));
        assert_eq!(term_days("2 % discount if paid within 2 days"), Some(2));
        assert_eq!(term_days("50% prepaid, 50% within one month"), None);
        assert_eq!(term_days(""), None);
    }

    #[test]
    fn detects_the_syntax_from_the_first_bytes() {
        assert_eq!(detect_invoice_syntax(b"%PDF-1.7"), InvoiceSyntax::Pdf);
        assert_eq!(
            detect_invoice_syntax(b"<?xml version=\"1.0\"?><rsm:CrossIndustryInvoice"),
            InvoiceSyntax::Cii
        );
        assert_eq!(
            detect_invoice_syntax(b"\xef\xbb\xbf<?xml version=\"1.0\"?><Invoice>"),
            InvoiceSyntax::Ubl
        );
        assert_eq!(
            detect_invoice_syntax("numéro;client\n".as_bytes()),
            InvoiceSyntax::Csv
        );
    }

    #[test]
    fn a_broken_file_gets_a_positioned_error() {
        let mut rows = Vec::new();
        let report = read_invoice_xml(
            "broken.xml",
            b"<Invoice>\n<ID>1</ID>\n<Oops>\n</Invoice>",
            &mut |r| rows.push(r),
        );
        assert!(rows.is_empty());
        let first = report
            .problems
            .first()
            .map(|p| p.to_string())
            .unwrap_or_default();
        assert!(first.starts_with("broken.xml:4:"), "{first}");
    }

    #[test]
    fn a_missing_number_and_total_are_errors() {
        let xml = "<Invoice><IssueDate>2026-01-01</IssueDate><DueDate>2026-01-31</DueDate>\
                   <AccountingCustomerParty><Party><PartyIdentification><ID>C1</ID></PartyIdentification></Party></AccountingCustomerParty></Invoice>";
        let report = read_invoice_xml("x.xml", xml.as_bytes(), &mut |_| {});
        let text: Vec<String> = report.problems.iter().map(|p| p.to_string()).collect();
        assert!(
            text.iter()
                .any(|t| t.contains("BT-1 invoice number is missing")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|t| t.contains("BT-112 total with VAT is missing")),
            "{text:?}"
        );
    }
}
