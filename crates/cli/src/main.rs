//! The `relance` binary: parses the command line and hands each command to its module.
//!
//! It stays thin on purpose: rules live in `relance-core`, persistence in `relance-store`,
//! file formats in `relance-formats`. Errors are reported here with `anyhow` context.

mod cli;
mod commands;
mod context;
mod litigation;
mod output;
mod writer_lock;

/// The delivery pipeline and the letters' data live in `relance-dispatch`, shared with the
/// server; `crate::letters` keeps naming them here.
use relance_dispatch::letters;

use clap::Parser;

/// mimalloc rather than the system allocator: a full planning run allocates and frees millions
/// of small strings and rows, many of them handed from SQLite's connection threads to the
/// planner's, and glibc's allocator spent a quarter of the run's CPU time there (arena locks,
/// `malloc_consolidate`), measured with `perf` on `relance bench run`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    init_tracing(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Logs go to stderr; quiet by default (warnings), `-v` for info, `-vv` for debug, or `RUST_LOG`.
fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info,sqlx=warn",
        _ => "debug,sqlx=info",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
