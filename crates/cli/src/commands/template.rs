//! `relance template`: the message templates a creditor edits. Overrides of the built-in
//! templates live in the database with their history; a source is rendered against sample data
//! (business and consumer debtors, every medium it feeds) before it is saved, so a template
//! that cannot render is refused at once, never at send time.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use relance_core::party::{CustomerKind, Language};
use relance_core::planner::Channel;
use relance_render::templates::VARIABLES;
use relance_render::{
    build_email, render_letter_pdf, EmailEnvelope, LetterData, Part, StepId, TemplateKey, Templates,
};
use relance_store::templates::TemplateId;
use relance_store::Store;

use crate::cli::{OutputFormat, TemplateCommand, TemplateTarget};
use crate::context::creditor;
use crate::output::print_rows;

pub use relance_dispatch::templates_for;

fn id_of(key: TemplateKey) -> TemplateId {
    TemplateId {
        step: key.step.as_str().to_string(),
        language: key.language.as_str().to_string(),
        part: key.part.as_str().to_string(),
    }
}

/// The key and channel a command names, checked: the part must belong to the channel's message.
fn target(t: &TemplateTarget) -> anyhow::Result<(TemplateKey, Channel)> {
    let step = StepId::parse(&t.step).ok_or_else(|| {
        anyhow::anyhow!(
            "\"{}\" is not a step: {}",
            t.step,
            StepId::ALL
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    let channel = Channel::parse(&t.channel).ok_or_else(|| {
        anyhow::anyhow!(
            "--channel \"{}\" is not a channel: {}",
            t.channel,
            Channel::ALL
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    let language = Language::parse(&t.lang)
        .ok_or_else(|| anyhow::anyhow!("--lang \"{}\" is not a language: fr, en", t.lang))?;
    let part = Part::parse(&t.part).ok_or_else(|| {
        anyhow::anyhow!(
            "--part \"{}\" is not a part: subject, body, letter, text, html, sms",
            t.part
        )
    })?;
    // An SMS's content is its own part: the default part (body) names it there.
    let part = if channel == Channel::Sms && part == Part::Body {
        Part::Sms
    } else {
        part
    };
    let email = channel == Channel::Email;
    match (email, part) {
        // An SMS has its own part; the step's subject is shared with it (the default SMS
        // includes it).
        _ if channel == Channel::Sms && !matches!(part, Part::Sms | Part::Subject) => {
            anyhow::bail!(
                "an SMS is made of --part sms (and the step's subject it includes), not {}",
                part.as_str()
            )
        }
        (_, Part::Sms) if channel != Channel::Sms => {
            anyhow::bail!("--part sms belongs to SMS: use --channel sms")
        }
        (true, Part::Letter) => {
            anyhow::bail!("--part letter belongs to letters: use --channel letter")
        }
        (false, Part::Text | Part::Html) => anyhow::bail!(
            "--part {} belongs to e-mails: use --channel email",
            part.as_str()
        ),
        _ => {}
    }
    Ok((TemplateKey::new(step, language, part), channel))
}

fn read_source(file: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))
}

pub async fn run(
    store: &Store,
    wanted: Option<&str>,
    command: TemplateCommand,
) -> anyhow::Result<ExitCode> {
    let creditor = creditor(store, wanted).await?;
    match command {
        TemplateCommand::List => {
            let overrides = store.template_overrides(creditor.id).await?;
            let rows: Vec<Vec<String>> = TemplateKey::all()
                .map(|key| {
                    let id = id_of(key);
                    let origin = overrides
                        .iter()
                        .find(|o| o.id == id)
                        .map(|o| format!("version {} ({})", o.version, o.created_at))
                        .unwrap_or_else(|| "built-in".to_string());
                    vec![id.step, id.language, id.part, origin]
                })
                .collect();
            let none: &[()] = &[];
            print_rows(
                OutputFormat::Table,
                &["step", "lang", "part", "in force"],
                &rows,
                none,
            )?;
        }
        TemplateCommand::Variables => {
            for (name, what) in VARIABLES {
                println!("{name:<42} {what}");
            }
            println!(
                "\nFilters: money, date (14 avril 2026), date_short (14/04/2026), rate, iban, channel, nonzero, paragraphs.\n\
                 Body markup read by the PDF: `# TITLE`, `- item`, `[[invoices]]`, `[[payment]]`."
            );
        }
        TemplateCommand::Show { target: t, history } => {
            let (key, _) = target(&t)?;
            if history {
                let versions = store.template_history(creditor.id, &id_of(key)).await?;
                if versions.is_empty() {
                    println!("{}: built-in, never changed", key.name());
                }
                for v in versions {
                    let note = if v.note.is_empty() {
                        String::new()
                    } else {
                        format!(" — {}", v.note)
                    };
                    match v.source {
                        Some(source) => {
                            println!(
                                "=== version {} ({}){note}\n{source}",
                                v.version, v.created_at
                            )
                        }
                        None => println!(
                            "=== version {} ({}){note}: back to the built-in template",
                            v.version, v.created_at
                        ),
                    }
                }
            } else {
                let templates = templates_for(store, creditor.id).await?;
                print!("{}", templates.source(key));
            }
        }
        TemplateCommand::Set {
            target: t,
            file,
            note,
        } => {
            let (key, _) = target(&t)?;
            let source = read_source(&file)?;
            let mut templates = templates_for(store, creditor.id).await?;
            if let Err(e) = templates.set(key, &source) {
                eprintln!("{}: refused, nothing saved: {e}", file.display());
                return Ok(ExitCode::FAILURE);
            }
            let version = store
                .save_template(creditor.id, &id_of(key), Some(&source), &note)
                .await?;
            println!("{} saved as version {version}", key.name());
            // Saved, but said: an SMS beyond two segments costs more and reads worse.
            if let Some(warning) =
                templates.sms_warning(TemplateKey::new(key.step, key.language, Part::Sms))
            {
                eprintln!("warning: {warning}");
            }
        }
        TemplateCommand::Reset { target: t } => {
            let (key, _) = target(&t)?;
            let overrides = store.template_overrides(creditor.id).await?;
            if !overrides.iter().any(|o| o.id == id_of(key)) {
                println!("{} is already the built-in template", key.name());
                return Ok(ExitCode::SUCCESS);
            }
            let mut templates = templates_for(store, creditor.id).await?;
            templates.reset(key)?;
            let version = store
                .save_template(creditor.id, &id_of(key), None, "reset")
                .await?;
            println!(
                "{} is the built-in template again (version {version})",
                key.name()
            );
        }
        TemplateCommand::Preview {
            target: t,
            file,
            debtor,
            out,
        } => {
            let (key, channel) = target(&t)?;
            let kind =
                CustomerKind::parse(&debtor).map_err(|e| anyhow::anyhow!("--debtor: {e}"))?;
            let mut templates = templates_for(store, creditor.id).await?;
            if let Some(file) = &file {
                let source = read_source(file)?;
                if let Err(e) = templates.set(key, &source) {
                    eprintln!("{}: refused: {e}", file.display());
                    return Ok(ExitCode::FAILURE);
                }
            }
            let mut data = LetterData::sample(key.step, kind, key.language);
            data.channel = channel;
            let bytes = preview_bytes(&templates, &data, &out)?;
            std::fs::write(&out, &bytes)
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!(
                "{} written ({} bytes): {} on sample data",
                out.display(),
                bytes.len(),
                key.name()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn preview_bytes(templates: &Templates, data: &LetterData, out: &Path) -> anyhow::Result<Vec<u8>> {
    let extension = out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if data.channel == Channel::Sms {
        return Ok(templates.render(Part::Sms, data)?.into_bytes());
    }
    Ok(match extension.as_str() {
        "pdf" => render_letter_pdf(data, templates)?,
        "html" => templates.render_message(data)?.html.into_bytes(),
        "txt" => {
            let message = templates.render_message(data)?;
            format!("{}\n\n{}", message.subject, message.text).into_bytes()
        }
        "eml" => {
            let message = templates.render_message(data)?;
            let from = data
                .creditor
                .email
                .clone()
                .unwrap_or_else(|| "relances@example.fr".into());
            let envelope = EmailEnvelope {
                from_name: data.creditor.name.clone(),
                from_address: from.clone(),
                reply_to: Some(from),
                to_name: data.debtor.name.clone(),
                to_address: data
                    .debtor
                    .email
                    .clone()
                    .unwrap_or_else(|| "client@example.fr".into()),
                date: data
                    .date
                    .and_hms_opt(9, 0, 0)
                    .context("date")?
                    .and_utc()
                    .fixed_offset(),
                message_id: format!("relance.preview.{}@example.fr", data.step.as_str()),
                attachments: vec![(
                    format!("{}.pdf", data.step.as_str()),
                    "application/pdf".into(),
                    render_letter_pdf(data, templates)?,
                )],
                list_unsubscribe: None,
            };
            build_email(&envelope, &message)?
        }
        other => anyhow::bail!("--out must end in .pdf, .html, .eml or .txt (not \".{other}\")"),
    })
}
