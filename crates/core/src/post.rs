//! Letters at the post office: the postcode of an address (print batches go out in postal
//! order), the postal sort key, and the registered-letter number a clerk types in.

use std::cmp::Ordering;

/// The postcode of a postal address: the first token of 4 to 6 digits (optionally after a
/// country prefix such as `F-`) on the last line that has one. French addresses end with
/// "69002 Lyon"; a CEDEX line or a country line after it is skipped.
pub fn postcode(address: &str) -> Option<String> {
    address
        .split(['\n', '/'])
        .rev()
        .find_map(|line| line.split_whitespace().find_map(postcode_token))
}

fn postcode_token(token: &str) -> Option<String> {
    let digits = token
        .rsplit_once('-')
        .filter(|(prefix, _)| prefix.len() <= 2 && prefix.chars().all(|c| c.is_ascii_alphabetic()))
        .map(|(_, d)| d)
        .unwrap_or(token)
        .trim_end_matches(',');
    (4..=6)
        .contains(&digits.len())
        .then_some(digits)
        .filter(|d| d.chars().all(|c| c.is_ascii_digit()))
        .map(str::to_string)
}

/// Postal order: by postcode (addresses without one last), then by the addressee's name
/// (case-insensitive), then by `tie` (a stable reference) so the order is total.
pub fn postal_order(a: (&Option<String>, &str, i64), b: (&Option<String>, &str, i64)) -> Ordering {
    let code = |c: &Option<String>| c.clone().unwrap_or_else(|| "~".into());
    code(a.0)
        .cmp(&code(b.0))
        .then_with(|| a.1.to_lowercase().cmp(&b.1.to_lowercase()))
        .then(a.2.cmp(&b.2))
}

/// A registered-letter number as typed by a clerk ("1A 123 456 7890 1"): letters, digits,
/// spaces and hyphens, 6 to 30 characters once trimmed; returned upper-case with single spaces.
pub fn registered_number(text: &str) -> Result<String, String> {
    let normal = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase();
    if normal.is_empty() {
        return Err("the registered-letter number is empty".into());
    }
    if let Some(bad) = normal
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == ' ' || *c == '-'))
    {
        return Err(format!(
            "the registered-letter number \"{text}\" holds \"{bad}\": only letters, digits, spaces and hyphens are expected (e.g. 1A 123 456 7890 1)"
        ));
    }
    let significant = normal.chars().filter(|c| c.is_ascii_alphanumeric()).count();
    if !(6..=30).contains(&significant) {
        return Err(format!(
            "the registered-letter number \"{text}\" has {significant} letters and digits: expected 6 to 30 (e.g. 1A 123 456 7890 1)"
        ));
    }
    Ok(normal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_postcode_is_found_on_the_last_line_that_has_one() {
        assert_eq!(
            postcode("12 rue de la République\n69002 Lyon").as_deref(),
            Some("69002")
        );
        assert_eq!(
            postcode("4 quai Saint-Antoine / 69002 Lyon").as_deref(),
            Some("69002")
        );
        assert_eq!(
            postcode("BP 12\n75008 Paris Cedex 08\nFrance").as_deref(),
            Some("75008")
        );
        assert_eq!(
            postcode("Hauptstraße 5\nD-10115 Berlin").as_deref(),
            Some("10115")
        );
        // A street number is not a postcode when a real one follows.
        assert_eq!(
            postcode("1200 route de Lyon\n13100 Aix").as_deref(),
            Some("13100")
        );
        assert_eq!(postcode("Chez Marie\nParis"), None);
        assert_eq!(postcode(""), None);
    }

    #[test]
    fn postal_order_sorts_by_postcode_then_name_and_puts_unknown_codes_last() {
        let mut rows = [
            (Some("75001".to_string()), "Zoé", 1),
            (None, "Alpha", 2),
            (Some("13100".to_string()), "Martin", 3),
            (Some("75001".to_string()), "arnaud", 4),
        ];
        rows.sort_by(|a, b| postal_order((&a.0, a.1, a.2), (&b.0, b.1, b.2)));
        let names: Vec<&str> = rows.iter().map(|r| r.1).collect();
        assert_eq!(names, ["Martin", "arnaud", "Zoé", "Alpha"]);
    }

    #[test]
    fn a_registered_number_is_normalised_and_checked() {
        assert_eq!(
            registered_number("  1a 123  456 7890 1 ").as_deref(),
            Ok("1A 123 456 7890 1")
        );
        assert!(registered_number("").is_err());
        assert!(registered_number("12;34")
            .expect_err("a semicolon")
            .contains(";"));
        assert!(registered_number("123")
            .expect_err("too short")
            .contains("expected 6 to 30"));
    }
}
