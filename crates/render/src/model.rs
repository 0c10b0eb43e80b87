//! What a letter, an e-mail or a statement says: the data the templates and the PDF read.
//!
//! Everything is plain data with `Serialize`, so a template reads exactly these field names
//! (documented on each field). Amounts are [`Money`]; in a template they print through the
//! `money` filter (`1 234,56 €` in French, `€1,234.56` in English).

use chrono::NaiveDate;
use relance_core::law::{PenaltyComputation, RateBasis};
use relance_core::party::{CustomerKind, Language};
use relance_core::planner::policy::Channel;
use relance_core::Money;
use rust_decimal::Decimal;
use serde::Serialize;

/// The steps of the default French policy that produce a message or a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepId {
    /// Prévenance: before the due date, informative.
    CourtesyNotice,
    /// First reminder, friendly.
    FirstReminder,
    /// A call script for a collector.
    PhoneCall,
    /// Second reminder, firm: penalties, indemnity, 8-day deadline.
    SecondReminder,
    /// Mise en demeure.
    FormalNotice,
    /// Contentieux: the note that goes with the litigation file.
    Litigation,
}

impl StepId {
    pub const ALL: [StepId; 6] = [
        StepId::CourtesyNotice,
        StepId::FirstReminder,
        StepId::PhoneCall,
        StepId::SecondReminder,
        StepId::FormalNotice,
        StepId::Litigation,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            StepId::CourtesyNotice => "courtesy_notice",
            StepId::FirstReminder => "first_reminder",
            StepId::PhoneCall => "phone_call",
            StepId::SecondReminder => "second_reminder",
            StepId::FormalNotice => "formal_notice",
            StepId::Litigation => "litigation",
        }
    }

    /// Parses a policy step id (`first_reminder`…).
    pub fn parse(text: &str) -> Option<StepId> {
        StepId::ALL.into_iter().find(|s| s.as_str() == text.trim())
    }
}

/// The creditor, as printed on the letterhead and in the payment instructions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreditorInfo {
    pub name: String,
    pub address_lines: Vec<String>,
    pub siren: Option<String>,
    /// e.g. "RCS Lyon 123 456 789".
    pub rcs: Option<String>,
    pub vat_number: Option<String>,
    /// Compact IBAN (no spaces); the `iban` filter groups it by four.
    pub iban: Option<String>,
    pub bic: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Who signs: "Claire Martin, responsable du recouvrement".
    pub signatory: Option<String>,
    /// A JPEG logo for the letterhead (not visible to templates).
    #[serde(skip)]
    pub logo_jpeg: Option<Vec<u8>>,
    /// A PNG logo, used when there is no JPEG one (8-bit, non-interlaced; transparency is
    /// printed white). Not visible to templates.
    #[serde(skip)]
    pub logo_png: Option<Vec<u8>>,
}

/// The debtor.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DebtorInfo {
    pub name: String,
    pub address_lines: Vec<String>,
    pub customer_code: String,
    pub kind: CustomerKind,
    pub language: Language,
    pub email: Option<String>,
}

/// One row of the invoice table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InvoiceLine {
    pub number: String,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    /// Total due on the invoice (TTC).
    pub amount: Money,
    pub paid: Money,
    pub open: Money,
}

/// One stretch of a penalty computation, for the detail table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PenaltyPeriodLine {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub days: i64,
    /// Percent per year.
    pub rate: Decimal,
    pub principal: Money,
    pub amount: Money,
}

/// Late penalties (business) or moratory interest (consumer), as computed by the law module.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PenaltyLines {
    /// `contractual`, `ecb_plus_ten_points` or `legal_rate`.
    pub basis: RateBasis,
    /// The rate of the latest period, percent per year (when there is a period).
    pub rate: Option<Decimal>,
    pub interest: Money,
    /// 40 € per late invoice for a business (D441-5); zero for a consumer.
    pub indemnity: Money,
    pub periods: Vec<PenaltyPeriodLine>,
}

impl PenaltyLines {
    /// Sums several invoices' computations (same currency expected; mixed ones are skipped).
    pub fn from_computations(items: &[PenaltyComputation]) -> Option<PenaltyLines> {
        let first = items.first()?;
        let mut interest = Money::zero(first.interest.currency);
        let mut indemnity = Money::zero(first.indemnity.currency);
        let mut periods = Vec::new();
        for c in items {
            interest = interest.checked_add(c.interest).unwrap_or(interest);
            indemnity = indemnity.checked_add(c.indemnity).unwrap_or(indemnity);
            periods.extend(c.periods.iter().map(|p| PenaltyPeriodLine {
                from: p.from,
                to: p.to,
                days: p.days,
                rate: p.rate,
                principal: p.principal,
                amount: p.amount,
            }));
        }
        Some(PenaltyLines {
            basis: first.basis,
            rate: periods.last().map(|p| p.rate),
            interest,
            indemnity,
            periods,
        })
    }
}

/// An earlier reminder or call, recalled by the second reminder and the formal notice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriorContact {
    pub date: NaiveDate,
    pub step: StepId,
    pub channel: Channel,
    /// What came of it ("promised to pay on 3 March", "no answer").
    pub outcome: Option<String>,
}

/// Sums of the invoice table, plus what the penalties add.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Totals {
    pub amount: Money,
    pub paid: Money,
    /// Open principal.
    pub open: Money,
    /// Open principal + interest + indemnity (when penalties are claimed), else the principal.
    pub total_due: Money,
}

/// Everything one message says.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LetterData {
    pub creditor: CreditorInfo,
    pub debtor: DebtorInfo,
    /// "Lyon".
    pub place: String,
    pub date: NaiveDate,
    pub step: StepId,
    pub channel: Channel,
    pub invoices: Vec<InvoiceLine>,
    pub totals: Totals,
    pub penalties: Option<PenaltyLines>,
    /// Earlier reminders and calls, oldest first.
    pub history: Vec<PriorContact>,
    /// The day by which payment is asked.
    pub deadline: NaiveDate,
    /// The reference to put on the transfer.
    pub payment_reference: String,
    pub portal_url: Option<String>,
    /// Why the debt is still open, as learnt (the formal notice states it).
    pub reason: Option<String>,
}

impl LetterData {
    /// Builds the totals from the invoice lines and the penalties.
    pub fn compute_totals(
        invoices: &[InvoiceLine],
        penalties: Option<&PenaltyLines>,
    ) -> Option<Totals> {
        let currency = invoices.first()?.amount.currency;
        let mut amount = Money::zero(currency);
        let mut paid = Money::zero(currency);
        let mut open = Money::zero(currency);
        for i in invoices {
            amount = amount.checked_add(i.amount).ok()?;
            paid = paid.checked_add(i.paid).ok()?;
            open = open.checked_add(i.open).ok()?;
        }
        let mut total_due = open;
        if let Some(p) = penalties {
            total_due = total_due.checked_add(p.interest).ok()?;
            total_due = total_due.checked_add(p.indemnity).unwrap_or(total_due);
        }
        Some(Totals {
            amount,
            paid,
            open,
            total_due,
        })
    }

    pub fn language(&self) -> Language {
        self.debtor.language
    }

    pub fn is_business(&self) -> bool {
        self.debtor.kind == CustomerKind::Business
    }

    /// The invoice numbers, comma-separated, for subjects.
    pub fn invoice_numbers(&self) -> String {
        self.invoices
            .iter()
            .map(|i| i.number.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A complete example, used to check templates when they are saved and in tests.
    pub fn sample(step: StepId, kind: CustomerKind, language: Language) -> LetterData {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default();
        let eur = |units: i64| Money::from_minor(units, relance_core::Currency::EUR);
        let invoices = vec![
            InvoiceLine {
                number: "F-2026-0042".into(),
                issue_date: d(2026, 1, 15),
                due_date: d(2026, 2, 14),
                amount: eur(123_456),
                paid: eur(0),
                open: eur(123_456),
            },
            InvoiceLine {
                number: "F-2026-0057".into(),
                issue_date: d(2026, 1, 28),
                due_date: d(2026, 2, 27),
                amount: eur(60_000),
                paid: eur(20_000),
                open: eur(40_000),
            },
        ];
        let penalties = match kind {
            CustomerKind::Business => Some(PenaltyLines {
                basis: RateBasis::EcbPlusTenPoints,
                rate: Some(Decimal::new(1215, 2)),
                interest: eur(3_217),
                indemnity: eur(8_000),
                periods: vec![PenaltyPeriodLine {
                    from: d(2026, 2, 15),
                    to: d(2026, 3, 31),
                    days: 45,
                    rate: Decimal::new(1215, 2),
                    principal: eur(163_456),
                    amount: eur(3_217),
                }],
            }),
            CustomerKind::Consumer => None,
        };
        let totals = LetterData::compute_totals(&invoices, penalties.as_ref()).unwrap_or(Totals {
            amount: eur(0),
            paid: eur(0),
            open: eur(0),
            total_due: eur(0),
        });
        let (name, address, code) = match kind {
            CustomerKind::Business => (
                "Boulangerie Dupré SARL",
                vec![
                    "Service comptabilité",
                    "12 rue de la République",
                    "69002 Lyon",
                ],
                "C001",
            ),
            CustomerKind::Consumer => (
                "Mme Hélène Lefèvre",
                vec!["8 allée des Érables", "38000 Grenoble"],
                "C002",
            ),
        };
        LetterData {
            creditor: CreditorInfo {
                name: "Atelier Cézanne SAS".into(),
                address_lines: vec!["4 quai Saint-Antoine".into(), "69002 Lyon".into()],
                siren: Some("732829320".into()),
                rcs: Some("RCS Lyon 732 829 320".into()),
                vat_number: Some("FR44732829320".into()),
                iban: Some("FR7630006000011234567890189".into()),
                bic: Some("AGRIFRPP".into()),
                email: Some("compta@atelier-cezanne.fr".into()),
                phone: Some("04 78 00 00 00".into()),
                signatory: Some("Claire Martin, responsable du recouvrement".into()),
                logo_jpeg: None,
                logo_png: None,
            },
            debtor: DebtorInfo {
                name: name.into(),
                address_lines: address.into_iter().map(String::from).collect(),
                customer_code: code.into(),
                kind,
                language,
                email: Some("compta@example.fr".into()),
            },
            place: "Lyon".into(),
            date: d(2026, 4, 1),
            step,
            channel: match step {
                StepId::FormalNotice => Channel::RegisteredLetterAr,
                StepId::SecondReminder => Channel::RegisteredLetter,
                StepId::PhoneCall => Channel::PhoneCall,
                StepId::Litigation => Channel::Task,
                _ => Channel::Email,
            },
            invoices,
            totals,
            penalties,
            history: vec![
                PriorContact {
                    date: d(2026, 2, 16),
                    step: StepId::FirstReminder,
                    channel: Channel::Email,
                    outcome: None,
                },
                PriorContact {
                    date: d(2026, 2, 20),
                    step: StepId::PhoneCall,
                    channel: Channel::PhoneCall,
                    outcome: Some("promesse de règlement non tenue".into()),
                },
                PriorContact {
                    date: d(2026, 2, 24),
                    step: StepId::SecondReminder,
                    channel: Channel::RegisteredLetter,
                    outcome: None,
                },
            ],
            deadline: d(2026, 4, 16),
            payment_reference: "C001-F20260042".into(),
            portal_url: Some("https://pay.example.invalid/c/C001".into()),
            reason: Some("absence de règlement malgré nos relances".into()),
        }
    }
}
