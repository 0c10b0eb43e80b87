//! Rate tables as versioned data: the ECB main refinancing rate and the French legal interest rate per half-year.
//!
//! The built-in table is `crates/core/data/rates.toml`, embedded at compile time. A newer file can
//! be parsed with [`RateTable::parse_toml`] and merged into it with [`RateTable::merge`] (what a
//! `relance rates import FILE` does), so a new half-year needs no release. A lookup the table
//! cannot answer is an error naming the missing half-year: the table never guesses.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize, Serializer};

use super::LawError;

/// The built-in rate table, as shipped (`crates/core/data/rates.toml`).
pub const BUILTIN_RATES_TOML: &str = include_str!("../../data/rates.toml");

/// The version of the rate file format (`schema = 1`); files without it are read as this version.
pub const SCHEMA_VERSION: u32 = 1;

/// Points added to the ECB rate for the default business penalty rate (Code de commerce L441-10 II).
pub const ECB_MARGIN_POINTS: Decimal = Decimal::TEN;

/// First or second half of a calendar year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Half {
    H1,
    H2,
}

/// A calendar half-year: the unit in which both French rates are fixed (L441-10 II: the ECB rate
/// in force on 1 January for H1 and on 1 July for H2; the legal rate by arrêté per half-year,
/// Code monétaire et financier L313-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HalfYear {
    year: i32,
    half: Half,
}

impl HalfYear {
    /// `None` when the year lies outside chrono's date range.
    pub fn new(year: i32, half: Half) -> Option<HalfYear> {
        NaiveDate::from_ymd_opt(year, 1, 1)?;
        NaiveDate::from_ymd_opt(year, 12, 31)?;
        Some(HalfYear { year, half })
    }

    /// The half-year a date falls in.
    pub fn of(date: NaiveDate) -> HalfYear {
        let half = if date.month() <= 6 {
            Half::H1
        } else {
            Half::H2
        };
        HalfYear {
            year: date.year(),
            half,
        }
    }

    pub fn year(&self) -> i32 {
        self.year
    }

    pub fn half(&self) -> Half {
        self.half
    }

    /// 1 January or 1 July: the day whose ECB rate applies to the whole half-year (L441-10 II).
    pub fn first_day(&self) -> NaiveDate {
        let month = match self.half {
            Half::H1 => 1,
            Half::H2 => 7,
        };
        // Valid by construction (checked in `new`, or taken from a real date in `of`).
        NaiveDate::from_ymd_opt(self.year, month, 1).unwrap_or(NaiveDate::MIN)
    }

    /// 30 June or 31 December.
    pub fn last_day(&self) -> NaiveDate {
        let (month, day) = match self.half {
            Half::H1 => (6, 30),
            Half::H2 => (12, 31),
        };
        NaiveDate::from_ymd_opt(self.year, month, day).unwrap_or(NaiveDate::MAX)
    }

    /// The following half-year, `None` past chrono's range.
    pub fn next(&self) -> Option<HalfYear> {
        match self.half {
            Half::H1 => Some(HalfYear {
                year: self.year,
                half: Half::H2,
            }),
            Half::H2 => HalfYear::new(self.year.checked_add(1)?, Half::H1),
        }
    }
}

impl fmt::Display for HalfYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = match self.half {
            Half::H1 => "H1",
            Half::H2 => "H2",
        };
        write!(f, "{}-{}", self.year, h)
    }
}

impl FromStr for HalfYear {
    type Err = LawError;

    /// Reads `2025-H1`, `2025 H2`, `2025-h1`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || LawError::InvalidInput(format!("\"{s}\" is not a half-year like 2025-H1"));
        let t = s.trim().to_ascii_uppercase();
        let (year, half) = t
            .split_once('-')
            .or_else(|| t.split_once(' '))
            .ok_or_else(invalid)?;
        let year: i32 = year.trim().parse().map_err(|_| invalid())?;
        let half = match half.trim() {
            "H1" => Half::H1,
            "H2" => Half::H2,
            _ => return Err(invalid()),
        };
        HalfYear::new(year, half).ok_or_else(invalid)
    }
}

impl Serialize for HalfYear {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The two categories of the French legal interest rate (Code monétaire et financier L313-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalRateCategory {
    /// The creditor is a natural person not acting for professional needs ("particuliers").
    NaturalPerson,
    /// All other cases: relance's creditors are companies, so this is the rate relance applies.
    Other,
}

impl fmt::Display for LegalRateCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LegalRateCategory::NaturalPerson => {
                "creditor a natural person not acting for professional needs"
            }
            LegalRateCategory::Other => "all other cases",
        })
    }
}

/// One change of the ECB main refinancing operations rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EcbChange {
    pub effective: NaiveDate,
    /// Percent per year.
    pub rate: Decimal,
    pub source: String,
}

/// The legal interest rate of one half-year, both categories, percent per year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegalRates {
    pub natural_person: Decimal,
    pub other: Decimal,
    pub source: String,
}

impl LegalRates {
    pub fn get(&self, category: LegalRateCategory) -> Decimal {
        match category {
            LegalRateCategory::NaturalPerson => self.natural_person,
            LegalRateCategory::Other => self.other,
        }
    }
}

/// The ECB rate changes and the legal rates per half-year.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct RateTable {
    /// Sorted by effective date, one entry per date.
    ecb_changes: Vec<EcbChange>,
    /// Up to this date (inclusive) the ECB changes are known to be complete.
    ecb_valid_until: Option<NaiveDate>,
    ecb_source: Option<String>,
    legal: BTreeMap<HalfYear, LegalRates>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    schema: Option<u32>,
    ecb: Option<RawEcb>,
    #[serde(default)]
    legal: Vec<RawLegal>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEcb {
    source: Option<String>,
    valid_until: Option<toml::value::Datetime>,
    #[serde(default)]
    changes: Vec<RawEcbChange>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEcbChange {
    effective: toml::value::Datetime,
    rate: String,
    source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLegal {
    half_year: String,
    natural_person: String,
    other: String,
    source: String,
}

fn toml_date(value: &toml::value::Datetime, what: &str) -> Result<NaiveDate, LawError> {
    let invalid =
        || LawError::InvalidTable(format!("{what}: \"{value}\" is not a date YYYY-MM-DD"));
    match (value.date, value.time, value.offset) {
        (Some(d), None, None) => {
            NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
                .ok_or_else(invalid)
        }
        _ => Err(invalid()),
    }
}

fn rate_value(text: &str, what: &str, allow_negative: bool) -> Result<Decimal, LawError> {
    let rate = Decimal::from_str(text.trim()).map_err(|_| {
        LawError::InvalidTable(format!(
            "{what}: \"{text}\" is not a decimal rate in percent"
        ))
    })?;
    if (!allow_negative && rate.is_sign_negative()) || rate > Decimal::ONE_HUNDRED {
        return Err(LawError::InvalidTable(format!(
            "{what}: rate {rate} % is out of range"
        )));
    }
    Ok(rate)
}

fn non_empty_source(source: String, what: &str) -> Result<String, LawError> {
    let s = source.trim().to_string();
    if s.is_empty() {
        Err(LawError::InvalidTable(format!(
            "{what}: the source must not be empty"
        )))
    } else {
        Ok(s)
    }
}

impl RateTable {
    /// Parses a rate file (the format of `crates/core/data/rates.toml`). Both sections are
    /// optional, so a file may bring only a new legal half-year. Rates are strings ("2.15") to stay
    /// exact; every entry needs a non-empty `source`; duplicate dates or half-years are refused.
    pub fn parse_toml(text: &str) -> Result<RateTable, LawError> {
        let raw: RawFile =
            toml::from_str(text).map_err(|e| LawError::InvalidTable(e.to_string()))?;
        if let Some(schema) = raw.schema.filter(|s| *s != SCHEMA_VERSION) {
            return Err(LawError::InvalidTable(format!(
                "schema {schema} is not supported (this version reads schema {SCHEMA_VERSION})"
            )));
        }
        let mut table = RateTable::default();
        if let Some(ecb) = raw.ecb {
            table.ecb_source = ecb
                .source
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty());
            table.ecb_valid_until = ecb
                .valid_until
                .as_ref()
                .map(|d| toml_date(d, "ecb.valid_until"))
                .transpose()?;
            for change in ecb.changes {
                let effective = toml_date(&change.effective, "ecb.changes.effective")?;
                let what = format!("ECB change of {effective}");
                let entry = EcbChange {
                    effective,
                    rate: rate_value(&change.rate, &what, true)?,
                    source: non_empty_source(change.source, &what)?,
                };
                match table
                    .ecb_changes
                    .binary_search_by_key(&effective, |c| c.effective)
                {
                    Ok(_) => {
                        return Err(LawError::InvalidTable(format!(
                            "two ECB changes on {effective}"
                        )))
                    }
                    Err(i) => table.ecb_changes.insert(i, entry),
                }
            }
            if let (Some(until), Some(last)) = (table.ecb_valid_until, table.ecb_changes.last()) {
                if until < last.effective {
                    return Err(LawError::InvalidTable(format!(
                        "ecb.valid_until {until} is before the last change ({})",
                        last.effective
                    )));
                }
            }
        }
        for legal in raw.legal {
            let half_year: HalfYear = legal.half_year.parse().map_err(|_| {
                LawError::InvalidTable(format!(
                    "\"{}\" is not a half-year like 2025-H1",
                    legal.half_year
                ))
            })?;
            let what = format!("legal rate of {half_year}");
            let rates = LegalRates {
                natural_person: rate_value(&legal.natural_person, &what, false)?,
                other: rate_value(&legal.other, &what, false)?,
                source: non_empty_source(legal.source, &what)?,
            };
            if table.legal.insert(half_year, rates).is_some() {
                return Err(LawError::InvalidTable(format!(
                    "two legal rate entries for {half_year}"
                )));
            }
        }
        Ok(table)
    }

    /// The table shipped with this version of relance (`crates/core/data/rates.toml`).
    pub fn builtin() -> RateTable {
        match RateTable::parse_toml(BUILTIN_RATES_TOML) {
            Ok(table) => table,
            // The embedded file is checked by the tests below; this cannot happen in a build
            // that passed them.
            Err(e) => panic!("the built-in rate table is invalid: {e}"),
        }
    }

    /// Merges a newer table into this one: an entry of `other` replaces the entry of the same
    /// date (ECB) or half-year (legal rate); entries only in `self` stay. The ECB validity date
    /// becomes the later of the two (each file vouches for completeness up to its own date).
    /// To replace a table wholesale, assign the parsed one instead.
    pub fn merge(&mut self, other: RateTable) {
        for change in other.ecb_changes {
            match self
                .ecb_changes
                .binary_search_by_key(&change.effective, |c| c.effective)
            {
                Ok(i) => self.ecb_changes[i] = change,
                Err(i) => self.ecb_changes.insert(i, change),
            }
        }
        self.ecb_valid_until = match (self.ecb_valid_until, other.ecb_valid_until) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        if other.ecb_source.is_some() {
            self.ecb_source = other.ecb_source;
        }
        self.legal.extend(other.legal);
    }

    /// The ECB changes, oldest first.
    pub fn ecb_changes(&self) -> &[EcbChange] {
        &self.ecb_changes
    }

    /// The declared date up to which the ECB changes are complete.
    pub fn ecb_valid_until(&self) -> Option<NaiveDate> {
        self.ecb_valid_until
    }

    /// The last date the ECB rate is known for: the declared `valid_until`, or failing it the
    /// last recorded change (after which nobody vouched that the rate did not move).
    pub fn ecb_known_until(&self) -> Option<NaiveDate> {
        let last = self.ecb_changes.last().map(|c| c.effective);
        match (self.ecb_valid_until, last) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// The half-years with a legal rate, with their rates.
    pub fn legal_rates(&self) -> impl Iterator<Item = (HalfYear, &LegalRates)> {
        self.legal.iter().map(|(h, r)| (*h, r))
    }

    /// The ECB change in force on `date` (the last one effective on or before it), provided the
    /// date is within the table's known range.
    pub fn ecb_change_on(&self, date: NaiveDate) -> Result<&EcbChange, LawError> {
        let missing = |detail: String| LawError::MissingEcbRate {
            half_year: HalfYear::of(date),
            date,
            detail,
        };
        let index = self.ecb_changes.partition_point(|c| c.effective <= date);
        let Some(first) = self.ecb_changes.first() else {
            return Err(missing("the rate table has no ECB rates".to_string()));
        };
        if index == 0 {
            return Err(missing(format!("the table starts on {}", first.effective)));
        }
        match self.ecb_known_until() {
            Some(until) if date > until => {
                return Err(missing(format!("the table is valid until {until}")))
            }
            _ => {}
        }
        self.ecb_changes
            .get(index - 1)
            .ok_or_else(|| missing("no change recorded".to_string()))
    }

    /// The ECB main refinancing rate (percent) in force on `date`.
    pub fn ecb_rate_on(&self, date: NaiveDate) -> Result<Decimal, LawError> {
        self.ecb_change_on(date).map(|c| c.rate)
    }

    /// The default business penalty rate of a half-year (Code de commerce L441-10 II): the ECB
    /// rate in force on 1 January (H1) or 1 July (H2), plus 10 points.
    pub fn business_default_rate(&self, half_year: HalfYear) -> Result<Decimal, LawError> {
        let ecb = self.ecb_rate_on(half_year.first_day())?;
        Ok(ecb + ECB_MARGIN_POINTS)
    }

    /// The legal interest rate (percent) of a half-year in one category.
    pub fn legal_rate(
        &self,
        half_year: HalfYear,
        category: LegalRateCategory,
    ) -> Result<Decimal, LawError> {
        self.legal
            .get(&half_year)
            .map(|r| r.get(category))
            .ok_or(LawError::MissingLegalRate {
                half_year,
                category,
            })
    }

    /// Both legal rates of a half-year with their source, if the table has them.
    pub fn legal_rates_of(&self, half_year: HalfYear) -> Option<&LegalRates> {
        self.legal.get(&half_year)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    fn hy(s: &str) -> HalfYear {
        s.parse().expect("valid half-year")
    }

    #[test]
    fn the_builtin_table_parses_and_has_every_figure_of_the_domain_notes() {
        let t = RateTable::builtin();
        assert_eq!(t.ecb_changes().len(), 19);
        assert_eq!(t.ecb_valid_until(), Some(d(2026, 12, 31)));
        assert_eq!(t.legal_rates().count(), 9);
        assert!(t.ecb_changes().iter().all(|c| !c.source.is_empty()));
        assert!(t.legal_rates().all(|(_, r)| !r.source.is_empty()));
    }

    #[test]
    fn the_default_business_rate_is_the_ecb_rate_of_1_january_or_1_july_plus_ten_points() {
        let t = RateTable::builtin();
        let expected = [
            ("2023-H1", dec!(12.50)),
            ("2023-H2", dec!(14.00)),
            ("2024-H1", dec!(14.50)),
            ("2024-H2", dec!(14.25)),
            ("2025-H1", dec!(13.15)),
            ("2025-H2", dec!(12.15)),
            ("2026-H1", dec!(12.15)),
            // 2.15 % is the last change (2025-06-11); the table is declared valid to 2026-12-31.
            ("2026-H2", dec!(12.15)),
        ];
        for (half, rate) in expected {
            assert_eq!(t.business_default_rate(hy(half)), Ok(rate), "{half}");
        }
    }

    #[test]
    fn the_ecb_rate_on_a_day_is_the_last_change_on_or_before_it() {
        let t = RateTable::builtin();
        assert_eq!(t.ecb_rate_on(d(2023, 2, 7)), Ok(dec!(2.50)));
        assert_eq!(t.ecb_rate_on(d(2023, 2, 8)), Ok(dec!(3.00)));
        assert_eq!(t.ecb_rate_on(d(2026, 4, 1)), Ok(dec!(2.15)));
        assert_eq!(t.ecb_rate_on(d(2026, 12, 31)), Ok(dec!(2.15)));
    }

    #[test]
    fn an_ecb_rate_beyond_the_declared_validity_or_before_the_first_change_is_an_error() {
        let t = RateTable::builtin();
        let err = t
            .ecb_rate_on(d(2027, 1, 1))
            .expect_err("beyond valid_until");
        assert!(
            matches!(err, LawError::MissingEcbRate { half_year, .. } if half_year == hy("2027-H1"))
        );
        assert!(err.to_string().contains("2027-H1"), "{err}");
        assert!(t.ecb_rate_on(d(2016, 3, 15)).is_err());
        assert!(RateTable::default().ecb_rate_on(d(2025, 1, 1)).is_err());
    }

    #[test]
    fn without_a_validity_date_the_rate_is_known_only_up_to_the_last_change() {
        let t = RateTable::parse_toml(
            "[[ecb.changes]]\neffective = 2025-06-11\nrate = \"2.15\"\nsource = \"test\"\n",
        )
        .expect("parses");
        assert_eq!(t.ecb_rate_on(d(2025, 6, 11)), Ok(dec!(2.15)));
        assert!(t.ecb_rate_on(d(2025, 6, 12)).is_err());
    }

    #[test]
    fn legal_rates_are_looked_up_by_half_year_and_category() {
        let t = RateTable::builtin();
        assert_eq!(
            t.legal_rate(hy("2025-H2"), LegalRateCategory::Other),
            Ok(dec!(2.76))
        );
        assert_eq!(
            t.legal_rate(hy("2025-H2"), LegalRateCategory::NaturalPerson),
            Ok(dec!(6.65))
        );
        assert_eq!(
            t.legal_rate(hy("2022-H1"), LegalRateCategory::Other),
            Ok(dec!(0.76))
        );
        let err = t
            .legal_rate(hy("2026-H2"), LegalRateCategory::Other)
            .expect_err("not published in the table");
        assert!(err.to_string().contains("2026-H2"), "{err}");
    }

    #[test]
    fn an_imported_file_adds_a_half_year_and_overrides_an_entry() {
        let mut t = RateTable::builtin();
        let newer = RateTable::parse_toml(
            r#"
            [ecb]
            valid_until = 2027-06-30
            [[ecb.changes]]
            effective = 2027-02-10
            rate = "2.40"
            source = "test decision"
            [[legal]]
            half_year = "2026-H2"
            natural_person = "6.00"
            other = "2.50"
            source = "test arrêté"
            [[legal]]
            half_year = "2026-H1"
            natural_person = "6.67"
            other = "2.62"
            source = "corrected source"
            "#,
        )
        .expect("parses");
        t.merge(newer);
        assert_eq!(
            t.legal_rate(hy("2026-H2"), LegalRateCategory::Other),
            Ok(dec!(2.50))
        );
        assert_eq!(
            t.legal_rates_of(hy("2026-H1")).map(|r| r.source.as_str()),
            Some("corrected source")
        );
        assert_eq!(t.ecb_valid_until(), Some(d(2027, 6, 30)));
        assert_eq!(t.business_default_rate(hy("2027-H1")), Ok(dec!(12.15)));
        assert_eq!(t.ecb_rate_on(d(2027, 2, 10)), Ok(dec!(2.40)));
        assert_eq!(t.ecb_changes().len(), 20);
    }

    #[test]
    fn refuses_malformed_rate_files() {
        let bad = [
            "[[legal]]\nhalf_year = \"2025-H3\"\nnatural_person = \"1\"\nother = \"1\"\nsource = \"x\"",
            "[[legal]]\nhalf_year = \"2025-H1\"\nnatural_person = \"1,5\"\nother = \"1\"\nsource = \"x\"",
            "[[legal]]\nhalf_year = \"2025-H1\"\nnatural_person = \"-1\"\nother = \"1\"\nsource = \"x\"",
            "[[legal]]\nhalf_year = \"2025-H1\"\nnatural_person = \"1\"\nother = \"1\"\nsource = \" \"",
            "[[legal]]\nhalf_year = \"2025-H1\"\nnatural_person = \"1\"\nother = \"1\"\nsource = \"x\"\n[[legal]]\nhalf_year = \"2025-H1\"\nnatural_person = \"1\"\nother = \"1\"\nsource = \"x\"",
            "[[legal]]\nhalf_year = \"2025-H1\"\nnatural_person = 1.5\nother = \"1\"\nsource = \"x\"",
            "[[ecb.changes]]\neffective = \"2025-01-01\"\nrate = \"1\"\nsource = \"x\"",
            "[[ecb.changes]]\neffective = 2025-01-01T10:00:00\nrate = \"1\"\nsource = \"x\"",
            "[ecb]\nvalid_until = 2024-01-01\n[[ecb.changes]]\neffective = 2025-01-01\nrate = \"1\"\nsource = \"x\"",
            "[ecb]\nunknown = 1",
            "schema = 2",
            "not toml at all [",
        ];
        for text in bad {
            assert!(
                matches!(RateTable::parse_toml(text), Err(LawError::InvalidTable(_))),
                "should refuse: {text}"
            );
        }
    }

    #[test]
    fn half_years_read_and_print_as_year_dash_h() {
        assert_eq!(hy("2025 h2").to_string(), "2025-H2");
        assert_eq!(HalfYear::of(d(2024, 6, 30)).to_string(), "2024-H1");
        assert_eq!(HalfYear::of(d(2024, 7, 1)).first_day(), d(2024, 7, 1));
        assert_eq!(hy("2024-H2").last_day(), d(2024, 12, 31));
        assert_eq!(hy("2024-H2").next(), Some(hy("2025-H1")));
        assert!("2025".parse::<HalfYear>().is_err());
    }
}
