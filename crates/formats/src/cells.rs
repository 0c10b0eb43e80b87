//! Reading one cell of a row: the checks both readers share (dates, currencies, amounts).

use chrono::NaiveDate;
use relance_core::money::Currency;
use rust_decimal::Decimal;

use crate::table::Row;
use crate::text::{parse_date, parse_decimal};

/// `None` for an empty cell.
pub(crate) fn optional(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}

/// A date that must be there; reports an Error and gives `None` otherwise.
pub(crate) fn required_date(
    row: &mut Row<'_, '_, '_>,
    spec: usize,
    what: &str,
) -> Option<NaiveDate> {
    let text = row.get(spec);
    if text.is_empty() {
        row.error(spec, None, format!("the {what} is empty"));
        return None;
    }
    let date = parse_date(text);
    if date.is_none() {
        row.error(spec, Some(text), format!("\"{text}\" is not a date"));
    }
    date
}

/// The row's currency: EUR when the column is absent or empty.
pub(crate) fn currency(row: &mut Row<'_, '_, '_>, spec: usize) -> Option<Currency> {
    let text = row.get(spec);
    if text.is_empty() || text.eq_ignore_ascii_case("EUR") || text == "€" {
        return Some(Currency::EUR);
    }
    Currency::parse(text)
        .map_err(|e| row.error(spec, Some(text), e.to_string()))
        .ok()
}

/// An amount cell; an empty one is zero when `default_zero`, an Error otherwise. Refuses more
/// decimals than the currency has (`1,234` read as 1.234 EUR is a thousands separator).
pub(crate) fn amount(
    row: &mut Row<'_, '_, '_>,
    spec: usize,
    currency: Option<Currency>,
    default_zero: bool,
) -> Option<Decimal> {
    let text = row.get(spec);
    if text.is_empty() {
        if default_zero {
            return Some(Decimal::ZERO);
        }
        row.error(spec, None, "the amount is empty".to_string());
        return None;
    }
    let value = match parse_decimal(text) {
        Ok(value) => value,
        Err(_) => {
            row.error(spec, Some(text), format!("\"{text}\" is not an amount"));
            return None;
        }
    };
    if let Some(currency) = currency.filter(|_| value.scale() > 0) {
        // Core looks the minor unit up in the ISO table: skip that for the euro.
        let minor = if currency == Currency::EUR {
            2
        } else {
            currency.minor_units()
        };
        if value.scale() > minor && value.normalize().scale() > minor {
            row.error(
                spec,
                Some(text),
                format!("\"{text}\" has more decimals than {currency} allows ({minor})"),
            );
            return None;
        }
    }
    Some(value)
}
