//! `relance render`: one message, exactly as it would leave, written to a file for review.

use std::process::ExitCode;

use anyhow::Context as _;
use relance_core::planner::Channel;
use relance_render::{build_email, render_letter_pdf, render_statement_pdf, EmailEnvelope, StepId};
use relance_store::Store;

use crate::cli::RenderArgs;
use crate::context::{creditor, today_for};

pub async fn run(
    store: &Store,
    wanted: Option<&str>,
    args: RenderArgs,
) -> anyhow::Result<ExitCode> {
    let creditor = creditor(store, wanted).await?;
    let as_of = args.as_of.unwrap_or_else(|| today_for(&creditor));
    if args.statement {
        let statement =
            crate::letters::statement_for(store, &creditor, &args.customer, as_of).await?;
        anyhow::ensure!(
            args.out
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("pdf")),
            "--statement writes a PDF: --out must end in .pdf"
        );
        let bytes = render_statement_pdf(&statement)?;
        std::fs::write(&args.out, &bytes)
            .with_context(|| format!("cannot write {}", args.out.display()))?;
        println!(
            "{} written ({} bytes): statement of account of {} ({} lines)",
            args.out.display(),
            bytes.len(),
            args.customer,
            statement.lines.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let step_name = args.step.clone().unwrap_or_default();
    let step = StepId::parse(&step_name).ok_or_else(|| {
        anyhow::anyhow!(
            "--step \"{}\" is not a step: {}",
            step_name,
            StepId::ALL
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    let extension = args
        .out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if args.attach_statement && extension != "eml" {
        anyhow::bail!("--attach-statement goes with an e-mail: --out must end in .eml");
    }
    let channel = match (extension.as_str(), step) {
        ("pdf", StepId::FormalNotice) => Channel::RegisteredLetterAr,
        ("pdf", StepId::SecondReminder) => Channel::RegisteredLetter,
        ("pdf", _) => Channel::Letter,
        _ => Channel::Email,
    };
    let data =
        crate::letters::letter_for(store, &creditor, &args.customer, step, channel, as_of, None)
            .await?;
    let templates = crate::commands::template::templates_for(store, creditor.id).await?;
    let bytes = match extension.as_str() {
        "pdf" => render_letter_pdf(&data, &templates)?,
        "html" => templates.render_message(&data)?.html.into_bytes(),
        "eml" => {
            let message = templates.render_message(&data)?;
            let from = creditor
                .email
                .clone()
                .context("the creditor has no e-mail address: set one with `relance init --name … --email …`")?;
            let to = data.debtor.email.clone().with_context(|| {
                format!(
                    "{} has no e-mail address: preview the letter as .pdf",
                    args.customer
                )
            })?;
            let letter = render_letter_pdf(&data, &templates)?;
            let mut attachments = vec![(
                format!("{}-{}.pdf", step.as_str(), data.debtor.customer_code),
                "application/pdf".to_string(),
                letter,
            )];
            if args.attach_statement {
                let statement =
                    crate::letters::statement_for(store, &creditor, &args.customer, as_of).await?;
                let name = match data.debtor.language {
                    relance_core::party::Language::Fr => "releve-de-compte",
                    relance_core::party::Language::En => "statement-of-account",
                };
                attachments.push((
                    format!("{name}-{}.pdf", data.debtor.customer_code),
                    "application/pdf".to_string(),
                    render_statement_pdf(&statement)?,
                ));
            }
            let envelope = EmailEnvelope {
                from_name: creditor.name.clone(),
                from_address: from.clone(),
                reply_to: Some(from.clone()),
                to_name: data.debtor.name.clone(),
                to_address: to,
                date: as_of
                    .and_hms_opt(9, 0, 0)
                    .context("date")?
                    .and_utc()
                    .fixed_offset(),
                message_id: format!(
                    "relance.preview.{}.{}.{}@{}",
                    args.customer,
                    step.as_str(),
                    as_of,
                    from.rsplit('@').next().unwrap_or("relance")
                ),
                attachments,
                list_unsubscribe: None,
            };
            build_email(&envelope, &message)?
        }
        other => anyhow::bail!("--out must end in .pdf, .eml or .html (not \".{other}\")"),
    };
    std::fs::write(&args.out, &bytes)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    println!(
        "{} written ({} bytes): {} for {}",
        args.out.display(),
        bytes.len(),
        step.as_str(),
        args.customer
    );
    Ok(ExitCode::SUCCESS)
}
