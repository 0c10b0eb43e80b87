//! How long an SMS is, in the segments an operator bills: a text in the GSM 7-bit alphabet
//! takes 160 characters in one segment and 153 per segment beyond (the rest carries the
//! concatenation header); one character outside it (`œ`, `’`, an emoji) switches the whole text
//! to UCS-2: 70, then 67 per segment. The template editor warns beyond two segments, the length
//! of a reminder people still read and the cost a creditor expects.

/// Segments a reminder's SMS should stay within.
pub const MAX_SEGMENTS: usize = 2;

/// The GSM 03.38 basic alphabet (one septet each).
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// The extension table (two septets each: an escape, then the character).
const GSM_EXTENDED: &str = "^{}\\[~]|€\u{c}";

/// The text with the characters of French typography that have a GSM equivalent replaced by
/// it (no-break spaces of amounts, curly quotes, dashes, accented vowels the GSM alphabet
/// lacks: `û` → `u`): one such character would otherwise send the whole message in UCS-2, at
/// 67 characters a segment instead of 153. French operators' gateways do the same.
pub fn gsm_friendly(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{a0}' | '\u{202f}' | '\u{2009}' | '\t' => out.push(' '),
            '’' | '‘' | '‛' | '′' => out.push('\''),
            '“' | '”' | '«' | '»' => out.push('"'),
            '–' | '—' | '‑' => out.push('-'),
            '…' => out.push_str("..."),
            'â' => out.push('a'),
            'ê' | 'ë' => out.push('e'),
            'î' | 'ï' => out.push('i'),
            'ô' => out.push('o'),
            'û' => out.push('u'),
            'ç' => out.push('c'),
            'œ' => out.push_str("oe"),
            'Œ' => out.push_str("OE"),
            'À' | 'Â' => out.push('A'),
            'È' | 'Ê' | 'Ë' => out.push('E'),
            'Î' | 'Ï' => out.push('I'),
            'Ô' => out.push('O'),
            'Ù' | 'Û' => out.push('U'),
            c => out.push(c),
        }
    }
    out
}

/// An SMS's length as an operator counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsLength {
    /// Septets (GSM 7-bit) or UTF-16 code units (UCS-2).
    pub units: usize,
    /// Whether a character outside the GSM alphabet forces UCS-2.
    pub unicode: bool,
    pub segments: usize,
}

/// Counts the segments of `text`.
pub fn sms_length(text: &str) -> SmsLength {
    let mut septets = 0usize;
    let mut unicode = false;
    for c in text.chars() {
        if GSM_BASIC.contains(c) {
            septets += 1;
        } else if GSM_EXTENDED.contains(c) {
            septets += 2;
        } else {
            unicode = true;
            break;
        }
    }
    let (units, single, multi) = if unicode {
        (text.encode_utf16().count(), 70, 67)
    } else {
        (septets, 160, 153)
    };
    let segments = if units == 0 {
        0
    } else if units <= single {
        1
    } else {
        units.div_ceil(multi)
    };
    SmsLength {
        units,
        unicode,
        segments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsm_and_unicode_texts_are_counted_as_operators_do() {
        assert_eq!(sms_length("").segments, 0);
        let one = "a".repeat(160);
        assert_eq!(sms_length(&one).segments, 1);
        assert_eq!(sms_length(&format!("{one}b")).segments, 2);
        assert_eq!(sms_length(&"a".repeat(306)).segments, 2);
        assert_eq!(sms_length(&"a".repeat(307)).segments, 3);
        // The euro sign is in the extension table: two septets, still GSM.
        let euro = sms_length("1 200,00 €");
        assert_eq!((euro.units, euro.unicode), (11, false));
        // A typographic apostrophe switches to UCS-2: 70 per single segment.
        let curly = sms_length(&format!("l’{}", "a".repeat(68)));
        assert_eq!((curly.unicode, curly.units, curly.segments), (true, 70, 1));
        assert_eq!(sms_length(&"œ".repeat(71)).segments, 2);
    }

    #[test]
    fn french_typography_is_brought_into_the_gsm_alphabet() {
        let text = gsm_friendly("Montant dû : 1\u{202f}200,00\u{a0}€ – l’échéance « vite »");
        assert_eq!(text, "Montant du : 1 200,00 € - l'échéance \" vite \"");
        assert!(!sms_length(&text).unicode);
    }
}
