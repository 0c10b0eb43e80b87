//! The binary end to end on a real SQLite file: init, imports (good, newer, bad), reports,
//! demo, backup. Each test gets its own folder and database.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn url(&self) -> String {
        format!("sqlite://{}", self.dir.path().join("relance.db").display())
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_relance"))
            .args(args)
            .env("RELANCE_DATABASE_URL", self.url())
            .env_remove("RELANCE_CREDITOR")
            .current_dir(self.dir.path())
            .output()
            .expect("run relance")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "relance {args:?} failed\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn invoices_json(sandbox: &Sandbox) -> Vec<serde_json::Value> {
    sandbox
        .ok(&["report", "invoices", "--format", "json"])
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn find<'a>(rows: &'a [serde_json::Value], number: &str) -> &'a serde_json::Value {
    rows.iter()
        .find(|r| r["number"] == number)
        .expect("invoice listed")
}

#[test]
fn a_french_export_is_imported_and_a_newer_one_updates_it() {
    let s = Sandbox::new();
    s.ok(&["init", "--name", "Atelier Test SAS", "--siren", "552100554"]);
    let first = data("invoices-fr.csv");
    let out = s.ok(&["import", "invoices", first.to_str().expect("path")]);
    assert!(out.contains("3 rows, 3 new"), "{out}");

    let rows = invoices_json(&s);
    let f1 = find(&rows, "F-2026-001");
    assert_eq!(f1["customer"], "C001");
    assert_eq!(f1["customer_name"], "Boulangerie Martin SARL");
    assert_eq!(f1["issue_date"], "2026-01-05");
    assert_eq!(f1["due_date"], "2026-02-04");
    assert_eq!(f1["amount"], "1234.56");
    assert_eq!(f1["open_amount"], "1234.56");
    assert_eq!(f1["currency"], "EUR");
    assert_eq!(find(&rows, "F-2026-002")["open_amount"], "500.00");

    // The same file again: nothing changes.
    let again = s.ok(&["import", "invoices", first.to_str().expect("path")]);
    assert!(again.contains("0 new, 0 updated, 3 unchanged"), "{again}");

    // A newer export: one amount changed, one invoice settled, one new invoice and customer.
    let newer = s.ok(&[
        "import",
        "invoices",
        data("invoices-fr-newer.csv").to_str().expect("path"),
    ]);
    assert!(newer.contains("1 new, 2 updated, 1 unchanged"), "{newer}");
    assert!(
        newer.contains("F-2026-002: amount 600.00 → 650.00"),
        "{newer}"
    );
    let rows = invoices_json(&s);
    assert_eq!(find(&rows, "F-2026-002")["open_amount"], "550.00");
    assert_eq!(find(&rows, "F-2026-003")["open_amount"], "0.00");
    assert_eq!(
        find(&rows, "F-2026-004")["customer_name"],
        "Garage Petit SAS"
    );
    let timeline = s.ok(&[
        "report",
        "timeline",
        "--customer",
        "C001",
        "--format",
        "csv",
    ]);
    assert!(timeline.contains("invoice_changed"), "{timeline}");
}

#[test]
fn a_bad_file_is_refused_whole_with_every_problem_named() {
    let s = Sandbox::new();
    s.ok(&["init", "--name", "Atelier Test SAS"]);
    s.ok(&[
        "import",
        "invoices",
        data("invoices-fr.csv").to_str().expect("path"),
    ]);
    let before = s.ok(&["report", "invoices", "--format", "csv"]);

    let bad = data("invoices-bad.csv");
    let out = s.run(&["import", "invoices", bad.to_str().expect("path")]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let name = bad.display().to_string();
    for expected in [
        format!("{name}:2: column \"due_date\""),
        format!("{name}:3: column \"issue_date\": \"31/02/2026\" is not a date"),
        format!("{name}:4: column \"amount\": \"12x.00\""),
        format!("{name}:5: column \"invoice_number\""),
    ] {
        assert!(
            stderr.contains(&expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    assert_eq!(
        s.ok(&["report", "invoices", "--format", "csv"]),
        before,
        "the database is unchanged"
    );
}

#[test]
fn payments_settle_invoices_and_the_aged_balance_follows() {
    let s = Sandbox::new();
    s.ok(&["init", "--name", "Atelier Test SAS"]);
    s.ok(&[
        "import",
        "invoices",
        data("invoices-fr.csv").to_str().expect("path"),
    ]);
    let payments = data("payments-fr.csv");
    let out = s.ok(&["import", "payments", payments.to_str().expect("path")]);
    assert!(out.contains("2 new payments"), "{out}");
    let again = s.ok(&["import", "payments", payments.to_str().expect("path")]);
    assert!(
        again.contains("0 new payments, 2 already imported"),
        "{again}"
    );

    let rows = invoices_json(&s);
    assert_eq!(find(&rows, "F-2026-001")["open_amount"], "0.00");
    // 600 → F-2026-002 (open 500), 100 kept as credit.
    assert_eq!(find(&rows, "F-2026-002")["open_amount"], "0.00");
    let aging: Vec<serde_json::Value> = s
        .ok(&[
            "report",
            "aging",
            "--as-of",
            "2026-03-31",
            "--format",
            "json",
        ])
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let c2 = aging
        .iter()
        .find(|l| l["customer"] == "C002")
        .expect("C002");
    assert_eq!(c2["1_30"], "89.90");
    assert_eq!(c2["total"], "89.90");
}

#[test]
fn demo_data_is_deterministic_and_idempotent() {
    let s = Sandbox::new();
    let out = s.ok(&[
        "demo",
        "--customers",
        "12",
        "--invoices",
        "80",
        "--seed",
        "7",
        "--as-of",
        "2026-11-25",
    ]);
    assert!(out.contains("80 new"), "{out}");
    assert!(out.contains("TOTAL"), "the aged balance is printed: {out}");
    let first = s.ok(&["report", "invoices", "--format", "csv"]);
    let again = s.ok(&[
        "demo",
        "--customers",
        "12",
        "--invoices",
        "80",
        "--seed",
        "7",
        "--as-of",
        "2026-11-25",
    ]);
    assert!(again.contains("0 new, 80 unchanged"), "{again}");
    assert_eq!(s.ok(&["report", "invoices", "--format", "csv"]), first);

    let other = Sandbox::new();
    other.ok(&[
        "demo",
        "--customers",
        "12",
        "--invoices",
        "80",
        "--seed",
        "7",
        "--as-of",
        "2026-11-25",
    ]);
    assert_eq!(
        other.ok(&["report", "invoices", "--format", "csv"]),
        first,
        "same seed, same data"
    );
}

#[test]
fn demo_data_has_good_late_and_bad_payers() {
    let s = Sandbox::new();
    s.ok(&[
        "demo",
        "--customers",
        "40",
        "--invoices",
        "400",
        "--seed",
        "3",
        "--as-of",
        "2026-11-25",
    ]);
    let rows = invoices_json(&s);
    let partial = rows
        .iter()
        .filter(|r| r["open_amount"] != "0.00" && r["open_amount"] != r["amount"])
        .count();
    let paid = rows.iter().filter(|r| r["open_amount"] == "0.00").count();
    let unpaid_old = rows
        .iter()
        .filter(|r| {
            r["open_amount"] == r["amount"]
                && r["due_date"].as_str().is_some_and(|d| d < "2026-08-01")
        })
        .count();
    assert!(partial > 0, "partial payments exist");
    assert!(
        paid > rows.len() / 2,
        "most invoices are paid: {paid} of {}",
        rows.len()
    );
    assert!(unpaid_old > 0, "some old invoices are still unpaid");
    let customers: std::collections::BTreeSet<&str> =
        rows.iter().filter_map(|r| r["customer"].as_str()).collect();
    assert!(customers.len() > 30);
}

#[test]
fn a_backup_is_a_usable_copy_of_the_database() {
    let s = Sandbox::new();
    s.ok(&[
        "demo",
        "--customers",
        "5",
        "--invoices",
        "30",
        "--as-of",
        "2026-11-25",
    ]);
    let copy = s.dir.path().join("copy.db");
    s.ok(&["backup", copy.to_str().expect("path")]);
    let original = s.ok(&["report", "invoices", "--format", "csv"]);
    let from_copy = Command::new(env!("CARGO_BIN_EXE_relance"))
        .args([
            "--database-url",
            &format!("sqlite://{}", copy.display()),
            "report",
            "invoices",
            "--format",
            "csv",
        ])
        .output()
        .expect("run");
    assert_eq!(String::from_utf8_lossy(&from_copy.stdout), original);
    assert!(
        !s.run(&["backup", copy.to_str().expect("path")])
            .status
            .success(),
        "never overwrites"
    );
}

#[test]
fn commands_without_a_creditor_say_what_to_do() {
    let s = Sandbox::new();
    let out = s.run(&["report", "aging"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("relance init"));
}

#[test]
fn every_command_documents_an_example() {
    let s = Sandbox::new();
    for args in [
        vec!["init", "--help"],
        vec!["demo", "--help"],
        vec!["import", "invoices", "--help"],
        vec!["import", "payments", "--help"],
        vec!["report", "--help"],
        vec!["backup", "--help"],
        vec!["bench", "import", "--help"],
    ] {
        let out = s.ok(&args);
        assert!(out.contains("Example"), "{args:?} has no example:\n{out}");
    }
}

#[test]
fn penalties_are_computed_per_half_year_as_the_law_says() {
    let s = Sandbox::new();
    // 10,000 € due 2025-05-15, paid 2025-08-20, business debtor (L441-10 II, D441-5):
    // 2025-05-16..06-30: 46 days at 13.15 % (ECB 3.15 on 1 Jan + 10) = 10000 × 0.1315 × 46 / 365 = 165.726 → 165.73
    // 2025-07-01..08-20: 51 days at 12.15 % (ECB 2.15 on 1 Jul + 10) = 10000 × 0.1215 × 51 / 365 = 169.767 → 169.77
    let out = s.ok(&[
        "penalties",
        "--amount",
        "10000",
        "--due",
        "2025-05-15",
        "--as-of",
        "2025-08-20",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON object");
    assert_eq!(v["principal"], "10000.00");
    assert_eq!(v["periods"][0]["from"], "2025-05-16");
    assert_eq!(v["periods"][0]["to"], "2025-06-30");
    assert_eq!(v["periods"][0]["days"], 46);
    assert_eq!(v["periods"][0]["rate"], "13.15");
    assert_eq!(v["periods"][0]["amount"], "165.73");
    assert_eq!(v["periods"][1]["days"], 51);
    assert_eq!(v["periods"][1]["amount"], "169.77");
    assert_eq!(v["interest"], "335.50");
    assert_eq!(v["indemnity"], "40.00");
    assert_eq!(v["total"], "375.50");

    // A consumer owes no indemnity and no interest before a formal notice (Code civil 1231-6);
    // from the day after it, legal interest "other cases": 2025 H2 2.76 %.
    // 1,000 € notice 2025-09-30, as of 2025-10-30: 30 days × 1000 × 0.0276 / 365 = 2.268 → 2.27
    let out = s.ok(&[
        "penalties",
        "--amount",
        "1000",
        "--due",
        "2025-09-01",
        "--as-of",
        "2025-10-30",
        "--kind",
        "consumer",
        "--formal-notice",
        "2025-09-30",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON object");
    assert_eq!(v["indemnity"], "0.00");
    assert_eq!(v["periods"][0]["from"], "2025-10-01");
    assert_eq!(v["periods"][0]["rate"], "2.76");
    assert_eq!(v["interest"], "2.27");
}

fn en16931(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../formats/tests/data/en16931")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn e_invoices_in_ubl_and_cii_are_detected_and_imported_together() {
    let s = Sandbox::new();
    s.ok(&["init", "--name", "Atelier Test SAS"]);
    let out = s.ok(&[
        "import",
        "invoices",
        &en16931("ubl-tc434-example1.xml"),
        &en16931("ubl-tc434-example2.xml"),
        &en16931("ubl-tc434-creditnote1.xml"),
        &en16931("CII_example4.xml"),
    ]);
    assert!(out.contains("4 rows, 4 new"), "{out}");
    let rows = invoices_json(&s);
    let odin = find(&rows, "12115118");
    assert_eq!(
        (
            odin["customer"].as_str(),
            odin["amount"].as_str(),
            odin["currency"].as_str()
        ),
        (Some("10202"), Some("250.33"), Some("EUR"))
    );
    let nok = find(&rows, "TOSL108");
    assert_eq!(
        (
            nok["amount"].as_str(),
            nok["open_amount"].as_str(),
            nok["currency"].as_str()
        ),
        (Some("1801.78"), Some("801.78"), Some("NOK"))
    );
    assert_eq!(find(&rows, "018304 / 28865")["amount"], "-100.11");
    assert_eq!(find(&rows, "TOSL110")["due_date"], "2013-05-10");
}

#[test]
fn a_folder_whose_files_repeat_an_invoice_number_is_refused_whole() {
    let s = Sandbox::new();
    s.ok(&["init", "--name", "Atelier Test SAS"]);
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../formats/tests/data/en16931");
    let out = s.run(&["import", "invoices", folder.to_str().expect("path")]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The official examples reuse TOSL108 and TOSL110 in several files.
    assert!(
        stderr.contains("column \"invoice_number\": \"TOSL108\" is also in"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    assert_eq!(
        s.ok(&["report", "invoices", "--format", "csv"])
            .lines()
            .count(),
        1,
        "header only"
    );
}

#[test]
fn invoices_paid_late_keep_their_penalties_until_a_person_waives_them() {
    let s = Sandbox::new();
    s.ok(&["init", "--name", "Atelier Test SAS"]);
    s.ok(&[
        "import",
        "invoices",
        data("invoices-fr.csv").to_str().expect("path"),
    ]);
    s.ok(&[
        "import",
        "payments",
        data("payments-fr.csv").to_str().expect("path"),
    ]);
    let report = |s: &Sandbox| -> Vec<serde_json::Value> {
        s.ok(&[
            "report",
            "penalties",
            "--as-of",
            "2026-03-31",
            "--format",
            "json",
        ])
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect()
    };
    let rows = report(&s);
    // F-2026-001: 1,234.56 € due 2026-02-04, paid 2026-02-10: 6 days at 12.15 % (2026 H1:
    // ECB 2.15 + 10) = 1234.56 × 0.1215 × 6 / 365 = 2.4658 → 2.47, plus 40 € (D441-5).
    let f1 = find(&rows, "F-2026-001");
    assert_eq!(
        (
            f1["days_late"].as_i64(),
            f1["interest"].as_str(),
            f1["indemnity"].as_str(),
            f1["total"].as_str()
        ),
        (Some(6), Some("2.47"), Some("40.00"), Some("42.47"))
    );
    assert_eq!(f1["status"], "paid late on 2026-02-10");
    // F-2026-002: 600 € with 100 € settled outside, 500 € paid 2026-03-15: 24 days,
    // 500 × 0.1215 × 24 / 365 = 3.9945 → 3.99.
    let f2 = find(&rows, "F-2026-002");
    assert_eq!(
        (
            f2["principal"].as_str(),
            f2["interest"].as_str(),
            f2["total"].as_str()
        ),
        (Some("500.00"), Some("3.99"), Some("43.99"))
    );
    // A consumer: no indemnity, no interest before a formal notice (Code civil 1231-6).
    let f3 = find(&rows, "F-2026-003");
    assert_eq!(
        (
            f3["kind"].as_str(),
            f3["indemnity"].as_str(),
            f3["total"].as_str()
        ),
        (Some("consumer"), Some("0.00"), Some("0.00"))
    );

    s.ok(&[
        "waive",
        "F-2026-002",
        "--reason",
        "geste commercial",
        "--at",
        "2026-04-01",
    ]);
    let rows = report(&s);
    assert_eq!(find(&rows, "F-2026-002")["total"], "0.00");
    assert_eq!(
        find(&rows, "F-2026-002")["status"],
        "waived on 2026-04-01: geste commercial"
    );
    assert_eq!(
        find(&rows, "F-2026-001")["total"],
        "42.47",
        "only the waived invoice changes"
    );
    assert!(
        !s.run(&["waive", "F-2026-002", "--reason", "again"])
            .status
            .success(),
        "waived once"
    );
    let timeline = s.ok(&[
        "report",
        "timeline",
        "--customer",
        "C001",
        "--format",
        "csv",
    ]);
    assert!(timeline.contains("penalties_waived"), "{timeline}");
}

#[test]
fn a_newer_rate_table_is_imported_without_a_release() {
    let s = Sandbox::new();
    // 2026 H2's legal rate is not in the built-in table: a consumer computation says so.
    let args = [
        "penalties",
        "--amount",
        "1000",
        "--due",
        "2026-06-01",
        "--as-of",
        "2026-08-31",
        "--kind",
        "consumer",
        "--formal-notice",
        "2026-07-01",
        "--json",
    ];
    let before = s.run(&args);
    assert!(!before.status.success());
    assert!(
        String::from_utf8_lossy(&before.stderr).contains("2026-H2"),
        "{}",
        String::from_utf8_lossy(&before.stderr)
    );

    let file = s.dir.path().join("taux.toml");
    std::fs::write(&file, "schema = 1\n[[legal]]\nhalf_year = \"2026-H2\"\nnatural_person = \"6.50\"\nother = \"2.50\"\nsource = \"arrêté (test)\"\n").expect("write");
    s.ok(&["rates", "import", file.to_str().expect("path")]);
    assert!(s.ok(&["rates", "show"]).contains("2026-H2"));
    // 2026-07-02..08-31 = 61 days × 1000 × 2.50 % / 365 = 4.178 → 4.18
    let v: serde_json::Value = serde_json::from_str(s.ok(&args).trim()).expect("json");
    assert_eq!(v["interest"], "4.18");

    std::fs::write(
        &file,
        "schema = 1\n[[legal]]\nhalf_year = \"2026-H2\"\nother = \"abc\"\n",
    )
    .expect("write");
    assert!(
        !s.run(&["rates", "import", file.to_str().expect("path")])
            .status
            .success(),
        "a broken table is refused"
    );
}

#[test]
fn prescription_is_flagged_ninety_days_ahead_per_kind_of_debtor() {
    let s = Sandbox::new();
    s.ok(&["init", "--name", "Atelier Test SAS"]);
    s.ok(&[
        "import",
        "invoices",
        data("invoices-fr.csv").to_str().expect("path"),
    ]);
    let json = |as_of: &str| -> Vec<serde_json::Value> {
        s.ok(&[
            "report",
            "prescription",
            "--as-of",
            as_of,
            "--format",
            "json",
        ])
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect()
    };
    // The consumer's invoice F-2026-003 (due 2026-03-03) is prescribed after 2028-03-03
    // (2 years, L218-2): 123 days before, nothing yet; 22 days before, flagged.
    assert!(json("2027-11-01").is_empty());
    let rows = json("2028-02-10");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["number"], "F-2026-003");
    assert_eq!(rows[0]["prescription_date"], "2028-03-03");
    assert_eq!(rows[0]["days_left"], 22);
    // The business invoices (5 years, L110-4: after 2031-02-04 and 2031-02-19) are flagged in 2031.
    let rows = json("2031-01-01");
    let numbers: Vec<&str> = rows.iter().filter_map(|r| r["number"].as_str()).collect();
    assert_eq!(
        numbers,
        vec!["F-2026-003", "F-2026-001", "F-2026-002"],
        "most urgent first"
    );
}

#[test]
fn a_fec_rebuilds_open_items_and_applies_unlettered_credits() {
    let s = Sandbox::new();
    s.ok(&["init", "--name", "Atelier Test SAS"]);
    let fec = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../formats/tests/data/fec/552100554FEC20261231.txt");
    let out = s.ok(&[
        "import",
        "invoices",
        fec.to_str().expect("path"),
        "--default-term",
        "45",
    ]);
    assert!(out.contains("5 rows, 5 new"), "{out}");
    let rows = invoices_json(&s);
    // FA-002 is lettered: settled. C001's credit note (120) and unlettered payment (500) settle
    // FA-001 (1,200, the oldest) down to 580; FA-003 stays open in full.
    assert_eq!(find(&rows, "FA-002")["open_amount"], "0.00");
    assert_eq!(find(&rows, "FA-001")["open_amount"], "580.00");
    assert_eq!(
        find(&rows, "FA-001")["due_date"],
        "2026-02-19",
        "piece date + 45 days"
    );
    assert_eq!(find(&rows, "FA-003")["open_amount"], "960.00");
    assert_eq!(find(&rows, "AV-001")["open_amount"], "0.00");
    assert_eq!(find(&rows, "REGLT-BQ-6")["open_amount"], "0.00");
}

#[test]
fn a_camt053_statement_settles_invoices_and_queues_what_no_rule_matches() {
    let s = Sandbox::new();
    s.ok(&["init", "--name", "Atelier Test SAS"]);
    s.ok(&[
        "import",
        "invoices",
        data("invoices-for-bank.csv").to_str().expect("path"),
    ]);
    let camt =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../formats/tests/data/bank/camt053_v02.xml");
    let out = s.ok(&["import", "payments", camt.to_str().expect("path")]);
    assert!(
        out.contains("debit(s)"),
        "debits are left aside and counted: {out}"
    );
    let rows = invoices_json(&s);
    // "VIR SEPA F-2026-0042 FACT" → F-2026-0042; batch line "F-2026-0050" → F-2026-0050;
    // "FACTURE F-2026-0051 / F-2026-0052" → both; "Martin Électricité" (payer name) with 480 € →
    // the one invoice of that amount.
    for settled in [
        "F-2026-0042",
        "F-2026-0050",
        "F-2026-0051",
        "F-2026-0052",
        "F-2026-0060",
    ] {
        assert_eq!(find(&rows, settled)["open_amount"], "0.00", "{settled}");
    }
    assert_eq!(find(&rows, "F-2026-0061")["open_amount"], "999.00");
    // The cash deposit names nobody: it waits for a person.
    let queue: Vec<serde_json::Value> = s
        .ok(&["reconcile", "--format", "json"])
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(queue.len(), 1, "{queue:?}");
    assert_eq!(queue[0]["amount"], "300.00");
    let id = queue[0]["id"].as_i64().expect("id").to_string();
    s.ok(&["reconcile", "--confirm", &id, "--customer", "C004"]);
    assert_eq!(
        find(&invoices_json(&s), "F-2026-0061")["open_amount"],
        "699.00"
    );
    assert!(s.ok(&["reconcile"]).contains("Nothing to reconcile"));
    // The same statement again creates nothing.
    let again = s.ok(&["import", "payments", camt.to_str().expect("path")]);
    assert!(again.contains("0 new payments"), "{again}");
}
