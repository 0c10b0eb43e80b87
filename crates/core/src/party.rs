//! Parties: the creditor (tenant) and its customers (debtors), with validated identifiers.
//!
//! Each identifier has one validating constructor ("parse, don't validate"): a `Siren` is
//! always nine digits with a correct Luhn key, an `Iban` always passes ISO 13616 mod 97.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Errors raised when a party identifier is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartyError {
    #[error("\"{0}\" is not a SIREN (nine digits with a valid Luhn key)")]
    InvalidSiren(String),
    #[error("\"{0}\" is not a valid IBAN")]
    InvalidIban(String),
    #[error("\"{0}\" is not an e-mail address")]
    InvalidEmail(String),
    #[error("customer code must not be empty")]
    EmptyCustomerCode,
    #[error("\"{0}\" is neither business (entreprise) nor consumer (particulier)")]
    InvalidCustomerKind(String),
}

/// SIREN: the nine-digit French company number (INSEE), Luhn-checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Siren(String);

impl Siren {
    pub fn parse(text: &str) -> Result<Self, PartyError> {
        let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() == 9 && digits.chars().all(|c| c.is_ascii_digit()) && luhn_valid(&digits) {
            Ok(Siren(digits))
        } else {
            Err(PartyError::InvalidSiren(text.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Completes eight digits with their Luhn key (used by the demo generator).
    pub fn with_check_digit(first_eight: u32) -> Siren {
        let base = format!("{:08}", first_eight % 100_000_000);
        for d in 0..10 {
            let candidate = format!("{base}{d}");
            if luhn_valid(&candidate) {
                return Siren(candidate);
            }
        }
        // Unreachable: exactly one check digit in 0..10 satisfies Luhn.
        Siren(format!("{base}0"))
    }
}

impl fmt::Display for Siren {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn luhn_valid(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, ch) in digits.chars().rev().enumerate() {
        let Some(mut d) = ch.to_digit(10) else {
            return false;
        };
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

/// IBAN (ISO 13616), stored without spaces, upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Iban(String);

impl Iban {
    pub fn parse(text: &str) -> Result<Self, PartyError> {
        let compact: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let invalid = || PartyError::InvalidIban(text.to_string());
        if compact.len() < 15
            || compact.len() > 34
            || !compact.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(invalid());
        }
        let (head, tail) = compact.split_at(4);
        if !head[..2].chars().all(|c| c.is_ascii_alphabetic())
            || !head[2..].chars().all(|c| c.is_ascii_digit())
        {
            return Err(invalid());
        }
        let mut remainder = 0u32;
        for ch in tail.chars().chain(head.chars()) {
            let value = ch.to_digit(36).ok_or_else(invalid)?;
            remainder = if value >= 10 {
                (remainder * 100 + value) % 97
            } else {
                (remainder * 10 + value) % 97
            };
        }
        if remainder == 1 {
            Ok(Iban(compact))
        } else {
            Err(invalid())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Groups of four, as printed on letters.
    pub fn formatted(&self) -> String {
        self.0
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl fmt::Display for Iban {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An e-mail address, checked for the shape `local@domain.tld` (delivery proves the rest).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(text: &str) -> Result<Self, PartyError> {
        let t = text.trim();
        let invalid = || PartyError::InvalidEmail(text.to_string());
        let (local, domain) = t.split_once('@').ok_or_else(invalid)?;
        if local.is_empty()
            || domain.len() < 3
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || t.chars()
                .any(|c| c.is_whitespace() || c == ',' || c == ';' || c == '<' || c == '>')
            || domain.contains('@')
        {
            return Err(invalid());
        }
        Ok(EmailAddress(t.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The customer's own code in the creditor's books ("C001", "411DUPONT").
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CustomerCode(String);

impl CustomerCode {
    pub fn parse(text: &str) -> Result<Self, PartyError> {
        let t = text.trim();
        if t.is_empty() {
            Err(PartyError::EmptyCustomerCode)
        } else {
            Ok(CustomerCode(t.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CustomerCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Business or consumer: the law differs (Code de commerce L441-10 applies to businesses only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CustomerKind {
    #[default]
    Business,
    Consumer,
}

impl CustomerKind {
    /// Accepts English and French words, case-insensitively.
    pub fn parse(text: &str) -> Result<Self, PartyError> {
        match text.trim().to_lowercase().as_str() {
            "business" | "b2b" | "entreprise" | "professionnel" | "pro" | "société" | "societe" => {
                Ok(CustomerKind::Business)
            }
            "consumer" | "b2c" | "particulier" | "consommateur" => Ok(CustomerKind::Consumer),
            _ => Err(PartyError::InvalidCustomerKind(text.to_string())),
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            CustomerKind::Business => "business",
            CustomerKind::Consumer => "consumer",
        }
    }
}

/// Language of the messages a customer receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    #[default]
    Fr,
    En,
}

impl Language {
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_lowercase().as_str() {
            "fr" | "français" | "francais" | "french" => Some(Language::Fr),
            "en" | "anglais" | "english" => Some(Language::En),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Language::Fr => "fr",
            Language::En => "en",
        }
    }
}

/// A postal address as printed on an envelope: free lines, as accounting exports give them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PostalAddress {
    pub lines: Vec<String>,
}

impl PostalAddress {
    /// Splits on newlines or ` / ` or `|` as exports write multi-line addresses on one line.
    pub fn from_text(text: &str) -> Self {
        let lines = text
            .split(['\n', '|'])
            .flat_map(|l| l.split(" / "))
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect();
        PostalAddress { lines }
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    pub fn to_text(&self) -> String {
        self.lines.join("\n")
    }
}

/// Ways to reach a customer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Contacts {
    pub emails: Vec<EmailAddress>,
    pub phones: Vec<String>,
    pub address: PostalAddress,
}

/// A debtor in the creditor's books.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub code: CustomerCode,
    pub name: String,
    pub kind: CustomerKind,
    pub language: Language,
    pub siren: Option<Siren>,
    pub contacts: Contacts,
}

/// The company that is owed money: the tenant every row belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Creditor {
    pub name: String,
    pub siren: Option<Siren>,
    pub iban: Option<Iban>,
    pub address: PostalAddress,
    pub email: Option<EmailAddress>,
    /// IANA time zone name in which calendar dates are read ("Europe/Paris").
    pub time_zone: String,
    /// Alsace-Moselle adds Good Friday and 26 December to the public holidays.
    pub alsace_moselle: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_sirens_and_refuses_bad_keys() {
        // 552 100 554 is a well-known SIREN (Peugeot's historic number) with a valid key.
        assert!(Siren::parse("552 100 554").is_ok());
        assert!(Siren::parse("552100555").is_err());
        assert!(Siren::parse("12345678").is_err());
        let generated = Siren::with_check_digit(73282932);
        assert!(Siren::parse(generated.as_str()).is_ok());
    }

    #[test]
    fn checks_iban_keys() {
        assert!(Iban::parse("FR76 3000 6000 0112 3456 7890 189").is_ok());
        assert!(Iban::parse("FR76 3000 6000 0112 3456 7890 188").is_err());
        assert!(Iban::parse("DE89370400440532013000").is_ok());
        assert_eq!(
            Iban::parse("de89370400440532013000").map(|i| i.formatted()),
            Ok("DE89 3704 0044 0532 0130 00".to_string())
        );
    }

    #[test]
    fn checks_email_shapes() {
        assert!(EmailAddress::parse("compta@exemple.fr").is_ok());
        for bad in ["compta", "a@b", "@x.fr", "a b@x.fr", "a@x.fr;b@y.fr"] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reads_customer_kinds_in_both_languages() {
        assert_eq!(
            CustomerKind::parse("Particulier"),
            Ok(CustomerKind::Consumer)
        );
        assert_eq!(
            CustomerKind::parse("entreprise"),
            Ok(CustomerKind::Business)
        );
        assert!(CustomerKind::parse("martian").is_err());
    }
}
