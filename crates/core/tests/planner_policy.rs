//! Tests of the policy model: the French default, validation, and storage as JSON and TOML.

use relance_core::money::Money;
use relance_core::party::CustomerKind;
use relance_core::planner::{
    select_policy, Anchor, Channel, Conditions, Policy, PolicyError, Tone,
};
use rust_decimal::Decimal;

#[test]
fn the_french_default_follows_the_design() {
    let policy = Policy::default_french();
    policy.validate().expect("valid");
    let table: Vec<(&str, i64, Anchor, Vec<&str>, bool)> = policy
        .steps
        .iter()
        .map(|s| {
            (
                s.id.as_str(),
                s.offset_days,
                s.anchor,
                s.channels.iter().map(|c| c.as_str()).collect(),
                s.per_invoice_before_due,
            )
        })
        .collect();
    assert_eq!(
        table,
        vec![
            ("courtesy_notice", -5, Anchor::DueDate, vec!["email"], true),
            ("first_reminder", 1, Anchor::DueDate, vec!["email"], false),
            (
                "phone_call",
                4,
                Anchor::PreviousStep,
                vec!["phone_call"],
                false
            ),
            (
                "second_reminder",
                4,
                Anchor::PreviousStep,
                vec!["registered_letter", "email"],
                false
            ),
            (
                "formal_notice",
                10,
                Anchor::PreviousStep,
                vec!["registered_letter_ar", "email"],
                false
            ),
            ("litigation", 15, Anchor::PreviousStep, vec!["task"], false),
        ]
    );
    assert_eq!(policy.minimum_amount, Money::eur(Decimal::new(5, 0)));
    let first = policy.step("first_reminder").expect("first");
    assert_eq!(first.channels_for(false), vec![Channel::Letter]);
    let second = policy.step("second_reminder").expect("second");
    assert_eq!(second.channels_for(false), vec![Channel::RegisteredLetter]);
    let courtesy = policy.step("courtesy_notice").expect("courtesy");
    assert!(courtesy.channels_for(false).is_empty());
    assert_eq!(
        policy.step("formal_notice").map(|s| s.tone),
        Some(Tone::Formal)
    );
}

#[test]
fn channels_serialise_as_the_run_json_names() {
    let json = serde_json::to_string(&Channel::ALL.to_vec()).expect("json");
    assert_eq!(
        json,
        r#"["email","letter","registered_letter","registered_letter_ar","sms","phone_call","task"]"#
    );
    for channel in Channel::ALL {
        assert_eq!(Channel::parse(channel.as_str()), Some(channel));
    }
}

#[test]
fn policies_round_trip_through_json_and_toml() {
    let mut policy = Policy::default_french();
    policy.conditions = Conditions {
        customer_kinds: vec![CustomerKind::Business],
        tags: vec!["grands-comptes".into()],
        grades: vec![relance_core::scoring::Grade::D],
    };
    let json = serde_json::to_string(&policy).expect("json");
    assert_eq!(
        serde_json::from_str::<Policy>(&json).expect("from json"),
        policy
    );
    let toml_text = toml::to_string(&policy).expect("toml");
    assert_eq!(
        toml::from_str::<Policy>(&toml_text).expect("from toml"),
        policy
    );
}

#[test]
fn a_hand_written_toml_policy_gets_the_defaults() {
    let text = r#"
        id = "short"
        name = "Short"

        [[steps]]
        id = "first_reminder"
        offset_days = 3
        anchor = "due_date"
        channels = ["email"]
        template = "first_reminder"
        tone = "friendly"

        [[steps]]
        id = "call"
        offset_days = 7
        anchor = "previous_step"
        channels = ["phone_call"]
        template = "call"
        tone = "neutral"
    "#;
    let policy: Policy = toml::from_str(text).expect("policy");
    policy.validate().expect("valid");
    assert_eq!(policy.minimum_amount, Money::eur(Decimal::new(5, 0)));
    assert!(policy.conditions.is_empty());
    assert_eq!(policy.notice_steps().count(), 0);
}

#[test]
fn validation_refuses_what_the_planner_cannot_follow() {
    let base = Policy::default_french();

    let mut p = base.clone();
    p.steps[2].id = "first_reminder".into();
    assert_eq!(
        p.validate(),
        Err(PolicyError::DuplicateStep("first_reminder".into()))
    );

    let mut p = base.clone();
    p.steps[1].anchor = Anchor::PreviousStep;
    assert_eq!(
        p.validate(),
        Err(PolicyError::FirstStepAnchor("first_reminder".into()))
    );

    let mut p = base.clone();
    p.steps[0].offset_days = 2;
    assert_eq!(
        p.validate(),
        Err(PolicyError::BadNotice("courtesy_notice".into()))
    );

    let mut p = base.clone();
    p.steps[3].offset_days = -1;
    assert_eq!(
        p.validate(),
        Err(PolicyError::NegativeDelay("second_reminder".into()))
    );

    let mut p = base.clone();
    p.steps[4].id = "Mise en demeure".into();
    assert!(matches!(p.validate(), Err(PolicyError::BadStepId(_))));

    let mut p = base.clone();
    p.steps.retain(|s| s.per_invoice_before_due);
    assert_eq!(p.validate(), Err(PolicyError::NoCaseStep));
}

#[test]
fn the_first_matching_policy_is_selected() {
    let mut b2b = Policy::default_french();
    b2b.id = "b2b".into();
    b2b.conditions.customer_kinds = vec![CustomerKind::Business];
    let mut vip = Policy::default_french();
    vip.id = "vip".into();
    vip.conditions.tags = vec!["vip".into()];
    let fallback = Policy::default_french();
    let policies = [vip, b2b, fallback];
    let tags = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let pick = |kind, t: &[&str]| select_policy(&policies, kind, &tags(t)).map(|p| p.id.clone());
    assert_eq!(pick(CustomerKind::Consumer, &["vip"]), Some("vip".into()));
    assert_eq!(pick(CustomerKind::Business, &[]), Some("b2b".into()));
    assert_eq!(
        pick(CustomerKind::Consumer, &[]),
        Some("standard_fr".into())
    );
}
