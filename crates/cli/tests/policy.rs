//! Stored policies end to end: export, import, selection by customer kind and by name, and the
//! run following them. Real binary, real SQLite file.

use std::path::Path;
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
            "relance {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    /// The steps a run carries out for one customer: "step channel".
    fn steps_for(&self, day: &str, customer: &str) -> Vec<String> {
        self.ok(&["run", "--as-of", day, "--json"])
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
            .filter(|v| v["customer"] == customer)
            .map(|v| {
                format!(
                    "{} {}",
                    v["step"].as_str().unwrap_or(""),
                    v["channel"].as_str().unwrap_or("")
                )
            })
            .collect()
    }
}

const GENTLE: &str = r#"
[[policies]]
id = "gentle_b2c"
name = "Particuliers, en douceur"

[policies.conditions]
customer_kinds = ["consumer"]

[[policies.steps]]
id = "first_reminder"
offset_days = 7
anchor = "due_date"
channels = ["email"]
template = "first_reminder"
tone = "friendly"

[[policies.steps]]
id = "formal_notice"
offset_days = 15
anchor = "previous_step"
channels = ["registered_letter_ar"]
template = "formal_notice"
tone = "formal"
"#;

#[test]
fn a_consumer_policy_imported_from_toml_drives_the_run() {
    let s = Sandbox::new();
    s.ok(&["init", "--name", "Atelier Test SAS"]);
    let invoices = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/invoices-fr.csv");
    s.ok(&["import", "invoices", invoices.to_str().expect("path")]);

    // The default policy round-trips through its own export.
    let exported = s.ok(&["policy", "export"]);
    assert!(exported.contains("id = \"standard_fr\""), "{exported}");

    let file = s.dir.path().join("gentle.toml");
    std::fs::write(&file, GENTLE).expect("write");
    assert!(s
        .ok(&["policy", "import", file.to_str().expect("path")])
        .contains("Added policy gentle_b2c"));
    let list = s.ok(&["policy", "list"]);
    assert!(
        list.contains("standard_fr") && list.contains("gentle_b2c"),
        "{list}"
    );

    // C002 is a consumer with F-2026-003 due Tuesday 2026-03-03: under the default policy its
    // first reminder would go on 03-04; under gentle_b2c on 03-10 (due + 7, a Tuesday).
    let first_run: Vec<serde_json::Value> = s
        .ok(&["run", "--as-of", "2026-03-04", "--json"])
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert!(
        first_run.iter().all(|v| v["customer"] != "C002"),
        "{first_run:?}"
    );
    // The business customer C001 still follows the default: its missed first reminder goes out.
    assert!(
        first_run
            .iter()
            .any(|v| v["customer"] == "C001" && v["step"] == "first_reminder"),
        "{first_run:?}"
    );
    assert_eq!(
        s.steps_for("2026-03-10", "C002"),
        vec!["first_reminder email".to_string()]
    );
    // Then the formal notice 15 days later (03-25, a Wednesday), with no call in between.
    assert_eq!(s.steps_for("2026-03-24", "C002"), Vec::<String>::new());
    assert_eq!(
        s.steps_for("2026-03-25", "C002"),
        vec!["formal_notice registered_letter_ar".to_string()]
    );
}

#[test]
fn a_customer_can_be_assigned_a_policy_by_name_and_bad_files_are_refused() {
    let s = Sandbox::new();
    s.ok(&["init", "--name", "Atelier Test SAS"]);
    let invoices = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/invoices-fr.csv");
    s.ok(&["import", "invoices", invoices.to_str().expect("path")]);
    let file = s.dir.path().join("gentle.toml");
    std::fs::write(&file, GENTLE).expect("write");
    s.ok(&["policy", "import", file.to_str().expect("path")]);
    // C001 is a business, but is named onto the gentle policy: no reminder the day after the
    // due date (2026-02-04 + 1), one a week after (2026-02-11).
    s.ok(&["policy", "assign", "C001", "gentle_b2c", "--tag", "vip"]);
    assert_eq!(s.steps_for("2026-02-05", "C001"), Vec::<String>::new());
    assert_eq!(
        s.steps_for("2026-02-11", "C001"),
        vec!["first_reminder email".to_string()]
    );

    assert!(!s
        .run(&["policy", "assign", "C001", "nope"])
        .status
        .success());
    std::fs::write(
        &file,
        "[[policies]]\nid = \"broken\"\nname = \"x\"\nsteps = []\n",
    )
    .expect("write");
    let out = s.run(&["policy", "import", file.to_str().expect("path")]);
    assert!(!out.status.success(), "a policy without steps is refused");
    std::fs::write(&file, "this is not toml [[").expect("write");
    assert!(!s
        .run(&["policy", "import", file.to_str().expect("path")])
        .status
        .success());
}
