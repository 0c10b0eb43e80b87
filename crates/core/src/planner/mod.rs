//! The reminder planner: policies, dunning cases and the pure decision of what to send on a given day.
//!
//! `plan(case, policy, calendar, as_of)` never reads the clock, the database or the files
//! (DESIGN.md, principle 1): everything it needs is in its arguments, so any run can be replayed
//! or simulated, and [`replay`] does exactly that over a timeline of events.
//!
//! - [`policy`]: the policy model (steps, channels, anchors) and the French default;
//! - [`case`]: what a case remembers and its transitions (payments, promises, disputes, holds);
//! - [`plan`](mod@plan): the decision and the case's `next_action_on`;
//! - [`replay`](mod@replay): day-by-day simulation over a timeline, as the store runs it.

pub mod case;
pub mod plan;
pub mod policy;
pub mod replay;

pub use case::{CaseCustomer, CaseItem, CaseState, Hold, NoticeSent, PromiseToPay, StepDone};
pub use plan::{
    case_step_due, next_action_on, next_step, plan, status_on, CasePlan, CaseStatus, DueCause,
    PlannedAction, StepDue,
};
pub use policy::{
    select_policy, select_policy_graded, Anchor, Channel, Conditions, Experiment, Grouping, Policy,
    PolicyError, Step, Tone, Variant,
};
pub use replay::{replay, Event, Input, ReplayError, ReplayOutcome, ReplaySetup, RunDays};

/// Follow-ups beyond receivables (quotes, prospects, dormant customers) on the same actions.
pub mod followup;
pub use followup::{
    plan_followup, FollowUp, FollowUpDone, FollowUpKind, FollowUpPlan, FollowUpStatus, FollowUpStep,
};

/// Suppliers: late deliveries and invoices that do not match their order, on the same actions.
pub mod supplier;
