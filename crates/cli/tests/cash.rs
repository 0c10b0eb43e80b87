//! `relance report dso|scores|forecast|steps` end to end: the real binary on a real SQLite file,
//! with figures worked out by hand.
//!
//! The ledger (2026, euros):
//! - A-1 issued 01-01 due 01-31, 1,000, paid 02-02 · A-2 issued 02-01 due 02-28, 1,000, paid
//!   03-10 · A-3 issued 03-01 due 03-31, 1,000, paid 03-31 · A-4 issued 04-01 due 05-31, 1,000, open
//! - B-1 issued 01-01 due 01-31, 500, paid 03-02 · B-2 issued 02-01 due 02-28, 500, open,
//!   promised on 04-01 for 04-10 (broken) · B-3 issued 04-05 due 06-30, 500, open, disputed
//!
//! Sales per month: January 1,500, February 1,500, March 1,000, April (to the 20th) 1,500.
//! Receivables at the end of each month: 1,500, 2,000, 500, 2,000.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new(invoices: &str, payments: &str) -> Sandbox {
        let s = Sandbox {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        s.ok(&[
            "init",
            "--name",
            "Cash Test SAS",
            "--siren",
            "552100554",
            "--email",
            "relances@cash-test.example",
        ]);
        let inv = s.write("invoices.csv", invoices);
        s.ok(&["import", "invoices", &inv]);
        if !payments.is_empty() {
            let pay = s.write("payments.csv", payments);
            s.ok(&["import", "payments", &pay]);
        }
        s
    }

    fn write(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path.to_str().expect("path").to_string()
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_relance"))
            .args(args)
            .env(
                "RELANCE_DATABASE_URL",
                format!("sqlite://{}", self.dir.path().join("relance.db").display()),
            )
            .env_remove("RELANCE_CREDITOR")
            .env_remove("RELANCE_SMTP_URL")
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

    fn json(&self, args: &[&str]) -> Vec<Value> {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        self.ok(&all)
            .lines()
            .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
            .collect()
    }
}

const INVOICES: &str = "numéro;code client;client;type;email;date;échéance;montant TTC\n\
A-1;A;Client A;entreprise;a@a.fr;01/01/2026;31/01/2026;1000,00\n\
A-2;A;Client A;entreprise;a@a.fr;01/02/2026;28/02/2026;1000,00\n\
A-3;A;Client A;entreprise;a@a.fr;01/03/2026;31/03/2026;1000,00\n\
A-4;A;Client A;entreprise;a@a.fr;01/04/2026;31/05/2026;1000,00\n\
B-1;B;Client B;entreprise;b@b.fr;01/01/2026;31/01/2026;500,00\n\
B-2;B;Client B;entreprise;b@b.fr;01/02/2026;28/02/2026;500,00\n\
B-3;B;Client B;entreprise;b@b.fr;05/04/2026;30/06/2026;500,00\n";

const PAYMENTS: &str = "date;montant;libellé;code client;numéro\n\
02/02/2026;1000,00;VIR A;A;A-1\n\
10/03/2026;1000,00;VIR A;A;A-2\n\
31/03/2026;1000,00;VIR A;A;A-3\n\
02/03/2026;500,00;VIR B;B;B-1\n";

fn ledger() -> Sandbox {
    let s = Sandbox::new(INVOICES, PAYMENTS);
    s.ok(&["promise", "B-2", "--on", "2026-04-10", "--at", "2026-04-01"]);
    s.ok(&[
        "dispute",
        "B-3",
        "--reason",
        "not delivered",
        "--at",
        "2026-04-15",
    ]);
    s
}

#[test]
fn dso_by_month_matches_the_count_back_and_simple_methods_worked_by_hand() {
    let s = ledger();
    let lines = s.json(&["report", "dso", "--as-of", "2026-04-20", "--months", "2"]);
    assert_eq!(lines.len(), 2, "{lines:?}");
    // March: receivables 500 < March sales 1,000 → 500/1,000 × 31 = 15.5 days, both methods.
    assert_eq!(lines[0]["month"], "2026-03");
    assert_eq!(lines[0]["receivables"], "500");
    assert_eq!(lines[0]["dso_count_back"], "15.5");
    assert_eq!(lines[0]["dso_simple"], "15.5");
    // April (20 days so far): 2,000 − 1,500 of April sales → 20 days, then 500/1,000 × 31
    // of March = 15.5: 35.5 days. Simple: 2,000/1,500 × 20 = 26.7. Trend +20.0.
    assert_eq!(lines[1]["month"], "2026-04");
    assert_eq!(lines[1]["receivables"], "2000");
    assert_eq!(lines[1]["dso_count_back"], "35.5");
    assert_eq!(lines[1]["dso_simple"], "26.7");
    assert_eq!(lines[1]["trend"], "20.0");

    // Per customer: A owes 1,000 of its 1,000 April sales → 20 days; B owes 1,000: April's
    // 500 (20 days), nothing in March (31), February's 500 (28) → 79 days.
    let lines = s.json(&["report", "dso", "--as-of", "2026-04-20", "--by", "customer"]);
    let get = |c: &str| {
        lines
            .iter()
            .find(|l| l["group"] == c)
            .unwrap_or_else(|| panic!("{c} in {lines:?}"))
    };
    assert_eq!(get("A")["dso_count_back"], "20.0");
    assert_eq!(get("B")["dso_count_back"], "79.0");
    let table = s.ok(&["report", "dso", "--as-of", "2026-04-20", "--by", "segment"]);
    assert!(table.contains("(none)"), "{table}");
}

#[test]
fn scores_grade_the_late_payer_below_the_punctual_one_and_explain_why() {
    let s = ledger();
    let lines = s.json(&["report", "scores", "--as-of", "2026-04-20"]);
    let get = |c: &str| lines.iter().find(|l| l["customer"] == c).expect("customer");
    assert_eq!(get("A")["grade"], "A");
    assert_eq!(get("B")["grade"], "E");
    assert_eq!(
        get("A")["explanation"],
        "pays 4 days late on average, worst 10"
    );
    let b = get("B")["explanation"].as_str().expect("text");
    assert!(b.contains("pays 30 days late on average, worst 30"), "{b}");
    assert!(b.contains("1 broken promise"), "{b}");
    assert!(b.contains("1 dispute in 12 months"), "{b}");
    assert!(
        b.contains("50% of the balance overdue (oldest 51 days)"),
        "{b}"
    );
    let fr = s.json(&["report", "scores", "--as-of", "2026-04-20", "--lang", "fr"]);
    let b = fr.iter().find(|l| l["customer"] == "B").expect("B");
    assert!(
        b["explanation"]
            .as_str()
            .expect("text")
            .contains("1 promesse non tenue"),
        "{b}"
    );
}

#[test]
fn the_forecast_uses_own_history_falls_back_when_thin_and_excludes_disputes() {
    let s = ledger();
    let lines = s.json(&[
        "report",
        "forecast",
        "--as-of",
        "2026-04-20",
        "--by",
        "invoice",
    ]);
    let get = |n: &str| lines.iter().find(|l| l["invoice"] == n).expect("invoice");
    // A paid 2, 10 and 0 days late: mean 4 → A-4 due 31 May expected 4 June.
    assert_eq!(get("A-4")["basis"], "customer");
    assert_eq!(get("A-4")["expected"], "2026-06-04");
    // B has one paid invoice: the creditor's delays; already 51 days late → after today.
    assert_eq!(get("B-2")["basis"], "creditor");
    let b2 = get("B-2")["expected"].as_str().expect("date");
    assert!(("2026-04-20".."2026-05-10").contains(&b2), "{b2}");
    assert_eq!(get("B-3")["basis"], "disputed_excluded");
    assert_eq!(get("B-3")["expected"], Value::Null);

    let weeks = s.json(&[
        "report",
        "forecast",
        "--as-of",
        "2026-04-20",
        "--weeks",
        "8",
    ]);
    let last = weeks.last().expect("weeks");
    assert_eq!(last["cumulative_expected"], "1500.00");
    assert_eq!(weeks[0]["week"], "2026-W17");
    let table = s.ok(&[
        "report",
        "forecast",
        "--as-of",
        "2026-04-20",
        "--weeks",
        "8",
    ]);
    assert!(
        table.contains("1 invoice(s) in dispute excluded: 500.00 EUR"),
        "{table}"
    );

    // A new promise for B-2 overrides its prediction.
    s.ok(&["promise", "B-2", "--on", "2026-05-04", "--at", "2026-04-20"]);
    let lines = s.json(&[
        "report",
        "forecast",
        "--as-of",
        "2026-04-20",
        "--by",
        "invoice",
    ]);
    let b2 = lines.iter().find(|l| l["invoice"] == "B-2").expect("B-2");
    assert_eq!(
        (b2["basis"].as_str(), b2["expected"].as_str()),
        (Some("promise"), Some("2026-05-04"))
    );
}

#[test]
fn steps_report_the_share_paid_within_7_and_14_days_and_the_median() {
    // Two customers reminded on Tuesday 3 March (due Monday 2 March): S pays 3 days later,
    // T 17 days later.
    let invoices = "numéro;code client;client;type;email;date;échéance;montant TTC\n\
S-1;S;Client S;entreprise;s@s.fr;01/02/2026;02/03/2026;100,00\n\
T-1;T;Client T;entreprise;t@t.fr;01/02/2026;02/03/2026;100,00\n";
    let s = Sandbox::new(invoices, "");
    s.ok(&["run", "--as-of", "2026-03-03"]);
    let pay = s.write(
        "pay.csv",
        "date;montant;libellé;code client;numéro\n06/03/2026;100,00;VIR S;S;S-1\n20/03/2026;100,00;VIR T;T;T-1\n",
    );
    s.ok(&["import", "payments", &pay]);
    let lines = s.json(&["report", "steps", "--as-of", "2026-04-20"]);
    let first = lines
        .iter()
        .find(|l| l["step"] == "first_reminder")
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert_eq!(first["cases"], 2);
    assert_eq!(first["paid_within_7"], 0.5);
    assert_eq!(first["paid_within_14"], 0.5);
    assert_eq!(first["median_days_to_payment"], 10.0);
    // Too early to judge the 14-day window: only the steps at least 14 days old count.
    let lines = s.json(&["report", "steps", "--as-of", "2026-03-10"]);
    let first = lines
        .iter()
        .find(|l| l["step"] == "first_reminder")
        .expect("first_reminder");
    assert_eq!(first["seen_14"], 0);
    assert_eq!(first["paid_within_7"], 0.5);
    assert!(Path::new(&s.dir.path().join("outbox")).exists());
}

#[test]
fn a_policy_with_a_grade_condition_takes_the_risky_payer_at_the_next_run() {
    let s = ledger();
    let reasons = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["run", "--as-of", "2026-04-20", "--json", "--no-send"];
        args.extend(extra);
        s.ok(&args)
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).expect("json"))
            .filter(|l| l["customer"] == "B")
            .map(|l| l["reason"].as_str().expect("reason").to_string())
            .collect()
    };
    let before = reasons(&["--dry-run"]);
    assert!(!before.is_empty());
    assert!(
        before.iter().all(|r| r.contains("policy Standard")),
        "{before:?}"
    );

    let default = s.ok(&["policy", "export", "standard_fr", "--format", "toml"]);
    let firm = default
        .replace("id = \"standard_fr\"", "id = \"firm\"")
        .replace("name = \"Standard\"", "name = \"Firm\"")
        + "\n[policies.conditions]\ngrades = [\"D\", \"E\"]\n";
    let path = s.write("firm.toml", &firm);
    s.ok(&["policy", "import", &path]);
    let after = reasons(&[]);
    assert!(!after.is_empty());
    assert!(
        after.iter().all(|r| r.contains("policy Firm")),
        "{after:?}\n{firm}"
    );
}

#[test]
fn an_experiment_where_b_pays_sooner_is_reported_with_its_interval_and_verdict() {
    // 100 customers owe one invoice due Monday 2 March. The first reminder runs the
    // experiment `early_first`: variant B waits 3 days (Thursday 5) and leaves at 09:00.
    // A customers pay 20 days after their reminder, B customers 5 days after theirs.
    let mut invoices =
        String::from("numéro;code client;client;type;email;date;échéance;montant TTC\n");
    for i in 0..100 {
        invoices.push_str(&format!(
            "F-{i:03};C{i:03};Client {i};entreprise;c{i}@client.example;01/02/2026;02/03/2026;100,00\n"
        ));
    }
    let s = Sandbox::new(&invoices, "");
    let exported = s.ok(&["policy", "export", "standard_fr", "--format", "json"]);
    let mut file: Value = serde_json::from_str(&exported).expect("policy JSON");
    let steps = file["policies"][0]["steps"].as_array_mut().expect("steps");
    let first = steps
        .iter_mut()
        .find(|st| st["id"] == "first_reminder")
        .expect("first_reminder");
    first["experiment"] = serde_json::json!({
        "name": "early_first", "share_b": 50, "offset_days": 3, "send_hour": 9
    });
    let path = s.write("policy.json", &file.to_string());
    s.ok(&["policy", "import", &path]);
    // The export keeps the experiment.
    let toml_text = s.ok(&["policy", "export", "standard_fr", "--format", "toml"]);
    assert!(toml_text.contains("name = \"early_first\""), "{toml_text}");

    // Too early: not enough data, and the command says so.
    let out = s.ok(&[
        "report",
        "experiment",
        "standard_fr",
        "--as-of",
        "2026-03-02",
    ]);
    assert!(out.contains("Not enough data yet"), "{out}");

    s.ok(&["run", "--as-of", "2026-03-03"]);
    s.ok(&["run", "--as-of", "2026-03-04"]);
    s.ok(&["run", "--as-of", "2026-03-05"]);
    let planned = s.ok(&["report", "timeline", "--customer", "C000"]);
    assert!(
        planned.contains("experiment early_first: variant"),
        "{planned}"
    );

    let arm = |code: &str| -> String {
        let timeline = s.ok(&["report", "timeline", "--customer", code]);
        if timeline.contains("variant B") {
            "B".into()
        } else {
            "A".into()
        }
    };
    let mut payments = String::from("date;montant;libellé;code client;numéro\n");
    let mut in_b = 0;
    for i in 0..100 {
        let code = format!("C{i:03}");
        let b = arm(&code) == "B";
        in_b += usize::from(b);
        let day = if b { "10/03/2026" } else { "23/03/2026" };
        payments.push_str(&format!("{day};100,00;VIR {code};{code};F-{i:03}\n"));
    }
    let pay = s.write("pay.csv", &payments);
    s.ok(&["import", "payments", &pay]);

    let lines = s.json(&[
        "report",
        "experiment",
        "standard_fr",
        "--as-of",
        "2026-04-30",
    ]);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let l = &lines[0];
    assert_eq!(l["experiment"], "early_first");
    assert_eq!(l["step"], "first_reminder");
    assert_eq!(l["b"]["seen"], in_b);
    assert_eq!(l["a"]["seen"], 100 - in_b);
    assert_eq!(l["a"]["mean_days"], 20.0);
    assert_eq!(l["b"]["mean_days"], 5.0);
    assert_eq!(l["verdict"]["kind"], "winner");
    assert_eq!(l["verdict"]["winner"], "B");
    assert!(
        l["verdict_text"]
            .as_str()
            .expect("text")
            .starts_with("Variant B wins"),
        "{l}"
    );
    assert!(
        l["rate_difference"]["low"].as_f64().expect("low") > 0.0,
        "{l}"
    );
    assert!(
        l["days_difference"]["high"].as_f64().expect("high") < 0.0,
        "{l}"
    );
    let table = s.ok(&[
        "report",
        "experiment",
        "standard_fr",
        "--as-of",
        "2026-04-30",
        "--lang",
        "fr",
    ]);
    assert!(table.contains("La variante B l'emporte"), "{table}");

    // An unknown policy, and one without an experiment, are errors that say why.
    let out = s.run(&["report", "experiment", "nope"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no policy \"nope\""));
}
