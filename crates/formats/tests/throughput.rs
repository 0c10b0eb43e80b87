//! Parse speed of a 1,000,000-line invoice file, generated in memory. Ignored by default:
//! `CARGO_TARGET_DIR=/tmp/target-formats cargo test --release -p relance-formats --test throughput -- --ignored --nocapture`

use std::fmt::Write as _;
use std::time::Instant;

use relance_formats::{read_invoices_csv, read_payments_csv};

const LINES: u64 = 1_000_000;

/// `random` numbers have no counter (hashed table) instead of counting up (dense runs).
fn invoices(french: bool, random: bool) -> String {
    let mut text = String::with_capacity(130 * LINES as usize);
    if french {
        text.push_str(
            "numéro;code client;client;courriel;date;échéance;montant TTC;devise;réglé\r\n",
        );
    } else {
        text.push_str("invoice_number,customer_id,customer_name,email,issue_date,due_date,amount,currency,paid\n");
    }
    for i in 0..LINES {
        let customer = i % 5_000;
        let day = 1 + i % 28;
        let cents = 10_000 + (i * 7_919) % 1_000_000;
        let (euros, cents) = (cents / 100, cents % 100);
        let number = if random {
            format!("R{:016x}Z", i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
        } else {
            format!("F-{i:07}")
        };
        if french {
            let _ = write!(
                text,
                "{number};C{customer:05};Client {customer};compta{customer}@exemple.fr;\
                 {day:02}/01/2026;{day:02}/02/2026;{euros},{cents:02};EUR;0\r\n"
            );
        } else {
            let _ = writeln!(
                text,
                "{number},C{customer:05},Customer {customer},ap{customer}@example.com,\
                 2026-01-{day:02},2026-02-{day:02},{euros}.{cents:02},EUR,0"
            );
        }
    }
    text
}

fn payments() -> String {
    let mut text = String::with_capacity(80 * LINES as usize);
    text.push_str("date,amount,reference,customer_id,invoice_number,bank_reference\n");
    for i in 0..LINES {
        let _ = writeln!(
            text,
            "2026-03-{:02},{}.{:02},VIR {i},C{:05},INV-{i:07},BQ{i:09}",
            1 + i % 28,
            100 + i % 9_000,
            i % 100,
            i % 5_000
        );
    }
    text
}

/// Nanoseconds this thread spent on a CPU (Linux), so that a busy machine does not skew the
/// figure; `None` elsewhere.
fn thread_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

fn measure(name: &str, text: &str, read: impl FnOnce(&[u8]) -> (u64, usize)) -> f64 {
    let cpu_start = thread_cpu_ns();
    let start = Instant::now();
    let (rows, problems) = read(text.as_bytes());
    let seconds = start.elapsed().as_secs_f64();
    let cpu = cpu_start
        .zip(thread_cpu_ns())
        .map(|(a, b)| (b - a) as f64 / 1e9);
    assert_eq!(rows, LINES, "{name}");
    assert_eq!(problems, 0, "{name}");
    let rate = LINES as f64 / seconds;
    print!(
        "{name}: {LINES} lines, {:.1} MB in {seconds:.3} s wall = {rate:.0} lines/s",
        text.len() as f64 / 1e6
    );
    let rate = match cpu {
        Some(cpu) => {
            println!("; {cpu:.3} s on CPU = {:.0} lines/s", LINES as f64 / cpu);
            LINES as f64 / cpu
        }
        None => {
            println!();
            rate
        }
    };
    // Not the target (well above 1.5M lines/s), only a guard against a quadratic slip.
    assert!(rate > 300_000.0, "{name}: {rate:.0} lines/s");
    rate
}

#[test]
#[ignore = "benchmark: run with --release -- --ignored --nocapture"]
fn parses_a_million_lines_fast() {
    for (french, random) in [(false, false), (true, false), (false, true)] {
        let text = invoices(french, random);
        let name = match (french, random) {
            (true, _) => "invoices (fr, counted numbers)",
            (false, false) => "invoices (en, counted numbers)",
            (false, true) => "invoices (en, random numbers)",
        };
        measure(name, &text, |bytes| {
            let report = read_invoices_csv("bench.csv", bytes, &mut |row| {
                std::hint::black_box(row);
            });
            (report.rows, report.problems.len())
        });
    }
    let text = payments();
    measure("payments", &text, |bytes| {
        let report = read_payments_csv("bench.csv", bytes, &mut |row| {
            std::hint::black_box(row);
        });
        (report.rows, report.problems.len())
    });
}
