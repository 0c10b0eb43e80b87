//! `relance bench match`: the matching benchmark of issue 8.
//!
//! Imports `invoices` open invoices (five per customer) into a fresh SQLite file, then a
//! generated camt.053.001.08 statement of `entries` credits whose truth is known, entry `j`
//! paying customer `j`:
//! - 40 % name an invoice number in the remittance, with the noise banks add (case, spaces,
//!   dots, dashes, words around it); one in seven is short of 1.50 (bank fees);
//! - 20 % give only the payer's name and an amount equal to one of the customer's invoices;
//! - 10 % give the payer's name and the sum of all the customer's invoices (a combination);
//! - 10 % give the payer's name and an amount two of the customer's invoices share: a person
//!   must choose, so the right outcome is the reconciliation queue;
//! - 20 % come from payers nobody knows: queue too.
//!
//! The import of the statement (read, parse, match, allocate, commit) is timed; the outcome of
//! every entry is then compared with the truth.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use chrono::{Days, NaiveDate};
use relance_store::creditors::CreditorInput;
use relance_store::Store;

/// Invoices per customer.
const PER_CUSTOMER: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Reference,
    AmountOnly,
    Combination,
    Ambiguous,
    Unknown,
}

/// What an entry should become.
struct Truth {
    kind: Kind,
    /// `None`: the entry must wait in the queue.
    customer: Option<String>,
    invoices: BTreeSet<String>,
}

/// The generated ledger: customers, invoice numbers and amounts, all derived from the index.
struct Ledger {
    invoices: usize,
    customers: usize,
    entries: usize,
}

impl Ledger {
    fn customer_of(&self, n: usize) -> usize {
        n % self.customers
    }
    fn invoices_of(&self, c: usize) -> impl Iterator<Item = usize> + '_ {
        (0..)
            .map(move |k| c + k * self.customers)
            .take_while(move |&n| n < self.invoices)
    }
    fn kind(&self, c: usize) -> Option<Kind> {
        (c < self.entries).then_some(match c % 10 {
            0..=3 => Kind::Reference,
            4 | 5 => Kind::AmountOnly,
            6 => Kind::Combination,
            7 => Kind::Ambiguous,
            _ => Kind::Unknown,
        })
    }
    /// Amount in cents: random-looking, but the second invoice of an "ambiguous" customer
    /// repeats the first's.
    fn cents(&self, n: usize) -> u64 {
        let c = self.customer_of(n);
        let n = if self.kind(c) == Some(Kind::Ambiguous) && n == c + self.customers {
            c
        } else {
            n
        };
        1_000 + splitmix(n as u64) % 1_999_000
    }
    fn number(n: usize) -> String {
        format!("F-{n:08}")
    }
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn money(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

pub async fn run(
    entries: usize,
    invoices: usize,
    dir: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(entries >= 10, "--entries must be at least 10");
    let customers = (invoices / PER_CUSTOMER).max(entries);
    anyhow::ensure!(
        invoices >= customers * 2,
        "--invoices must be at least twice --entries (every paying customer needs two invoices)"
    );
    let ledger = Ledger {
        invoices,
        customers,
        entries,
    };
    let temp = tempfile::tempdir()?;
    let dir = dir.unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    let csv_path = dir.join("bench-open-invoices.csv");
    let camt_path = dir.join("bench-statement.camt053.xml");
    let db_path = dir.join("bench-match.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db_path.display()));
    }

    let generated = Instant::now();
    write_invoices(&csv_path, &ledger)?;
    let truth = write_statement(&camt_path, &ledger)?;
    println!(
        "generated {invoices} open invoices of {customers} customers and a camt.053 of {entries} credits ({:.1} MB) in {:.2} s",
        std::fs::metadata(&camt_path)?.len() as f64 / 1e6,
        generated.elapsed().as_secs_f64()
    );

    let store = Store::open(&format!("sqlite://{}", db_path.display())).await?;
    let (creditor, _) = store
        .upsert_creditor(&CreditorInput {
            name: "Bench SAS".into(),
            ..Default::default()
        })
        .await?;
    let today = NaiveDate::from_ymd_opt(2026, 4, 15).context("date")?;
    let started = Instant::now();
    crate::commands::import_invoices_file(&store, creditor.id, &csv_path, today, false)
        .await?
        .map_err(|p| anyhow::anyhow!("invoice file refused: {:?}", p.first()))?;
    println!(
        "imported the open invoices in {:.2} s (not part of the figure below)",
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let (summary, _) = crate::commands::import_payments_file(
        &store,
        creditor.id,
        &camt_path,
        Some(crate::cli::PaymentFormat::Camt053),
        today,
    )
    .await?
    .map_err(|p| anyhow::anyhow!("statement refused: {:?}", p.first()))?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "matched {} credits against {} open invoices in {:.2} s ({:.0} credits/s): read, parse, match, allocate, commit",
        summary.rows,
        invoices,
        seconds,
        summary.rows as f64 / seconds.max(1e-9)
    );

    let outcomes = store.payment_outcomes(creditor.id).await?;
    let mut by_reference = std::collections::HashMap::with_capacity(outcomes.len());
    for o in &outcomes {
        by_reference.insert(o.bank_reference.as_str(), o);
    }
    let kinds = [
        (Kind::Reference, "invoice number in the remittance"),
        (Kind::AmountOnly, "payer's name, amount of one invoice"),
        (Kind::Combination, "payer's name, sum of the invoices"),
        (Kind::Ambiguous, "payer's name, amount two invoices share"),
        (Kind::Unknown, "unknown payer"),
    ];
    let (mut right, mut wrong, mut queued, mut expected_auto) = (0usize, 0usize, 0usize, 0usize);
    println!("by kind: entries, right, wrong, queued");
    for (kind, label) in kinds {
        let (mut n, mut r, mut w, mut q) = (0, 0, 0, 0);
        for (j, t) in truth.iter().enumerate().filter(|(_, t)| t.kind == kind) {
            n += 1;
            let reference = format!("BNK{j:08}");
            let Some(o) = by_reference.get(reference.as_str()) else {
                w += 1;
                continue;
            };
            if o.status == "unmatched" {
                q += 1;
                if t.customer.is_none() {
                    r += 1;
                }
                continue;
            }
            let got: BTreeSet<String> = o.invoices.iter().cloned().collect();
            if t.customer.is_some() && o.customer == t.customer && got == t.invoices {
                r += 1;
            } else {
                w += 1;
            }
        }
        println!("  {label}: {n}, {r}, {w}, {q}");
        if matches!(kind, Kind::Ambiguous | Kind::Unknown) {
            // Right when queued: they count as queued, not as matched.
        } else {
            expected_auto += n;
            right += r;
        }
        wrong += w;
        queued += q;
    }
    println!(
        "matching rate {:.1} % ({right} of {expected_auto} credits that can be matched were allocated to the right invoices); \
         {wrong} wrong matches; {queued} queued for a person ({} expected)",
        100.0 * right as f64 / expected_auto.max(1) as f64,
        truth.iter().filter(|t| t.customer.is_none()).count()
    );
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

fn write_invoices(path: &std::path::Path, ledger: &Ledger) -> anyhow::Result<()> {
    let file = std::fs::File::create(path)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    writeln!(
        out,
        "numéro;code client;client;type;date;échéance;montant TTC"
    )?;
    let start = NaiveDate::from_ymd_opt(2026, 1, 2).context("date")?;
    for n in 0..ledger.invoices {
        let c = ledger.customer_of(n);
        let issue = start
            .checked_add_days(Days::new((n / ledger.customers) as u64 * 7))
            .context("date")?;
        let due = issue.checked_add_days(Days::new(30)).context("date")?;
        writeln!(
            out,
            "{};C{c:07};Client {c:07} SARL;entreprise;{};{};{}",
            Ledger::number(n),
            issue.format("%d/%m/%Y"),
            due.format("%d/%m/%Y"),
            money(ledger.cents(n))
        )?;
    }
    out.flush()?;
    Ok(())
}

fn write_statement(path: &std::path::Path, ledger: &Ledger) -> anyhow::Result<Vec<Truth>> {
    let file = std::fs::File::create(path)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    writeln!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\">\
         <BkToCstmrStmt><GrpHdr><MsgId>BENCH</MsgId><CreDtTm>2026-04-15T20:00:00</CreDtTm></GrpHdr>\
         <Stmt><Id>BENCH-1</Id><Acct><Id><IBAN>FR7630004001230001234567890</IBAN></Id></Acct>"
    )?;
    let mut truth = Vec::with_capacity(ledger.entries);
    for j in 0..ledger.entries {
        let c = j;
        let kind = ledger.kind(c).context("every entry pays a customer")?;
        let code = format!("C{c:07}");
        let payer = format!("CLIENT {c:07} SARL");
        let noise = splitmix(j as u64 ^ 0xBEEF);
        let (payer, remittance, cents, t) = match kind {
            Kind::Reference => {
                let n = c;
                let digits = format!("{n:08}");
                let remittance = match (j / 10) % 5 {
                    0 => format!("VIR SEPA {payer} F-{digits}"),
                    1 => format!("FACT F {digits} MERCI"),
                    2 => format!("reglement f-{digits} ref {}", noise % 100_000),
                    3 => format!("F.{digits}/2026"),
                    _ => format!("PAIEMENT FACTURE NO F{digits} DU 15/03"),
                };
                let fees = if (j / 10) % 7 == 3 { 150 } else { 0 };
                (
                    payer,
                    remittance,
                    ledger.cents(n) - fees,
                    Truth {
                        kind,
                        customer: Some(code),
                        invoices: [Ledger::number(n)].into(),
                    },
                )
            }
            Kind::AmountOnly => {
                let own: Vec<usize> = ledger.invoices_of(c).collect();
                // An invoice whose amount no other invoice of the customer has.
                let n = own
                    .iter()
                    .copied()
                    .find(|&n| {
                        own.iter()
                            .filter(|&&m| ledger.cents(m) == ledger.cents(n))
                            .count()
                            == 1
                    })
                    .context("a customer with an amount of its own")?;
                (
                    payer,
                    format!("VIREMENT {}", noise % 1_000_000),
                    ledger.cents(n),
                    Truth {
                        kind,
                        customer: Some(code),
                        invoices: [Ledger::number(n)].into(),
                    },
                )
            }
            Kind::Combination => {
                let own: Vec<usize> = ledger.invoices_of(c).collect();
                (
                    payer,
                    "REGLEMENT RELEVE".to_string(),
                    own.iter().map(|&n| ledger.cents(n)).sum(),
                    Truth {
                        kind,
                        customer: Some(code),
                        invoices: own.iter().map(|&n| Ledger::number(n)).collect(),
                    },
                )
            }
            Kind::Ambiguous => (
                payer,
                "VIREMENT".to_string(),
                ledger.cents(c),
                Truth {
                    kind,
                    customer: None,
                    invoices: BTreeSet::new(),
                },
            ),
            Kind::Unknown => (
                format!("SOCIETE INCONNUE {j}"),
                format!("VIR {}", noise % 1_000_000),
                1_000 + noise % 500_000,
                Truth {
                    kind,
                    customer: None,
                    invoices: BTreeSet::new(),
                },
            ),
        };
        writeln!(
            out,
            "<Ntry><Amt Ccy=\"EUR\">{}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>\
             <BookgDt><Dt>2026-04-1{}</Dt></BookgDt><AcctSvcrRef>BNK{j:08}</AcctSvcrRef><NtryDtls><TxDtls>\
             <RltdPties><Dbtr><Pty><Nm>{payer}</Nm></Pty></Dbtr></RltdPties>\
             <RmtInf><Ustrd>{remittance}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>",
            money(cents),
            j % 5,
        )?;
        truth.push(t);
    }
    writeln!(out, "</Stmt></BkToCstmrStmt></Document>")?;
    out.flush()?;
    Ok(truth)
}
