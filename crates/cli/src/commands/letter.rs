//! `relance letter batch|registered|receipt`: letters for the post office.
//!
//! The batch prints the letters as they were filed when sent (checked against the SHA-256
//! recorded then), so the paper that leaves is the document the litigation file proves.

use std::process::ExitCode;

use anyhow::Context as _;
use chrono::NaiveDate;
use relance_core::party::Language;
use relance_core::planner::Channel;
use relance_core::post::{postal_order, postcode};
use relance_render::{render_print_batch, BatchCover, BatchLetter};
use relance_store::letters::SentLetter;
use relance_store::Store;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::cli::LetterCommand;
use crate::context::{creditor, today_for};
use crate::output::print_rows;

pub async fn run(
    store: &Store,
    wanted: Option<&str>,
    command: LetterCommand,
) -> anyhow::Result<ExitCode> {
    let creditor = creditor(store, wanted).await?;
    let today = today_for(&creditor);
    match command {
        LetterCommand::Batch { on, out, lang } => {
            let day = on.unwrap_or(today);
            let language = Language::parse(&lang)
                .with_context(|| format!("--lang \"{lang}\": expected fr or en"))?;
            let letters = in_postal_order(store.letters_sent_on(creditor.id, day, false).await?);
            if letters.is_empty() {
                eprintln!("no letter was sent on {day}: nothing to print");
                return Ok(ExitCode::FAILURE);
            }
            let mut batch = Vec::with_capacity(letters.len());
            for (letter, code) in &letters {
                batch.push(BatchLetter {
                    reference: letter.document.action_id,
                    addressee: letter.customer_name.clone(),
                    postcode: code.clone(),
                    channel: channel_of(letter)?,
                    pdf: filed_copy(letter)?,
                });
            }
            let cover = BatchCover {
                creditor: creditor.name.clone(),
                day,
                language,
            };
            let printed = render_print_batch(&cover, &batch)?;
            std::fs::write(&out, &printed.pdf)
                .with_context(|| format!("cannot write {}", out.display()))?;
            let registered = batch
                .iter()
                .filter(|l| l.channel != Channel::Letter)
                .count();
            println!(
                "{} written: {} letters of {day} ({registered} registered), {} pages with the cover list",
                out.display(),
                batch.len(),
                printed.cover_pages + printed.pages.iter().sum::<usize>()
            );
        }
        LetterCommand::Registered { on, format } => {
            let day = on.unwrap_or(today);
            let letters = in_postal_order(store.letters_sent_on(creditor.id, day, true).await?);
            let lines: Vec<RegisteredLine> = letters
                .iter()
                .map(|(l, code)| RegisteredLine {
                    reference: l.document.action_id,
                    customer: l.customer_code.clone(),
                    addressee: l.customer_name.clone(),
                    address: l
                        .address
                        .lines()
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>()
                        .join(", "),
                    postcode: code.clone(),
                    acknowledgement_of_receipt: l.document.channel == "registered_letter_ar",
                    step: l.document.step.clone(),
                    registered_number: l.document.registered_number.clone(),
                    acknowledged_on: l.document.acknowledged_on,
                })
                .collect();
            let headers = [
                "reference",
                "customer",
                "addressee",
                "address",
                "postcode",
                "AR",
                "step",
                "registered_number",
            ];
            let rows: Vec<Vec<String>> = lines
                .iter()
                .map(|l| {
                    vec![
                        l.reference.to_string(),
                        l.customer.clone(),
                        l.addressee.clone(),
                        l.address.clone(),
                        l.postcode.clone().unwrap_or_default(),
                        if l.acknowledgement_of_receipt {
                            "with AR".into()
                        } else {
                            "without AR".into()
                        },
                        l.step.clone(),
                        l.registered_number.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            print_rows(format, &headers, &rows, &lines)?;
            if lines.is_empty() {
                eprintln!("no registered letter was sent on {day}");
            } else {
                eprintln!(
                    "{} registered letter(s) of {day}; once posted, record each number: relance letter receipt REFERENCE --number N",
                    lines.len()
                );
            }
        }
        LetterCommand::Receipt {
            reference,
            number,
            acknowledged_on,
        } => {
            let id: i64 = reference.trim().trim_start_matches('#').parse().map_err(|_| {
                anyhow::anyhow!(
                    "REFERENCE \"{reference}\": expected the letter's reference, a number (the first column of `relance letter registered`)"
                )
            })?;
            println!(
                "{}",
                store
                    .record_letter_receipt(
                        creditor.id,
                        id,
                        number.as_deref(),
                        acknowledged_on,
                        today
                    )
                    .await?
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One registered letter on the post office's list.
#[derive(Debug, Serialize)]
struct RegisteredLine {
    reference: i64,
    customer: String,
    addressee: String,
    address: String,
    postcode: Option<String>,
    acknowledgement_of_receipt: bool,
    step: String,
    registered_number: Option<String>,
    acknowledged_on: Option<NaiveDate>,
}

/// The letters with their postcodes, sorted by postcode then addressee.
fn in_postal_order(letters: Vec<SentLetter>) -> Vec<(SentLetter, Option<String>)> {
    let mut out: Vec<(SentLetter, Option<String>)> = letters
        .into_iter()
        .map(|l| {
            let code = postcode(&l.address);
            (l, code)
        })
        .collect();
    out.sort_by(|a, b| {
        postal_order(
            (&a.1, &a.0.customer_name, a.0.document.action_id),
            (&b.1, &b.0.customer_name, b.0.document.action_id),
        )
    });
    out
}

fn channel_of(letter: &SentLetter) -> anyhow::Result<Channel> {
    Channel::parse(&letter.document.channel).with_context(|| {
        format!(
            "letter {}: unknown channel \"{}\"",
            letter.document.action_id, letter.document.channel
        )
    })
}

/// The letter's PDF as filed when it was sent, refused if it is missing or changed since.
fn filed_copy(letter: &SentLetter) -> anyhow::Result<Vec<u8>> {
    let id = letter.document.action_id;
    let path = letter
        .document
        .document_path
        .as_deref()
        .with_context(|| format!("letter {id} ({}) has no filed copy", letter.customer_code))?;
    let bytes = std::fs::read(path).with_context(|| {
        format!(
            "letter {id} ({}): cannot read its filed copy {path}",
            letter.customer_code
        )
    })?;
    let actual = format!("{:x}", Sha256::digest(&bytes));
    anyhow::ensure!(
        actual.eq_ignore_ascii_case(&letter.document.document_sha256),
        "letter {id} ({}): {path} has changed since it was sent (SHA-256 {actual}, recorded {}): not printed; restore the original file",
        letter.customer_code,
        letter.document.document_sha256
    );
    Ok(bytes)
}
