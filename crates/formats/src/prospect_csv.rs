//! The prospects CSV (issue 9): one contact first met per line — name, e-mail, phone, first
//! contact date, purpose or notes, language — with the rules of the invoice CSV (encodings,
//! `;` or `,`, DD/MM/YYYY, French or English headers, every problem reported with its line and
//! column so the caller refuses the file as a whole).
//!
//! A contact code column is optional: without one, the contact is known by its e-mail address
//! (lowercased), else by its phone number, so that importing the same file twice finds the
//! same contacts.

use chrono::NaiveDate;
use relance_core::party::{CustomerCode, EmailAddress, Language};

use crate::cells::{optional, required_date};
use crate::columns::ColumnSpec;
use crate::problem::ReadReport;
use crate::table::{read_table, Row};

/// One valid line of a prospects file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProspectRow {
    /// Physical line in the file.
    pub line: u64,
    pub code: CustomerCode,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub first_contact: NaiveDate,
    /// What the follow-up is about (news of the file, the offer's reception…), as typed.
    pub notes: Option<String>,
    pub language: Option<Language>,
}

const CODE: usize = 0;
const NAME: usize = 1;
const EMAIL: usize = 2;
const PHONE: usize = 3;
const DATE: usize = 4;
const NOTES: usize = 5;
const LANGUAGE: usize = 6;

const SPECS: &[ColumnSpec] = &[
    ColumnSpec {
        english: "contact_id",
        french: "code contact",
        aliases: &[
            "contact_id",
            "contact code",
            "customer_id",
            "code",
            "code contact",
            "code prospect",
            "code client",
        ],
        required: false,
    },
    ColumnSpec {
        english: "name",
        french: "nom",
        aliases: &[
            "name",
            "contact",
            "contact name",
            "company",
            "nom",
            "nom du contact",
            "raison sociale",
            "société",
            "societe",
            "prospect",
        ],
        required: true,
    },
    ColumnSpec {
        english: "email",
        french: "e-mail",
        aliases: &[
            "email",
            "e-mail",
            "mail",
            "courriel",
            "adresse email",
            "adresse e-mail",
        ],
        required: false,
    },
    ColumnSpec {
        english: "phone",
        french: "téléphone",
        aliases: &[
            "phone",
            "phone number",
            "téléphone",
            "telephone",
            "tel",
            "tél",
            "portable",
            "mobile",
        ],
        required: false,
    },
    ColumnSpec {
        english: "first_contact",
        french: "premier contact",
        aliases: &[
            "first_contact",
            "first contact",
            "first contact date",
            "met on",
            "date",
            "premier contact",
            "date du premier contact",
            "date de rencontre",
            "rencontré le",
        ],
        required: true,
    },
    ColumnSpec {
        english: "notes",
        french: "objet",
        aliases: &[
            "notes",
            "note",
            "purpose",
            "subject",
            "objet",
            "motif",
            "remarques",
            "commentaire",
        ],
        required: false,
    },
    ColumnSpec {
        english: "language",
        french: "langue",
        aliases: &["language", "lang", "langue"],
        required: false,
    },
];

/// Reads a prospects CSV. Every valid row goes to `sink`, in file order; rows with an Error do
/// not. The report holds every problem of the file.
pub fn read_prospects_csv(
    source: &str,
    bytes: &[u8],
    sink: &mut dyn FnMut(ProspectRow),
) -> ReadReport {
    let mut codes = std::collections::HashMap::<String, u64>::new();
    read_table(source, bytes, SPECS, |row| {
        match check_row(row, &mut codes) {
            Some(prospect) => {
                sink(prospect);
                true
            }
            None => false,
        }
    })
}

fn check_row(
    row: &mut Row<'_, '_, '_>,
    codes: &mut std::collections::HashMap<String, u64>,
) -> Option<ProspectRow> {
    let name = row.get(NAME).to_string();
    if name.is_empty() {
        row.error(NAME, None, "the contact's name is empty".to_string());
    }
    let email = optional(row.get(EMAIL)).map(str::to_string);
    if let Some(text) = &email {
        if EmailAddress::parse(text).is_err() {
            row.error(
                EMAIL,
                Some(text),
                format!("\"{text}\" is not an e-mail address"),
            );
        }
    }
    let phone = optional(row.get(PHONE)).map(str::to_string);
    if let Some(text) = &phone {
        let digits = text.chars().filter(char::is_ascii_digit).count();
        let allowed = text
            .chars()
            .all(|c| c.is_ascii_digit() || " .-+()/".contains(c));
        if !allowed || !(6..=15).contains(&digits) {
            row.error(
                PHONE,
                Some(text),
                format!("\"{text}\" is not a phone number"),
            );
        }
    }
    let first_contact = required_date(row, DATE, "first contact date");
    let language = match optional(row.get(LANGUAGE)) {
        None => None,
        Some(text) => match Language::parse(text) {
            Some(l) => Some(l),
            None => {
                row.error(
                    LANGUAGE,
                    Some(text),
                    format!("\"{text}\" is not a language (fr or en)"),
                );
                None
            }
        },
    };
    let code_text = row.get(CODE).to_string();
    let (code_spec, code_source) = if !code_text.is_empty() {
        (CODE, code_text)
    } else if let Some(e) = &email {
        (EMAIL, e.to_lowercase())
    } else if let Some(p) = &phone {
        (PHONE, p.chars().filter(|c| !c.is_whitespace()).collect())
    } else {
        row.error(
            EMAIL,
            None,
            "neither an e-mail address nor a phone number: the contact cannot be followed up"
                .to_string(),
        );
        (CODE, String::new())
    };
    let code = if code_source.is_empty() {
        None
    } else {
        match CustomerCode::parse(&code_source) {
            Ok(code) => {
                if let Some(first) = codes.get(code.as_str()) {
                    let shown = row.get(code_spec).to_string();
                    row.error(
                        code_spec,
                        Some(&shown),
                        format!("contact \"{code}\" is already on line {first}"),
                    );
                } else {
                    codes.insert(code.as_str().to_string(), row.line);
                }
                Some(code)
            }
            Err(e) => {
                let shown = row.get(code_spec).to_string();
                row.error(code_spec, Some(&shown), e.to_string());
                None
            }
        }
    };
    if !row.ok {
        return None;
    }
    Some(ProspectRow {
        line: row.line,
        code: code?,
        name,
        email,
        phone,
        first_contact: first_contact?,
        notes: optional(row.get(NOTES)).map(str::to_string),
        language,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> (Vec<ProspectRow>, ReadReport) {
        let mut rows = Vec::new();
        let report = read_prospects_csv("p.csv", bytes, &mut |r| rows.push(r));
        (rows, report)
    }

    #[test]
    fn french_file_in_windows_1252_without_codes() {
        let mut bytes = b"Nom;E-mail;T\xe9l\xe9phone;Premier contact;Objet;Langue\r\n".to_vec();
        bytes.extend_from_slice(
            b"Boulangerie Dupr\xe9;Contact@Dupre.example;;02/03/2026;Salon de Lyon : devis vitrine;fr\r\n",
        );
        bytes.extend_from_slice(b"Smith Ltd;;+44 20 7946 0018;03/03/2026;;anglais\r\n");
        let (rows, report) = read(&bytes);
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].name, "Boulangerie Dupré");
        assert_eq!(rows[0].code.as_str(), "contact@dupre.example");
        assert_eq!(
            rows[0].notes.as_deref(),
            Some("Salon de Lyon : devis vitrine")
        );
        assert_eq!(rows[0].language, Some(Language::Fr));
        assert_eq!(rows[1].code.as_str(), "+442079460018");
        assert_eq!(rows[1].language, Some(Language::En));
        assert_eq!(
            rows[1].first_contact,
            NaiveDate::from_ymd_opt(2026, 3, 3).expect("d")
        );
    }

    #[test]
    fn every_problem_with_its_line_and_column() {
        let text = "name,email,phone,first_contact,language\n\
                    A,a@x.example,,2026-03-02,fr\n\
                    B,A@X.example,,2026-03-02,de\n\
                    ,not-an-address,12,yesterday,\n\
                    D,,,2026-03-02,\n";
        let (rows, report) = read(text.as_bytes());
        assert_eq!(rows.len(), 1);
        let messages: Vec<String> = report.problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            messages,
            [
                "p.csv:3: column \"language\": \"de\" is not a language (fr or en)",
                "p.csv:3: column \"email\": contact \"a@x.example\" is already on line 2",
                "p.csv:4: column \"name\": the contact's name is empty",
                "p.csv:4: column \"email\": \"not-an-address\" is not an e-mail address",
                "p.csv:4: column \"phone\": \"12\" is not a phone number",
                "p.csv:4: column \"first_contact\": \"yesterday\" is not a date",
                "p.csv:5: column \"email\": neither an e-mail address nor a phone number: the contact cannot be followed up",
            ]
        );
    }
}
