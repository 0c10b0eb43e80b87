//! `relance demo`: realistic, deterministic French demo data through the real import paths.
//!
//! Customers are companies (with valid SIREN) and consumers across France; invoices span the
//! last twelve months with 30/45/60-day terms; payers are good, late or bad, with partial
//! payments. The same seed gives the same data, and running it twice changes nothing.

use std::process::ExitCode;

use chrono::{Days, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use relance_core::ledger::ItemKind;
use relance_core::money::Money;
use relance_core::party::{CustomerKind, Language, Siren};
use relance_store::creditors::CreditorInput;
use relance_store::customers::CustomerFields;
use relance_store::imports::InvoiceRecord;
use relance_store::payments::{PaymentImport, PaymentRecord};
use relance_store::Store;
use rust_decimal::Decimal;

use crate::cli::{DemoArgs, OutputFormat};
use crate::context::today_for;

const TRADES: &[&str] = &[
    "Boulangerie",
    "Garage",
    "Cabinet",
    "Transports",
    "Menuiserie",
    "Imprimerie",
    "Pharmacie",
    "Hôtel",
    "Restaurant",
    "Bureau d'études",
    "Plomberie",
    "Électricité",
    "Agence",
    "Librairie",
    "Atelier",
    "Fromagerie",
];
const SURNAMES: &[&str] = &[
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefèvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Girard",
    "Bonnet",
    "Lambert",
    "Fontaine",
    "Rousseau",
    "Chevalier",
    "Mercier",
    "Blanc",
    "Guérin",
    "Muller",
];
const FIRST_NAMES: &[&str] = &[
    "Camille", "Léa", "Manon", "Chloé", "Inès", "Lucas", "Hugo", "Louis", "Jules", "Gabriel",
    "Éloïse", "Théo", "Noémie", "Arthur", "Zoé", "Raphaël",
];
const FORMS: &[&str] = &["SARL", "SAS", "SA", "EURL", "SASU"];
const STREETS: &[&str] = &[
    "rue de la République",
    "avenue Jean Jaurès",
    "boulevard Gambetta",
    "rue Victor Hugo",
    "place de la Mairie",
    "rue des Écoles",
    "chemin des Vignes",
    "rue du Moulin",
    "avenue de la Gare",
    "quai des Chartrons",
];
const CITIES: &[(&str, &str)] = &[
    ("75011", "Paris"),
    ("69003", "Lyon"),
    ("13006", "Marseille"),
    ("31000", "Toulouse"),
    ("44000", "Nantes"),
    ("67000", "Strasbourg"),
    ("59000", "Lille"),
    ("33000", "Bordeaux"),
    ("35000", "Rennes"),
    ("34000", "Montpellier"),
    ("57000", "Metz"),
    ("38000", "Grenoble"),
    ("21000", "Dijon"),
    ("37000", "Tours"),
    ("63000", "Clermont-Ferrand"),
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Payer {
    Good,
    Late,
    Bad,
}

struct DemoCustomer {
    fields: CustomerFields,
    payer: Payer,
}

pub async fn run(store: &Store, wanted: Option<&str>, args: DemoArgs) -> anyhow::Result<ExitCode> {
    let creditor = match store.resolve_creditor(wanted).await {
        Ok(c) => c,
        Err(relance_store::StoreError::NoCreditor) => {
            let (c, _) = store
                .upsert_creditor(&CreditorInput {
                    name: "Démo Industries SAS".into(),
                    siren: Some("552100554".into()),
                    iban: Some("FR7630006000011234567890189".into()),
                    bic: Some("AGRIFRPP".into()),
                    address: Some("12 rue de la République\n69002 Lyon".into()),
                    email: Some("relances@demo-industries.fr".into()),
                    time_zone: Some("Europe/Paris".into()),
                    alsace_moselle: Some(false),
                })
                .await?;
            println!("Created the demo creditor \"{}\"", c.name);
            c
        }
        Err(e) => return Err(e.into()),
    };
    let as_of = args.as_of.unwrap_or_else(|| today_for(&creditor));
    let data = generate(args.customers.max(1), args.invoices, args.seed, as_of);

    let mut session = store
        .begin_invoice_import(creditor.id, "demo", as_of)
        .await?;
    for record in data.invoices {
        session.push(record).await?;
    }
    let summary = session.commit(0).await?;
    let paid = match store
        .import_payments(creditor.id, "demo", &data.payments, as_of)
        .await?
    {
        PaymentImport::Done(s) => s,
        PaymentImport::Refused(problems) => anyhow::bail!("demo payments refused: {problems:?}"),
    };
    println!(
        "Demo data: {} customers, {} invoices ({} new, {} unchanged), {} payments ({} new)",
        args.customers, summary.rows, summary.created, summary.unchanged, paid.rows, paid.created
    );
    println!();
    crate::commands::report::aging(store, &creditor, as_of, None, OutputFormat::Table).await?;
    Ok(ExitCode::SUCCESS)
}

/// Generated demo ledger.
pub struct DemoData {
    pub invoices: Vec<InvoiceRecord>,
    pub payments: Vec<PaymentRecord>,
}

/// Deterministic demo data for `seed`, built around `as_of`.
pub fn generate(customers: usize, invoices: usize, seed: u64, as_of: NaiveDate) -> DemoData {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let people: Vec<DemoCustomer> = (0..customers).map(|i| customer(&mut rng, i)).collect();
    let start = as_of.checked_sub_days(Days::new(365)).unwrap_or(as_of);
    let mut issue_days: Vec<u64> = (0..invoices).map(|_| rng.random_range(0..365)).collect();
    issue_days.sort_unstable();
    let mut out = DemoData {
        invoices: Vec::with_capacity(invoices),
        payments: Vec::new(),
    };
    for (n, day) in issue_days.into_iter().enumerate() {
        let who = &people[rng.random_range(0..people.len())];
        let issue = start.checked_add_days(Days::new(day)).unwrap_or(as_of);
        let term = if who.fields.kind == Some(CustomerKind::Consumer) {
            30
        } else {
            [30, 45, 60][rng.random_range(0..3)]
        };
        let due = issue.checked_add_days(Days::new(term)).unwrap_or(issue);
        let cents: i64 = if who.fields.kind == Some(CustomerKind::Consumer) {
            rng.random_range(4_000..90_000)
        } else {
            rng.random_range(15_000..1_200_000)
        };
        let credit_note = rng.random_bool(0.02);
        let number = format!(
            "{}-{}-{:05}",
            if credit_note { "AV" } else { "F" },
            issue.format("%Y"),
            n + 1
        );
        let total = Money::eur(Decimal::new(
            if credit_note { -cents / 10 } else { cents },
            2,
        ));
        out.invoices.push(InvoiceRecord {
            line: (n + 2) as u64,
            kind: if credit_note {
                ItemKind::CreditNote
            } else {
                ItemKind::Invoice
            },
            number: number.clone(),
            customer: who.fields.clone(),
            issue_date: issue,
            due_date: due,
            total,
            paid: Money::eur(Decimal::ZERO),
        });
        if credit_note {
            continue;
        }
        // When (and how much) this payer pays.
        let (delay, share): (i64, i64) = match who.payer {
            Payer::Good => (rng.random_range(-5..4), 100),
            Payer::Late => (rng.random_range(10..60), 100),
            Payer::Bad => {
                if rng.random_bool(0.5) {
                    (rng.random_range(30..120), 50)
                } else {
                    (10_000, 0)
                }
            }
        };
        let Some(pay_date) = due.checked_add_signed(chrono::Duration::days(delay)) else {
            continue;
        };
        if share == 0 || pay_date > as_of || pay_date < issue {
            continue;
        }
        out.payments.push(PaymentRecord {
            line: out.payments.len() as u64 + 2,
            date: pay_date,
            amount: Money::eur(Decimal::new(cents * share / 100, 2)),
            reference: format!(
                "VIR {} {}",
                who.fields.name.as_deref().unwrap_or(""),
                number
            ),
            customer_code: Some(who.fields.code.clone()),
            invoice_number: Some(number),
            bank_reference: None,
            payer_name: None,
            payer_iban: None,
        });
    }
    out.payments.sort_by_key(|p| p.date);
    for (i, p) in out.payments.iter_mut().enumerate() {
        p.line = i as u64 + 2;
    }
    DemoData {
        invoices: out.invoices,
        payments: out.payments,
    }
}

fn customer(rng: &mut ChaCha8Rng, i: usize) -> DemoCustomer {
    let pick = |rng: &mut ChaCha8Rng, list: &[&'static str]| list[rng.random_range(0..list.len())];
    let consumer = rng.random_bool(0.2);
    let surname = pick(rng, SURNAMES);
    let (name, kind, siren) = if consumer {
        let title = if rng.random_bool(0.5) { "M." } else { "Mme" };
        (
            format!("{title} {} {surname}", pick(rng, FIRST_NAMES)),
            CustomerKind::Consumer,
            None,
        )
    } else {
        let siren = Siren::with_check_digit(rng.random_range(30_000_000..99_999_999));
        (
            format!("{} {surname} {}", pick(rng, TRADES), pick(rng, FORMS)),
            CustomerKind::Business,
            Some(siren.as_str().to_string()),
        )
    };
    let (postcode, city) = CITIES[rng.random_range(0..CITIES.len())];
    let address = format!(
        "{} {}\n{postcode} {city}",
        rng.random_range(1..120),
        pick(rng, STREETS)
    );
    let slug: String = surname
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'é' | 'è' | 'ê' => 'e',
            'ï' => 'i',
            c if c.is_ascii_alphanumeric() => c,
            _ => '-',
        })
        .collect();
    // One customer in ten has no e-mail address: reminders go by post.
    let emails = if rng.random_bool(0.9) {
        vec![if consumer {
            format!("{slug}{}@exemple.fr", i)
        } else {
            format!("compta@{slug}-{i}.fr")
        }]
    } else {
        Vec::new()
    };
    let payer = match rng.random_range(0..100) {
        0..55 => Payer::Good,
        55..85 => Payer::Late,
        _ => Payer::Bad,
    };
    DemoCustomer {
        fields: CustomerFields {
            code: format!("C{:05}", i + 1),
            name: Some(name),
            kind: Some(kind),
            emails,
            phone: Some(format!(
                "0{}{:08}",
                rng.random_range(1..6),
                rng.random_range(0..100_000_000u32)
            )),
            address: Some(address),
            siren,
            language: Some(if rng.random_bool(0.05) {
                Language::En
            } else {
                Language::Fr
            }),
        },
        payer,
    }
}
