//! `relance tasks` and `relance call` end to end on a real SQLite file: the call step waits in
//! the task list with its script; the outcome closes it (or not) and feeds the planner.
//!
//! Ledger: `tests/data/invoices-fr.csv` (C001 owes F-2026-001 due 2026-02-04 and F-2026-002
//! due 2026-02-19). Default policy: first reminder 2026-02-05, call due 2026-02-09 (+4), planned
//! by the run of 2026-02-10; second reminder 4 days after the call was carried out.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let s = Sandbox {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        s.ok(&["init", "--name", "Atelier Test SAS", "--siren", "552100554"]);
        let invoices = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/invoices-fr.csv");
        s.ok(&["import", "invoices", invoices.to_str().expect("path")]);
        s.ok(&["run", "--as-of", "2026-02-05"]);
        s.ok(&["run", "--as-of", "2026-02-10"]);
        s
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_relance"))
            .args(args)
            .env(
                "RELANCE_DATABASE_URL",
                format!("sqlite://{}", self.dir.path().join("relance.db").display()),
            )
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
        String::from_utf8(out.stdout).expect("utf-8")
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "relance {args:?} should fail");
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    fn tasks(&self, day: &str) -> Vec<Value> {
        self.ok(&["tasks", "--as-of", day, "--format", "json"])
            .lines()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect()
    }

    fn planned(&self, day: &str) -> Vec<Value> {
        self.ok(&["run", "--as-of", day, "--json"])
            .lines()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect()
    }

    fn timeline_kinds(&self) -> Vec<String> {
        self.ok(&[
            "report",
            "timeline",
            "--customer",
            "C001",
            "--format",
            "json",
        ])
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["kind"].as_str().map(str::to_string))
        .collect()
    }
}

#[test]
fn the_call_waits_with_its_script_and_a_promise_closes_it_and_pauses_the_case() {
    let s = Sandbox::new();
    // Nothing to call before the call step is due.
    assert!(s.tasks("2026-02-06").is_empty());
    let tasks = s.tasks("2026-02-10");
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0]["customer"], "C001");
    assert_eq!(tasks[0]["invoices"][0], "F-2026-001");
    let script = tasks[0]["script"].as_str().expect("script");
    assert!(script.contains("Script d'appel"), "{script}");
    assert!(script.contains("F-2026-001"), "{script}");
    assert!(script.contains("promesse de paiement"), "{script}");

    // No answer: the task stays for another try.
    let out = s.ok(&[
        "call",
        "C001",
        "--outcome",
        "no_answer",
        "--at",
        "2026-02-10",
    ]);
    assert!(out.contains("stays open"), "{out}");
    let tasks = s.tasks("2026-02-11");
    assert_eq!(tasks.len(), 1);
    assert!(
        tasks[0]["last_call"]
            .as_str()
            .is_some_and(|l| l.contains("no_answer")),
        "{tasks:?}"
    );

    // The customer promises on the 11th to pay by the 20th.
    let out = s.ok(&[
        "call",
        "C001",
        "--outcome",
        "promised",
        "--on",
        "2026-02-20",
        "--at",
        "2026-02-11",
        "--note",
        "virement programmé",
    ]);
    assert!(
        out.contains("promised to pay 1234.56 EUR by 2026-02-20"),
        "{out}"
    );
    assert!(out.contains("1 call task(s) done"), "{out}");
    assert!(s.tasks("2026-02-11").is_empty());
    let kinds = s.timeline_kinds();
    assert!(
        kinds.iter().filter(|k| *k == "call").count() == 2,
        "{kinds:?}"
    );
    assert!(kinds.contains(&"promise".to_string()), "{kinds:?}");

    // Paused: no reminder to C001 while the promise runs (the second reminder would have been
    // due on Monday 2026-02-16 without it; the courtesy notice of F-2026-002, not yet due, is
    // information, not a reminder, and still goes) …
    for day in ["2026-02-16", "2026-02-20"] {
        let planned = s.planned(day);
        assert!(
            planned
                .iter()
                .all(|a| a["customer"] != "C001" || a["step"] == "courtesy_notice"),
            "{day}: {planned:?}"
        );
    }
    // … and chased again the business day after the promised date, unpaid.
    let planned = s.planned("2026-02-23");
    assert!(
        planned
            .iter()
            .any(|a| a["customer"] == "C001" && a["step"] == "second_reminder"),
        "{planned:?}"
    );
}

#[test]
fn a_dispute_from_a_call_takes_the_invoice_out_and_bad_input_records_nothing() {
    let s = Sandbox::new();
    let before = s.timeline_kinds().len();
    let err = s.fails(&[
        "call",
        "C001",
        "--outcome",
        "promised",
        "--at",
        "2026-02-10",
    ]);
    assert!(err.contains("needs --on"), "{err}");
    let err = s.fails(&["call", "C001", "--outcome", "dispute", "--at", "2026-02-10"]);
    assert!(err.contains("needs --note"), "{err}");
    let err = s.fails(&["call", "C001", "--outcome", "maybe"]);
    assert!(err.contains("no_answer"), "{err}");
    let err = s.fails(&["call", "NOPE", "--outcome", "no_answer"]);
    assert!(err.contains("unknown customer \"NOPE\""), "{err}");
    assert_eq!(
        s.timeline_kinds().len(),
        before,
        "a refused call records nothing"
    );

    s.ok(&[
        "call",
        "C001",
        "--outcome",
        "dispute",
        "--invoice",
        "F-2026-001",
        "--note",
        "livraison incomplète",
        "--at",
        "2026-02-10",
    ]);
    let cases = s.ok(&["report", "invoices", "--open", "--format", "json"]);
    assert!(cases.contains("F-2026-001"), "{cases}");
    let kinds = s.timeline_kinds();
    assert!(kinds.contains(&"dispute".to_string()), "{kinds:?}");
    // F-2026-001 is out; F-2026-002 (due 02-19) is the only one chased afterwards.
    let planned = s.planned("2026-02-23");
    for action in planned.iter().filter(|a| a["customer"] == "C001") {
        let invoices = action["invoices"].as_array().expect("invoices");
        assert!(!invoices.iter().any(|i| i == "F-2026-001"), "{planned:?}");
    }
}

#[test]
fn paid_on_the_phone_holds_the_case_five_business_days() {
    let s = Sandbox::new();
    let out = s.ok(&[
        "call",
        "C001",
        "--outcome",
        "paid",
        "--on",
        "2026-02-09",
        "--at",
        "2026-02-10",
    ]);
    // Tuesday 2026-02-10 + 5 business days = Tuesday 2026-02-17.
    assert!(out.contains("on hold until 2026-02-17"), "{out}");
    assert!(s
        .planned("2026-02-16")
        .iter()
        .all(|a| a["customer"] != "C001"));
}
