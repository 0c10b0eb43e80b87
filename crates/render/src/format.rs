//! French and English formatting of dates, amounts, rates and labels for letters.

use chrono::{Datelike, NaiveDate};
use relance_core::party::Language;
use relance_core::planner::policy::Channel;
use relance_core::Money;
use rust_decimal::Decimal;

const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// `14 avril 2026` (`1er avril 2026` on the first) / `14 April 2026`.
pub fn date_long(date: NaiveDate, lang: Language) -> String {
    let month = date.month0() as usize;
    match lang {
        Language::Fr => {
            let day = if date.day() == 1 {
                "1er".to_string()
            } else {
                date.day().to_string()
            };
            format!("{day} {} {}", MONTHS_FR[month % 12], date.year())
        }
        Language::En => format!("{} {} {}", date.day(), MONTHS_EN[month % 12], date.year()),
    }
}

/// `14/04/2026` in both languages (day first, as in France and the United Kingdom).
pub fn date_short(date: NaiveDate) -> String {
    format!("{:02}/{:02}/{}", date.day(), date.month(), date.year())
}

/// `1 234,56 €` / `€1,234.56`.
pub fn money(m: &Money, lang: Language) -> String {
    match lang {
        Language::Fr => m.format_fr(),
        Language::En => m.format_en(),
    }
}

/// `12,15 %` / `12.15%`.
pub fn rate(r: Decimal, lang: Language) -> String {
    let mut r = r.normalize();
    if r.scale() < 2 {
        r.rescale(2);
    }
    match lang {
        Language::Fr => format!("{}\u{a0}%", r.to_string().replace('.', ",")),
        Language::En => format!("{r}%"),
    }
}

/// IBAN in groups of four.
pub fn iban(compact: &str) -> String {
    let clean: Vec<char> = compact.chars().filter(|c| !c.is_whitespace()).collect();
    clean
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// How a contact was made, for "notre … du 16 février 2026".
pub fn channel_label(channel: Channel, lang: Language) -> &'static str {
    match (lang, channel) {
        (Language::Fr, Channel::Email) => "courriel",
        (Language::Fr, Channel::Letter) => "courrier",
        (Language::Fr, Channel::RegisteredLetter) => "lettre recommandée",
        (Language::Fr, Channel::RegisteredLetterAr) => {
            "lettre recommandée avec accusé de réception"
        }
        (Language::Fr, Channel::Sms) => "SMS",
        (Language::Fr, Channel::PhoneCall) => "appel téléphonique",
        (Language::Fr, Channel::Task) => "démarche",
        (Language::En, Channel::Email) => "e-mail",
        (Language::En, Channel::Letter) => "letter",
        (Language::En, Channel::RegisteredLetter) => "registered letter",
        (Language::En, Channel::RegisteredLetterAr) => {
            "registered letter with acknowledgement of receipt"
        }
        (Language::En, Channel::Sms) => "text message",
        (Language::En, Channel::PhoneCall) => "telephone call",
        (Language::En, Channel::Task) => "step",
    }
}

/// Parses a channel's snake_case name.
pub fn parse_channel(text: &str) -> Option<Channel> {
    Channel::ALL.into_iter().find(|c| c.as_str() == text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn french_and_english_dates() {
        let d = NaiveDate::from_ymd_opt(2026, 4, 14).expect("date");
        assert_eq!(date_long(d, Language::Fr), "14 avril 2026");
        assert_eq!(date_long(d, Language::En), "14 April 2026");
        assert_eq!(date_short(d), "14/04/2026");
        let first = NaiveDate::from_ymd_opt(2026, 8, 1).expect("date");
        assert_eq!(date_long(first, Language::Fr), "1er août 2026");
    }

    #[test]
    fn rates_and_ibans() {
        assert_eq!(rate(dec!(12.15), Language::Fr), "12,15\u{a0}%");
        assert_eq!(rate(dec!(12), Language::En), "12.00%");
        assert_eq!(
            iban("FR7630006000011234567890189"),
            "FR76 3000 6000 0112 3456 7890 189"
        );
    }
}
