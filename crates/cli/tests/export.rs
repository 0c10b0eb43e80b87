//! `relance export` and the XLSX import, end to end on a real SQLite file: the files written are
//! read back (csv crate, calamine) and compared with the reports.

use std::process::{Command, Output};

use calamine::{Data, Reader, Xlsx};
use rust_decimal::Decimal;
use serde_json::Value;

struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_relance"))
            .args(args)
            .env(
                "RELANCE_DATABASE_URL",
                format!("sqlite://{}", self.path("relance.db")),
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
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    fn json(&self, args: &[&str]) -> Vec<Value> {
        self.ok(args)
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON line"))
            .collect()
    }
}

fn decimal(text: &str) -> Decimal {
    text.parse().expect("decimal")
}

/// A demo ledger: a year of invoices, payments, and one day of reminders.
fn ledger() -> Sandbox {
    let s = Sandbox::new();
    s.ok(&[
        "demo",
        "--customers",
        "25",
        "--invoices",
        "300",
        "--seed",
        "11",
    ]);
    s
}

#[test]
fn the_aged_balance_workbook_holds_the_report_s_figures() {
    let s = ledger();
    let report = s.json(&[
        "report",
        "aging",
        "--as-of",
        "2026-03-31",
        "--format",
        "json",
    ]);
    assert!(report.len() > 5, "{report:?}");
    let out = s.path("balance.xlsx");
    let said = s.ok(&["export", "aging", "--as-of", "2026-03-31", "--out", &out]);
    assert!(
        said.contains(&format!("Wrote {} rows", report.len())),
        "{said}"
    );

    let mut book: Xlsx<_> = calamine::open_workbook(&out).expect("a workbook");
    assert_eq!(
        book.sheet_names(),
        vec!["Aged balance 2026-03-31".to_string()]
    );
    let range = book
        .worksheet_range("Aged balance 2026-03-31")
        .expect("sheet");
    let rows: Vec<&[Data]> = range.rows().collect();
    let header: Vec<String> = rows[0].iter().map(ToString::to_string).collect();
    let keys = [
        "customer",
        "customer_name",
        "currency",
        "not_due",
        "1_30",
        "31_60",
        "61_90",
        "over_90",
        "total",
    ];
    assert_eq!(header, keys);
    let mut totals = [Decimal::ZERO; 6];
    for (line, json) in rows[1..].iter().zip(&report) {
        for (i, key) in keys.iter().enumerate() {
            let expected = json[key].as_str().expect("text");
            match &line[i] {
                Data::Float(f) => {
                    let got = Decimal::from_f64_retain(*f).expect("finite").round_dp(2);
                    assert_eq!(got, decimal(expected), "{key} of {}", json["customer"]);
                    totals[i - 3] += got;
                }
                Data::String(s) => assert_eq!(s, expected, "{key}"),
                other => panic!("{key}: unexpected cell {other:?}"),
            }
        }
    }
    // A blank row, then the total line, equal to the sum of the report's lines.
    assert!(rows[report.len() + 1].iter().all(|c| *c == Data::Empty));
    let total = rows[report.len() + 2];
    assert_eq!(total[0], Data::String("TOTAL".into()));
    for (i, sum) in totals.iter().enumerate() {
        let Data::Float(f) = total[3 + i] else {
            panic!("total cell {:?}", total[3 + i])
        };
        assert_eq!(
            Decimal::from_f64_retain(f).expect("finite").round_dp(2),
            *sum
        );
    }
    assert_eq!(rows.len(), report.len() + 3);

    // The same as CSV.
    let csv_out = s.path("balance.csv");
    s.ok(&[
        "export",
        "aging",
        "--as-of",
        "2026-03-31",
        "--out",
        &csv_out,
    ]);
    let mut reader = csv::Reader::from_path(&csv_out).expect("csv");
    let read: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("record")).collect();
    assert_eq!(read.len(), report.len());
    for (record, json) in read.iter().zip(&report) {
        for (i, key) in keys.iter().enumerate() {
            assert_eq!(&record[i], json[key].as_str().expect("text"));
        }
    }
}

#[test]
fn invoices_payments_and_actions_are_exported_as_the_reports_show_them() {
    let s = ledger();
    let invoices = s.json(&["report", "invoices", "--format", "json"]);
    let out = s.path("factures.csv");
    s.ok(&["export", "invoices", "--out", &out]);
    let mut reader = csv::Reader::from_path(&out).expect("csv");
    let headers: Vec<String> = reader
        .headers()
        .expect("headers")
        .iter()
        .map(str::to_string)
        .collect();
    let read: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("record")).collect();
    assert_eq!(read.len(), invoices.len());
    for (record, json) in read.iter().zip(&invoices) {
        for (i, key) in headers.iter().enumerate() {
            assert_eq!(&record[i], json[key].as_str().expect("text"), "{key}");
        }
    }
    // JSON lines: the report's own objects.
    let json_out = s.path("factures.json");
    s.ok(&["export", "invoices", "--open", "--out", &json_out]);
    let open: Vec<Value> = std::fs::read_to_string(&json_out)
        .expect("read")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let expected = s.json(&["report", "invoices", "--open", "--format", "json"]);
    assert_eq!(open, expected);
    assert!(open.len() < invoices.len());

    let payments = s.path("paiements.csv");
    s.ok(&["export", "payments", "--out", &payments]);
    let mut reader = csv::Reader::from_path(&payments).expect("csv");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("record")).collect();
    assert!(!rows.is_empty());
    // Every payment amount is positive, and what is unallocated never exceeds it.
    for row in &rows {
        let (amount, unallocated) = (decimal(&row[3]), decimal(&row[4]));
        assert!(amount > Decimal::ZERO && unallocated <= amount, "{row:?}");
    }

    s.ok(&["run", "--as-of", "2026-03-31"]);
    let actions = s.path("actions.json");
    s.ok(&["export", "actions", "--format", "json", "--out", &actions]);
    let listed: Vec<Value> = std::fs::read_to_string(&actions)
        .expect("read")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert!(!listed.is_empty());
    assert!(listed.iter().all(|a| a["planned_on"] == "2026-03-31"));

    let refused = s.run(&["export", "invoices", "--out", &s.path("factures.txt")]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--format"));
}

#[test]
fn an_excel_workbook_is_imported_like_the_csv_and_a_bad_one_is_refused_with_its_cell() {
    let s = Sandbox::new();
    s.ok(&["init", "--name", "Atelier Test SAS"]);
    let book = |path: &str, due: &str| {
        let mut book = rust_xlsxwriter::Workbook::new();
        let ws = book.add_worksheet();
        ws.set_name("Factures").expect("name");
        for (c, h) in [
            "numéro",
            "code client",
            "client",
            "date",
            "échéance",
            "montant TTC",
        ]
        .iter()
        .enumerate()
        {
            ws.write_string(0, c as u16, *h).expect("header");
        }
        ws.write_string(1, 0, "F-1").expect("cell");
        ws.write_number(1, 1, 411001.0).expect("cell");
        ws.write_string(1, 2, "Dupont SARL").expect("cell");
        let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 1, 5).expect("date");
        let format = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy");
        ws.write_datetime_with_format(1, 3, &date, &format)
            .expect("cell");
        ws.write_string(1, 4, due).expect("cell");
        ws.write_number(1, 5, 1234.56).expect("cell");
        book.save(path).expect("save");
    };
    let bad = s.path("bad.xlsx");
    book(&bad, "04/02/20x6");
    let out = s.run(&["import", "invoices", &bad]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{bad}[Factures]:2: column \"échéance\": \"04/02/20x6\" is not a date"
        )),
        "{stderr}"
    );
    let good = s.path("good.xlsx");
    book(&good, "04/02/2026");
    let said = s.ok(&["import", "invoices", &good]);
    assert!(said.contains("1 rows, 1 new"), "{said}");
    let rows = s.json(&["report", "invoices", "--format", "json"]);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["customer"], "411001");
    assert_eq!(rows[0]["issue_date"], "2026-01-05");
    assert_eq!(rows[0]["due_date"], "2026-02-04");
    assert_eq!(rows[0]["amount"], "1234.56");

    // Payments from a workbook too.
    let payments = s.path("paiements.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    for (c, h) in ["date", "montant", "numéro"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).expect("header");
    }
    ws.write_string(1, 0, "10/02/2026").expect("cell");
    ws.write_number(1, 1, 1234.56).expect("cell");
    ws.write_string(1, 2, "F-1").expect("cell");
    book.save(&payments).expect("save");
    let said = s.ok(&["import", "payments", &payments]);
    assert!(said.contains("1 new payments"), "{said}");
    let rows = s.json(&["report", "invoices", "--format", "json"]);
    assert_eq!(rows[0]["open_amount"], "0.00");
}
