//! `relance bench import`: the import benchmark of the foundation issue.
//!
//! Generates an invoice CSV (French headers, `;`, `DD/MM/YYYY`, `1234,56`) and imports it end to
//! end (read, parse, write, commit) into a fresh SQLite file, then prints lines per second and
//! the process's peak resident memory.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use chrono::{Days, NaiveDate};
use relance_store::creditors::CreditorInput;
use relance_store::Store;

use crate::cli::BenchCommand;

pub async fn run(command: BenchCommand) -> anyhow::Result<ExitCode> {
    match command {
        BenchCommand::Import {
            lines,
            customers,
            dir,
        } => import(lines, customers.max(1), dir).await,
        BenchCommand::Send(args) => send(*args).await,
        BenchCommand::Run {
            customers,
            invoices,
            due_share,
            dir,
            reuse,
            phase,
        } => {
            let size = crate::commands::bench_run::Size {
                customers: customers.max(1),
                invoices,
                due_share,
            };
            match phase {
                None => crate::commands::bench_run::plan_run(size, dir, reuse),
                Some(phase) => {
                    let dir = dir.context("--phase needs --dir")?;
                    crate::commands::bench_run::run_phase(size, &dir, phase).await
                }
            }
        }
        BenchCommand::Forecast {
            customers,
            invoices,
            dir,
        } => crate::commands::bench_forecast::run(customers.max(1), invoices, dir).await,
        BenchCommand::Match {
            entries,
            invoices,
            dir,
        } => crate::commands::bench_match::run(entries, invoices, dir).await,
    }
}

/// `relance bench send`: N customers with one overdue invoice each, one first reminder by e-mail
/// each in the outbox, then the dispatch timed end to end (claim, render, SMTP, record).
async fn send(args: crate::cli::BenchSendArgs) -> anyhow::Result<ExitCode> {
    use std::sync::Arc;

    let temp = tempfile::tempdir()?;
    let url = args
        .db
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", temp.path().join("bench-send.db").display()));
    let store = Store::open(&url).await?;
    let (creditor, _) = store
        .upsert_creditor(&CreditorInput {
            name: "Bench SAS".into(),
            email: Some("relances@bench-sas.example".into()),
            address: Some("1 rue de la Paix\n75002 Paris".into()),
            ..Default::default()
        })
        .await?;
    let existing = store.outbox_lines(creditor.id, None, false).await?.len();
    anyhow::ensure!(
        existing == 0,
        "the bench database already has {existing} outbox rows: give an empty one"
    );
    let today = NaiveDate::from_ymd_opt(2026, 11, 25).context("date")?;
    let csv_path = temp.path().join("bench-send.csv");
    {
        let file = std::fs::File::create(&csv_path)?;
        let mut out = std::io::BufWriter::new(file);
        writeln!(out, "invoice_number,customer_id,customer_name,customer_kind,email,issue_date,due_date,amount")?;
        for n in 0..args.messages {
            writeln!(
                out,
                "B-{n:07},C{n:07},Client {n:07} SARL,business,compta{n}@client{}.example,2026-09-01,2026-10-01,{}.{:02}",
                n % 50,
                100 + n % 9000,
                n % 100
            )?;
        }
        out.flush()?;
    }
    let prepared = Instant::now();
    crate::commands::import_invoices_file(&store, creditor.id, &csv_path, today, false)
        .await?
        .map_err(|p| {
            anyhow::anyhow!("bench file refused: {:?}", p.first().map(|x| x.to_string()))
        })?;
    let rows = store
        .fill_outbox_for_bench(creditor.id, today, "first_reminder", "email")
        .await?;
    println!(
        "outbox filled: {rows} e-mails due on {today} ({:.1} s)",
        prepared.elapsed().as_secs_f64()
    );
    if args.prepare_only {
        if args.db.is_none() {
            let kept = temp.keep();
            println!(
                "database kept: sqlite://{}",
                kept.join("bench-send.db").display()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let settings = args.delivery.settings()?;
    let mailer = Arc::new(relance_dispatch::mailer_for(&settings)?);
    let mut options = relance_dispatch::DispatchOptions::new(&settings, today, None)?;
    if args.delivery.outbox == std::path::Path::new("outbox") {
        options.outbox = temp.path().join("outbox");
    }
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..args.dispatchers.max(1) {
        let store = store.clone();
        let creditor = creditor.clone();
        let mailer = Arc::clone(&mailer);
        let mut options = options.clone();
        options.worker = relance_dispatch::worker_name(n);
        tasks.spawn(async move {
            relance_dispatch::dispatch(&store, &creditor, mailer, &options).await
        });
    }
    let mut report = relance_dispatch::DispatchReport::default();
    while let Some(done) = tasks.join_next().await {
        report.add(&done.context("dispatcher panicked")??);
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "sent {} of {} messages in {:.2} s: {:.0} msg/s end to end ({} dispatcher(s), {} connection(s), {})",
        report.sent,
        rows,
        seconds,
        report.sent as f64 / seconds.max(1e-9),
        args.dispatchers.max(1),
        args.delivery.connections,
        mailer.description()
    );
    println!("{}", report.summary());
    println!("{}", report.timings());
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn import(
    lines: usize,
    customers: usize,
    dir: Option<std::path::PathBuf>,
) -> anyhow::Result<ExitCode> {
    let temp = tempfile::tempdir()?;
    let dir = dir.unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    let csv_path = dir.join("bench-invoices.csv");
    let db_path = dir.join("bench.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db_path.display()));
    }
    let generated = Instant::now();
    write_csv(&csv_path, lines, customers)?;
    let size = std::fs::metadata(&csv_path)?.len();
    println!(
        "generated {} lines ({:.1} MB) in {:.2} s",
        lines,
        size as f64 / 1e6,
        generated.elapsed().as_secs_f64()
    );
    let url = format!("sqlite://{}", db_path.display());
    let store = Store::open(&url).await?;
    let (creditor, _) = store
        .upsert_creditor(&CreditorInput {
            name: "Bench SAS".into(),
            ..Default::default()
        })
        .await?;
    let today = NaiveDate::from_ymd_opt(2026, 11, 25).context("date")?;
    let started = Instant::now();
    let outcome =
        crate::commands::import_invoices_file(&store, creditor.id, &csv_path, today, false).await?;
    let seconds = started.elapsed().as_secs_f64();
    let (summary, _) = outcome.map_err(|p| {
        anyhow::anyhow!(
            "bench file refused: {} problems, first: {:?}",
            p.len(),
            p.first().map(|x| x.to_string())
        )
    })?;
    println!(
        "imported {} lines in {:.2} s: {:.0} lines/s end to end (read, parse, write, commit); {} invoices, {} customers",
        summary.rows,
        seconds,
        summary.rows as f64 / seconds.max(1e-9),
        summary.created,
        summary.customers_created
    );
    println!(
        "peak memory (VmHWM): {}",
        peak_memory().unwrap_or_else(|| "unknown".into())
    );
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn write_csv(
    path: &std::path::Path,
    lines: usize,
    customers: usize,
) -> anyhow::Result<()> {
    let file = std::fs::File::create(path)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    writeln!(
        out,
        "numéro;code client;client;type;email;date;échéance;montant TTC;devise"
    )?;
    let start = NaiveDate::from_ymd_opt(2025, 11, 1).context("date")?;
    // A cheap deterministic generator: the benchmark measures the import, not the generator.
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for n in 0..lines {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let customer = (x as usize) % customers;
        let issue = start
            .checked_add_days(Days::new((x >> 20) % 365))
            .context("date")?;
        let due = issue
            .checked_add_days(Days::new([30, 45, 60][((x >> 40) % 3) as usize]))
            .context("date")?;
        let cents = 1_000 + (x >> 24) % 2_000_000;
        writeln!(
            out,
            "F-{:08};C{:06};Client {:06} SARL;entreprise;compta{:06}@exemple.fr;{};{};{},{:02};EUR",
            n + 1,
            customer,
            customer,
            customer,
            issue.format("%d/%m/%Y"),
            due.format("%d/%m/%Y"),
            cents / 100,
            cents % 100
        )?;
    }
    out.flush()?;
    Ok(())
}

pub(super) fn peak_memory() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .map(|l| l.trim_start_matches("VmHWM:").trim().to_string())
}
