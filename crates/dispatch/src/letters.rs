//! Assembles what one message says (`relance_render::LetterData`) from the ledger: the creditor,
//! the customer, the invoices concerned, the penalties the law allows, the earlier contacts.
//!
//! It lives in the binary because it is where the store (what happened) meets the renderer
//! (how it reads); the web server will share it when it needs previews.

use chrono::{Days, NaiveDate};
use relance_core::law::{compute_penalties, PenaltyInput, RateTable};
use relance_core::money::Money;
use relance_core::party::{CustomerKind, Language};
use relance_core::planner::Channel;
use relance_render::{
    CreditorInfo, DebtorInfo, InvoiceLine as RenderInvoiceLine, LetterData, PenaltyLines,
    PriorContact, StatementData, StatementLine, StepId,
};
use relance_store::creditors::CreditorRecord;
use relance_store::customers::CustomerRecord;
use relance_store::events::EventRecord;
use relance_store::reports::InvoiceLine;
use relance_store::Store;
use rust_decimal::Decimal;

/// Builds the letter of `step` for `customer` on `as_of`. `invoices` limits the table to those
/// numbers (an action's list); `None` takes the customer's open invoices that the step concerns
/// (not yet due for the courtesy notice, overdue for the others).
pub async fn letter_for(
    store: &Store,
    creditor: &CreditorRecord,
    customer_code: &str,
    step: StepId,
    channel: Channel,
    as_of: NaiveDate,
    invoices: Option<&[String]>,
) -> anyhow::Result<LetterData> {
    let customer = store
        .customer_by_code(creditor.id, customer_code)
        .await?
        .ok_or_else(|| anyhow::anyhow!("unknown customer \"{customer_code}\""))?;
    let lines = store
        .invoice_lines(
            creditor.id,
            &relance_store::reports::InvoiceFilter {
                customer: Some(customer_code.to_string()),
                open_only: true,
            },
        )
        .await?;
    let contacts = store.timeline(creditor.id, Some(customer_code)).await?;
    let claims = matches!(
        step,
        StepId::SecondReminder | StepId::FormalNotice | StepId::Litigation
    );
    let rates = if claims {
        Some(crate::law_rates(store).await?)
    } else {
        None
    };
    let mut data = build_letter(
        creditor,
        &customer,
        &lines,
        &contacts,
        step,
        channel,
        as_of,
        invoices,
        rates.as_ref(),
    )?;
    Letterhead::load(store, creditor)
        .await?
        .apply_to_letter(&mut data, rates.as_ref())?;
    Ok(data)
}

/// What the settings page adds to a letter besides the `creditors` row: RCS, VAT number, phone,
/// signatory and the logo on the letterhead (JPEG or PNG), and the contractual late-interest rate of the penalties claimed from
/// business debtors.
#[derive(Debug, Clone, Default)]
pub struct Letterhead {
    pub settings: relance_store::settings::CreditorSettings,
    pub logo: Option<(Vec<u8>, String)>,
}

impl Letterhead {
    pub async fn load(store: &Store, creditor: &CreditorRecord) -> anyhow::Result<Letterhead> {
        Ok(Letterhead {
            settings: store.creditor_settings(creditor.id).await?,
            logo: store.creditor_logo(creditor.id).await?,
        })
    }

    /// Fills what the settings hold; leaves the rest as `creditor_info` made it.
    pub fn apply(&self, info: &mut CreditorInfo) {
        let s = &self.settings;
        let set = |field: &mut Option<String>, value: &Option<String>| {
            if let Some(v) = value.as_ref().filter(|v| !v.trim().is_empty()) {
                *field = Some(v.clone());
            }
        };
        set(&mut info.rcs, &s.rcs);
        set(&mut info.vat_number, &s.vat_number);
        set(&mut info.phone, &s.phone);
        set(&mut info.signatory, &s.signatory);
        match &self.logo {
            Some((bytes, kind)) if kind == "image/jpeg" => info.logo_jpeg = Some(bytes.clone()),
            Some((bytes, kind)) if kind == "image/png" => info.logo_png = Some(bytes.clone()),
            _ => {}
        }
    }

    /// The contractual rate, percent per year, when the settings set one.
    pub fn contractual_rate(&self) -> Option<Decimal> {
        self.settings
            .contractual_rate
            .as_deref()
            .and_then(|r| r.parse().ok())
    }

    /// Applies the letterhead, and the contractual rate to the penalties a letter already
    /// claims from a business debtor (L441-10 II; consumers stay at the legal rate), with the
    /// totals recomputed.
    pub fn apply_to_letter(
        &self,
        data: &mut LetterData,
        rates: Option<&RateTable>,
    ) -> anyhow::Result<()> {
        self.apply(&mut data.creditor);
        let (Some(rate), Some(rates)) = (self.contractual_rate(), rates) else {
            return Ok(());
        };
        if data.penalties.is_none() || data.debtor.kind != CustomerKind::Business {
            return Ok(());
        }
        let formal_notice = data
            .history
            .iter()
            .find(|h| h.step == StepId::FormalNotice)
            .map(|h| h.date);
        data.penalties = penalties_of(
            &data.invoices,
            data.debtor.kind,
            data.date,
            formal_notice,
            rates,
            Some(rate),
        );
        data.totals = LetterData::compute_totals(&data.invoices, data.penalties.as_ref())
            .ok_or_else(|| anyhow::anyhow!("the invoices are in several currencies"))?;
        Ok(())
    }
}

/// Builds the letter from what the store gave: the customer, their open items (`invoice_lines`
/// or `delivery_context`), their timeline (only `reminder_planned`, `reminder_sent` and `call` events are
/// read), and the rate tables when the step claims penalties.
#[allow(clippy::too_many_arguments)]
pub fn build_letter(
    creditor: &CreditorRecord,
    customer: &CustomerRecord,
    lines: &[InvoiceLine],
    contacts: &[EventRecord],
    step: StepId,
    channel: Channel,
    as_of: NaiveDate,
    invoices: Option<&[String]>,
    rates: Option<&RateTable>,
) -> anyhow::Result<LetterData> {
    let customer_code = customer.code.as_str();
    let today = as_of.to_string();
    let mut table = Vec::new();
    for l in lines.iter().filter(|l| l.kind == "invoice") {
        let wanted = match invoices {
            Some(list) => list.contains(&l.number),
            None if step == StepId::CourtesyNotice => l.due_date.as_str() >= today.as_str(),
            None => l.due_date.as_str() < today.as_str(),
        };
        if !wanted {
            continue;
        }
        let currency = relance_core::Currency::parse(&l.currency)?;
        let money = |s: &str| -> anyhow::Result<Money> {
            Ok(Money::new(relance_core::money::parse_amount(s)?, currency))
        };
        table.push(RenderInvoiceLine {
            number: l.number.clone(),
            issue_date: NaiveDate::parse_from_str(&l.issue_date, "%Y-%m-%d")?,
            due_date: NaiveDate::parse_from_str(&l.due_date, "%Y-%m-%d")?,
            amount: money(&l.amount)?,
            paid: money(&l.paid)?,
            open: money(&l.open_amount)?,
        });
    }
    anyhow::ensure!(
        !table.is_empty(),
        "{customer_code} has no open invoice that the step {} concerns on {as_of}",
        step.as_str()
    );

    // Earlier reminders and calls of this customer, from the timeline: one per action (its
    // planning and its sending are two events with the same key). A call the collector
    // recorded replaces the call the plan scheduled on or before it.
    let recorded_calls: Vec<String> = contacts
        .iter()
        .filter(|e| e.kind == "call")
        .map(|e| e.occurred_on.clone())
        .collect();
    let mut seen = std::collections::HashSet::new();
    let history: Vec<PriorContact> = contacts
        .iter()
        .filter(|e| e.kind == "reminder_planned" || e.kind == "reminder_sent" || e.kind == "call")
        .filter(|e| match e.data["key"].as_str() {
            Some(key) => seen.insert(key.to_string()),
            None => true,
        })
        .filter_map(|e| {
            let date = NaiveDate::parse_from_str(&e.occurred_on, "%Y-%m-%d").ok()?;
            if e.kind == "call" {
                // A call the collector recorded: its outcome is part of the history.
                return (date < as_of).then(|| PriorContact {
                    date,
                    step: StepId::PhoneCall,
                    channel: Channel::PhoneCall,
                    outcome: e.data["outcome"].as_str().map(str::to_string),
                });
            }
            let step = StepId::parse(e.data["step"].as_str()?)?;
            if step == StepId::PhoneCall && recorded_calls.iter().any(|c| *c >= e.occurred_on) {
                return None;
            }
            let channel = e.data["channels"]
                .as_array()?
                .first()?
                .as_str()
                .and_then(Channel::parse)?;
            (date < as_of).then_some(PriorContact {
                date,
                step,
                channel,
                outcome: None,
            })
        })
        .collect();

    // Penalties: claimed from the second reminder on, for business debtors (L441-10, D441-5);
    // for consumers, legal interest from the formal notice (Code civil 1231-6).
    let claims = matches!(
        step,
        StepId::SecondReminder | StepId::FormalNotice | StepId::Litigation
    );
    let formal_notice = history
        .iter()
        .find(|h| h.step == StepId::FormalNotice)
        .map(|h| h.date);
    let penalties = match rates {
        Some(rates) if claims => {
            penalties_of(&table, customer.kind, as_of, formal_notice, rates, None)
        }
        _ => None,
    };
    let totals = LetterData::compute_totals(&table, penalties.as_ref()).ok_or_else(|| {
        anyhow::anyhow!("the invoices of {customer_code} are in several currencies")
    })?;
    let deadline_days = match step {
        StepId::FormalNotice => 15,
        _ => 8,
    };
    let deadline = match step {
        StepId::CourtesyNotice => table.iter().map(|i| i.due_date).min().unwrap_or(as_of),
        _ => as_of
            .checked_add_days(Days::new(deadline_days))
            .unwrap_or(as_of),
    };
    let (creditor_info, debtor, place) = letter_parties(creditor, customer);
    Ok(LetterData {
        creditor: creditor_info,
        debtor,
        place,
        date: as_of,
        step,
        channel,
        payment_reference: format!(
            "{} {}",
            customer.code,
            table.first().map(|i| i.number.as_str()).unwrap_or("")
        ),
        invoices: table,
        totals,
        penalties,
        history,
        deadline,
        portal_url: None,
        reason: None,
    })
}

/// The creditor's letterhead.
pub fn creditor_info(creditor: &CreditorRecord) -> CreditorInfo {
    CreditorInfo {
        name: creditor.name.clone(),
        address_lines: creditor.address.lines().map(String::from).collect(),
        siren: creditor.siren.clone(),
        rcs: None,
        vat_number: None,
        iban: creditor.iban.clone(),
        bic: creditor.bic.clone(),
        email: creditor.email.clone(),
        phone: None,
        signatory: None,
        logo_jpeg: None,
        logo_png: None,
    }
}

fn debtor_info(customer: &CustomerRecord) -> DebtorInfo {
    DebtorInfo {
        name: customer.name.clone(),
        address_lines: customer.address.lines().map(String::from).collect(),
        customer_code: customer.code.clone(),
        kind: customer.kind,
        language: customer.language,
        email: customer.emails.first().cloned(),
    }
}

/// Where letters are written from: the town of the creditor's last address line.
fn place_of(creditor: &CreditorRecord) -> String {
    creditor
        .address
        .lines()
        .last()
        .map(|l| {
            l.split_once(' ')
                .map(|(_, city)| city)
                .unwrap_or(l)
                .to_string()
        })
        .unwrap_or_default()
}

/// The statement of account (relevé de compte) of `customer` on `as_of`: each open invoice
/// (its amount as a debit, what was already paid as a credit), open credit notes and payments
/// not yet allocated; the running balance ends on what the customer owes.
pub async fn statement_for(
    store: &Store,
    creditor: &CreditorRecord,
    customer_code: &str,
    as_of: NaiveDate,
) -> anyhow::Result<StatementData> {
    let customer = store
        .customer_by_code(creditor.id, customer_code)
        .await?
        .ok_or_else(|| anyhow::anyhow!("unknown customer \"{customer_code}\""))?;
    let entries = store.statement_entries(creditor.id, customer.id).await?;
    let fr = customer.language == Language::Fr;
    let mut lines = Vec::with_capacity(entries.len() * 2);
    for e in &entries {
        let currency = relance_core::Currency::parse(&e.currency)?;
        let money = |minor: i64| Money::from_minor(minor, currency);
        let date = NaiveDate::parse_from_str(&e.date, "%Y-%m-%d")?;
        let due_date = match &e.due_date {
            Some(d) => Some(NaiveDate::parse_from_str(d, "%Y-%m-%d")?),
            None => None,
        };
        match e.kind.as_str() {
            "invoice" => {
                lines.push(StatementLine {
                    date,
                    reference: e.reference.clone(),
                    label: if fr { "Facture" } else { "Invoice" }.into(),
                    due_date,
                    debit: Some(money(e.total_minor)),
                    credit: None,
                });
                if e.settled_minor != 0 {
                    lines.push(StatementLine {
                        date,
                        reference: e.reference.clone(),
                        label: if fr { "Déjà réglé" } else { "Already paid" }.into(),
                        due_date: None,
                        debit: None,
                        credit: Some(money(e.settled_minor)),
                    });
                }
            }
            "credit_note" => lines.push(StatementLine {
                date,
                reference: e.reference.clone(),
                label: if fr { "Avoir" } else { "Credit note" }.into(),
                due_date,
                debit: None,
                credit: Some(money(-e.open_minor)),
            }),
            _ => lines.push(StatementLine {
                date,
                reference: e.reference.clone(),
                label: if fr {
                    "Règlement non affecté"
                } else {
                    "Unallocated payment"
                }
                .into(),
                due_date: None,
                debit: None,
                credit: Some(money(-e.open_minor)),
            }),
        }
    }
    let currencies: std::collections::BTreeSet<&str> =
        entries.iter().map(|e| e.currency.as_str()).collect();
    anyhow::ensure!(
        currencies.len() <= 1,
        "the open items of {customer_code} are in several currencies ({}): no single balance to state",
        currencies.into_iter().collect::<Vec<_>>().join(", ")
    );
    Ok(StatementData {
        creditor: creditor_info(creditor),
        debtor: debtor_info(&customer),
        place: place_of(creditor),
        date: as_of,
        lines,
        payment_reference: customer.code.clone(),
    })
}

/// The statement of account as it goes with a message (a policy step's `attach_statement`):
/// the settings page's letterhead on it, like on the letter.
pub async fn statement_pdf(
    store: &Store,
    creditor: &CreditorRecord,
    letterhead: &Letterhead,
    customer_code: &str,
    as_of: NaiveDate,
) -> anyhow::Result<Vec<u8>> {
    let mut statement = statement_for(store, creditor, customer_code, as_of).await?;
    letterhead.apply(&mut statement.creditor);
    Ok(relance_render::render_statement_pdf(&statement)?)
}

/// The statement's file name in an e-mail, in the customer's language.
pub fn statement_file_name(customer: &CustomerRecord) -> String {
    let name = match customer.language {
        Language::Fr => "releve-de-compte",
        Language::En => "statement-of-account",
    };
    format!("{name}-{}.pdf", customer.code)
}

fn penalties_of(
    table: &[RenderInvoiceLine],
    kind: CustomerKind,
    as_of: NaiveDate,
    formal_notice: Option<NaiveDate>,
    rates: &RateTable,
    contractual_rate: Option<Decimal>,
) -> Option<PenaltyLines> {
    let computations: Vec<_> = table
        .iter()
        .filter(|i| i.due_date < as_of)
        .filter_map(|i| {
            let mut input = PenaltyInput::new(i.open, i.due_date, as_of);
            if let Some(notice) = formal_notice {
                input = input.with_formal_notice(notice);
            }
            if let Some(rate) = contractual_rate {
                input = input.with_contractual_rate(rate);
            }
            compute_penalties(kind, &input, rates).ok()
        })
        .collect();
    PenaltyLines::from_computations(&computations)
}

/// The sender, the addressee and the place a document is written from (the creditor's city).
pub fn letter_parties(
    creditor: &CreditorRecord,
    customer: &CustomerRecord,
) -> (CreditorInfo, DebtorInfo, String) {
    (
        creditor_info(creditor),
        debtor_info(customer),
        place_of(creditor),
    )
}
