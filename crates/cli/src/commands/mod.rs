//! One module per command; `run` dispatches.

mod admin;
mod bench;
mod bench_forecast;
mod bench_match;
mod bench_run;
mod cases;
mod demo;
mod export;
mod followups;
mod import;
mod init;
mod law;
mod letter;
mod litigation;
mod penalties;
mod policy;
mod reconcile;
mod render;
mod report;
mod report_cash;
mod run;
mod send;
mod suppliers;
mod tasks;
mod template;
mod web;

use std::process::ExitCode;

use crate::cli::{Cli, Command, ImportCommand, PortalCommand, TokenCommand, UserCommand};
use crate::context::open_store;
use crate::writer_lock::{explain_locked, wait_from_env, WriterLock};

pub use import::{import_invoices_file, import_payments_file};

/// Runs one command; `Ok(FAILURE)` for refusals already explained to the user.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Bench(bench) => return bench::run(bench).await,
        Command::Migrate => return admin::migrate(&cli.database_url).await,
        _ => {}
    }
    // Long writers take turns on a SQLite file (see `writer_lock`); the guard lives until the
    // command ends.
    let _writer = match &cli.command {
        Command::Run(_) | Command::Send(_) | Command::Import(_) | Command::Demo(_) => {
            let line = command_line();
            let url = cli.database_url.clone();
            tokio::task::block_in_place(|| WriterLock::acquire(&url, &line, wait_from_env()))?
        }
        _ => None,
    };
    let url = cli.database_url.clone();
    let store = open_store(&cli.database_url)
        .await
        .map_err(|e| explain_locked(e, &url))?;
    let creditor = cli.creditor.as_deref();
    let result = match cli.command {
        Command::Init(args) => init::run(&store, args).await,
        Command::Demo(args) => demo::run(&store, creditor, args).await,
        Command::Import(ImportCommand::Invoices {
            files,
            format,
            default_term,
        }) => import::invoices(&store, creditor, &files, format, default_term).await,
        Command::Import(ImportCommand::Payments { file, format }) => {
            import::payments(&store, creditor, &file, format).await
        }
        Command::Import(ImportCommand::Quotes { file }) => {
            followups::import_quotes(&store, creditor, &file).await
        }
        Command::Import(ImportCommand::PurchaseOrders { file }) => {
            suppliers::import_purchase_orders(&store, creditor, &file).await
        }
        Command::Import(ImportCommand::SupplierInvoices { file }) => {
            suppliers::import_supplier_invoices(&store, creditor, &file).await
        }
        Command::Supplier(command) => suppliers::supplier(&store, creditor, command).await,
        Command::Import(ImportCommand::Prospects { file }) => {
            followups::import_prospects(&store, creditor, &file).await
        }
        Command::Quote(command) => followups::quote(&store, creditor, command).await,
        Command::Prospect(command) => followups::prospect(&store, creditor, command).await,
        Command::Contact(command) => followups::contact(&store, creditor, command).await,
        Command::Run(args) => run::run(&store, creditor, args).await,
        Command::Send(args) => send::send(&store, creditor, args).await,
        Command::Outbox(command) => send::outbox(&store, creditor, command).await,
        Command::Letter(command) => letter::run(&store, creditor, command).await,
        Command::Promise(args) => cases::promise(&store, creditor, args).await,
        Command::Dispute(args) => cases::dispute(&store, creditor, args).await,
        Command::Resolve(args) => cases::resolve(&store, creditor, args).await,
        Command::Hold(args) => cases::hold(&store, creditor, args).await,
        Command::Report(args) => report::run(&store, creditor, args).await,
        Command::Export(args) => export::run(&store, creditor, args).await,
        Command::Reconcile(args) => reconcile::run(&store, creditor, args).await,
        Command::Penalties(args) => penalties::run(&store, args).await,
        Command::Rates(command) => law::rates(&store, command).await,
        Command::Policy(command) => policy::run(&store, creditor, command).await,
        Command::Render(args) => render::run(&store, creditor, args).await,
        Command::Tasks(args) => tasks::tasks(&store, creditor, args).await,
        Command::Call(args) => tasks::call(&store, creditor, args).await,
        Command::Litigation(args) => litigation::run(&store, creditor, args).await,
        Command::Template(command) => template::run(&store, creditor, command).await,
        Command::Waive {
            invoice,
            reason,
            at,
        } => law::waive(&store, creditor, &invoice, &reason, at).await,
        Command::Backup { file } => admin::backup(&store, &file).await,
        Command::Serve(args) => web::serve(&store, creditor, &url, args).await,
        Command::User(UserCommand::Add {
            email,
            role,
            password_stdin,
        }) => web::user_add(&store, creditor, &email, role, password_stdin).await,
        Command::Token(TokenCommand::Create { email }) => web::token_create(&store, &email).await,
        Command::Portal(PortalCommand::Link {
            customer,
            days,
            base_url,
        }) => web::portal_link(&store, creditor, &customer, days, &base_url).await,
        Command::Migrate | Command::Bench(_) => Ok(ExitCode::SUCCESS),
    };
    store.close().await;
    result.map_err(|e| explain_locked(e, &url))
}

/// The command line as the lock file shows it, with any URL's password hidden.
fn command_line() -> String {
    std::env::args()
        .map(|a| {
            if a.contains("://") {
                relance_store::redact_url(&a)
            } else {
                a
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
