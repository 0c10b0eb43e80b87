//! The policy editor: the creditor's follow-up policies listed in the order they are tried,
//! one policy's ordered steps (delay, anchor, channels, template, tone), its grouping, minimum
//! amount and conditions (customer kind, tags/segment, payer grade) edited in a form, and the
//! policies exported or imported as TOML or JSON like `relance policy export|import`.
//!
//! Saving goes through `Store::save_policy`, whose `Policy::validate` is the check of the
//! command line; its refusal, and every field the form could not read, is shown next to the
//! field concerned.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use relance_core::money::{parse_amount, Currency, Money};
use relance_core::party::CustomerKind;
use relance_core::planner::{Channel, Experiment, Policy, PolicyError, Step, Tone};
use relance_core::scoring::Grade;
use relance_store::creditors::CreditorRecord;
use relance_store::StoreError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{download, multipart, page, require_admin};
use crate::auth::Session;
use crate::error::WebError;
use crate::i18n::Lang;
use crate::pages::{chrome, path_of, see_other};
use crate::{access, AppState};

/// A file of several policies, as `relance policy export` writes it.
#[derive(Serialize, Deserialize)]
struct PolicyFile {
    policies: Vec<Policy>,
}

/// One policy or `policies = [...]`, in JSON or TOML (the rules of `relance policy import`).
pub fn parse_policy_file(text: &str) -> Result<Vec<Policy>, String> {
    let trimmed = text.trim_start();
    let several = text.contains("\"policies\"") || text.contains("[[policies");
    if trimmed.starts_with('{') || trimmed.starts_with('[') && !trimmed.starts_with("[[") {
        if several {
            return serde_json::from_str::<PolicyFile>(text)
                .map(|f| f.policies)
                .map_err(|e| e.to_string());
        }
        return serde_json::from_str::<Policy>(text)
            .map(|p| vec![p])
            .map_err(|e| e.to_string());
    }
    if several {
        return toml::from_str::<PolicyFile>(text)
            .map(|f| f.policies)
            .map_err(|e| e.to_string());
    }
    toml::from_str::<Policy>(text)
        .map(|p| vec![p])
        .map_err(|e| e.to_string())
}

/// The serde name of an enum value (`due_date`, `registered_letter`, `B`).
fn name_of<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn parse_name<T: DeserializeOwned>(text: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(text.trim().to_string())).ok()
}

const ANCHORS: [&str; 2] = ["due_date", "previous_step"];
const TONES: [&str; 6] = [
    "informative",
    "friendly",
    "neutral",
    "firm",
    "formal",
    "legal",
];

/// A step as the form shows it: the text typed, so that a refused form comes back as sent.
#[derive(Debug, Clone, Default, Serialize)]
struct StepRow {
    id: String,
    offset_days: String,
    anchor: String,
    channels: Vec<String>,
    without_email: String,
    template: String,
    tone: String,
    before_due: bool,
    attach_statement: bool,
    /// The step's experiment, empty `exp_name` for none: variant B's changes as typed.
    exp_name: String,
    exp_share_b: String,
    exp_offset_days: String,
    exp_template: String,
    exp_tone: String,
    exp_send_hour: String,
}

impl StepRow {
    fn of(step: &Step) -> StepRow {
        let e = step.experiment.as_ref();
        StepRow {
            id: step.id.clone(),
            offset_days: step.offset_days.to_string(),
            anchor: name_of(&step.anchor),
            channels: step
                .channels
                .iter()
                .map(|c| c.as_str().to_string())
                .collect(),
            without_email: step
                .without_email
                .as_ref()
                .map(|l| l.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", "))
                .unwrap_or_default(),
            template: step.template.clone(),
            tone: name_of(&step.tone),
            before_due: step.per_invoice_before_due,
            attach_statement: step.attach_statement,
            exp_name: e.map(|e| e.name.clone()).unwrap_or_default(),
            exp_share_b: e.map(|e| e.share_b.to_string()).unwrap_or_default(),
            exp_offset_days: e
                .and_then(|e| e.offset_days)
                .map(|d| d.to_string())
                .unwrap_or_default(),
            exp_template: e.and_then(|e| e.template.clone()).unwrap_or_default(),
            exp_tone: e
                .and_then(|e| e.tone)
                .map(|t| name_of(&t))
                .unwrap_or_default(),
            exp_send_hour: e
                .and_then(|e| e.send_hour)
                .map(|h| h.to_string())
                .unwrap_or_default(),
        }
    }
}

/// The whole form.
#[derive(Debug, Clone, Default, Serialize)]
struct PolicyForm {
    id: String,
    name: String,
    grouping: String,
    minimum_amount: String,
    currency: String,
    kinds: Vec<String>,
    tags: String,
    grades: Vec<String>,
    steps: Vec<StepRow>,
}

impl PolicyForm {
    fn of(p: &Policy) -> PolicyForm {
        PolicyForm {
            id: p.id.clone(),
            name: p.name.clone(),
            grouping: name_of(&p.grouping),
            minimum_amount: p.minimum_amount.to_plain_string(),
            currency: p.minimum_amount.currency.code().to_string(),
            kinds: p
                .conditions
                .customer_kinds
                .iter()
                .map(|k| k.as_str().to_string())
                .collect(),
            tags: p.conditions.tags.join(", "),
            grades: p.conditions.grades.iter().map(name_of).collect(),
            steps: p.steps.iter().map(StepRow::of).collect(),
        }
    }

    /// Reads the posted fields: `name`, `grouping`, `minimum_amount`, `currency`, `kinds`*,
    /// `tags`, `grades`*, and per row `sN.id`, `sN.offset_days`, `sN.anchor`, `sN.channels`*,
    /// `sN.without_email`, `sN.template`, `sN.tone`, `sN.before_due`, `sN.attach_statement`, `sN.position`,
    /// `sN.remove` (* repeated). Rows are ordered by position, then as sent; a row without an
    /// id is the empty "new step" row.
    fn from_fields(id: &str, fields: &[(String, String)]) -> PolicyForm {
        let one = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default()
        };
        let all = |name: &str| -> Vec<String> {
            fields
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.trim().to_string())
                .collect()
        };
        let mut rows: BTreeMap<usize, (String, StepRow, bool)> = BTreeMap::new();
        for (k, v) in fields {
            let Some((index, field)) = k
                .strip_prefix('s')
                .and_then(|rest| rest.split_once('.'))
                .and_then(|(i, f)| Some((i.parse::<usize>().ok()?, f)))
            else {
                continue;
            };
            if index > 100 {
                continue;
            }
            let (position, row, removed) = rows.entry(index).or_default();
            let v = v.trim().to_string();
            match field {
                "id" => row.id = v,
                "offset_days" => row.offset_days = v,
                "anchor" => row.anchor = v,
                "channels" => row.channels.push(v),
                "without_email" => row.without_email = v,
                "template" => row.template = v,
                "tone" => row.tone = v,
                "before_due" => row.before_due = !v.is_empty(),
                "attach_statement" => row.attach_statement = !v.is_empty(),
                "exp_name" => row.exp_name = v,
                "exp_share_b" => row.exp_share_b = v,
                "exp_offset_days" => row.exp_offset_days = v,
                "exp_template" => row.exp_template = v,
                "exp_tone" => row.exp_tone = v,
                "exp_send_hour" => row.exp_send_hour = v,
                "position" => *position = v,
                "remove" => *removed = !v.is_empty(),
                _ => {}
            }
        }
        let mut ordered: Vec<(f64, usize, StepRow)> = rows
            .into_iter()
            .filter(|(_, (_, row, removed))| !*removed && !row.id.is_empty())
            .map(|(i, (position, row, _))| {
                // Position only orders rows; an unreadable one keeps the row where it was.
                let p = position.parse::<f64>().unwrap_or(i as f64 + 1.0);
                (p, i, row)
            })
            .collect();
        ordered.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        PolicyForm {
            id: id.to_string(),
            name: one("name"),
            grouping: one("grouping"),
            minimum_amount: one("minimum_amount"),
            currency: one("currency"),
            kinds: all("kinds"),
            tags: one("tags"),
            grades: all("grades"),
            steps: ordered.into_iter().map(|(_, _, r)| r).collect(),
        }
    }

    /// The policy, or the problems keyed by field name (`name`, `s2.offset_days`, `steps`).
    fn to_policy(&self, lang: Lang) -> Result<Policy, BTreeMap<String, String>> {
        let fr = lang == Lang::Fr;
        let mut errors = BTreeMap::new();
        let mut err = |field: String, fr_text: String, en_text: String| {
            errors.insert(field, if fr { fr_text } else { en_text });
        };
        let grouping = parse_name(&self.grouping).unwrap_or_else(|| {
            err(
                "grouping".into(),
                format!("« {} » n'est pas un regroupement", self.grouping),
                format!("\"{}\" is not a grouping", self.grouping),
            );
            Default::default()
        });
        let currency = Currency::parse(if self.currency.is_empty() {
            "EUR"
        } else {
            &self.currency
        });
        let minimum = match (parse_amount(&self.minimum_amount), currency) {
            (Ok(amount), Ok(currency)) => Some(Money::new(amount, currency)),
            (Err(e), _) => {
                err(
                    "minimum_amount".into(),
                    format!("« {} » n'est pas un montant : {e}", self.minimum_amount),
                    format!("\"{}\" is not an amount: {e}", self.minimum_amount),
                );
                None
            }
            (_, Err(e)) => {
                err("currency".into(), e.to_string(), e.to_string());
                None
            }
        };
        let mut kinds = Vec::new();
        for k in &self.kinds {
            match CustomerKind::parse(k) {
                Ok(kind) => kinds.push(kind),
                Err(e) => err("kinds".into(), e.to_string(), e.to_string()),
            }
        }
        let mut grades = Vec::new();
        for g in &self.grades {
            match parse_name::<Grade>(g) {
                Some(grade) => grades.push(grade),
                None => err(
                    "grades".into(),
                    format!("« {g} » n'est pas une note (A à E)"),
                    format!("\"{g}\" is not a grade (A to E)"),
                ),
            }
        }
        let tags: Vec<String> = self
            .tags
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect();
        let mut steps = Vec::new();
        for (i, row) in self.steps.iter().enumerate() {
            let f = |name: &str| format!("s{i}.{name}");
            let offset = row
                .offset_days
                .parse::<i64>()
                .ok()
                .filter(|d| d.abs() <= 3650);
            if offset.is_none() {
                err(
                    f("offset_days"),
                    format!(
                        "« {} » n'est pas un nombre de jours (-3650 à 3650)",
                        row.offset_days
                    ),
                    format!(
                        "\"{}\" is not a number of days (-3650 to 3650)",
                        row.offset_days
                    ),
                );
            }
            let anchor = parse_name(&row.anchor);
            if anchor.is_none() {
                err(
                    f("anchor"),
                    "point de départ inconnu".into(),
                    "unknown anchor".into(),
                );
            }
            let tone = parse_name(&row.tone);
            if tone.is_none() {
                err(f("tone"), "ton inconnu".into(), "unknown tone".into());
            }
            let mut channels = Vec::new();
            for c in &row.channels {
                match Channel::parse(c) {
                    Some(ch) => channels.push(ch),
                    None => err(
                        f("channels"),
                        format!("« {c} » n'est pas un canal"),
                        format!("\"{c}\" is not a channel"),
                    ),
                }
            }
            if row.channels.is_empty() {
                err(
                    f("channels"),
                    "choisissez au moins un canal".into(),
                    "choose at least one channel".into(),
                );
            }
            let mut without_email = None;
            if !row.without_email.is_empty() {
                let mut list = Vec::new();
                for c in row
                    .without_email
                    .split(',')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                {
                    match Channel::parse(c) {
                        Some(ch) => list.push(ch),
                        None => err(
                            f("without_email"),
                            format!("« {c} » n'est pas un canal"),
                            format!("\"{c}\" is not a channel"),
                        ),
                    }
                }
                without_email = Some(list);
            }
            let template = if row.template.is_empty() {
                row.id.clone()
            } else {
                row.template.clone()
            };
            let mut experiment = None;
            if !row.exp_name.is_empty() {
                let share_b = if row.exp_share_b.is_empty() {
                    Some(50)
                } else {
                    row.exp_share_b
                        .parse::<u8>()
                        .ok()
                        .filter(|s| (1..=99).contains(s))
                };
                if share_b.is_none() {
                    err(
                        f("exp_share_b"),
                        format!("« {} » n'est pas un pourcentage (1 à 99)", row.exp_share_b),
                        format!("\"{}\" is not a percentage (1 to 99)", row.exp_share_b),
                    );
                }
                let b_offset = if row.exp_offset_days.is_empty() {
                    Some(None)
                } else {
                    row.exp_offset_days
                        .parse::<i64>()
                        .ok()
                        .filter(|d| d.abs() <= 3650)
                        .map(Some)
                };
                if b_offset.is_none() {
                    err(
                        f("exp_offset_days"),
                        format!(
                            "« {} » n'est pas un nombre de jours (-3650 à 3650)",
                            row.exp_offset_days
                        ),
                        format!(
                            "\"{}\" is not a number of days (-3650 to 3650)",
                            row.exp_offset_days
                        ),
                    );
                }
                let b_tone = if row.exp_tone.is_empty() {
                    Some(None)
                } else {
                    parse_name::<Tone>(&row.exp_tone).map(Some)
                };
                if b_tone.is_none() {
                    err(f("exp_tone"), "ton inconnu".into(), "unknown tone".into());
                }
                let b_hour = if row.exp_send_hour.is_empty() {
                    Some(None)
                } else {
                    row.exp_send_hour
                        .parse::<u8>()
                        .ok()
                        .filter(|h| *h <= 23)
                        .map(Some)
                };
                if b_hour.is_none() {
                    err(
                        f("exp_send_hour"),
                        format!("« {} » n'est pas une heure (0 à 23)", row.exp_send_hour),
                        format!("\"{}\" is not an hour (0 to 23)", row.exp_send_hour),
                    );
                }
                if let (Some(share_b), Some(offset_days), Some(tone), Some(send_hour)) =
                    (share_b, b_offset, b_tone, b_hour)
                {
                    experiment = Some(Experiment {
                        name: row.exp_name.clone(),
                        share_b,
                        offset_days,
                        template: (!row.exp_template.is_empty()).then(|| row.exp_template.clone()),
                        tone,
                        send_hour,
                    });
                }
            }
            if let (Some(offset_days), Some(anchor), Some(tone)) = (offset, anchor, tone) {
                steps.push(Step {
                    id: row.id.clone(),
                    offset_days,
                    anchor,
                    channels,
                    without_email,
                    template,
                    tone,
                    per_invoice_before_due: row.before_due,
                    attach_statement: row.attach_statement,
                    experiment,
                });
            }
        }
        let (Some(minimum_amount), true) = (minimum, errors.is_empty()) else {
            return Err(errors);
        };
        let policy = Policy {
            id: self.id.clone(),
            name: self.name.clone(),
            grouping,
            minimum_amount,
            conditions: relance_core::planner::Conditions {
                customer_kinds: kinds,
                tags,
                grades,
            },
            steps,
        };
        if let Err(e) = policy.validate() {
            let step_field = |id: &str, name: &str| {
                self.steps
                    .iter()
                    .position(|s| s.id == id)
                    .map(|i| format!("s{i}.{name}"))
                    .unwrap_or_else(|| "steps".into())
            };
            let field = match &e {
                PolicyError::EmptyName => "name".to_string(),
                PolicyError::NegativeMinimum => "minimum_amount".to_string(),
                PolicyError::NoCaseStep => "steps".to_string(),
                PolicyError::BadStepId(id) | PolicyError::DuplicateStep(id) => step_field(id, "id"),
                PolicyError::BadNotice(id) | PolicyError::NegativeDelay(id) => {
                    step_field(id, "offset_days")
                }
                PolicyError::FirstStepAnchor(id) => step_field(id, "anchor"),
                PolicyError::BadExperiment(name, _) => self
                    .steps
                    .iter()
                    .position(|s| &s.exp_name == name)
                    .map(|i| format!("s{i}.exp_name"))
                    .unwrap_or_else(|| "steps".into()),
            };
            // The core's message is in English (it is also the CLI's).
            errors.insert(field, e.to_string());
            return Err(errors);
        }
        Ok(policy)
    }
}

/// The choices the form offers.
fn choices() -> minijinja::Value {
    minijinja::context! {
        anchors => ANCHORS,
        tones => TONES,
        channels => Channel::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        kinds => ["business", "consumer"],
        grades => Grade::ALL.iter().map(name_of).collect::<Vec<_>>(),
        groupings => ["per_customer", "per_invoice"],
        templates => relance_render::StepId::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
    }
}

fn valid_policy_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 40
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        && !matches!(id, "export" | "import" | "new")
}

async fn list_page(
    state: &AppState,
    session: &Session,
    creditor: &CreditorRecord,
    lang: Lang,
    uri: &axum::http::Uri,
    status: StatusCode,
    message: (Option<String>, Option<String>),
) -> Result<Response, WebError> {
    let policies: Vec<_> = state
        .store()
        .policies(creditor.id)
        .await?
        .iter()
        .map(|p| {
            minijinja::context! {
                id => p.id, name => p.name, grouping => name_of(&p.grouping),
                minimum => lang.money(&p.minimum_amount),
                steps => p.steps.iter().map(|s| format!("{} ({:+} j)", s.id, s.offset_days)).collect::<Vec<_>>(),
                kinds => p.conditions.customer_kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
                tags => p.conditions.tags, grades => p.conditions.grades.iter().map(name_of).collect::<Vec<_>>(),
                url => format!("/c/{}/policies/{}", creditor.id.0, p.id),
            }
        })
        .collect();
    let chrome = chrome(state, session, Some(creditor), path_of(uri)).await?;
    page(
        state,
        "policies.html",
        lang,
        status,
        minijinja::context! {
            chrome, policies, cid => creditor.id.0, active => "policies",
            is_admin => session.user.role == relance_store::users::Role::Admin,
            done => message.0, error => message.1,
        },
    )
}

#[derive(Debug, Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    imported: Option<String>,
}

/// `GET /c/{creditor}/policies`.
pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path(creditor): Path<i64>,
    Query(q): Query<ListQuery>,
    uri: axum::http::Uri,
) -> Result<Response, WebError> {
    let creditor = access(state.store(), &session.user, creditor).await?;
    let lang = Lang::of(&headers);
    let done = q.imported.map(|n| match lang {
        Lang::Fr => format!("Politiques importées : {n}."),
        Lang::En => format!("Policies imported: {n}."),
    });
    list_page(
        &state,
        &session,
        &creditor,
        lang,
        &uri,
        StatusCode::OK,
        (done, None),
    )
    .await
}

#[derive(Debug, Deserialize, Default)]
pub struct PolicyQuery {
    #[serde(default)]
    new: Option<String>,
    #[serde(default)]
    saved: Option<String>,
    /// With the path `new`: the id typed in the list page's "new policy" form.
    #[serde(default)]
    id: Option<String>,
    /// After the assignment form: the customer assigned, or why not.
    #[serde(default)]
    assigned: Option<String>,
    #[serde(default)]
    assign_error: Option<String>,
}

/// What the assignment form says after it ran.
#[derive(Debug, Default, Serialize)]
struct AssignMessage {
    assigned: Option<String>,
    error: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn policy_page(
    state: &AppState,
    session: &Session,
    creditor: &CreditorRecord,
    lang: Lang,
    uri: &axum::http::Uri,
    status: StatusCode,
    form: PolicyForm,
    errors: BTreeMap<String, String>,
    saved: bool,
    is_new: bool,
    assign: AssignMessage,
) -> Result<Response, WebError> {
    let chrome = chrome(state, session, Some(creditor), path_of(uri)).await?;
    let rows = form.steps.len();
    page(
        state,
        "policy.html",
        lang,
        status,
        minijinja::context! {
            chrome, cid => creditor.id.0, active => "policies", form, errors, saved, is_new, assign,
            choices => choices(), new_row => rows,
            is_admin => session.user.role == relance_store::users::Role::Admin,
            action => format!("/c/{}/policies/{}", creditor.id.0, form_id(uri)),
        },
    )
}

fn form_id(uri: &axum::http::Uri) -> String {
    uri.path().rsplit('/').next().unwrap_or("").to_string()
}

/// `GET /c/{creditor}/policies/{id}`: the policy in a form (`?new=1`: a new policy named
/// `id`, starting from the French default's steps).
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path((creditor, id)): Path<(i64, String)>,
    Query(q): Query<PolicyQuery>,
    uri: axum::http::Uri,
) -> Result<Response, WebError> {
    let creditor = access(state.store(), &session.user, creditor).await?;
    if id == "new" {
        let wanted = q.id.as_deref().unwrap_or("").trim().to_string();
        if !valid_policy_id(&wanted) {
            return Err(WebError::BadRequest(crate::i18n::refusal(
                Lang::of(&headers),
                "policy_id",
                &[&wanted],
            )));
        }
        return Ok(see_other(&format!(
            "/c/{}/policies/{wanted}?new=1",
            creditor.id.0
        )));
    }
    let lang = Lang::of(&headers);
    let policies = state.store().policies(creditor.id).await?;
    let (policy, is_new) = match policies.into_iter().find(|p| p.id == id) {
        Some(p) => (p, false),
        None if q.new.is_some() && valid_policy_id(&id) => {
            require_admin(&session)?;
            let mut p = Policy::default_french();
            p.id = id.clone();
            p.name = id.clone();
            (p, true)
        }
        None => return Err(WebError::NotFound),
    };
    policy_page(
        &state,
        &session,
        &creditor,
        lang,
        &uri,
        StatusCode::OK,
        PolicyForm::of(&policy),
        BTreeMap::new(),
        q.saved.is_some(),
        is_new,
        AssignMessage {
            assigned: q.assigned,
            error: q.assign_error,
        },
    )
    .await
}

/// `POST /c/{creditor}/policies/{id}`: saves the form (admin only) through the CLI's
/// validation; a refused form comes back with each problem beside its field.
pub async fn save(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path((creditor, id)): Path<(i64, String)>,
    uri: axum::http::Uri,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let creditor = access(state.store(), &session.user, creditor).await?;
    let csrf = fields
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    session.check_csrf(csrf)?;
    require_admin(&session)?;
    if !valid_policy_id(&id) {
        return Err(WebError::NotFound);
    }
    let lang = Lang::of(&headers);
    let form = PolicyForm::from_fields(&id, &fields);
    let is_new = !state
        .store()
        .policies(creditor.id)
        .await?
        .iter()
        .any(|p| p.id == id);
    let errors = match form.to_policy(lang) {
        Ok(policy) => match state.store().save_policy(creditor.id, &policy).await {
            Ok(_) => {
                tracing::info!(policy = %id, user = %session.user.email, "policy saved");
                return Ok(see_other(&format!(
                    "/c/{}/policies/{id}?saved=1",
                    creditor.id.0
                )));
            }
            Err(StoreError::Unsupported(m)) => BTreeMap::from([("steps".to_string(), m)]),
            Err(e) => return Err(e.into()),
        },
        Err(errors) => errors,
    };
    policy_page(
        &state,
        &session,
        &creditor,
        lang,
        &uri,
        StatusCode::UNPROCESSABLE_ENTITY,
        form,
        errors,
        false,
        is_new,
        AssignMessage::default(),
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    customer: String,
    /// Comma-separated; empty leaves the customer's tags as they are.
    #[serde(default)]
    tags: String,
}

/// `POST /c/{creditor}/policies/{id}/assign`: the customer follows this policy from now on,
/// whatever the conditions say (`relance policy assign CODE ID [--tag …]`); admin only.
pub async fn assign(
    State(state): State<AppState>,
    session: Session,
    Path((creditor, id)): Path<(i64, String)>,
    Form(form): Form<AssignForm>,
) -> Result<Response, WebError> {
    let creditor = access(state.store(), &session.user, creditor).await?;
    session.check_csrf(&form.csrf)?;
    require_admin(&session)?;
    let page = format!("/c/{}/policies/{}", creditor.id.0, id);
    let code = form.customer.trim();
    let tags: Vec<String> = form
        .tags
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();
    let tags = (!tags.is_empty()).then_some(tags);
    let result = state
        .store()
        .assign_policy(creditor.id, code, Some(&id), tags.as_deref())
        .await;
    match result {
        Ok(()) => {
            tracing::info!(policy = %id, customer = %code, user = %session.user.email, "policy assigned");
            Ok(see_other(&format!(
                "{page}?assigned={}",
                crate::pages::url_encode(code)
            )))
        }
        Err(e @ (StoreError::UnknownCustomer(_) | StoreError::Unsupported(_))) => {
            Ok(see_other(&format!(
                "{page}?assign_error={}",
                crate::pages::url_encode(&e.to_string())
            )))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct ExportQuery {
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    id: Option<String>,
}

/// `GET /c/{creditor}/policies/export?format=toml|json[&id=ID]`: the file
/// `relance policy import` reads back.
pub async fn export(
    State(state): State<AppState>,
    session: Session,
    Path(creditor): Path<i64>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, WebError> {
    let creditor = access(state.store(), &session.user, creditor).await?;
    let mut policies = state.store().policies(creditor.id).await?;
    if let Some(id) = q.id.as_deref().filter(|i| !i.is_empty()) {
        policies.retain(|p| p.id == id);
        if policies.is_empty() {
            return Err(WebError::NotFound);
        }
    }
    let file = PolicyFile { policies };
    match q.format.as_deref().unwrap_or("toml") {
        "json" => {
            let text = serde_json::to_string_pretty(&file)
                .map_err(|e| WebError::Internal(e.to_string()))?
                + "\n";
            Ok(download(
                text.into_bytes(),
                "application/json",
                "policies.json",
            ))
        }
        "toml" => {
            let text = toml::to_string(&file).map_err(|e| WebError::Internal(e.to_string()))?;
            Ok(download(
                text.into_bytes(),
                "application/toml; charset=utf-8",
                "policies.toml",
            ))
        }
        other => Err(WebError::BadRequest(format!(
            "format \"{other}\": toml or json"
        ))),
    }
}

/// `POST /c/{creditor}/policies/import` (multipart: `csrf`, a `file` or a `text`): adds or
/// replaces the policies of the file; all of them are checked before any is saved.
pub async fn import(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path(creditor): Path<i64>,
    uri: axum::http::Uri,
    body: Bytes,
) -> Result<Response, WebError> {
    let creditor = access(state.store(), &session.user, creditor).await?;
    let fields = multipart::parse(&headers, &body)?;
    session.check_csrf(&fields.text("csrf"))?;
    require_admin(&session)?;
    let lang = Lang::of(&headers);
    let text = match fields.file("file") {
        Some(f) => {
            String::from_utf8(f.data.clone()).map_err(|_| "the file is not UTF-8 text".to_string())
        }
        None => Ok(fields.text("text")),
    };
    let parsed = text.and_then(|t| {
        if t.trim().is_empty() {
            return Err("no file".to_string());
        }
        let policies = parse_policy_file(&t)?;
        for p in &policies {
            p.validate()
                .map_err(|e| format!("policy \"{}\" refused: {e}", p.id))?;
            if !valid_policy_id(&p.id) {
                return Err(format!(
                    "policy id \"{}\": lowercase letters, digits, _ and -",
                    p.id
                ));
            }
        }
        Ok(policies)
    });
    let policies = match parsed {
        Ok(p) => p,
        Err(message) => {
            let error = match lang {
                Lang::Fr => format!("Import refusé, rien n'est enregistré : {message}"),
                Lang::En => format!("Import refused, nothing saved: {message}"),
            };
            return list_page(
                &state,
                &session,
                &creditor,
                lang,
                &uri,
                StatusCode::UNPROCESSABLE_ENTITY,
                (None, Some(error)),
            )
            .await;
        }
    };
    for policy in &policies {
        state.store().save_policy(creditor.id, policy).await?;
    }
    tracing::info!(count = policies.len(), user = %session.user.email, "policies imported");
    Ok(see_other(&format!(
        "/c/{}/policies?imported={}",
        creditor.id.0,
        policies.len()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields_of(form: &PolicyForm) -> Vec<(String, String)> {
        let mut f = vec![
            ("name".to_string(), form.name.clone()),
            ("grouping".into(), form.grouping.clone()),
            ("minimum_amount".into(), form.minimum_amount.clone()),
            ("currency".into(), form.currency.clone()),
            ("tags".into(), form.tags.clone()),
        ];
        for (i, s) in form.steps.iter().enumerate() {
            let k = |n: &str| format!("s{i}.{n}");
            f.push((k("id"), s.id.clone()));
            f.push((k("offset_days"), s.offset_days.clone()));
            f.push((k("anchor"), s.anchor.clone()));
            for c in &s.channels {
                f.push((k("channels"), c.clone()));
            }
            f.push((k("without_email"), s.without_email.clone()));
            f.push((k("template"), s.template.clone()));
            f.push((k("tone"), s.tone.clone()));
            if s.before_due {
                f.push((k("before_due"), "1".into()));
            }
            if s.attach_statement {
                f.push((k("attach_statement"), "1".into()));
            }
            f.push((k("position"), (i + 1).to_string()));
        }
        f
    }

    #[test]
    fn the_default_policy_goes_through_the_form_unchanged() {
        let policy = Policy::default_french();
        let form = PolicyForm::of(&policy);
        let back = PolicyForm::from_fields(&policy.id, &fields_of(&form))
            .to_policy(Lang::En)
            .expect("valid");
        assert_eq!(back, policy);
    }

    #[test]
    fn problems_are_reported_beside_their_field() {
        let policy = Policy::default_french();
        let mut fields = fields_of(&PolicyForm::of(&policy));
        for (k, v) in fields.iter_mut() {
            if k == "s2.offset_days" {
                *v = "four".into();
            }
            if k == "minimum_amount" {
                *v = "abc".into();
            }
        }
        let errors = PolicyForm::from_fields(&policy.id, &fields)
            .to_policy(Lang::En)
            .expect_err("refused");
        assert!(errors["s2.offset_days"].contains("four"), "{errors:?}");
        assert!(errors.contains_key("minimum_amount"), "{errors:?}");
        // The core's rule: a step timed from the previous one cannot go back in time.
        let mut fields = fields_of(&PolicyForm::of(&policy));
        for (k, v) in fields.iter_mut() {
            if k == "s3.offset_days" {
                *v = "-2".into();
            }
        }
        let errors = PolicyForm::from_fields(&policy.id, &fields)
            .to_policy(Lang::En)
            .expect_err("refused");
        assert!(
            errors["s3.offset_days"].contains("0 days or more"),
            "{errors:?}"
        );
    }

    #[test]
    fn positions_reorder_and_remove_drops_a_step() {
        let policy = Policy::default_french();
        let mut fields = fields_of(&PolicyForm::of(&policy));
        for (k, v) in fields.iter_mut() {
            if k == "s3.position" {
                *v = "5.5".into();
            }
        }
        fields.push(("s2.remove".into(), "1".into()));
        let form = PolicyForm::from_fields(&policy.id, &fields);
        let ids: Vec<&str> = form.steps.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "courtesy_notice",
                "first_reminder",
                "formal_notice",
                "second_reminder",
                "litigation"
            ]
        );
    }

    #[test]
    fn reads_the_files_of_the_cli() {
        let file = PolicyFile {
            policies: vec![Policy::default_french()],
        };
        let toml_text = toml::to_string(&file).expect("toml");
        let json_text = serde_json::to_string(&file).expect("json");
        assert_eq!(parse_policy_file(&toml_text).expect("toml"), file.policies);
        assert_eq!(parse_policy_file(&json_text).expect("json"), file.policies);
        assert!(parse_policy_file("id = 1").is_err());
    }
}
