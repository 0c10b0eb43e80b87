//! `relance serve`, `relance user add`, `relance token create`, `relance portal link`.

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::Days;
use relance_server::{auth, portal, ServeConfig, ServerOptions};
use relance_store::users::Role;
use relance_store::Store;

use crate::cli::{DemoArgs, ServeArgs, UserRole};
use crate::context::{creditor, today_for};

/// The demo administrator `relance serve --demo` creates.
pub const DEMO_EMAIL: &str = "demo@relance.example";

pub async fn serve(
    store: &Store,
    wanted: Option<&str>,
    database_url: &str,
    args: ServeArgs,
) -> anyhow::Result<ExitCode> {
    let mut demo_login = None;
    if args.demo {
        if store.creditors().await?.is_empty() {
            crate::commands::demo::run(
                store,
                wanted,
                DemoArgs {
                    customers: 50,
                    invoices: 500,
                    seed: 2026,
                    as_of: None,
                },
            )
            .await?;
        } else {
            println!("The database already holds data: --demo loads nothing.");
        }
        if store.user_by_email(DEMO_EMAIL).await?.is_none() {
            let password = auth::generate_password();
            let hash = auth::hash_password(&password)?;
            store
                .create_user(DEMO_EMAIL, &hash, Role::Admin, &[])
                .await?;
            demo_login = Some(password);
        }
    }
    let state_check = store.count_users().await?;
    println!();
    println!("relance is serving on http://{}/", args.bind);
    match demo_login {
        Some(password) => {
            println!("Demo login: {DEMO_EMAIL}  password: {password}");
        }
        None if state_check == 0 => {
            println!("No user yet: add one with `relance user add --email E --role admin`.");
        }
        None => {}
    }
    println!("Stop with Ctrl-C.");
    let delivery = if args.no_send {
        None
    } else {
        Some(args.delivery.settings()?)
    };
    let config = ServeConfig {
        bind: args.bind,
        options: ServerOptions {
            secure_cookies: args.secure_cookies,
            // "Send now" in the work queue sends as the scheduler does (unless --no-send).
            delivery: delivery.clone(),
            ..ServerOptions::default()
        },
        schedule: (!args.no_scheduler).then(|| {
            relance_server::scheduler::Schedule::daily(args.run_at, delivery)
                .with_database_url(database_url)
        }),
    };
    relance_server::serve(store.clone(), config).await?;
    Ok(ExitCode::SUCCESS)
}

pub async fn user_add(
    store: &Store,
    wanted: Option<&str>,
    email: &str,
    role: UserRole,
    password_stdin: bool,
) -> anyhow::Result<ExitCode> {
    let email = email.trim().to_lowercase();
    anyhow::ensure!(
        relance_core::party::EmailAddress::parse(&email).is_ok(),
        "--email: \"{email}\" is not an e-mail address"
    );
    let role = match role {
        UserRole::Admin => Role::Admin,
        UserRole::Collector => Role::Collector,
        UserRole::Viewer => Role::Viewer,
    };
    let creditors = if role == Role::Admin {
        Vec::new()
    } else {
        vec![creditor(store, wanted).await?.id]
    };
    let (password, generated) = if password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        anyhow::ensure!(
            line.chars().count() >= 10,
            "the password must have at least 10 characters"
        );
        (line, false)
    } else {
        (auth::generate_password(), true)
    };
    let hash = auth::hash_password(&password)?;
    let user = store.create_user(&email, &hash, role, &creditors).await?;
    println!("User {} added ({})", user.email, role.as_str());
    if generated {
        println!("Password: {password}");
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn token_create(store: &Store, email: &str) -> anyhow::Result<ExitCode> {
    let email = email.trim().to_lowercase();
    let (user, _) = store
        .user_by_email(&email)
        .await?
        .with_context(|| format!("no user with the e-mail address {email}"))?;
    let (token, hash) = auth::new_api_token();
    store.create_api_token(user.id, &hash).await?;
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}

pub async fn portal_link(
    store: &Store,
    wanted: Option<&str>,
    customer: &str,
    days: u64,
    base_url: &str,
) -> anyhow::Result<ExitCode> {
    let creditor = creditor(store, wanted).await?;
    let found = store
        .customer_by_code(creditor.id, customer)
        .await?
        .with_context(|| format!("unknown customer \"{customer}\""))?;
    let expires = today_for(&creditor)
        .checked_add_days(Days::new(days))
        .context("--days is too large")?;
    let key = portal::portal_key(store).await?;
    println!(
        "{}{}",
        base_url.trim_end_matches('/'),
        portal::link_path(&key, creditor.id.0, &found.code, expires)
    );
    Ok(ExitCode::SUCCESS)
}
