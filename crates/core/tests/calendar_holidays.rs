//! Tests of the French business calendar against known dates (Easter tables, the 2026 holidays).

use chrono::{Datelike, NaiveDate, Weekday};
use proptest::prelude::*;
use relance_core::calendar::{add_days, easter_sunday, BusinessCalendar};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
}

#[test]
fn easter_matches_published_tables() {
    let known = [
        (1818, d(1818, 3, 22)), // earliest possible date
        (1943, d(1943, 4, 25)), // latest possible date
        (2000, d(2000, 4, 23)),
        (2019, d(2019, 4, 21)),
        (2024, d(2024, 3, 31)),
        (2025, d(2025, 4, 20)),
        (2026, d(2026, 4, 5)),
        (2027, d(2027, 3, 28)),
        (2038, d(2038, 4, 25)),
    ];
    for (year, date) in known {
        assert_eq!(easter_sunday(year), Some(date), "{year}");
        assert_eq!(date.weekday(), Weekday::Sun);
    }
}

#[test]
fn the_2026_holidays_of_metropolitan_france() {
    let cal = BusinessCalendar::FRANCE;
    let got: Vec<(String, &str)> = cal
        .holidays(2026)
        .into_iter()
        .map(|(date, name)| (date.to_string(), name))
        .collect();
    let want = [
        ("2026-01-01", "Jour de l'an"),
        ("2026-04-06", "Lundi de Pâques"),
        ("2026-05-01", "Fête du Travail"),
        ("2026-05-08", "Victoire 1945"),
        ("2026-05-14", "Ascension"),
        ("2026-05-25", "Lundi de Pentecôte"),
        ("2026-07-14", "Fête nationale"),
        ("2026-08-15", "Assomption"),
        ("2026-11-01", "Toussaint"),
        ("2026-11-11", "Armistice 1918"),
        ("2026-12-25", "Noël"),
    ];
    let want: Vec<(String, &str)> = want.iter().map(|(a, b)| (a.to_string(), *b)).collect();
    assert_eq!(got, want);
}

#[test]
fn alsace_moselle_adds_good_friday_and_saint_stephen() {
    let general = BusinessCalendar::FRANCE;
    let local = BusinessCalendar::ALSACE_MOSELLE;
    assert_eq!(local.holidays(2026).len(), 13);
    assert_eq!(local.holiday_name(d(2026, 4, 3)), Some("Vendredi saint"));
    assert_eq!(local.holiday_name(d(2025, 12, 26)), Some("Saint-Étienne"));
    assert_eq!(general.holiday_name(d(2026, 4, 3)), None);
    assert!(general.is_business_day(d(2026, 4, 3)));
    assert!(!local.is_business_day(d(2026, 4, 3)));
    // Good Friday 2025 is 18 April (Easter 20 April).
    assert_eq!(local.holiday_name(d(2025, 4, 18)), Some("Vendredi saint"));
}

#[test]
fn movable_feasts_follow_easter() {
    let cal = BusinessCalendar::FRANCE;
    assert_eq!(cal.holiday_name(d(2026, 5, 14)), Some("Ascension"));
    assert_eq!(cal.holiday_name(d(2025, 5, 29)), Some("Ascension"));
    assert_eq!(cal.holiday_name(d(2024, 5, 20)), Some("Lundi de Pentecôte"));
    assert_eq!(cal.holiday_name(d(2024, 4, 1)), Some("Lundi de Pâques"));
    assert_eq!(cal.holiday_name(d(2026, 4, 5)), None); // Easter Sunday: a Sunday anyway
}

#[test]
fn business_days_skip_weekends_and_holidays() {
    let cal = BusinessCalendar::FRANCE;
    // Thu 30 Apr 2026 → Fri 1 May (holiday), weekend → Mon 4 May.
    assert_eq!(cal.next_business_day_after(d(2026, 4, 30)), d(2026, 5, 4));
    assert_eq!(
        cal.next_business_day_on_or_after(d(2026, 5, 1)),
        d(2026, 5, 4)
    );
    assert_eq!(
        cal.next_business_day_on_or_after(d(2026, 5, 4)),
        d(2026, 5, 4)
    );
    // Fri 8 May (holiday) → Mon 11; Thu 14 May (Ascension) → Fri 15; Mon 25 May → Tue 26.
    assert_eq!(
        cal.next_business_day_on_or_after(d(2026, 5, 8)),
        d(2026, 5, 11)
    );
    assert_eq!(
        cal.next_business_day_on_or_after(d(2026, 5, 14)),
        d(2026, 5, 15)
    );
    assert_eq!(
        cal.next_business_day_on_or_after(d(2026, 5, 23)),
        d(2026, 5, 26)
    );
    // Five business days from Wed 29 Apr: Thu 30, Mon 4, Tue 5, Wed 6, Thu 7 May.
    assert_eq!(cal.add_business_days(d(2026, 4, 29), 5), d(2026, 5, 7));
    // Back ten from Mon 18 May: Fri 15, Wed 13, Tue 12, Mon 11, Thu 7, Wed 6, Tue 5, Mon 4,
    // Thu 30 Apr, Wed 29 Apr.
    assert_eq!(cal.add_business_days(d(2026, 5, 18), -10), d(2026, 4, 29));
    // New Year 2027 falls on a Friday: Thu 31 Dec 2026 + 1 → Mon 4 Jan 2027.
    assert_eq!(cal.add_business_days(d(2026, 12, 31), 1), d(2027, 1, 4));
}

#[test]
fn arithmetic_saturates_at_the_ends_of_the_calendar() {
    let cal = BusinessCalendar::FRANCE;
    assert_eq!(add_days(NaiveDate::MAX, 10), NaiveDate::MAX);
    assert_eq!(add_days(NaiveDate::MIN, -10), NaiveDate::MIN);
    let _ = cal.next_business_day_on_or_after(NaiveDate::MAX);
    let _ = cal.add_business_days(NaiveDate::MAX, 3);
    assert_eq!(easter_sunday(i32::MAX), None);
}

proptest! {
    #[test]
    fn next_business_day_is_the_first_one(offset in 0..20_000i64, alsace in any::<bool>()) {
        let cal = BusinessCalendar::new(alsace);
        let day = add_days(d(2000, 1, 1), offset);
        let next = cal.next_business_day_on_or_after(day);
        prop_assert!(cal.is_business_day(next));
        prop_assert!(next >= day);
        prop_assert!((next - day).num_days() <= 4);
        prop_assert!(day.iter_days().take_while(|x| *x < next).all(|x| !cal.is_business_day(x)));
    }

    #[test]
    fn adding_then_removing_business_days_comes_back(offset in 0..20_000i64, n in 1..40i64) {
        let cal = BusinessCalendar::FRANCE;
        let day = cal.next_business_day_on_or_after(add_days(d(2000, 1, 1), offset));
        let later = cal.add_business_days(day, n);
        prop_assert!(cal.is_business_day(later));
        prop_assert_eq!(cal.add_business_days(later, -n), day);
    }
}
