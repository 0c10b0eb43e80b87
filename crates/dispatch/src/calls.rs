//! The collector's side of a call step, shared by `relance tasks` / `relance call` and the web
//! application's work queue: the call tasks with their script (the `phone_call` template
//! rendered from the ledger, as a letter would be), and the recording of a call's outcome with
//! its consequence on the case (a promise pauses it, a dispute takes the invoice out, "paid"
//! holds it a few business days for the bank statement), so both edges feed the planner the
//! same way.

use chrono::NaiveDate;
use relance_core::calendar::BusinessCalendar;
use relance_core::calls::CallOutcome;
use relance_core::planner::Channel;
use relance_render::templates::Part;
use relance_render::{StepId, Templates};
use relance_store::creditors::CreditorRecord;
use relance_store::tasks::{CallRecord, CallTask};
use relance_store::{Store, StoreError};
use rust_decimal::Decimal;

/// A call to make and what to say.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TaskView {
    #[serde(flatten)]
    pub task: CallTask,
    pub script: String,
}

/// The open call tasks (due by `due_by` when given) with their scripts, rendered for `today`.
pub async fn call_tasks_with_scripts(
    store: &Store,
    creditor: &CreditorRecord,
    due_by: Option<NaiveDate>,
    today: NaiveDate,
) -> anyhow::Result<Vec<TaskView>> {
    let tasks = store.call_tasks(creditor.id, due_by).await?;
    let templates = crate::templates_for(store, creditor.id).await?;
    let mut views = Vec::with_capacity(tasks.len());
    for task in tasks {
        let script = call_script(store, creditor, &templates, &task, today).await?;
        views.push(TaskView { task, script });
    }
    Ok(views)
}

/// The call script of one task.
pub async fn call_script(
    store: &Store,
    creditor: &CreditorRecord,
    templates: &Templates,
    task: &CallTask,
    today: NaiveDate,
) -> anyhow::Result<String> {
    let data = crate::letters::letter_for(
        store,
        creditor,
        &task.customer,
        StepId::PhoneCall,
        Channel::PhoneCall,
        today,
        Some(&task.invoices),
    )
    .await;
    // A task whose invoices were paid meanwhile has nothing left to say: the next run cancels
    // it; say so rather than fail the whole list.
    Ok(match data {
        Ok(data) => templates.render(Part::Body, &data)?,
        Err(e) => format!("(no script: {e})"),
    })
}

/// What a collector reports after a call.
#[derive(Debug, Clone)]
pub struct CallInput {
    pub customer: String,
    pub outcome: CallOutcome,
    /// With `Promised`: the day the customer will pay by; with `Paid`: the day they say they paid.
    pub on: Option<NaiveDate>,
    /// With `Promised`: the amount promised (default: the invoice's open amount).
    pub amount: Option<Decimal>,
    /// The invoice a promise or dispute is about (default: the oldest overdue one).
    pub invoice: Option<String>,
    /// What was said; required for a dispute (it is the dispute's reason).
    pub note: String,
    /// The day of the call.
    pub at: NaiveDate,
}

/// Why a call's outcome was not recorded (nothing was).
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("unknown customer \"{0}\"")]
    UnknownCustomer(String),
    #[error("a promise needs the day the customer will pay by")]
    PromiseNeedsDate,
    #[error("the promised day {on} is before the day of the call ({at})")]
    PromiseBeforeCall { on: NaiveDate, at: NaiveDate },
    #[error("the promised amount must be positive")]
    AmountNotPositive,
    #[error("a dispute needs a note saying what the customer contests")]
    DisputeNeedsNote,
    #[error("{customer} has no overdue invoice on {at}: name one")]
    NoOverdueInvoice { customer: String, at: NaiveDate },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What recording a call did.
#[derive(Debug, Clone)]
pub struct CallDone {
    pub record: CallRecord,
    /// The summary of the promise, dispute or hold the call brought, if any.
    pub consequence: Option<String>,
}

/// Records a call's outcome exactly as `relance call` does: checks everything the outcome needs
/// first, then the promise, dispute or hold, then the `call` event that closes the tasks.
pub async fn record_call_outcome(
    store: &Store,
    creditor: &CreditorRecord,
    input: &CallInput,
) -> Result<CallDone, CallError> {
    let at = input.at;
    store
        .customer_by_code(creditor.id, &input.customer)
        .await?
        .ok_or_else(|| CallError::UnknownCustomer(input.customer.clone()))?;
    let note = input.note.trim();
    let invoice = || async {
        match &input.invoice {
            Some(number) => Ok::<String, CallError>(number.clone()),
            None => store
                .oldest_overdue_invoice(creditor.id, &input.customer, at)
                .await?
                .ok_or_else(|| CallError::NoOverdueInvoice {
                    customer: input.customer.clone(),
                    at,
                }),
        }
    };
    let mut consequence = None;
    match input.outcome {
        CallOutcome::Promised => {
            let on = input.on.ok_or(CallError::PromiseNeedsDate)?;
            if on < at {
                return Err(CallError::PromiseBeforeCall { on, at });
            }
            if input.amount.is_some_and(|a| a <= Decimal::ZERO) {
                return Err(CallError::AmountNotPositive);
            }
            let number = invoice().await?;
            consequence = Some(
                store
                    .promise_to_pay(creditor.id, &number, on, input.amount, at)
                    .await?,
            );
        }
        CallOutcome::Dispute => {
            if note.is_empty() {
                return Err(CallError::DisputeNeedsNote);
            }
            let number = invoice().await?;
            consequence = Some(store.open_dispute(creditor.id, &number, note, at).await?);
        }
        CallOutcome::Paid => {
            // Give the bank statement five business days to show the payment, then chase again.
            let calendar = BusinessCalendar::new(creditor.alsace_moselle);
            let until = calendar.add_business_days(at, 5);
            let reason = match input.on {
                Some(on) => format!("customer says paid on {on}; waiting for the bank statement"),
                None => "customer says paid; waiting for the bank statement".to_string(),
            };
            consequence = Some(
                store
                    .hold(creditor.id, &input.customer, until, &reason, at)
                    .await?,
            );
        }
        CallOutcome::NoAnswer | CallOutcome::WrongNumber => {}
    }
    let record = store
        .record_call(creditor.id, &input.customer, input.outcome, note, at)
        .await?;
    Ok(CallDone {
        record,
        consequence,
    })
}
