//! `relance litigation`: the file a lawyer or commissaire de justice needs, as one PDF or as a
//! folder holding the PDF, the claim as JSON, the copies of the documents relance kept, and a
//! `SHA256SUMS` list so every copy can be checked.
//!
//! A copy is shipped only if its SHA-256 is still the one recorded when it was sent: a file
//! changed or gone since is refused by name rather than passed off as what was sent.

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
    let (data, copies) =
        crate::litigation::litigation_for(store, &creditor, &args.customer, as_of, language)
            .await?;
    let is_pdf = args
        .out
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("pdf"));
    let pdf = render_litigation_pdf(&data)?;
    if is_pdf {
        // The file alone lists the recorded fingerprints; say so if a kept copy no longer
        // matches, since it could not be produced as evidence.
        for copy in &copies {
            if let Err(e) = verified_copy(copy) {
                eprintln!("warning: {e:#}");
            }
        }
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
    // Every copy is read and checked before anything is written.
    let mut written: Vec<(String, Vec<u8>)> = vec![
        ("dossier-contentieux.pdf".into(), pdf),
        ("creance.json".into(), serde_json::to_vec_pretty(&data)?),
    ];
    for copy in &copies {
        written.push((copy.file_name.clone(), verified_copy(copy)?));
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
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

/// The bytes of a kept copy, if they still hash to what was recorded when it was sent.
fn verified_copy(copy: &crate::litigation::KeptCopy) -> anyhow::Result<Vec<u8>> {
    let bytes = std::fs::read(&copy.path).with_context(|| {
        format!(
            "the copy of a document sent, {}, cannot be read: the litigation file is not written without it",
            copy.path.display()
        )
    })?;
    let actual = format!("{:x}", Sha256::digest(&bytes));
    anyhow::ensure!(
        actual.eq_ignore_ascii_case(&copy.sha256),
        "{} has changed since it was sent (SHA-256 {actual}, recorded {}): refusing to ship it as the document sent; restore the original file",
        copy.path.display(),
        copy.sha256
    );
    Ok(bytes)
}

fn write_new(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}
