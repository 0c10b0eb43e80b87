//! The EPC069-12 QR code ("Girocode"): lets a banking app prefill a SEPA credit transfer.
//!
//! Payload, one field a line: `BCD`, version `002`, character set `1` (UTF-8), `SCT`, BIC,
//! beneficiary name (≤ 70), IBAN, `EUR` + amount (≤ 999 999 999.99, two decimals), purpose
//! (empty), structured RF reference or empty, unstructured remittance (≤ 140). Error correction
//! level M, as the guideline asks.

use qrcode::{EcLevel, QrCode};
use relance_core::Money;

use crate::RenderError;

/// What the transfer should carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpcTransfer {
    pub bic: Option<String>,
    pub name: String,
    pub iban: String,
    pub amount: Money,
    pub reference: String,
}

fn truncate(text: &str, max: usize) -> String {
    text.chars()
        .filter(|c| *c != '\n' && *c != '\r')
        .take(max)
        .collect()
}

/// The EPC069-12 payload text.
pub fn epc_payload(t: &EpcTransfer) -> Result<String, RenderError> {
    if t.amount.currency.code() != "EUR" {
        return Err(RenderError::Qr(format!(
            "a SEPA credit transfer is in euros, not {}",
            t.amount.currency
        )));
    }
    let amount = t.amount.rounded();
    if amount.amount <= rust_decimal::Decimal::ZERO
        || amount.amount > rust_decimal::Decimal::new(99_999_999_999, 2)
    {
        return Err(RenderError::Qr(format!(
            "amount {} out of the EPC range",
            amount.to_plain_string()
        )));
    }
    let iban: String = t.iban.chars().filter(|c| !c.is_whitespace()).collect();
    let reference = t.reference.trim();
    // A creditor reference (ISO 11649, "RF" + 2 check digits) goes in the structured field.
    let structured = reference.len() <= 25
        && reference.starts_with("RF")
        && reference[2..].chars().all(|c| c.is_ascii_alphanumeric());
    let (rf, text) = if structured {
        (reference.to_string(), String::new())
    } else {
        (String::new(), truncate(reference, 140))
    };
    Ok(format!(
        "BCD\n002\n1\nSCT\n{}\n{}\n{}\nEUR{}\n\n{}\n{}",
        t.bic.as_deref().unwrap_or("").trim(),
        truncate(&t.name, 70),
        iban,
        amount.to_plain_string(),
        rf,
        text
    ))
}

/// The QR matrix of a payload: `(width, dark modules row by row)`.
pub fn qr_matrix(payload: &str) -> Result<(usize, Vec<bool>), RenderError> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(|e| RenderError::Qr(e.to_string()))?;
    let width = code.width();
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    Ok((width, dark))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn payload_follows_epc069_12() {
        let t = EpcTransfer {
            bic: Some("AGRIFRPP".into()),
            name: "Atelier Cézanne SAS".into(),
            iban: "FR76 3000 6000 0112 3456 7890 189".into(),
            amount: Money::eur(dec!(1634.56)),
            reference: "C001-F20260042".into(),
        };
        let p = epc_payload(&t).expect("payload");
        assert_eq!(
            p,
            "BCD\n002\n1\nSCT\nAGRIFRPP\nAtelier Cézanne SAS\nFR7630006000011234567890189\nEUR1634.56\n\n\nC001-F20260042"
        );
        let (w, dark) = qr_matrix(&p).expect("qr");
        assert_eq!(dark.len(), w * w);
        assert!(w >= 21);
        let rf = EpcTransfer {
            reference: "RF18539007547034".into(),
            ..t.clone()
        };
        assert!(epc_payload(&rf)
            .expect("rf")
            .ends_with("\n\nRF18539007547034\n"));
        let usd = EpcTransfer {
            amount: Money::new(dec!(1), relance_core::Currency::parse("USD").expect("usd")),
            ..t
        };
        assert!(epc_payload(&usd).is_err());
    }
}
