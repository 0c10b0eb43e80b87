//! The suppliers' files (issue 9): purchase orders we placed and the invoices suppliers sent us,
//! one per line, columns found by name, with the rules of the invoice CSV (encodings, `;` or `,`,
//! `1 234,56`, DD/MM/YYYY, French or English headers, every problem reported with its line and
//! column so the caller refuses the file as a whole).

use std::collections::HashMap;

use chrono::NaiveDate;
use relance_core::money::Money;
use relance_core::party::Language;
use rust_decimal::Decimal;

use crate::cells::{amount, currency, optional, required_date};
use crate::columns::ColumnSpec;
use crate::problem::ReadReport;
use crate::table::{read_table, Row};

/// The supplier a line names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupplierCells {
    pub code: String,
    pub name: Option<String>,
    pub email: Option<String>,
    /// Postal address, lines separated by `|` or `\n` in the cell.
    pub address: Option<String>,
    /// The language its letters are written in (`fr` or `en`); the default when `None`.
    pub language: Option<Language>,
}

/// One valid line of a purchase-orders file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchaseOrderRow {
    /// Physical line in the file.
    pub line: u64,
    pub supplier: SupplierCells,
    pub number: String,
    pub ordered_on: NaiveDate,
    /// The delivery date the supplier promised.
    pub promised_on: NaiveDate,
    pub amount: Money,
    pub quantity: Decimal,
    /// When the goods arrived, if they did.
    pub delivered_on: Option<NaiveDate>,
}

/// One valid line of a supplier-invoices file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupplierInvoiceRow {
    pub line: u64,
    pub supplier: SupplierCells,
    pub number: String,
    pub issued_on: NaiveDate,
    /// The purchase order it says it bills; missing on some invoices (a discrepancy itself).
    pub po_number: Option<String>,
    pub amount: Money,
    pub quantity: Option<Decimal>,
}

const SUPPLIER_ID: usize = 0;
const SUPPLIER_NAME: usize = 1;
const EMAIL: usize = 2;
const ADDRESS: usize = 3;

fn supplier_specs() -> [ColumnSpec; 4] {
    [
        ColumnSpec {
            english: "supplier_id",
            french: "code fournisseur",
            aliases: &[
                "supplier_id",
                "supplier code",
                "supplier",
                "vendor",
                "vendor id",
                "code fournisseur",
                "fournisseur",
                "n° fournisseur",
                "numéro fournisseur",
                "code tiers",
            ],
            required: true,
        },
        ColumnSpec {
            english: "supplier_name",
            french: "raison sociale",
            aliases: &[
                "supplier_name",
                "name",
                "vendor name",
                "raison sociale",
                "nom",
                "nom fournisseur",
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
            english: "address",
            french: "adresse",
            aliases: &["address", "postal address", "adresse", "adresse postale"],
            required: false,
        },
    ]
}

const PO_NUMBER_ALIASES: &[&str] = &[
    "po_number",
    "po",
    "po number",
    "purchase order",
    "order",
    "order number",
    "bon de commande",
    "n° commande",
    "numéro de commande",
    "numero de commande",
    "commande",
    "n° bc",
    "bc",
];

const AMOUNT_SPEC: ColumnSpec = ColumnSpec {
    english: "amount",
    french: "montant TTC",
    aliases: &["amount", "total", "montant", "montant ttc", "total ttc"],
    required: true,
};
const CURRENCY_SPEC: ColumnSpec = ColumnSpec {
    english: "currency",
    french: "devise",
    aliases: &["currency", "devise", "monnaie"],
    required: false,
};

const LANGUAGE_SPEC: ColumnSpec = ColumnSpec {
    english: "language",
    french: "langue",
    aliases: &["language", "lang", "langue"],
    required: false,
};

// Purchase orders: the supplier's four columns, then these (the language last).
const PO_NUMBER: usize = 4;
const ORDER_DATE: usize = 5;
const PROMISED: usize = 6;
const PO_AMOUNT: usize = 7;
const PO_CURRENCY: usize = 8;
const PO_QUANTITY: usize = 9;
const DELIVERED: usize = 10;
const PO_LANGUAGE: usize = 11;

fn po_specs() -> Vec<ColumnSpec> {
    let mut specs = supplier_specs().to_vec();
    specs.extend([
        ColumnSpec {
            english: "po_number",
            french: "numéro de commande",
            aliases: PO_NUMBER_ALIASES,
            required: true,
        },
        ColumnSpec {
            english: "order_date",
            french: "date de commande",
            aliases: &[
                "order_date",
                "order date",
                "date",
                "ordered on",
                "date de commande",
                "date commande",
            ],
            required: true,
        },
        ColumnSpec {
            english: "promised_date",
            french: "date de livraison promise",
            aliases: &[
                "promised_date",
                "promised date",
                "promised delivery",
                "delivery date",
                "due delivery",
                "date de livraison promise",
                "date de livraison prévue",
                "livraison prévue",
                "livraison promise",
                "date de livraison",
            ],
            required: true,
        },
        AMOUNT_SPEC,
        CURRENCY_SPEC,
        ColumnSpec {
            english: "quantity",
            french: "quantité",
            aliases: &["quantity", "qty", "quantité", "quantite", "qté"],
            required: true,
        },
        ColumnSpec {
            english: "delivered_date",
            french: "date de réception",
            aliases: &[
                "delivered_date",
                "delivered on",
                "delivered",
                "received on",
                "date de réception",
                "reçu le",
                "livré le",
                "date livraison effective",
            ],
            required: false,
        },
        LANGUAGE_SPEC,
    ]);
    specs
}

// Supplier invoices: the supplier's four columns, then these.
const INV_NUMBER: usize = 4;
const INV_DATE: usize = 5;
const INV_PO: usize = 6;
const INV_AMOUNT: usize = 7;
const INV_CURRENCY: usize = 8;
const INV_QUANTITY: usize = 9;
const INV_LANGUAGE: usize = 10;

fn invoice_specs() -> Vec<ColumnSpec> {
    let mut specs = supplier_specs().to_vec();
    specs.extend([
        ColumnSpec {
            english: "invoice_number",
            french: "numéro de facture",
            aliases: &[
                "invoice_number",
                "invoice",
                "invoice no",
                "number",
                "facture",
                "numéro de facture",
                "n° facture",
                "numéro facture",
            ],
            required: true,
        },
        ColumnSpec {
            english: "invoice_date",
            french: "date de facture",
            aliases: &[
                "invoice_date",
                "date",
                "issue date",
                "date de facture",
                "date facture",
                "date d'émission",
            ],
            required: true,
        },
        ColumnSpec {
            english: "po_number",
            french: "numéro de commande",
            aliases: PO_NUMBER_ALIASES,
            required: false,
        },
        AMOUNT_SPEC,
        CURRENCY_SPEC,
        ColumnSpec {
            english: "quantity",
            french: "quantité",
            aliases: &["quantity", "qty", "quantité", "quantite", "qté"],
            required: false,
        },
        LANGUAGE_SPEC,
    ]);
    specs
}

/// Reads a purchase-orders CSV. Every valid row goes to `sink`, in file order; rows with an
/// Error do not. The report holds every problem of the file.
pub fn read_purchase_orders_csv(
    source: &str,
    bytes: &[u8],
    sink: &mut dyn FnMut(PurchaseOrderRow),
) -> ReadReport {
    let specs = po_specs();
    let mut numbers = HashMap::<String, u64>::new();
    read_table(source, bytes, &specs, |row| {
        match check_po(row, &mut numbers) {
            Some(po) => {
                sink(po);
                true
            }
            None => false,
        }
    })
}

/// Reads a supplier-invoices CSV, as [`read_purchase_orders_csv`] does.
pub fn read_supplier_invoices_csv(
    source: &str,
    bytes: &[u8],
    sink: &mut dyn FnMut(SupplierInvoiceRow),
) -> ReadReport {
    let specs = invoice_specs();
    let mut numbers = HashMap::<(String, String), u64>::new();
    read_table(source, bytes, &specs, |row| {
        match check_invoice(row, &mut numbers) {
            Some(invoice) => {
                sink(invoice);
                true
            }
            None => false,
        }
    })
}

fn supplier(row: &mut Row<'_, '_, '_>, language_spec: usize) -> Option<SupplierCells> {
    let code = row.get(SUPPLIER_ID);
    if code.is_empty() {
        row.error(SUPPLIER_ID, None, "the supplier code is empty".to_string());
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
    let language = match optional(row.get(language_spec)) {
        None => None,
        Some(text) => {
            let language = Language::parse(text);
            if language.is_none() {
                row.error(
                    language_spec,
                    Some(text),
                    format!("\"{text}\" is not a language (fr or en)"),
                );
            }
            language
        }
    };
    (!code.is_empty()).then(|| SupplierCells {
        code: code.to_string(),
        name: optional(row.get(SUPPLIER_NAME)).map(str::to_string),
        email: email.map(str::to_string),
        address: optional(row.get(ADDRESS)).map(str::to_string),
        language,
    })
}

fn positive_amount(row: &mut Row<'_, '_, '_>, spec: usize, currency_spec: usize) -> Option<Money> {
    let currency = currency(row, currency_spec);
    let value = amount(row, spec, currency, false);
    if value.is_some_and(|v| v.is_sign_negative() && !v.is_zero()) {
        let text = row.get(spec);
        row.error(spec, Some(text), format!("\"{text}\" is negative"));
        return None;
    }
    Some(Money::new(value?, currency?))
}

fn quantity(row: &mut Row<'_, '_, '_>, spec: usize, required: bool) -> Option<Option<Decimal>> {
    let text = row.get(spec);
    if text.is_empty() {
        if required {
            row.error(spec, None, "the quantity is empty".to_string());
            return None;
        }
        return Some(None);
    }
    match crate::text::parse_decimal(text) {
        Ok(q) if q.is_sign_negative() && !q.is_zero() => {
            row.error(spec, Some(text), format!("\"{text}\" is negative"));
            None
        }
        Ok(q) => Some(Some(q.normalize())),
        Err(_) => {
            row.error(spec, Some(text), format!("\"{text}\" is not a quantity"));
            None
        }
    }
}

fn optional_date(row: &mut Row<'_, '_, '_>, spec: usize) -> Option<NaiveDate> {
    let text = optional(row.get(spec))?;
    let day = crate::text::parse_date(text);
    if day.is_none() {
        row.error(spec, Some(text), format!("\"{text}\" is not a date"));
    }
    day
}

fn check_po(
    row: &mut Row<'_, '_, '_>,
    numbers: &mut HashMap<String, u64>,
) -> Option<PurchaseOrderRow> {
    let supplier = supplier(row, PO_LANGUAGE);
    let number = row.get(PO_NUMBER);
    if number.is_empty() {
        row.error(PO_NUMBER, None, "the order number is empty".to_string());
    } else if let Some(first) = numbers.get(number) {
        row.error(
            PO_NUMBER,
            Some(number),
            format!("order \"{number}\" is already on line {first}"),
        );
    } else {
        numbers.insert(number.to_string(), row.line);
    }
    let ordered_on = required_date(row, ORDER_DATE, "order date");
    let promised_on = required_date(row, PROMISED, "promised delivery date");
    if let (Some(ordered), Some(promised)) = (ordered_on, promised_on) {
        if promised < ordered {
            let text = row.get(PROMISED);
            row.error(
                PROMISED,
                Some(text),
                format!("delivery promised ({promised}) before the order ({ordered})"),
            );
        }
    }
    let amount = positive_amount(row, PO_AMOUNT, PO_CURRENCY);
    let quantity = quantity(row, PO_QUANTITY, true);
    let delivered_on = optional_date(row, DELIVERED);
    if let (Some(ordered), Some(delivered)) = (ordered_on, delivered_on) {
        if delivered < ordered {
            let text = row.get(DELIVERED);
            row.error(
                DELIVERED,
                Some(text),
                format!("delivered ({delivered}) before the order ({ordered})"),
            );
        }
    }
    if !row.ok {
        return None;
    }
    Some(PurchaseOrderRow {
        line: row.line,
        supplier: supplier?,
        number: number.to_string(),
        ordered_on: ordered_on?,
        promised_on: promised_on?,
        amount: amount?,
        quantity: quantity??,
        delivered_on,
    })
}

fn check_invoice(
    row: &mut Row<'_, '_, '_>,
    numbers: &mut HashMap<(String, String), u64>,
) -> Option<SupplierInvoiceRow> {
    let supplier = supplier(row, INV_LANGUAGE);
    let number = row.get(INV_NUMBER);
    if number.is_empty() {
        row.error(INV_NUMBER, None, "the invoice number is empty".to_string());
    } else {
        let key = (row.get(SUPPLIER_ID).to_string(), number.to_string());
        if let Some(first) = numbers.get(&key) {
            row.error(
                INV_NUMBER,
                Some(number),
                format!("invoice \"{number}\" of this supplier is already on line {first}"),
            );
        } else {
            numbers.insert(key, row.line);
        }
    }
    let issued_on = required_date(row, INV_DATE, "invoice date");
    let po_number = optional(row.get(INV_PO)).map(str::to_string);
    let amount = positive_amount(row, INV_AMOUNT, INV_CURRENCY);
    let quantity = quantity(row, INV_QUANTITY, false);
    if !row.ok {
        return None;
    }
    Some(SupplierInvoiceRow {
        line: row.line,
        supplier: supplier?,
        number: number.to_string(),
        issued_on: issued_on?,
        po_number,
        amount: amount?,
        quantity: quantity?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn french_purchase_orders_in_windows_1252() {
        let mut bytes = b"Code fournisseur;Raison sociale;Courriel;Adresse;N\xb0 commande;Date de commande;Livraison pr\xe9vue;Montant TTC;Quantit\xe9;Re\xe7u le\r\n".to_vec();
        bytes.extend_from_slice(b"F01;Acier SA;achats@acier.example;1 rue du Port|69001 Lyon;BC-1;02/03/2026;16/03/2026;1 234,56;10;\r\n");
        bytes.extend_from_slice(
            b"F01;Acier SA;;;BC-2;02/03/2026;09/03/2026;99,00;2,5;10/03/2026\r\n",
        );
        let mut rows = Vec::new();
        let report = read_purchase_orders_csv("po.csv", &bytes, &mut |r| rows.push(r));
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].number, "BC-1");
        assert_eq!(rows[0].amount, Money::eur(dec!(1234.56)));
        assert_eq!(rows[0].quantity, dec!(10));
        assert_eq!(rows[0].promised_on, d(2026, 3, 16));
        assert_eq!(
            rows[0].supplier.email.as_deref(),
            Some("achats@acier.example")
        );
        assert_eq!(rows[1].quantity, dec!(2.5));
        assert_eq!(rows[1].delivered_on, Some(d(2026, 3, 10)));
    }

    #[test]
    fn purchase_order_problems_are_positioned() {
        let text =
            "supplier_id,po_number,order_date,promised_date,amount,quantity,delivered_date\n\
                    F1,PO-1,2026-03-02,2026-03-01,10,1,\n\
                    ,PO-1,2026-03-02,2026-03-09,abc,-2,soon\n";
        let mut rows = Vec::new();
        let report = read_purchase_orders_csv("po.csv", text.as_bytes(), &mut |r| rows.push(r));
        assert!(rows.is_empty());
        let messages: Vec<String> = report.problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            messages,
            [
                "po.csv:2: column \"promised_date\": delivery promised (2026-03-01) before the order (2026-03-02)",
                "po.csv:3: column \"supplier_id\": the supplier code is empty",
                "po.csv:3: column \"po_number\": order \"PO-1\" is already on line 2",
                "po.csv:3: column \"amount\": \"abc\" is not an amount",
                "po.csv:3: column \"quantity\": \"-2\" is negative",
                "po.csv:3: column \"delivered_date\": \"soon\" is not a date",
            ]
        );
    }

    #[test]
    fn supplier_invoices_english_and_french() {
        let text = "Supplier,Invoice number,Invoice date,PO number,Amount,Quantity,Language\n\
                    F1,FA-1,2026-03-20,PO-1,1200.00,10,en\n\
                    F1,FA-2,2026-03-21,,50,,\n";
        let mut rows = Vec::new();
        let report = read_supplier_invoices_csv("si.csv", text.as_bytes(), &mut |r| rows.push(r));
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert_eq!(rows[0].po_number.as_deref(), Some("PO-1"));
        assert_eq!(rows[0].quantity, Some(dec!(10)));
        assert_eq!(rows[1].po_number, None);
        assert_eq!(rows[1].quantity, None);
        assert_eq!(rows[0].supplier.language, Some(Language::En));
        assert_eq!(rows[1].supplier.language, None);

        let text = "Code fournisseur;Numéro de facture;Date de facture;Numéro de commande;Montant TTC;Quantité\n\
                    F1;FA-1;20/03/2026;BC-1;1 200,00;10\n\
                    F1;FA-1;32/03/2026;;12,345;x\n";
        let mut rows = Vec::new();
        let report = read_supplier_invoices_csv("si.csv", text.as_bytes(), &mut |r| rows.push(r));
        assert_eq!(rows.len(), 1);
        let messages: Vec<String> = report.problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            messages,
            [
                "si.csv:3: column \"Numéro de facture\": invoice \"FA-1\" of this supplier is already on line 2",
                "si.csv:3: column \"Date de facture\": \"32/03/2026\" is not a date",
                "si.csv:3: column \"Montant TTC\": \"12,345\" has more decimals than EUR allows (2)",
                "si.csv:3: column \"Quantité\": \"x\" is not a quantity",
            ]
        );
    }
}
