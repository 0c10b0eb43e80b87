//! Follow-up policies (scénarios de relance): the ordered steps, their delays, channels, templates and tone.
//!
//! A policy is data, not code: it is stored, exported and edited as TOML or JSON through serde,
//! and checked by [`Policy::validate`] before use. `Option` and empty fields are left out when
//! serialising so that the TOML form stays writable by hand.

use std::collections::BTreeSet;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::party::CustomerKind;
use crate::scoring::Grade;

/// How a message or task reaches the customer (the `channel` field of `relance run --json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Letter,
    RegisteredLetter,
    /// Lettre recommandée avec accusé de réception: what a mise en demeure needs as proof.
    RegisteredLetterAr,
    Sms,
    /// A call for a collector to make, with a call script.
    PhoneCall,
    /// Any other work for a person (preparing the litigation file).
    Task,
}

impl Channel {
    pub const ALL: [Channel; 7] = [
        Channel::Email,
        Channel::Letter,
        Channel::RegisteredLetter,
        Channel::RegisteredLetterAr,
        Channel::Sms,
        Channel::PhoneCall,
        Channel::Task,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Letter => "letter",
            Channel::RegisteredLetter => "registered_letter",
            Channel::RegisteredLetterAr => "registered_letter_ar",
            Channel::Sms => "sms",
            Channel::PhoneCall => "phone_call",
            Channel::Task => "task",
        }
    }

    pub fn parse(text: &str) -> Option<Channel> {
        let t = text.trim().to_ascii_lowercase();
        Channel::ALL.into_iter().find(|c| c.as_str() == t)
    }
}

impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a step's delay counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Anchor {
    /// The due date (for a case step: the oldest chased invoice's due date).
    DueDate,
    /// The day the previous step was actually carried out, so that the debtor is always left
    /// the delay the last message announced, even when a run was missed.
    PreviousStep,
}

/// The register of the message; templates pick their wording from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    Informative,
    Friendly,
    Neutral,
    Firm,
    /// Mise en demeure.
    Formal,
    /// Contentieux.
    Legal,
}

/// Whether a case gathers all of a customer's overdue invoices or follows each invoice alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grouping {
    #[default]
    PerCustomer,
    PerInvoice,
}

/// Which customers a policy is meant for; empty lists accept everyone.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Conditions {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub customer_kinds: Vec<CustomerKind>,
    /// The customer must carry at least one of these tags (segment, sales team, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The customer's payer grade must be one of these (see [`crate::scoring`]): a firmer
    /// policy for risky payers (`grades = ["D", "E"]`), a gentler one for reliable ones. A
    /// customer not graded yet matches no grade condition.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grades: Vec<Grade>,
}

impl Conditions {
    /// Kind and tags only: a policy with a grade condition never matches (no grade known).
    pub fn matches(&self, kind: CustomerKind, tags: &[String]) -> bool {
        self.matches_graded(kind, tags, None)
    }

    pub fn matches_graded(
        &self,
        kind: CustomerKind,
        tags: &[String],
        grade: Option<Grade>,
    ) -> bool {
        (self.customer_kinds.is_empty() || self.customer_kinds.contains(&kind))
            && (self.tags.is_empty() || self.tags.iter().any(|t| tags.contains(t)))
            && (self.grades.is_empty() || grade.is_some_and(|g| self.grades.contains(&g)))
    }

    pub fn is_empty(&self) -> bool {
        self.customer_kinds.is_empty() && self.tags.is_empty() && self.grades.is_empty()
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One rung of the ladder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// Stable identifier, part of the idempotency key: lowercase letters, digits, `_`.
    pub id: String,
    /// Calendar days from the anchor (negative before a due date); the result moves to the next
    /// business day when it is not one.
    pub offset_days: i64,
    pub anchor: Anchor,
    pub channels: Vec<Channel>,
    /// Channels used instead when the customer has no e-mail address. When unset, the step goes
    /// out on its other channels (e-mail dropped). A case step left without any channel becomes
    /// a [`Channel::Task`] so that a person handles it: a rung is never silently skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub without_email: Option<Vec<Channel>>,
    pub template: String,
    pub tone: Tone,
    /// A notice about one invoice before its due date (prévenance): it belongs to the invoice,
    /// not to the case, and is skipped once the invoice is due.
    #[serde(default, skip_serializing_if = "is_false")]
    pub per_invoice_before_due: bool,
    /// The customer's statement of account (relevé de compte: every open item and the totals,
    /// as `relance render --statement` makes it) goes with the step's messages: attached to the
    /// e-mail, and printed after the letter, in the same envelope.
    #[serde(default, skip_serializing_if = "is_false")]
    pub attach_statement: bool,
    /// An A/B test on this step: a share of the customers (variant B) get the step with the
    /// experiment's changes, the others (variant A) the step as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<Experiment>,
}

/// The two arms of an experiment: A is the step as written, B the step with the changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Variant {
    A,
    B,
}

impl Variant {
    pub fn as_str(&self) -> &'static str {
        match self {
            Variant::A => "A",
            Variant::B => "B",
        }
    }

    pub fn parse(text: &str) -> Option<Variant> {
        match text.trim() {
            "A" | "a" => Some(Variant::A),
            "B" | "b" => Some(Variant::B),
            _ => None,
        }
    }
}

impl std::fmt::Display for Variant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn default_share_b() -> u8 {
    50
}

/// An experiment on one case step: what variant B changes, and the share of customers in it.
///
/// A customer's variant is decided by a stable hash of the experiment's name and the
/// customer's code ([`Experiment::variant_for`]): the same customer is always in the same arm,
/// on every run and on both databases, and another experiment shuffles customers anew.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Experiment {
    /// Stable identifier, recorded on every action of the step: lowercase letters, digits, `_`.
    pub name: String,
    /// Percentage of customers in variant B (1–99).
    #[serde(default = "default_share_b")]
    pub share_b: u8,
    /// Variant B's delay (the step's `offset_days` for B customers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset_days: Option<i64>,
    /// Variant B's template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Variant B's tone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tone: Option<Tone>,
    /// Variant B's sending hour (0–23, creditor time): its messages wait for that hour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_hour: Option<u8>,
}

impl Experiment {
    /// The arm of a customer (by its code): deterministic, roughly `share_b` % in B.
    pub fn variant_for(&self, customer_code: &str) -> Variant {
        if stable_bucket(&self.name, customer_code) < u64::from(self.share_b) {
            Variant::B
        } else {
            Variant::A
        }
    }

    /// Whether variant B changes anything.
    pub fn changes_something(&self) -> bool {
        self.offset_days.is_some()
            || self.template.is_some()
            || self.tone.is_some()
            || self.send_hour.is_some()
    }
}

/// 0–99 from FNV-1a over `name`, a zero byte and `key`, mixed by SplitMix64's finaliser: a
/// fixed function (not `std`'s hasher, whose seed and algorithm may change).
fn stable_bucket(name: &str, key: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes().chain([0u8]).chain(key.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^= h >> 31;
    h % 100
}

impl Step {
    /// True for the rungs of the case ladder (everything but before-due notices).
    pub fn is_case_step(&self) -> bool {
        !self.per_invoice_before_due
    }

    /// The channels this step uses for a customer with or without an e-mail address.
    pub fn channels_for(&self, has_email: bool) -> Vec<Channel> {
        if has_email {
            return self.channels.clone();
        }
        match &self.without_email {
            Some(list) => list.clone(),
            None => self
                .channels
                .iter()
                .copied()
                .filter(|c| *c != Channel::Email)
                .collect(),
        }
    }

    /// The customer's arm when the step runs an experiment.
    pub fn variant_for(&self, customer_code: &str) -> Option<Variant> {
        self.experiment
            .as_ref()
            .map(|e| e.variant_for(customer_code))
    }

    /// The step as a customer in `variant` gets it: B's changes applied, and the hour B's
    /// messages wait for (`None` for A and when B keeps the hour).
    pub fn as_variant(&self, variant: Option<Variant>) -> (Step, Option<u8>) {
        let mut step = self.clone();
        let mut hour = None;
        if let (Some(Variant::B), Some(e)) = (variant, &self.experiment) {
            if let Some(days) = e.offset_days {
                step.offset_days = days;
            }
            if let Some(template) = &e.template {
                step.template = template.clone();
            }
            if let Some(tone) = e.tone {
                step.tone = tone;
            }
            hour = e.send_hour;
        }
        (step, hour)
    }
}

/// Why a policy cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("the policy has no name")]
    EmptyName,
    #[error("the policy has no case step (only before-due notices)")]
    NoCaseStep,
    #[error("step id \"{0}\" must be non-empty lowercase letters, digits and '_'")]
    BadStepId(String),
    #[error("step \"{0}\" appears twice")]
    DuplicateStep(String),
    #[error(
        "step \"{0}\" is sent before the due date and must count from it with a negative offset"
    )]
    BadNotice(String),
    #[error("the first case step \"{0}\" must count from the due date")]
    FirstStepAnchor(String),
    #[error("step \"{0}\" counts from the previous step and needs an offset of 0 days or more")]
    NegativeDelay(String),
    #[error("the minimum amount must not be negative")]
    NegativeMinimum,
    #[error("experiment \"{0}\": {1}")]
    BadExperiment(String, &'static str),
}

fn default_minimum() -> Money {
    Money::eur(Decimal::new(5, 0))
}

/// A follow-up policy (scénario de relance).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub grouping: Grouping,
    /// Customer totals below this are not chased (default 5 EUR). Compared only with cases in
    /// the same currency: the core has no exchange rates.
    #[serde(default = "default_minimum")]
    pub minimum_amount: Money,
    #[serde(default, skip_serializing_if = "Conditions::is_empty")]
    pub conditions: Conditions,
    pub steps: Vec<Step>,
}

impl Policy {
    /// The French default of DESIGN.md ("Default French policy"): courtesy notice 5 days before
    /// the due date, first reminder the day after it, then a call, a registered letter, the mise
    /// en demeure and the litigation file, each timed from the day the previous one was done.
    pub fn default_french() -> Policy {
        fn step(
            id: &str,
            offset_days: i64,
            anchor: Anchor,
            channels: &[Channel],
            tone: Tone,
        ) -> Step {
            Step {
                id: id.to_string(),
                offset_days,
                anchor,
                channels: channels.to_vec(),
                without_email: None,
                template: id.to_string(),
                tone,
                per_invoice_before_due: false,
                attach_statement: false,
                experiment: None,
            }
        }
        use Anchor::{DueDate, PreviousStep};
        use Channel::*;
        let mut courtesy = step("courtesy_notice", -5, DueDate, &[Email], Tone::Informative);
        courtesy.per_invoice_before_due = true;
        let mut first = step("first_reminder", 1, DueDate, &[Email], Tone::Friendly);
        first.without_email = Some(vec![Letter]);
        // The second reminder is the first firm message, after a call: the statement lets the
        // customer check every open item (and point at a payment we have not seen) before
        // the mise en demeure, which names only the invoices it claims.
        let mut second = step(
            "second_reminder",
            4,
            PreviousStep,
            &[RegisteredLetter, Email],
            Tone::Firm,
        );
        second.attach_statement = true;
        Policy {
            id: "standard_fr".to_string(),
            name: "Standard".to_string(),
            grouping: Grouping::PerCustomer,
            minimum_amount: default_minimum(),
            conditions: Conditions::default(),
            steps: vec![
                courtesy,
                first,
                step("phone_call", 4, PreviousStep, &[PhoneCall], Tone::Neutral),
                second,
                step(
                    "formal_notice",
                    10,
                    PreviousStep,
                    &[RegisteredLetterAr, Email],
                    Tone::Formal,
                ),
                step("litigation", 15, PreviousStep, &[Task], Tone::Legal),
            ],
        }
    }

    /// Checks what the planner relies on.
    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.name.trim().is_empty() {
            return Err(PolicyError::EmptyName);
        }
        if self.minimum_amount.is_negative() {
            return Err(PolicyError::NegativeMinimum);
        }
        let mut seen = BTreeSet::new();
        let mut experiments = BTreeSet::new();
        for step in &self.steps {
            let id_ok = !step.id.is_empty()
                && step
                    .id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !id_ok {
                return Err(PolicyError::BadStepId(step.id.clone()));
            }
            if !seen.insert(step.id.as_str()) {
                return Err(PolicyError::DuplicateStep(step.id.clone()));
            }
            if step.per_invoice_before_due
                && (step.anchor != Anchor::DueDate || step.offset_days >= 0)
            {
                return Err(PolicyError::BadNotice(step.id.clone()));
            }
            if step.anchor == Anchor::PreviousStep && step.offset_days < 0 {
                return Err(PolicyError::NegativeDelay(step.id.clone()));
            }
            if let Some(e) = &step.experiment {
                validate_experiment(step, e, &mut experiments)?;
            }
        }
        match self.case_steps().next() {
            None => Err(PolicyError::NoCaseStep),
            Some((_, first)) if first.anchor != Anchor::DueDate => {
                Err(PolicyError::FirstStepAnchor(first.id.clone()))
            }
            Some(_) => Ok(()),
        }
    }

    /// The case ladder, with each step's 1-based position in [`Policy::steps`].
    pub fn case_steps(&self) -> impl Iterator<Item = (usize, &Step)> + '_ {
        self.steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_case_step())
            .map(|(i, s)| (i + 1, s))
    }

    /// The before-due notices, with their 1-based positions.
    pub fn notice_steps(&self) -> impl Iterator<Item = (usize, &Step)> + '_ {
        self.steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.per_invoice_before_due)
            .map(|(i, s)| (i + 1, s))
    }

    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    pub fn applies_to(&self, kind: CustomerKind, tags: &[String]) -> bool {
        self.conditions.matches(kind, tags)
    }

    pub fn applies_to_graded(
        &self,
        kind: CustomerKind,
        tags: &[String],
        grade: Option<Grade>,
    ) -> bool {
        self.conditions.matches_graded(kind, tags, grade)
    }

    /// Whether the policy routes by payer grade (the run then refreshes the grades first).
    pub fn uses_grades(&self) -> bool {
        !self.conditions.grades.is_empty()
    }
}

fn validate_experiment(
    step: &Step,
    e: &Experiment,
    names: &mut BTreeSet<String>,
) -> Result<(), PolicyError> {
    let bad = |why: &'static str| Err(PolicyError::BadExperiment(e.name.clone(), why));
    let name_ok = !e.name.is_empty()
        && e.name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !name_ok {
        return bad("the name must be non-empty lowercase letters, digits and '_'");
    }
    if !names.insert(e.name.clone()) {
        return bad("two steps of the policy run an experiment of this name");
    }
    if step.per_invoice_before_due {
        return bad("only case steps can run an experiment, not before-due notices");
    }
    if !(1..=99).contains(&e.share_b) {
        return bad("share_b (the percentage of customers in variant B) must be 1 to 99");
    }
    if !e.changes_something() {
        return bad("variant B changes nothing (offset_days, template, tone or send_hour)");
    }
    if e.send_hour.is_some_and(|h| h > 23) {
        return bad("send_hour must be 0 to 23");
    }
    if e.template.as_deref().is_some_and(|t| t.trim().is_empty()) {
        return bad("variant B's template is empty");
    }
    if let Some(days) = e.offset_days {
        if step.anchor == Anchor::PreviousStep && days < 0 {
            return bad("variant B's delay counts from the previous step and must be 0 or more");
        }
    }
    Ok(())
}

/// The first policy, in the given order, whose conditions accept the customer.
pub fn select_policy<'a>(
    policies: &'a [Policy],
    kind: CustomerKind,
    tags: &[String],
) -> Option<&'a Policy> {
    policies.iter().find(|p| p.applies_to(kind, tags))
}

/// The first policy, in the given order, whose conditions accept the customer and its grade.
pub fn select_policy_graded<'a>(
    policies: &'a [Policy],
    kind: CustomerKind,
    tags: &[String],
    grade: Option<Grade>,
) -> Option<&'a Policy> {
    policies
        .iter()
        .find(|p| p.applies_to_graded(kind, tags, grade))
}
