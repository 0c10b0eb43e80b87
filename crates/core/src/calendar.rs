//! The French business calendar: public holidays (with the Alsace-Moselle variant) and business-day arithmetic.
//!
//! Why here: every reminder date is "a calendar delay, moved to the next business day when it
//! lands on a weekend or a public holiday" (DESIGN.md, principle 5). Holidays are computed, not
//! listed, so that the calendar never runs out: the fixed dates of the Code du travail (L3133-1)
//! plus the movable feasts derived from Easter, and for the Moselle, Bas-Rhin and Haut-Rhin
//! départements Good Friday and 26 December (Code du travail L3134-13).
//!
//! All arithmetic saturates at chrono's date range instead of panicking.

use chrono::{Datelike, NaiveDate, TimeDelta, Weekday};
use serde::{Deserialize, Serialize};

/// Adds `days` calendar days (negative goes back), saturating at the ends of chrono's range.
pub fn add_days(date: NaiveDate, days: i64) -> NaiveDate {
    TimeDelta::try_days(days)
        .and_then(|delta| date.checked_add_signed(delta))
        .unwrap_or(if days >= 0 {
            NaiveDate::MAX
        } else {
            NaiveDate::MIN
        })
}

/// Easter Sunday of `year` in the Gregorian calendar (anonymous algorithm of Meeus, Jones and
/// Butcher). `None` only for years outside chrono's range.
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let y = i64::from(year);
    let a = y.rem_euclid(19);
    let b = y.div_euclid(100);
    let c = y.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c.div_euclid(4);
    let k = c.rem_euclid(4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l).div_euclid(451);
    let month = (h + l - 7 * m + 114).div_euclid(31);
    let day = (h + l - 7 * m + 114).rem_euclid(31) + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

/// Which days are worked: Monday to Friday, except French public holidays.
///
/// `alsace_moselle` follows the creditor's setting ([`crate::party::Creditor::alsace_moselle`]):
/// the local law of the three eastern départements adds Good Friday and Saint Stephen's day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct BusinessCalendar {
    #[serde(default)]
    pub alsace_moselle: bool,
}

impl BusinessCalendar {
    /// Metropolitan France, general law.
    pub const FRANCE: BusinessCalendar = BusinessCalendar {
        alsace_moselle: false,
    };
    /// Moselle, Bas-Rhin and Haut-Rhin.
    pub const ALSACE_MOSELLE: BusinessCalendar = BusinessCalendar {
        alsace_moselle: true,
    };

    pub fn new(alsace_moselle: bool) -> Self {
        BusinessCalendar { alsace_moselle }
    }

    /// The French name of the public holiday falling on `date`, if any ("Lundi de Pâques").
    pub fn holiday_name(&self, date: NaiveDate) -> Option<&'static str> {
        let fixed = match (date.month(), date.day()) {
            (1, 1) => Some("Jour de l'an"),
            (5, 1) => Some("Fête du Travail"),
            (5, 8) => Some("Victoire 1945"),
            (7, 14) => Some("Fête nationale"),
            (8, 15) => Some("Assomption"),
            (11, 1) => Some("Toussaint"),
            (11, 11) => Some("Armistice 1918"),
            (12, 25) => Some("Noël"),
            (12, 26) if self.alsace_moselle => Some("Saint-Étienne"),
            _ => None,
        };
        if fixed.is_some() {
            return fixed;
        }
        // The holidays that move with Easter fall between 20 March (Good Friday) and 14 June
        // (Whit Monday): outside those months there is no Easter to compute (a full run asks
        // about hundreds of thousands of dates).
        if !(3..=6).contains(&date.month()) {
            return None;
        }
        let easter = easter_sunday(date.year())?;
        match (date - easter).num_days() {
            -2 if self.alsace_moselle => Some("Vendredi saint"),
            1 => Some("Lundi de Pâques"),
            39 => Some("Ascension"),
            50 => Some("Lundi de Pentecôte"),
            _ => None,
        }
    }

    pub fn is_holiday(&self, date: NaiveDate) -> bool {
        self.holiday_name(date).is_some()
    }

    /// Monday to Friday and not a public holiday.
    pub fn is_business_day(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !self.is_holiday(date)
    }

    /// `date` itself when it is a business day, else the first business day after it.
    pub fn next_business_day_on_or_after(&self, date: NaiveDate) -> NaiveDate {
        let mut day = date;
        while !self.is_business_day(day) {
            match day.succ_opt() {
                Some(next) => day = next,
                None => return day,
            }
        }
        day
    }

    /// The first business day strictly after `date` (e.g. the day a broken promise to pay
    /// is noticed).
    pub fn next_business_day_after(&self, date: NaiveDate) -> NaiveDate {
        match date.succ_opt() {
            Some(next) => self.next_business_day_on_or_after(next),
            None => date,
        }
    }

    /// Moves `count` business days from `date` (backwards when negative). `date` itself is not
    /// counted, so adding 1 to a Friday gives the following Monday (or Tuesday after Easter);
    /// adding 0 returns `date` unchanged, business day or not.
    pub fn add_business_days(&self, date: NaiveDate, count: i64) -> NaiveDate {
        let mut day = date;
        let mut left = count.unsigned_abs();
        while left > 0 {
            let step = if count > 0 {
                day.succ_opt()
            } else {
                day.pred_opt()
            };
            match step {
                Some(next) => day = next,
                None => return day,
            }
            if self.is_business_day(day) {
                left -= 1;
            }
        }
        day
    }

    /// The public holidays of `year`, in date order, with their French names.
    pub fn holidays(&self, year: i32) -> Vec<(NaiveDate, &'static str)> {
        let Some(first) = NaiveDate::from_ymd_opt(year, 1, 1) else {
            return Vec::new();
        };
        first
            .iter_days()
            .take_while(|d| d.year() == year)
            .filter_map(|d| self.holiday_name(d).map(|name| (d, name)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
    }

    #[test]
    fn easter_on_known_dates() {
        assert_eq!(easter_sunday(2024), Some(d(2024, 3, 31)));
        assert_eq!(easter_sunday(2025), Some(d(2025, 4, 20)));
        assert_eq!(easter_sunday(2026), Some(d(2026, 4, 5)));
    }

    #[test]
    fn add_business_days_counts_from_the_next_day() {
        let cal = BusinessCalendar::FRANCE;
        // Friday 2026-04-03 + 1 business day: Monday 6 April is Easter Monday → Tuesday 7.
        assert_eq!(cal.add_business_days(d(2026, 4, 3), 1), d(2026, 4, 7));
        assert_eq!(cal.add_business_days(d(2026, 4, 7), -1), d(2026, 4, 3));
        assert_eq!(cal.add_business_days(d(2026, 4, 4), 0), d(2026, 4, 4));
    }

    /// The shortcut outside March–June loses no holiday that moves with Easter, in any year.
    #[test]
    fn every_easter_holiday_falls_from_march_to_june() {
        let cal = BusinessCalendar::ALSACE_MOSELLE;
        for year in 1900..=2200 {
            let easter = easter_sunday(year).expect("easter");
            // (Ascension may fall on 1 or 8 May, whose names come first: the day is a holiday.)
            for offset in [-2, 1, 39, 50] {
                let day = add_days(easter, offset);
                assert!(cal.is_holiday(day), "{day}");
            }
        }
    }
}
