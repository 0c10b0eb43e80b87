//! `relance bench run`: the planner benchmark of the planner issue.
//!
//! Builds a ledger through the real import, then times a full planning run (`--full --dry-run`),
//! a first real run, and a typical daily run the next business day after a share of the
//! customers paid something. Each phase runs in its own process (this binary with the hidden
//! `--phase`), so its time and peak memory are its own: the import's memory, kept by the
//! allocator, does not count against the run.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use chrono::NaiveDate;
use relance_core::money::Money;
use relance_store::cases::RunOptions;
use relance_store::creditors::CreditorInput;
use relance_store::payments::{PaymentImport, PaymentRecord};
use relance_store::Store;
use rust_decimal::Decimal;

use crate::cli::BenchRunPhase;
use clap::ValueEnum as _;

use super::bench::{peak_memory, write_csv};

/// The size of the generated ledger.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub customers: usize,
    pub invoices: usize,
    /// Share of the customers who pay before the daily run.
    pub due_share: f64,
}

const PHASES: [BenchRunPhase; 5] = [
    BenchRunPhase::Ledger,
    BenchRunPhase::Full,
    BenchRunPhase::First,
    BenchRunPhase::Payments,
    BenchRunPhase::Daily,
];

/// Runs every phase, each in its own process (this binary with `--phase`), so that each peak
/// memory reading is that phase's alone and not what an earlier phase left in the allocator.
///
/// With `reuse`, the database is copied aside after the ledger phase (what the full run reads)
/// and after the payments phase (what the daily run reads); a later bench of the same size in
/// the same folder starts from these copies and runs the two timed phases only.
pub fn plan_run(size: Size, dir: Option<PathBuf>, reuse: bool) -> anyhow::Result<ExitCode> {
    if !(0.0..=1.0).contains(&size.due_share) {
        anyhow::bail!(
            "--due-share must be between 0 and 1, not {}",
            size.due_share
        );
    }
    let temp = tempfile::tempdir()?;
    let dir = dir.unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    let db_path = dir.join(DATABASE);
    let stamp = format!("{} {} {}", size.customers, size.invoices, size.due_share);
    let kept = reuse
        && dir.join(LEDGER_COPY).exists()
        && dir.join(PAID_COPY).exists()
        && std::fs::read_to_string(dir.join(SIZE_STAMP))
            .ok()
            .as_deref()
            == Some(stamp.as_str());
    if kept {
        println!("reusing the ledger kept in {}", dir.display());
        copy_database(&dir.join(LEDGER_COPY), &db_path)?;
        run_phase_process(size, &dir, BenchRunPhase::Full)?;
        copy_database(&dir.join(PAID_COPY), &db_path)?;
        run_phase_process(size, &dir, BenchRunPhase::Daily)?;
        return Ok(ExitCode::SUCCESS);
    }
    let _ = std::fs::remove_file(dir.join(SIZE_STAMP));
    remove_database(&db_path)?;
    for phase in PHASES {
        run_phase_process(size, &dir, phase)?;
        match phase {
            BenchRunPhase::Ledger if reuse => copy_database(&db_path, &dir.join(LEDGER_COPY))?,
            BenchRunPhase::Payments if reuse => copy_database(&db_path, &dir.join(PAID_COPY))?,
            _ => {}
        }
    }
    if reuse {
        std::fs::write(dir.join(SIZE_STAMP), stamp)
            .with_context(|| format!("writing {}", dir.join(SIZE_STAMP).display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs one phase in a process of its own.
fn run_phase_process(size: Size, dir: &Path, phase: BenchRunPhase) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("this program's path")?;
    let name = phase
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default();
    let status = std::process::Command::new(&exe)
        .args(["bench", "run", "--phase", &name])
        .arg("--customers")
        .arg(size.customers.to_string())
        .arg("--invoices")
        .arg(size.invoices.to_string())
        .arg("--due-share")
        .arg(size.due_share.to_string())
        .arg("--dir")
        .arg(dir)
        .status()
        .with_context(|| format!("starting the {name} phase"))?;
    anyhow::ensure!(status.success(), "the {name} phase failed ({status})");
    Ok(())
}

/// Removes a SQLite database with its write-ahead log and shared-memory files.
fn remove_database(path: &Path) -> anyhow::Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("removing {}", file.display())),
        }
    }
    Ok(())
}

/// Copies a closed SQLite database (with its write-ahead log, if one was left) over `to`.
fn copy_database(from: &Path, to: &Path) -> anyhow::Result<()> {
    remove_database(to)?;
    for suffix in ["", "-wal"] {
        let source = PathBuf::from(format!("{}{suffix}", from.display()));
        if suffix.is_empty() || source.exists() {
            let target = PathBuf::from(format!("{}{suffix}", to.display()));
            std::fs::copy(&source, &target)
                .with_context(|| format!("copying {} to {}", source.display(), target.display()))?;
            // On disk before the timed phase starts: otherwise the system writes the copy's
            // hundreds of megabytes back while the phase runs, and times it too.
            std::fs::File::open(&target)
                .and_then(|file| file.sync_all())
                .with_context(|| format!("writing {} to disk", target.display()))?;
        }
    }
    Ok(())
}

const DATABASE: &str = "bench-run.db";
/// With `--reuse`: the ledger as imported, the ledger before the daily run, and their size.
const LEDGER_COPY: &str = "bench-run-ledger.db";
const PAID_COPY: &str = "bench-run-paid.db";
const SIZE_STAMP: &str = "bench-run-size.txt";
const DAY: (i32, u32, u32) = (2026, 11, 25);
const NEXT_DAY: (i32, u32, u32) = (2026, 11, 26);

fn date((y, m, d): (i32, u32, u32)) -> anyhow::Result<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d).context("date")
}

/// One phase, on the database of `dir`.
pub async fn run_phase(size: Size, dir: &Path, phase: BenchRunPhase) -> anyhow::Result<ExitCode> {
    let day = date(DAY)?;
    let next_day = date(NEXT_DAY)?;
    let url = format!("sqlite://{}", dir.join(DATABASE).display());
    let store = Store::open(&url).await?;
    if phase == BenchRunPhase::Ledger {
        let started = Instant::now();
        let csv_path = dir.join("bench-run-invoices.csv");
        write_csv(&csv_path, size.invoices, size.customers)?;
        let (creditor, _) = store
            .upsert_creditor(&CreditorInput {
                name: "Bench SAS".into(),
                ..Default::default()
            })
            .await?;
        let outcome =
            crate::commands::import_invoices_file(&store, creditor.id, &csv_path, day, false)
                .await?;
        let (summary, _) = outcome.map_err(|p| {
            anyhow::anyhow!(
                "bench file refused: {} problems, first: {:?}",
                p.len(),
                p.first().map(|x| x.to_string())
            )
        })?;
        println!(
            "ledger: {} open invoices of {} customers loaded in {:.2} s",
            summary.created,
            summary.customers_created,
            started.elapsed().as_secs_f64()
        );
        store.close().await;
        return Ok(ExitCode::SUCCESS);
    }
    let creditor = store
        .creditors()
        .await?
        .into_iter()
        .next()
        .context("no creditor: run the ledger phase first")?
        .id;
    match phase {
        BenchRunPhase::Ledger => {}
        BenchRunPhase::Full => {
            let cases = store.cases_due(creditor, None).await?;
            let timed = timed_run(&store, creditor, day, true).await?;
            println!("full run (--full --dry-run) on {day}: {cases} cases, {timed}");
        }
        BenchRunPhase::First => {
            let timed = timed_run(&store, creditor, day, false).await?;
            println!("first real run on {day}: {timed}");
        }
        BenchRunPhase::Payments => {
            // The next business day: a share of the customers paid something (their cases are
            // to be planned again), on top of the cases whose next step falls that day.
            let payers = ((size.customers as f64) * size.due_share).round() as usize;
            let step = size.customers.checked_div(payers).unwrap_or(usize::MAX);
            let mut records = Vec::with_capacity(payers);
            for n in 0..payers {
                let customer = n.saturating_mul(step) % size.customers;
                if store
                    .customer_by_code(creditor, &format!("C{customer:06}"))
                    .await?
                    .is_none()
                {
                    // The generator gave this customer no invoice.
                    continue;
                }
                records.push(PaymentRecord {
                    line: n as u64 + 2,
                    date: next_day,
                    amount: Money::eur(Decimal::new(5_000, 2)),
                    reference: format!("Client {customer:06}"),
                    customer_code: Some(format!("C{customer:06}")),
                    invoice_number: None,
                    bank_reference: Some(format!("BENCH-{n}")),
                    payer_name: None,
                    payer_iban: None,
                });
            }
            match store
                .import_payments(creditor, "bench payments", &records, next_day)
                .await?
            {
                PaymentImport::Done(_) => {}
                PaymentImport::Refused(problems) => {
                    anyhow::bail!("bench payments refused: {:?}", problems.first())
                }
            }
            println!("payments: {} customers paid on {next_day}", records.len());
        }
        BenchRunPhase::Daily => {
            let due = store.cases_due(creditor, Some(next_day)).await?;
            let timed = timed_run(&store, creditor, next_day, false).await?;
            println!("daily run on {next_day}: {due} cases due, {timed}");
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// What a timed run planned, how long it took and the peak memory while it ran.
struct Timed {
    actions: usize,
    /// Wall-clock seconds of the whole planning: receivables, then follow-ups and suppliers.
    seconds: f64,
    /// Of which the receivables (`run_day`).
    receivables: f64,
    /// The write-ahead log checkpoint after the run (SQLite), seconds.
    checkpoint: f64,
    /// CPU seconds (user, system) of the process over the run: on a loaded machine the wall
    /// time also counts the waits for a core.
    user: f64,
    system: f64,
    peak: String,
}

impl std::fmt::Display for Timed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} actions in {:.3} s (receivables {:.3} s; CPU user {:.2} s, system {:.2} s; then the \
             write-ahead log checkpoint {:.3} s); peak memory {}",
            self.actions,
            self.seconds,
            self.receivables,
            self.user,
            self.system,
            self.checkpoint,
            self.peak
        )
    }
}

/// One planning run of day `as_of` as `relance run --no-send` does it (receivables, follow-ups,
/// suppliers), timed. With `full`, a dry run of every case.
async fn timed_run(
    store: &Store,
    creditor: relance_core::ids::CreditorId,
    as_of: NaiveDate,
    full: bool,
) -> anyhow::Result<Timed> {
    let options = RunOptions {
        as_of,
        dry_run: full,
        full,
    };
    reset_peak_memory();
    let cpu = cpu_seconds();
    let started = Instant::now();
    let run = store
        .run_daily(creditor, options, crate::cli::DEFAULT_DORMANT_MONTHS)
        .await?;
    let receivables = run.receivables_took.as_secs_f64();
    let actions = run.into_actions().len();
    let seconds = started.elapsed().as_secs_f64();
    let cpu_after = cpu_seconds();
    // What `relance run` does next, once its work is over (`Store::close`): the write-ahead log
    // copied into the database. Timed on its own: it is not part of the planning, but a user
    // of the command waits for it all the same.
    let checkpointing = Instant::now();
    store.checkpoint().await?;
    let checkpoint = checkpointing.elapsed().as_secs_f64();
    let (user, system) = match (cpu, cpu_after) {
        (Some(before), Some(after)) => (after.0 - before.0, after.1 - before.1),
        _ => (f64::NAN, f64::NAN),
    };
    Ok(Timed {
        actions,
        seconds,
        receivables,
        checkpoint,
        user,
        system,
        peak: peak_memory().unwrap_or_else(|| "unknown".into()),
    })
}

/// The process's user and system CPU time so far, in seconds (Linux: `/proc/self/stat`, in
/// clock ticks of 1/100 s).
fn cpu_seconds() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name (which may hold spaces), from the third on.
    let rest = stat.rsplit_once(')')?.1;
    let mut fields = rest.split_whitespace().skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    Some((user / 100.0, system / 100.0))
}

/// Resets the kernel's record of the peak resident memory (VmHWM), so that the next reading
/// is the peak of what follows. Best effort: without it the reading covers the whole process.
fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}
