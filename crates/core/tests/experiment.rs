//! Experiments: the split of customers, what the planner does for each arm, and the comparison
//! on generated histories whose true behaviour is known.

use chrono::{Duration, NaiveDate};
use relance_core::calendar::BusinessCalendar;
use relance_core::experiment::{compare, ArmOutcome, Verdict, MIN_PER_ARM};
use relance_core::ids::{CreditorId, CustomerId, ItemId};
use relance_core::ledger::ItemKind;
use relance_core::money::Money;
use relance_core::party::CustomerKind;
use relance_core::planner::{
    plan, CaseCustomer, CaseItem, CaseState, Experiment, Policy, PolicyError, Tone, Variant,
};
use rust_decimal::Decimal;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn experiment(share_b: u8) -> Experiment {
    Experiment {
        name: "early_first".into(),
        share_b,
        offset_days: Some(5),
        template: Some("first_reminder_short".into()),
        tone: Some(Tone::Neutral),
        send_hour: Some(9),
    }
}

/// SplitMix64: a small seeded generator, so every history is reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[test]
fn assignment_is_stable_and_roughly_balanced() {
    let e = experiment(50);
    let codes: Vec<String> = (0..10_000).map(|i| format!("C{i:05}")).collect();
    let first: Vec<Variant> = codes.iter().map(|c| e.variant_for(c)).collect();
    let again: Vec<Variant> = codes.iter().map(|c| e.variant_for(c)).collect();
    assert_eq!(first, again);
    let b = first.iter().filter(|v| **v == Variant::B).count();
    assert!((4_800..=5_200).contains(&b), "{b} of 10,000 in B");
    // A 20 % share gives about 20 %.
    let small = experiment(20);
    let b20 = codes
        .iter()
        .filter(|c| small.variant_for(c) == Variant::B)
        .count();
    assert!(
        (1_800..=2_200).contains(&b20),
        "{b20} of 10,000 in B at 20 %"
    );
    // Fixed values: the hash must not change between versions (it would reshuffle running
    // experiments).
    let fixed: String = codes[..16]
        .iter()
        .map(|c| e.variant_for(c).as_str())
        .collect();
    assert_eq!(fixed, FIXED_ARMS);
    // Another experiment splits the same customers differently.
    let mut other = experiment(50);
    other.name = "other".into();
    let moved = codes
        .iter()
        .filter(|c| other.variant_for(c) != e.variant_for(c))
        .count();
    assert!((4_500..=5_500).contains(&moved), "{moved}");
}

const FIXED_ARMS: &str = "BAABABAABBAAABAA";

fn case_for(code: &str) -> CaseState {
    let mut case = CaseState::new(
        CreditorId(1),
        CaseCustomer {
            id: CustomerId(7),
            code: code.into(),
            kind: CustomerKind::Business,
            has_email: true,
            tags: Vec::new(),
        },
        relance_core::Currency::EUR,
    );
    case.items = vec![CaseItem {
        id: ItemId(1),
        kind: ItemKind::Invoice,
        number: "F-1".into(),
        due_date: d("2026-03-02"),
        open: Money::eur(Decimal::new(1200, 0)),
        disputed: false,
    }];
    case
}

#[test]
fn the_planner_gives_variant_b_its_delay_template_tone_and_hour() {
    let mut policy = Policy::default_french();
    let first = policy
        .steps
        .iter_mut()
        .find(|s| s.id == "first_reminder")
        .expect("step");
    first.experiment = Some(experiment(50));
    policy.validate().expect("valid");
    let e = experiment(50);
    let a_code = (0..100)
        .map(|i| format!("C{i:03}"))
        .find(|c| e.variant_for(c) == Variant::A)
        .expect("an A customer");
    let b_code = (0..100)
        .map(|i| format!("C{i:03}"))
        .find(|c| e.variant_for(c) == Variant::B)
        .expect("a B customer");
    let calendar = BusinessCalendar::FRANCE;
    // Due Monday 2 March: A's first reminder is due a day later (Tuesday 3), B's five days
    // later (Saturday 7 → Monday 9).
    let first_day = |code: &str| {
        let case = case_for(code);
        let mut day = d("2026-03-03");
        loop {
            let p = plan(&case, &policy, &calendar, day);
            if let Some(a) = p.actions.into_iter().find(|a| !a.is_notice) {
                return a;
            }
            day += Duration::days(1);
        }
    };
    let a = first_day(&a_code);
    assert_eq!(a.on, d("2026-03-03"));
    assert_eq!(a.template, "first_reminder");
    assert_eq!(a.tone, Tone::Friendly);
    assert_eq!(
        (a.experiment.as_deref(), a.variant, a.send_hour),
        (Some("early_first"), Some(Variant::A), None)
    );
    assert!(
        a.reason.ends_with("experiment early_first: variant A"),
        "{}",
        a.reason
    );
    let b = first_day(&b_code);
    assert_eq!(b.on, d("2026-03-09"));
    assert_eq!(b.template, "first_reminder_short");
    assert_eq!(b.tone, Tone::Neutral);
    assert_eq!((b.variant, b.send_hour), (Some(Variant::B), Some(9)));
    assert!(b.reason.contains("variant B"), "{}", b.reason);
    // Steps without an experiment say nothing of it.
    let notice = plan(&case_for(&b_code), &policy, &calendar, d("2026-02-25"));
    assert!(notice.actions.iter().all(|a| a.variant.is_none()));
}

#[test]
fn experiments_are_validated_and_survive_toml() {
    let mut policy = Policy::default_french();
    policy.steps[1].experiment = Some(experiment(30));
    let text = toml::to_string(&policy).expect("toml");
    assert!(text.contains("[steps.experiment]"), "{text}");
    let back: Policy = toml::from_str(&text).expect("parse");
    assert_eq!(back, policy);
    let mut nothing = experiment(50);
    nothing.offset_days = None;
    nothing.template = None;
    nothing.tone = None;
    nothing.send_hour = None;
    policy.steps[1].experiment = Some(nothing);
    assert!(matches!(
        policy.validate(),
        Err(PolicyError::BadExperiment(..))
    ));
    policy.steps[1].experiment = Some(experiment(0));
    assert!(policy.validate().is_err());
    let mut late = experiment(50);
    late.send_hour = Some(24);
    policy.steps[1].experiment = Some(late);
    assert!(policy.validate().is_err());
    // A before-due notice cannot run one.
    policy.steps[1].experiment = None;
    policy.steps[0].experiment = Some(experiment(50));
    assert!(policy.validate().is_err());
}

/// `n` customers split by the experiment; each gets a step on a day of the 200 days before
/// `as_of`; a customer pays after an exponential delay of mean `mean_a` or `mean_b` days, or
/// never (`never` share).
fn history(seed: u64, n: usize, mean_a: f64, mean_b: f64, never: f64) -> Vec<ArmOutcome> {
    let e = experiment(50);
    let as_of = d("2026-09-30");
    let mut rng = Rng(seed);
    (0..n)
        .map(|i| {
            let variant = e.variant_for(&format!("S{seed}-C{i:05}"));
            let day = as_of - Duration::days(14 + (rng.next() % 200) as i64);
            let mean = if variant == Variant::B {
                mean_b
            } else {
                mean_a
            };
            let paid_on = (rng.unit() >= never).then(|| {
                let u = rng.unit().max(1e-12);
                day + Duration::days((-mean * u.ln()).floor() as i64)
            });
            ArmOutcome {
                variant,
                day,
                paid_on: paid_on.filter(|p| *p <= as_of),
            }
        })
        .collect()
}

#[test]
fn variant_b_that_truly_pays_faster_is_detected() {
    let as_of = d("2026-09-30");
    for seed in 1..=10u64 {
        // B pays in 7 days on average, A in 12; one in ten never pays, in both arms.
        let report = compare(&history(seed, 800, 12.0, 7.0, 0.1), as_of);
        assert_eq!(
            report.verdict,
            Verdict::Winner {
                winner: Variant::B,
                by_rate: true
            },
            "seed {seed}: {report:?}"
        );
        eprintln!("seed {seed}: {}", report.verdict_text("en"));
        let rate = report.rate_difference.expect("rate difference");
        assert!(rate.low > 0.0, "seed {seed}: {rate:?}");
        let days = report.days_difference.expect("days difference");
        assert!(days.high < 0.0, "seed {seed}: {days:?}");
        assert!(report.verdict_text("en").starts_with("Variant B wins"));
        assert!(report
            .verdict_text("fr")
            .starts_with("La variante B l'emporte"));
    }
}

#[test]
fn no_true_difference_is_not_called_a_winner() {
    let as_of = d("2026-09-30");
    let mut false_winners = Vec::new();
    for seed in 100..120u64 {
        let report = compare(&history(seed, 600, 10.0, 10.0, 0.15), as_of);
        assert!(
            !matches!(report.verdict, Verdict::NotEnoughData { .. }),
            "{report:?}"
        );
        if matches!(report.verdict, Verdict::Winner { .. }) {
            false_winners.push(seed);
        }
    }
    eprintln!("false winners in 20 seeds: {false_winners:?}");
    assert!(false_winners.len() <= 1, "false winners: {false_winners:?}");
}

#[test]
fn tiny_samples_are_not_enough_data() {
    let as_of = d("2026-09-30");
    // Even a large true difference is not called on a handful of cases.
    let report = compare(&history(7, 40, 30.0, 3.0, 0.0), as_of);
    assert!(
        matches!(report.verdict, Verdict::NotEnoughData { needed, .. } if needed == MIN_PER_ARM),
        "{report:?}"
    );
    assert!(report.verdict_text("en").starts_with("Not enough data yet"));
    assert!(report
        .verdict_text("fr")
        .starts_with("Pas encore assez de données"));
    // Steps younger than 14 days do not count towards the minimum.
    let recent: Vec<ArmOutcome> = (0..200)
        .map(|i| ArmOutcome {
            variant: if i % 2 == 0 { Variant::A } else { Variant::B },
            day: as_of - Duration::days(3),
            paid_on: None,
        })
        .collect();
    let report = compare(&recent, as_of);
    assert_eq!((report.a.cases, report.a.seen), (100, 0));
    assert!(matches!(report.verdict, Verdict::NotEnoughData { .. }));
}
