//! A mutation fuzzer for every parser, run as an ordinary test: the seeds are the test files,
//! each mutated input goes through `relance_formats::fuzzing::run`. Fails on a panic, on an
//! input that takes more than HANG_SECONDS, or on a refused input without a positioned error;
//! the input is written to the test's temporary folder to replay.
//!
//! `RELANCE_FUZZ_SECONDS` sets the time per target (default 1; CI runs 5), `RELANCE_FUZZ_SEED`
//! the random seed (default: from the clock, printed). The same targets run under cargo-fuzz (libFuzzer,
//! coverage-guided) from `fuzz/`: `tests/fuzz/run.sh`, also in CI.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use relance_formats::fuzzing::{run, unpositioned, TARGETS};

const HANG_SECONDS: u64 = 5;
const MAX_INPUT: usize = 256 * 1024;

/// xorshift64*: enough randomness for mutations, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn files(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<Vec<u8>> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("test data")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| keep(n) && !n.ends_with(".md"))
        })
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| std::fs::read(p).expect("seed"))
        .collect()
}

fn workbook() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    let header = ["numéro", "code client", "date", "échéance", "montant TTC"];
    for (c, h) in header.iter().enumerate() {
        ws.write_string(0, c as u16, *h).expect("cell");
    }
    for r in 1..6u32 {
        ws.write_string(r, 0, format!("F-{r}")).expect("cell");
        ws.write_string(r, 1, "C1").expect("cell");
        ws.write_string(r, 2, "05/01/2026").expect("cell");
        ws.write_string(r, 3, "04/02/2026").expect("cell");
        ws.write_number(r, 4, 100.5 * f64::from(r)).expect("cell");
    }
    book.save_to_buffer().expect("xlsx")
}

fn facturx(xml: &[u8], compress: bool) -> Vec<u8> {
    use pdf_writer::{Filter, Finish, Name, Pdf, Ref, Str, TextStr};
    let mut pdf = Pdf::new();
    let data = if compress {
        miniz_oxide::deflate::compress_to_vec_zlib(xml, 6)
    } else {
        xml.to_vec()
    };
    let mut file = pdf.embedded_file(Ref::new(3), &data);
    file.subtype(Name(b"text/xml"));
    if compress {
        file.filter(Filter::FlateDecode);
    }
    file.finish();
    pdf.file_spec(Ref::new(4))
        .path(Str(b"factur-x.xml"))
        .unic_file(TextStr("factur-x.xml"))
        .embedded_file(Ref::new(3));
    pdf.catalog(Ref::new(1)).pages(Ref::new(2));
    pdf.pages(Ref::new(2)).count(0);
    pdf.finish()
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let root = data();
    match target {
        "invoice_csv" => files(&root, |n| {
            n.starts_with("factures") || n.starts_with("invoices")
        }),
        "payment_csv" => files(&root, |n| {
            n.starts_with("reglements") || n.starts_with("payments")
        }),
        "en16931" => files(&root.join("en16931"), |_| true),
        "fec" => files(&root.join("fec"), |_| true),
        "camt053" => files(&root.join("bank"), |n| n.starts_with("camt")),
        "cfonb120" => files(&root.join("bank"), |n| n.ends_with(".cfonb120")),
        "ofx" => files(&root.join("bank"), |n| n.ends_with(".ofx")),
        "xlsx" => vec![workbook()],
        "facturx" => {
            let xml = files(&root.join("en16931"), |n| n.starts_with("CII"));
            vec![facturx(&xml[0], false), facturx(&xml[1], true)]
        }
        "purchase_order_csv" => vec![
            "Code fournisseur;Raison sociale;E-mail;Adresse;N° commande;Date de commande;Livraison prévue;Montant TTC;Quantité;Reçu le\n\
             F01;Aciers du Rhône;ventes@aciers.example;1 quai Perrache|69002 Lyon;BC-1;02/03/2026;06/03/2026;1 200,00;10;\n\
             F01;Aciers du Rhône;;;BC-2;02/03/2026;09/03/2026;99,00;2,5;10/03/2026\n"
                .as_bytes()
                .to_vec(),
            b"supplier_id,po_number,order_date,promised_date,amount,currency,quantity,delivered_date\n\
              F1,PO-1,2026-03-02,2026-03-09,10.00,USD,1,\n"
                .to_vec(),
        ],
        "supplier_invoice_csv" => vec![
            b"supplier_id,invoice_number,invoice_date,po_number,amount,quantity\n\
              F01,FA-1,2026-03-02,BC-1,1200.00,10\n\
              F01,FA-2,2026-03-02,,300.00,\n"
                .to_vec(),
            "Code fournisseur;Numéro de facture;Date de facture;Numéro de commande;Montant TTC;Quantité\n\
             F1;FA-1;20/03/2026;BC-1;1 200,00;10\n"
                .as_bytes()
                .to_vec(),
        ],
        // The cargo-fuzz seeds (`fuzz/seeds/TARGET/`), the same files `tests/fuzz/run.sh` uses.
        "quote_csv" | "prospect_csv" => {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds").join(target);
            let found = files(&dir, |_| true);
            assert!(!found.is_empty(), "no seeds in {}", dir.display());
            found
        }
        other => panic!("no seeds for {other}"),
    }
}

const INTERESTING: &[u8] = b"\0\xff\"';,\t\n\r<>/&#-.0123456789 ()[]PK%";

fn mutate(rng: &mut Rng, input: &mut Vec<u8>, seeds: &[Vec<u8>]) {
    for _ in 0..=rng.below(8) {
        let len = input.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                input[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                input[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 if len > 0 => {
                let start = rng.below(len);
                let end = (start + 1 + rng.below(64)).min(len);
                input.drain(start..end);
            }
            3 if len > 0 => {
                let start = rng.below(len);
                let end = (start + 1 + rng.below(256)).min(len);
                let copy = input[start..end].to_vec();
                let at = rng.below(len + 1);
                input.splice(at..at, copy);
            }
            4 => {
                let at = rng.below(len + 1);
                let bytes: Vec<u8> = (0..1 + rng.below(16))
                    .map(|_| (rng.next() & 0xff) as u8)
                    .collect();
                input.splice(at..at, bytes);
            }
            5 if len > 0 => input.truncate(rng.below(len)),
            6 => {
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let start = rng.below(other.len());
                    let end = (start + 1 + rng.below(512)).min(other.len());
                    let at = rng.below(len + 1);
                    input.splice(at..at, other[start..end].iter().copied());
                }
            }
            _ => {
                // Repeat a line: many rows, duplicates.
                if let Some(nl) = input.iter().position(|&b| b == b'\n') {
                    let line = input[..=nl].to_vec();
                    for _ in 0..rng.below(50) {
                        input.extend_from_slice(&line);
                    }
                }
            }
        }
    }
    input.truncate(MAX_INPUT);
}

fn fail(target: &str, input: &[u8], why: &str) -> ! {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join(format!("fuzz-{target}-failure.bin"));
    let _ = std::fs::write(&path, input);
    // The panic hook is silenced while fuzzing: say it here too.
    let message = format!("{target}: {why}; input saved to {}", path.display());
    eprintln!("{message}");
    panic!("{message}");
}

fn check(target: &str, input: &[u8]) {
    let started = Instant::now();
    let outcome = std::panic::catch_unwind(|| run(target, input));
    let took = started.elapsed();
    match outcome {
        Err(_) => fail(target, input, "the parser panicked"),
        Ok(None) => panic!("unknown target {target}"),
        Ok(Some(report)) => {
            if took > Duration::from_secs(HANG_SECONDS) {
                fail(target, input, &format!("took {took:?}"));
            }
            if let Some(problem) = unpositioned(&report) {
                fail(
                    target,
                    input,
                    &format!("an error without a position: {problem}"),
                );
            }
        }
    }
}

#[test]
fn no_input_makes_a_parser_panic_hang_or_fail_without_a_position() {
    let seconds: u64 = std::env::var("RELANCE_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let seed: u64 = std::env::var("RELANCE_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        })
        | 1;
    println!("RELANCE_FUZZ_SEED={seed}");
    // Panics are caught and reported with their input: keep the default hook quiet meanwhile.
    // RELANCE_FUZZ_VERBOSE keeps it, to see where a panic comes from.
    let verbose = std::env::var_os("RELANCE_FUZZ_VERBOSE").is_some();
    let hook = std::panic::take_hook();
    if !verbose {
        std::panic::set_hook(Box::new(|_| {}));
    }
    // RELANCE_FUZZ_TARGETS=xlsx,fec narrows the run to some parsers.
    let only: Option<Vec<String>> = std::env::var("RELANCE_FUZZ_TARGETS")
        .ok()
        .map(|list| list.split(',').map(|t| t.trim().to_string()).collect());
    let mut rng = Rng(seed);
    let mut summary = Vec::new();
    for target in TARGETS {
        if only
            .as_ref()
            .is_some_and(|only| !only.iter().any(|t| t == target))
        {
            continue;
        }
        let seeds = seeds(target);
        assert!(!seeds.is_empty(), "{target}: no seed");
        for seed in &seeds {
            check(target, seed);
        }
        check(target, b"");
        // Inputs that once broke a parser (tests/data/fuzz-regressions/TARGET-*.bin).
        let prefix = format!("{target}-");
        for input in files(&data().join("fuzz-regressions"), |n| n.starts_with(&prefix)) {
            check(target, &input);
        }
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let mut runs = 0u64;
        while Instant::now() < deadline {
            let mut input = seeds[rng.below(seeds.len())].clone();
            mutate(&mut rng, &mut input, &seeds);
            check(target, &input);
            runs += 1;
        }
        summary.push(format!("{target}: {runs} inputs"));
    }
    if !verbose {
        std::panic::set_hook(hook);
    }
    println!("{}", summary.join(", "));
}

/// The seeds made here rather than read from a file (the workbook, the Factur-X PDFs), written
/// for cargo-fuzz's seed corpus (`fuzz/seeds/TARGET/`, read by `tests/fuzz/run.sh`) when
/// `RELANCE_FUZZ_WRITE_SEEDS=DIR` is set: `RELANCE_FUZZ_WRITE_SEEDS=$PWD/fuzz/seeds cargo test
/// -p relance-formats --test fuzz generated_seeds`. Without it, only reads them.
#[test]
fn generated_seeds() {
    let out = std::env::var_os("RELANCE_FUZZ_WRITE_SEEDS").map(PathBuf::from);
    for target in ["xlsx", "facturx"] {
        for (n, seed) in seeds(target).iter().enumerate() {
            let report = run(target, seed).expect("known target");
            assert!(unpositioned(&report).is_none(), "{target} seed {n}");
            if let Some(out) = &out {
                let dir = out.join(target);
                std::fs::create_dir_all(&dir).expect("seed folder");
                std::fs::write(dir.join(format!("generated-{n}.bin")), seed).expect("write seed");
            }
        }
    }
}
