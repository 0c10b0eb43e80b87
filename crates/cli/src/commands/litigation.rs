//! `relance litigation`: the file a lawyer or commissaire de justice needs, as one PDF or as a
//! folder holding the PDF, the claim as JSON, the copies of the documents relance kept, and a
//! `SHA256SUMS` list so every copy can be checked.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use relance_core::party::Language;
use relance_render::render_litigation_pdf;
use relance_store::Store;
use sha2::{Digest, Sha256};

use crate::cli::LitigationArgs;
use crate::context::{creditor, today_for};

pub async fn run(
    store: &Store,
    wanted: Option<&str>,
    args: LitigationArgs,
) -> anyhow::Result<ExitCode> {
    let creditor = creditor(store, wanted).await?;
    let as_of = args.as_of.unwrap_or_else(|| today_for(&creditor));
    let language = Language::parse(&args.lang)
        .with_context(|| format!("--lang \"{}\": expected fr or en", args.lang))?;
    let data = crate::litigation::litigation_for(store, &creditor, &args.customer, as_of, language)
        .await?;
    let is_pdf = args
        .out
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("pdf"));
    let pdf = render_litigation_pdf(&data)?;
    if is_pdf {
        write_new(&args.out, &pdf)?;
        println!(
            "{} written: {} claimed from {} ({}), proposed: {}",
            args.out.display(),
            data.totals.total.format_en(),
            data.debtor.name,
            args.customer,
            data.procedure.procedure.as_str()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let dir = &args.out;
    if dir.exists() {
        anyhow::ensure!(
            dir.is_dir() && std::fs::read_dir(dir)?.next().is_none(),
            "{} exists and is not an empty folder: name a new folder, or a FILE.pdf",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut written: Vec<(String, Vec<u8>)> = vec![
        ("dossier-contentieux.pdf".into(), pdf),
        ("creance.json".into(), serde_json::to_vec_pretty(&data)?),
    ];
    for doc in &data.documents {
        if let (Some(name), Some(source)) = (&doc.file_name, doc_source(doc)) {
            let bytes = std::fs::read(&source)
                .with_context(|| format!("cannot read the kept copy {}", source.display()))?;
            written.push((name.clone(), bytes));
        }
    }
    let mut sums = String::new();
    for (name, bytes) in &written {
        write_new(&dir.join(name), bytes)?;
        sums.push_str(&format!("{:x}  {name}\n", Sha256::digest(bytes)));
    }
    write_new(&dir.join("SHA256SUMS"), sums.as_bytes())?;
    println!(
        "{} written ({} files): {} claimed from {} ({}), proposed: {}",
        dir.display(),
        written.len() + 1,
        data.totals.total.format_en(),
        data.debtor.name,
        args.customer,
        data.procedure.procedure.as_str()
    );
    Ok(ExitCode::SUCCESS)
}

/// Where relance kept a document it lists (none yet: the delivery outbox fills this in).
fn doc_source(_doc: &relance_render::DocumentLine) -> Option<std::path::PathBuf> {
    None
}

fn write_new(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}
