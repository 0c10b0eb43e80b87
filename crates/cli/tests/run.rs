//! `relance run`, `promise`, `dispute`, `resolve`, `hold` and `report cases` end to end: the real
//! binary on a real SQLite file, with dates worked out by hand from DESIGN.md's default policy.
//!
//! The ledger is `tests/data/invoices-fr.csv`: C001 owes F-2026-001 (1 234,56 €, due Wednesday
//! 2026-02-04) and F-2026-002 (500,00 € open, due Thursday 2026-02-19); C002 owes F-2026-003
//! (89,90 €, due Tuesday 2026-03-03). Courtesy notice: due − 5 days; first reminder: due + 1; then call +4, second reminder
//! +4, each from the day the previous step was carried out; weekends move to Monday.

use std::path::{Path, PathBuf};
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
        s.ok(&[
            "import",
            "invoices",
            data("invoices-fr.csv").to_str().expect("path"),
        ]);
        s
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

    /// `relance run --as-of DAY --json [extra]`, each line parsed.
    fn run_json(&self, day: &str, extra: &[&str]) -> Vec<Value> {
        let mut args = vec!["run", "--as-of", day, "--json"];
        args.extend(extra);
        self.ok(&args)
            .lines()
            .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
            .collect()
    }
}

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// `date customer step channel invoices amount currency` of a line, for compact assertions.
fn brief(line: &Value) -> String {
    let invoices: Vec<&str> = line["invoices"]
        .as_array()
        .expect("invoices array")
        .iter()
        .map(|v| v.as_str().expect("invoice number"))
        .collect();
    format!(
        "{} {} {} {} {} {} {}",
        line["date"].as_str().expect("date"),
        line["customer"].as_str().expect("customer"),
        line["step"].as_str().expect("step"),
        line["channel"].as_str().expect("channel"),
        invoices.join(","),
        line["amount_due"].as_str().expect("amount_due is a string"),
        line["currency"].as_str().expect("currency"),
    )
}

fn briefs(lines: &[Value]) -> Vec<String> {
    lines.iter().map(brief).collect()
}

#[test]
fn a_day_runs_once_and_each_step_follows_the_default_policy() {
    let s = Sandbox::new();

    let first = s.run_json("2026-02-05", &[]);
    assert_eq!(
        briefs(&first),
        ["2026-02-05 C001 first_reminder email F-2026-001 1234.56 EUR"]
    );
    let line = &first[0];
    let fields: Vec<&str> = line
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    for field in [
        "date",
        "customer",
        "step",
        "channel",
        "invoices",
        "amount_due",
        "currency",
        "reason",
        "key",
    ] {
        assert!(fields.contains(&field), "{field} missing in {line}");
    }
    assert!(
        line["reason"]
            .as_str()
            .expect("reason")
            .contains("F-2026-001 is 1 day overdue"),
        "{line}"
    );
    assert!(!line["key"].as_str().expect("key").is_empty());

    // The same day again: nothing printed, nothing written.
    assert_eq!(s.ok(&["run", "--as-of", "2026-02-05", "--json"]), "");
    assert_eq!(
        s.ok(&["run", "--as-of", "2026-02-05", "--json", "--full"]),
        ""
    );

    // Runs of 02-09 to 02-13 missed. On Monday 02-16: the call (due since 02-09), one step
    // only, and F-2026-002's courtesy notice (02-14 is a Saturday). A dry run first.
    let expected = [
        "2026-02-16 C001 courtesy_notice email F-2026-002 500.00 EUR",
        "2026-02-16 C001 phone_call phone_call F-2026-001 1234.56 EUR",
    ];
    assert_eq!(briefs(&s.run_json("2026-02-16", &["--dry-run"])), expected);
    assert_eq!(briefs(&s.run_json("2026-02-16", &["--dry-run"])), expected);
    assert_eq!(briefs(&s.run_json("2026-02-16", &[])), expected);
    assert!(s.run_json("2026-02-16", &[]).is_empty());

    // Four days after the call: the second reminder on two channels, both invoices overdue.
    assert!(s.run_json("2026-02-19", &[]).is_empty());
    let second = s.run_json("2026-02-20", &[]);
    assert_eq!(
        briefs(&second),
        [
            "2026-02-20 C001 second_reminder registered_letter F-2026-001,F-2026-002 1734.56 EUR",
            "2026-02-20 C001 second_reminder email F-2026-001,F-2026-002 1734.56 EUR",
        ]
    );
    assert_eq!(second[0]["key"], second[1]["key"]);

    let cases = s.ok(&[
        "report",
        "cases",
        "--as-of",
        "2026-02-20",
        "--format",
        "json",
    ]);
    let cases: Vec<Value> = cases
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let c001 = cases
        .iter()
        .find(|c| c["customer"] == "C001")
        .expect("C001 case");
    assert_eq!(c001["status"], "active");
    assert_eq!(c001["last_step"], "second_reminder");
    assert_eq!(c001["cycle"], 1);
    // formal notice: 10 days after Friday 02-20 → Monday 03-02.
    assert_eq!(c001["next_action_on"], "2026-03-02");
    assert_eq!(c001["amount_overdue"], "1734.56");
    let c002 = cases
        .iter()
        .find(|c| c["customer"] == "C002")
        .expect("C002 case");
    assert_eq!(c002["status"], "nothing_overdue");

    let timeline = s.ok(&[
        "report",
        "timeline",
        "--customer",
        "C001",
        "--format",
        "csv",
    ]);
    assert_eq!(
        timeline.matches("reminder_planned").count(),
        4,
        "{timeline}"
    );
}

#[test]
fn the_table_output_and_a_payment_that_stops_the_chase() {
    let s = Sandbox::new();
    let table = s.ok(&["run", "--as-of", "2026-02-05"]);
    let mut lines = table.lines();
    let header = lines.next().expect("header");
    assert!(header.starts_with("date"), "{table}");
    assert!(header.contains("reason"), "{table}");
    assert!(
        table.contains("first_reminder") && table.contains("F-2026-001"),
        "{table}"
    );
    assert_eq!(s.ok(&["run", "--as-of", "2026-02-05"]), "");

    // payments-fr.csv: F-2026-001 paid on 02-10, and 600.00 from C001 on 03-15 that settles
    // F-2026-002 (the oldest open invoice). The queued reminder is cancelled at once and
    // nothing more goes to C001.
    s.ok(&[
        "import",
        "payments",
        data("payments-fr.csv").to_str().expect("path"),
    ]);
    let timeline = s.ok(&[
        "report",
        "timeline",
        "--customer",
        "C001",
        "--format",
        "csv",
    ]);
    assert!(timeline.contains(",reminder_cancelled,"), "{timeline}");
    for day in ["2026-02-09", "2026-02-16", "2026-02-20", "2026-03-02"] {
        let lines = s.run_json(day, &[]);
        assert!(
            lines.iter().all(|l| l["customer"] != "C001"),
            "{day}: {lines:?}"
        );
    }
    let cases = s.ok(&[
        "report",
        "cases",
        "--customer",
        "C001",
        "--as-of",
        "2026-03-02",
        "--format",
        "json",
    ]);
    let c001: Value = serde_json::from_str(cases.trim()).expect("one case");
    assert_eq!(c001["status"], "nothing_overdue");
    assert_eq!(c001["amount_overdue"], "0.00");
}

#[test]
fn disputes_promises_and_holds_move_the_case() {
    let s = Sandbox::new();
    let out = s.ok(&[
        "dispute",
        "F-2026-001",
        "--reason",
        "livraison incomplète",
        "--at",
        "2026-02-03",
    ]);
    assert!(out.contains("disputed"), "{out}");
    assert!(s.run_json("2026-02-05", &[]).is_empty());
    let cases = s.ok(&[
        "report",
        "cases",
        "--customer",
        "C001",
        "--as-of",
        "2026-02-05",
        "--format",
        "csv",
    ]);
    assert!(
        cases.starts_with(
            "customer,customer_name,status,cycle,last_step,next_action_on,amount_overdue,currency"
        ),
        "{cases}"
    );
    assert!(
        cases.contains("C001,Boulangerie Martin SARL,disputed,0,,"),
        "{cases}"
    );

    // Resolved on Tuesday 02-10: the first reminder is due that day.
    s.ok(&["resolve", "F-2026-001", "--at", "2026-02-10"]);
    let lines = s.run_json("2026-02-10", &[]);
    assert_eq!(
        briefs(&lines),
        ["2026-02-10 C001 first_reminder email F-2026-001 1234.56 EUR"]
    );
    assert!(
        lines[0]["reason"]
            .as_str()
            .expect("reason")
            .contains("dispute"),
        "{}",
        lines[0]
    );

    // A promise for Friday 02-20 made on 02-11: the call (02-14 → 02-16) waits for Monday
    // 02-23; the courtesy notice of F-2026-002 belongs to the invoice and still goes out.
    s.ok(&[
        "promise",
        "F-2026-001",
        "--on",
        "2026-02-20",
        "--amount",
        "1 234,56",
        "--at",
        "2026-02-11",
    ]);
    assert_eq!(
        briefs(&s.run_json("2026-02-16", &[])),
        ["2026-02-16 C001 courtesy_notice email F-2026-002 500.00 EUR"]
    );
    assert!(s.run_json("2026-02-20", &[]).is_empty());
    let call = s.run_json("2026-02-23", &[]);
    assert_eq!(
        briefs(&call),
        ["2026-02-23 C001 phone_call phone_call F-2026-001,F-2026-002 1734.56 EUR"]
    );
    assert!(
        call[0]["reason"]
            .as_str()
            .expect("reason")
            .contains("promised for 2026-02-20"),
        "{}",
        call[0]
    );

    // A hold from 02-24 to 03-02: the second reminder (02-27) waits for it to end.
    s.ok(&[
        "hold",
        "C001",
        "--until",
        "2026-03-02",
        "--reason",
        "échéancier en discussion",
        "--at",
        "2026-02-24",
    ]);
    // (C002's courtesy notice, due Thursday 02-26, goes out late but before the due date.)
    assert_eq!(
        briefs(&s.run_json("2026-02-27", &[])),
        ["2026-02-27 C002 courtesy_notice email F-2026-003 89.90 EUR"]
    );
    assert_eq!(
        briefs(&s.run_json("2026-03-02", &[])),
        [
            "2026-03-02 C001 second_reminder registered_letter F-2026-001,F-2026-002 1734.56 EUR",
            "2026-03-02 C001 second_reminder email F-2026-001,F-2026-002 1734.56 EUR",
        ]
    );

    let timeline = s.ok(&[
        "report",
        "timeline",
        "--customer",
        "C001",
        "--format",
        "csv",
    ]);
    for kind in ["dispute", "dispute_resolved", "promise", "hold"] {
        assert!(
            timeline.contains(&format!(",{kind},")),
            "{kind}: {timeline}"
        );
    }
    assert!(
        timeline.contains("2026-02-03,C001,F-2026-001,dispute,"),
        "{timeline}"
    );

    // Unknown invoice, second dispute, resolution without dispute: refused, with a reason.
    for args in [
        &["dispute", "F-NOPE", "--reason", "x"][..],
        &["resolve", "F-2026-002"][..],
        &["hold", "C999", "--until", "2030-01-01", "--reason", "x"][..],
    ] {
        let out = s.run(args);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(!out.stderr.is_empty());
    }
}

#[test]
fn a_customer_without_e_mail_gets_a_letter_and_no_courtesy_notice() {
    let s = Sandbox::new();
    // invoices-fr-newer.csv adds C003 (no e-mail address) with F-2026-004, due Thursday
    // 2026-03-12, and settles F-2026-003.
    s.ok(&[
        "import",
        "invoices",
        data("invoices-fr-newer.csv").to_str().expect("path"),
    ]);
    let c003 = |day: &str| -> Vec<String> {
        briefs(&s.run_json(day, &[]))
            .into_iter()
            .filter(|l| l.contains(" C003 "))
            .collect()
    };
    assert!(c003("2026-03-07").is_empty());
    assert!(c003("2026-03-12").is_empty());
    assert_eq!(
        c003("2026-03-13"),
        ["2026-03-13 C003 first_reminder letter F-2026-004 2000.00 EUR"]
    );
}
