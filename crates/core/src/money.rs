//! Exact money: a `rust_decimal` amount that always carries its ISO 4217 currency.
//!
//! Why: floats lose cents, and an amount without a currency is a bug waiting for a
//! second currency. Rounding happens only where the law or a document needs it, half-up
//! (away from zero at the midpoint) to the currency's minor unit.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// Errors about amounts and currencies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("\"{0}\" is not an ISO 4217 currency code")]
    UnknownCurrency(String),
    #[error("\"{0}\" is not an amount")]
    InvalidAmount(String),
    #[error("cannot combine {0} and {1}")]
    CurrencyMismatch(Currency, Currency),
    #[error("amount {0} does not fit in the storage range")]
    OutOfRange(Decimal),
    #[error("\"{0}\" is too large for an amount (the limit is 9 999 999 999 999.99)")]
    TooLarge(String),
}

/// The largest amount, in absolute value, an imported file may carry.
///
/// Why a limit: amounts are stored as 64-bit minor units and summed over whole ledgers. Ten
/// trillion units is far above any real receivable, keeps a million-line sum inside the decimal
/// range, and turns a corrupt or hostile cell into a clear error instead of an overflow.
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(1_316_134_912, 2_328, 0, false, 0);

/// Refuses an amount whose magnitude is at or above [`MAX_AMOUNT`].
pub fn check_amount_bound(text: &str, amount: Decimal) -> Result<Decimal, MoneyError> {
    if amount.abs() >= MAX_AMOUNT {
        Err(MoneyError::TooLarge(text.trim().to_string()))
    } else {
        Ok(amount)
    }
}

/// ISO 4217 active codes with their minor units (number of decimals).
/// Source: ISO 4217 list one (SIX Group), 2024 edition; funds codes left out.
const ISO_4217: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("ANG", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("UYU", 2),
    ("UZS", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
];

/// An ISO 4217 currency, validated on construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    /// The euro, relance's default.
    pub const EUR: Currency = Currency(*b"EUR");

    /// Parses a three-letter code, case-insensitively, refusing codes not in ISO 4217.
    ///
    /// No allocation and euros first: a planning run parses the currency of every open item it
    /// reads (a million in a full run), almost always `EUR`.
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        if let [a, b, c] = code.trim().as_bytes() {
            let upper = [
                a.to_ascii_uppercase(),
                b.to_ascii_uppercase(),
                c.to_ascii_uppercase(),
            ];
            if upper == Currency::EUR.0
                || ISO_4217.iter().any(|(known, _)| known.as_bytes() == upper)
            {
                return Ok(Currency(upper));
            }
        }
        Err(MoneyError::UnknownCurrency(code.to_string()))
    }

    /// The three-letter code.
    pub fn code(&self) -> &str {
        // The bytes always come from the ASCII table above.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }

    /// Number of decimals of the minor unit (2 for EUR, 0 for JPY, 3 for KWD).
    pub fn minor_units(&self) -> u32 {
        if *self == Currency::EUR {
            return 2;
        }
        ISO_4217
            .iter()
            .find(|(c, _)| c.as_bytes() == self.0)
            .map(|(_, m)| u32::from(*m))
            .unwrap_or(2)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::parse(s)
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Currency::parse(&s)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.code().to_string()
    }
}

/// An exact amount in one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub amount: Decimal,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount: Decimal, currency: Currency) -> Self {
        Money { amount, currency }
    }

    pub fn zero(currency: Currency) -> Self {
        Money::new(Decimal::ZERO, currency)
    }

    /// Euros, the common case in tests and French rules.
    pub fn eur(amount: Decimal) -> Self {
        Money::new(amount, Currency::EUR)
    }

    /// Rounds half-up (midpoint away from zero) to the currency's minor unit.
    pub fn rounded(self) -> Self {
        Money::new(round_to_minor(self.amount, self.currency), self.currency)
    }

    /// The amount in minor units (cents), the form the store keeps. Refuses sub-cent
    /// precision silently lost: the amount is rounded half-up first.
    pub fn to_minor(self) -> Result<i64, MoneyError> {
        let scaled = round_to_minor(self.amount, self.currency)
            * Decimal::from(10i64.pow(self.currency.minor_units()));
        i64::try_from(scaled.trunc()).map_err(|_| MoneyError::OutOfRange(self.amount))
    }

    /// Builds an amount from minor units.
    pub fn from_minor(minor: i64, currency: Currency) -> Self {
        Money::new(Decimal::new(minor, currency.minor_units()), currency)
    }

    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }

    pub fn is_positive(&self) -> bool {
        self.amount > Decimal::ZERO
    }

    pub fn is_negative(&self) -> bool {
        self.amount < Decimal::ZERO
    }

    /// Checked sum; amounts in different currencies never add up.
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        Ok(Money::new(self.amount + other.amount, self.currency))
    }

    /// Checked difference.
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        Ok(Money::new(self.amount - other.amount, self.currency))
    }

    pub fn min(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        Ok(if other.amount < self.amount {
            other
        } else {
            self
        })
    }

    fn same_currency(&self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch(self.currency, other.currency))
        }
    }

    /// Plain decimal string with exactly the minor-unit decimals ("1200.00"), as used in
    /// JSON outputs and CSV exports.
    pub fn to_plain_string(&self) -> String {
        let mut d = round_to_minor(self.amount, self.currency);
        d.rescale(self.currency.minor_units());
        d.to_string()
    }

    /// French formatting for letters: `1 234,56 €` (narrow no-break space as thousands
    /// separator, as the Imprimerie nationale's style guide recommends).
    pub fn format_fr(&self) -> String {
        let plain = self.to_plain_string();
        let (sign, digits) = match plain.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", plain.as_str()),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let grouped = group_thousands(int, '\u{202f}');
        let symbol = match self.currency.code() {
            "EUR" => "€",
            other => other,
        };
        if frac.is_empty() {
            format!("{sign}{grouped}\u{a0}{symbol}")
        } else {
            format!("{sign}{grouped},{frac}\u{a0}{symbol}")
        }
    }

    /// English formatting: `EUR 1,234.56` (`€1,234.56` for euros).
    pub fn format_en(&self) -> String {
        let plain = self.to_plain_string();
        let (sign, digits) = match plain.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", plain.as_str()),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let grouped = group_thousands(int, ',');
        let number = if frac.is_empty() {
            grouped
        } else {
            format!("{grouped}.{frac}")
        };
        match self.currency.code() {
            "EUR" => format!("{sign}€{number}"),
            code => format!("{sign}{code}\u{a0}{number}"),
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_plain_string(), self.currency)
    }
}

/// Rounds half-up (midpoint away from zero) to the currency's minor unit.
pub fn round_to_minor(amount: Decimal, currency: Currency) -> Decimal {
    amount.round_dp_with_strategy(
        currency.minor_units(),
        RoundingStrategy::MidpointAwayFromZero,
    )
}

fn group_thousands(int: &str, sep: char) -> String {
    let mut out = String::with_capacity(int.len() + int.len() / 3);
    let len = int.len();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (len - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(ch);
    }
    out
}

/// Parses an amount as people write it: `1234.56`, `1 234,56`, `1.234,56`, `1,234.56`,
/// `-12,5`, `1 234,56 €`. The last `,` or `.` followed by one to three digits is the decimal
/// separator when the other one also appears or when it is a comma; spaces (including no-break
/// spaces) and apostrophes group thousands.
pub fn parse_amount(text: &str) -> Result<Decimal, MoneyError> {
    let invalid = || MoneyError::InvalidAmount(text.to_string());
    let trimmed = text
        .trim()
        .trim_end_matches('€')
        .trim_end_matches("EUR")
        .trim();
    if trimmed.is_empty() {
        return Err(invalid());
    }
    let mut cleaned = String::with_capacity(trimmed.len());
    for ch in trimmed.chars() {
        match ch {
            ' ' | '\u{a0}' | '\u{202f}' | '\'' => {}
            c => cleaned.push(c),
        }
    }
    let last_comma = cleaned.rfind(',');
    let last_dot = cleaned.rfind('.');
    let normalised = match (last_comma, last_dot) {
        (Some(c), Some(d)) if c > d => cleaned.replace('.', "").replace(',', "."),
        (Some(_), Some(_)) => cleaned.replace(',', ""),
        (Some(c), None) => {
            if cleaned.matches(',').count() > 1 {
                // "1,234,567" — thousands only.
                cleaned.replace(',', "")
            } else {
                let _ = c;
                cleaned.replace(',', ".")
            }
        }
        (None, Some(_)) if cleaned.matches('.').count() > 1 => cleaned.replace('.', ""),
        _ => cleaned,
    };
    let body = normalised.strip_prefix(['-', '+']).unwrap_or(&normalised);
    if body.is_empty() || !body.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(invalid());
    }
    let amount = Decimal::from_str(&normalised).map_err(|_| invalid())?;
    check_amount_bound(text, amount)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn max_amount_is_ten_trillion() {
        assert_eq!(MAX_AMOUNT, dec!(10_000_000_000_000));
    }

    #[test]
    fn refuses_amounts_beyond_the_limit() {
        assert_eq!(
            parse_amount("9 999 999 999 999,99"),
            Ok(dec!(9999999999999.99))
        );
        for text in [
            "10000000000000",
            "-10 000 000 000 000,00",
            "79228162514264337593543950335",
        ] {
            assert!(
                matches!(parse_amount(text), Err(MoneyError::TooLarge(_))),
                "{text}"
            );
        }
    }

    #[test]
    fn parses_amounts_written_the_french_and_english_ways() {
        let cases = [
            ("1234.56", dec!(1234.56)),
            ("1 234,56", dec!(1234.56)),
            ("1\u{a0}234,56", dec!(1234.56)),
            ("1\u{202f}234,56 €", dec!(1234.56)),
            ("1.234,56", dec!(1234.56)),
            ("1,234.56", dec!(1234.56)),
            ("-12,5", dec!(-12.5)),
            ("0", dec!(0)),
            ("1,234,567", dec!(1234567)),
            ("1.234.567", dec!(1234567)),
            ("1'234.50", dec!(1234.50)),
        ];
        for (text, want) in cases {
            assert_eq!(parse_amount(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn refuses_what_is_not_an_amount() {
        for text in ["", "abc", "12a", "1,2,3x", "--1", "€"] {
            assert!(parse_amount(text).is_err(), "{text:?} should be refused");
        }
    }

    #[test]
    fn rounds_half_up_to_the_minor_unit() {
        assert_eq!(Money::eur(dec!(1.005)).rounded().amount, dec!(1.01));
        assert_eq!(Money::eur(dec!(-1.005)).rounded().amount, dec!(-1.01));
        assert_eq!(Money::eur(dec!(1.0049)).rounded().amount, dec!(1.00));
        let jpy = Currency::parse("jpy").expect("JPY");
        assert_eq!(Money::new(dec!(100.5), jpy).rounded().amount, dec!(101));
    }

    #[test]
    fn converts_to_and_from_minor_units() {
        assert_eq!(Money::eur(dec!(1234.56)).to_minor(), Ok(123456));
        assert_eq!(
            Money::from_minor(123456, Currency::EUR).amount,
            dec!(1234.56)
        );
        let kwd = Currency::parse("KWD").expect("KWD");
        assert_eq!(Money::new(dec!(1.234), kwd).to_minor(), Ok(1234));
    }

    #[test]
    fn formats_for_french_and_english_letters() {
        let m = Money::eur(dec!(1234.5));
        assert_eq!(m.format_fr(), "1\u{202f}234,50\u{a0}€");
        assert_eq!(m.format_en(), "€1,234.50");
        assert_eq!(m.to_plain_string(), "1234.50");
        assert_eq!(Money::eur(dec!(-5)).format_fr(), "-5,00\u{a0}€");
    }

    #[test]
    fn refuses_unknown_currencies_and_mixed_sums() {
        assert!(Currency::parse("EURO").is_err());
        assert!(Currency::parse("XYZ").is_err());
        assert!(Currency::parse("€").is_err());
        assert!(Currency::parse("").is_err());
        assert_eq!(Currency::parse(" eur "), Ok(Currency::EUR));
        let yen = Currency::parse("jpy").expect("JPY");
        assert_eq!((yen.code(), yen.minor_units()), ("JPY", 0));
        assert_eq!(Currency::EUR.minor_units(), 2);
        let usd = Currency::parse("USD").expect("USD");
        assert!(Money::eur(dec!(1))
            .checked_add(Money::new(dec!(1), usd))
            .is_err());
    }
}
