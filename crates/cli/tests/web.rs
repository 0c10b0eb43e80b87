//! `relance user add`, `relance token create` and `relance portal link` on a real SQLite file.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn run(dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_relance"))
        .args(args)
        .env(
            "RELANCE_DATABASE_URL",
            format!("sqlite://{}", dir.join("relance.db").display()),
        )
        .env_remove("RELANCE_CREDITOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run relance");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write stdin");
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().expect("wait")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn users_tokens_and_portal_links() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    for name in ["Alpha SAS", "Beta SARL"] {
        let out = run(d, &["init", "--name", name], None);
        assert!(out.status.success(), "{}", text(&out));
    }
    // A collector needs a creditor when there are several.
    let out = run(
        d,
        &[
            "user",
            "add",
            "--email",
            "anne@example.fr",
            "--role",
            "collector",
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("--creditor"), "{}", text(&out));
    let out = run(
        d,
        &[
            "user",
            "add",
            "--email",
            "Anne@Example.fr",
            "--role",
            "collector",
            "--creditor",
            "Beta SARL",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    let printed = text(&out);
    let password = printed
        .lines()
        .find_map(|l| l.strip_prefix("Password: "))
        .expect("generated password printed");
    assert_eq!(password.len(), 24);
    // Taken address, short password from stdin, bad address: refused.
    let out = run(
        d,
        &[
            "user",
            "add",
            "--email",
            "anne@example.fr",
            "--role",
            "admin",
        ],
        None,
    );
    assert!(!out.status.success() && text(&out).contains("already exists"));
    let out = run(
        d,
        &[
            "user",
            "add",
            "--email",
            "bob@example.fr",
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some("short\n"),
    );
    assert!(!out.status.success() && text(&out).contains("at least 10"));
    let out = run(
        d,
        &[
            "user",
            "add",
            "--email",
            "not-an-address",
            "--role",
            "admin",
        ],
        None,
    );
    assert!(!out.status.success());
    let out = run(
        d,
        &[
            "user",
            "add",
            "--email",
            "bob@example.fr",
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some("a long enough secret\n"),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains("Password:"));
    // Tokens: printed once, different each time; unknown user refused.
    let t1 = run(d, &["token", "create", "--email", "anne@example.fr"], None);
    let t2 = run(d, &["token", "create", "--email", "anne@example.fr"], None);
    let (t1, t2) = (text(&t1), text(&t2));
    assert!(t1.starts_with("rl_") && t1.trim().len() == 67, "{t1}");
    assert_ne!(t1, t2);
    assert!(!run(
        d,
        &["token", "create", "--email", "nobody@example.fr"],
        None
    )
    .status
    .success());
    // Portal links need a known customer.
    let csv = d.join("f.csv");
    std::fs::write(&csv, "invoice_number,customer_id,customer_name,issue_date,due_date,amount\nF-1,C001,Client Un,2026-01-02,2026-02-01,120.00\n").expect("csv");
    let out = run(
        d,
        &[
            "--creditor",
            "Alpha SAS",
            "import",
            "invoices",
            csv.to_str().expect("path"),
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = run(
        d,
        &[
            "--creditor",
            "Alpha SAS",
            "portal",
            "link",
            "C001",
            "--base-url",
            "https://r.example/",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    let link = text(&out);
    assert!(
        link.starts_with("https://r.example/portal?c=1&u=C001&e="),
        "{link}"
    );
    assert!(link.contains("&s=") && link.trim().len() > 100);
    let out = run(
        d,
        &["--creditor", "Alpha SAS", "portal", "link", "C999"],
        None,
    );
    assert!(!out.status.success() && text(&out).contains("unknown customer"));
}
