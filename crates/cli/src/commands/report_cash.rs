//! `relance report forecast|dso|steps|scores`: the cash view. The store reads the ledger in a
//! few set-based statements, the core computes (scoring, forecast, DSO, step outcomes), and
//! this module only assembles and prints.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use relance_core::dso;
use relance_core::money::Currency;
use relance_core::scoring::{score, Score};
pub(crate) use relance_store::cash::predict_all;
use relance_store::cash::{major, weekly_forecast, CustomerCash, MonthFlow};
use relance_store::creditors::CreditorRecord;
use relance_store::Store;
use rust_decimal::Decimal;

use crate::cli::{OutputFormat, ReportArgs, ReportBy};
use crate::output::print_rows;

pub async fn forecast(
    store: &Store,
    creditor: &CreditorRecord,
    as_of: NaiveDate,
    args: &ReportArgs,
) -> anyhow::Result<()> {
    let customers = store.payer_histories(creditor.id, as_of).await?;
    let mut items = store.forecast_items(creditor.id, as_of).await?;
    let codes: HashMap<i64, &str> = customers.iter().map(|c| (c.id, c.code.as_str())).collect();
    if let Some(code) = &args.customer {
        items.retain(|i| codes.get(&i.customer_id) == Some(&code.as_str()));
    }
    let predictions = predict_all(&customers, &items, as_of);
    if args.by == ReportBy::Invoice {
        #[derive(serde::Serialize)]
        struct Line<'a> {
            invoice: &'a str,
            customer: &'a str,
            due_date: String,
            open_amount: String,
            currency: &'a str,
            low: Option<NaiveDate>,
            expected: Option<NaiveDate>,
            high: Option<NaiveDate>,
            basis: &'static str,
        }
        let mut lines: Vec<Line> = items
            .iter()
            .zip(&predictions)
            .map(|(i, p)| Line {
                invoice: &i.number,
                customer: codes.get(&i.customer_id).copied().unwrap_or(""),
                due_date: i.due.to_string(),
                open_amount: i.open.to_plain_string(),
                currency: i.open.currency.code(),
                low: p.map(|p| p.low),
                expected: p.map(|p| p.expected),
                high: p.map(|p| p.high),
                basis: p.map_or("disputed_excluded", |p| p.basis.as_str()),
            })
            .collect();
        lines.sort_by(|a, b| (a.expected, a.invoice).cmp(&(b.expected, b.invoice)));
        let headers = [
            "invoice",
            "customer",
            "due_date",
            "open_amount",
            "currency",
            "low",
            "expected",
            "high",
            "basis",
        ];
        let day = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        let rows: Vec<Vec<String>> = lines
            .iter()
            .map(|l| {
                vec![
                    l.invoice.to_string(),
                    l.customer.to_string(),
                    l.due_date.clone(),
                    l.open_amount.clone(),
                    l.currency.to_string(),
                    day(l.low),
                    day(l.expected),
                    day(l.high),
                    l.basis.to_string(),
                ]
            })
            .collect();
        print_rows(args.format, &headers, &rows, &lines)?;
        return Ok(());
    }
    let relance_store::cash::CashForecast { weeks, excluded } =
        weekly_forecast(&items, &predictions, as_of, args.weeks);
    let (headers, mut rows) = relance_dispatch::tables::forecast_rows(&weeks);
    let note = excluded
        .iter()
        .map(|(cur, (n, amount))| {
            format!("{n} invoice(s) in dispute excluded: {amount} {cur} / {n} facture(s) en litige exclue(s)")
        })
        .collect::<Vec<_>>();
    if args.format == OutputFormat::Table {
        for n in &note {
            rows.push(vec!["excluded".into(), String::new(), n.clone()]);
        }
    } else {
        for n in &note {
            eprintln!("{n}");
        }
    }
    print_rows(args.format, &headers, &rows, &weeks)?;
    Ok(())
}

fn opt(d: Option<Decimal>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

pub async fn dso(
    store: &Store,
    creditor: &CreditorRecord,
    as_of: NaiveDate,
    args: &ReportArgs,
) -> anyhow::Result<()> {
    let flows = store.month_flows(creditor.id, as_of).await?;
    let mut currencies: Vec<Currency> = flows.iter().map(|f| f.currency).collect();
    currencies.sort_by_key(|c| c.code().to_string());
    currencies.dedup();
    let shown = usize::try_from(args.months.max(1)).unwrap_or(12);
    match args.by {
        ReportBy::Customer | ReportBy::Segment => {
            let customers = store.payer_histories(creditor.id, as_of).await?;
            let info: HashMap<i64, &CustomerCash> = customers.iter().map(|c| (c.id, c)).collect();
            // Group key: customer code or segment, and currency.
            let mut groups: BTreeMap<(String, String), Vec<&MonthFlow>> = BTreeMap::new();
            for f in &flows {
                let c = info.get(&f.customer_id);
                let key = if args.by == ReportBy::Customer {
                    c.map(|c| c.code.clone()).unwrap_or_default()
                } else {
                    c.and_then(|c| c.segment.clone())
                        .unwrap_or_else(|| "(none)".into())
                };
                if args.by == ReportBy::Customer
                    && args.customer.as_ref().is_some_and(|w| *w != key)
                {
                    continue;
                }
                groups
                    .entry((key, f.currency.code().to_string()))
                    .or_default()
                    .push(f);
            }
            #[derive(serde::Serialize)]
            struct Line {
                group: String,
                currency: String,
                receivables: Decimal,
                sales_last_month: Decimal,
                dso_count_back: Decimal,
                count_back_exhausted: bool,
                dso_simple: Option<Decimal>,
            }
            let mut lines = Vec::new();
            for ((key, code), fl) in &groups {
                let currency = Currency::parse(code)?;
                let months = relance_store::cash::months_of(fl.iter().copied(), as_of);
                let Some(last) = months.last() else { continue };
                if last.receivables_end.is_zero() && last.sales.is_zero() {
                    continue;
                }
                let cb = dso::count_back(last.receivables_end, &months);
                lines.push(Line {
                    group: key.clone(),
                    currency: code.clone(),
                    receivables: major(last.receivables_end, currency),
                    sales_last_month: major(last.sales, currency),
                    dso_count_back: cb.days,
                    count_back_exhausted: cb.exhausted,
                    dso_simple: dso::simple(last.receivables_end, last.sales, last.days),
                });
            }
            lines.sort_by_key(|l| std::cmp::Reverse(l.dso_count_back));
            let first = if args.by == ReportBy::Customer {
                "customer"
            } else {
                "segment"
            };
            let headers = [
                first,
                "currency",
                "receivables",
                "sales_this_month",
                "dso_count_back",
                "dso_simple",
            ];
            let rows: Vec<Vec<String>> = lines
                .iter()
                .map(|l| {
                    vec![
                        l.group.clone(),
                        l.currency.clone(),
                        l.receivables.to_string(),
                        l.sales_last_month.to_string(),
                        format!(
                            "{}{}",
                            if l.count_back_exhausted { "≥" } else { "" },
                            l.dso_count_back
                        ),
                        opt(l.dso_simple),
                    ]
                })
                .collect();
            print_rows(args.format, &headers, &rows, &lines)?;
        }
        _ => {
            #[derive(serde::Serialize)]
            struct Line {
                month: String,
                currency: String,
                sales: Decimal,
                receivables: Decimal,
                dso_count_back: Decimal,
                count_back_exhausted: bool,
                dso_simple: Option<Decimal>,
                trend: Option<Decimal>,
            }
            let mut lines = Vec::new();
            for currency in &currencies {
                let months = relance_store::cash::months_of(
                    flows.iter().filter(|f| f.currency == *currency),
                    as_of,
                );
                for l in dso::monthly(&months, shown) {
                    lines.push(Line {
                        month: l.month,
                        currency: currency.code().to_string(),
                        sales: major(l.sales, *currency),
                        receivables: major(l.receivables, *currency),
                        dso_count_back: l.count_back,
                        count_back_exhausted: l.count_back_exhausted,
                        dso_simple: l.simple,
                        trend: l.trend,
                    });
                }
            }
            let headers = [
                "month",
                "currency",
                "sales",
                "receivables",
                "dso_count_back",
                "dso_simple",
                "trend",
            ];
            let rows: Vec<Vec<String>> = lines
                .iter()
                .map(|l| {
                    vec![
                        l.month.clone(),
                        l.currency.clone(),
                        l.sales.to_string(),
                        l.receivables.to_string(),
                        format!(
                            "{}{}",
                            if l.count_back_exhausted { "≥" } else { "" },
                            l.dso_count_back
                        ),
                        opt(l.dso_simple),
                        l.trend
                            .map(|t| {
                                if t.is_sign_negative() {
                                    t.to_string()
                                } else {
                                    format!("+{t}")
                                }
                            })
                            .unwrap_or_default(),
                    ]
                })
                .collect();
            print_rows(args.format, &headers, &rows, &lines)?;
        }
    }
    Ok(())
}

pub async fn steps(
    store: &Store,
    creditor: &CreditorRecord,
    as_of: NaiveDate,
    args: &ReportArgs,
) -> anyhow::Result<()> {
    let outcomes = store.step_outcomes(creditor.id, as_of).await?;
    let mut order: Vec<String> = Vec::new();
    for p in store.policies(creditor.id).await? {
        for s in p.steps {
            if !order.contains(&s.id) {
                order.push(s.id);
            }
        }
    }
    let stats = relance_core::effectiveness::step_stats(&outcomes, &order, as_of);
    let pct = |share: Option<f64>, n: u64| match share {
        Some(s) => format!("{:.0}% of {n}", s * 100.0),
        None => "-".into(),
    };
    let headers = [
        "step",
        "cases",
        "paid_within_7_days",
        "paid_within_14_days",
        "paid",
        "median_days_to_payment",
    ];
    let rows: Vec<Vec<String>> = stats
        .iter()
        .map(|s| {
            vec![
                s.step.clone(),
                s.cases.to_string(),
                pct(s.paid_within_7, s.seen_7),
                pct(s.paid_within_14, s.seen_14),
                s.paid.to_string(),
                s.median_days_to_payment
                    .map(|m| format!("{m:.1}"))
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    print_rows(args.format, &headers, &rows, &stats)?;
    Ok(())
}

/// `relance report experiment POLICY`: the policy's experiments, arm against arm.
pub async fn experiment(
    store: &Store,
    creditor: &CreditorRecord,
    as_of: NaiveDate,
    args: &ReportArgs,
) -> anyhow::Result<()> {
    use relance_core::experiment::{compare, Difference, ExperimentReport};
    let Some(wanted) = args.policy.as_deref() else {
        anyhow::bail!("which policy? relance report experiment POLICY (relance policy list)");
    };
    let policies = store.policies(creditor.id).await?;
    let Some(policy) = policies.iter().find(|p| p.id == wanted) else {
        let ids: Vec<&str> = policies.iter().map(|p| p.id.as_str()).collect();
        anyhow::bail!("no policy \"{wanted}\" (policies: {})", ids.join(", "));
    };
    let experiments: Vec<(&str, &str)> = policy
        .steps
        .iter()
        .filter_map(|s| {
            s.experiment
                .as_ref()
                .map(|e| (s.id.as_str(), e.name.as_str()))
        })
        .collect();
    if experiments.is_empty() {
        anyhow::bail!(
            "policy \"{wanted}\" runs no experiment (add [steps.experiment] to a step: relance policy export)"
        );
    }
    #[derive(serde::Serialize)]
    struct Line<'a> {
        policy: &'a str,
        experiment: &'a str,
        step: &'a str,
        as_of: String,
        #[serde(flatten)]
        report: ExperimentReport,
        verdict_text: String,
    }
    let mut lines = Vec::new();
    for (step, name) in &experiments {
        let outcomes = store.experiment_outcomes(creditor.id, name, as_of).await?;
        let report = compare(&outcomes, as_of);
        lines.push(Line {
            policy: &policy.id,
            experiment: name,
            step,
            as_of: as_of.to_string(),
            verdict_text: report.verdict_text(&args.lang),
            report,
        });
    }
    let headers = [
        "experiment",
        "step",
        "variant",
        "cases",
        "seen_14_days",
        "paid_within_14_days",
        "mean_days_to_payment",
        "median_days_to_payment",
    ];
    let days = |v: Option<f64>| v.map(|m| format!("{m:.1}")).unwrap_or_else(|| "-".into());
    let mut rows = Vec::new();
    for l in &lines {
        for arm in [&l.report.a, &l.report.b] {
            rows.push(vec![
                l.experiment.to_string(),
                l.step.to_string(),
                arm.variant.to_string(),
                arm.cases.to_string(),
                arm.seen.to_string(),
                match arm.rate {
                    Some(r) => {
                        format!("{:.1}% ({} of {})", r * 100.0, arm.paid_within_14, arm.seen)
                    }
                    None => "-".into(),
                },
                days(arm.mean_days),
                days(arm.median_days),
            ]);
        }
    }
    print_rows(args.format, &headers, &rows, &lines)?;
    if args.format == OutputFormat::Table {
        let fr = args.lang.starts_with("fr");
        let show = |d: Option<Difference>, scale: f64, unit: &str| match d {
            Some(d) => format!(
                "{:+.1}{unit} [{:+.1}, {:+.1}]",
                d.estimate * scale,
                d.low * scale,
                d.high * scale
            ),
            None => "-".into(),
        };
        for l in &lines {
            let conf = l.report.confidence;
            println!();
            if fr {
                println!(
                    "{} : B − A, payés sous 14 jours {} ; délai moyen {} (intervalles à {conf} %)",
                    l.experiment,
                    show(l.report.rate_difference, 100.0, " pts"),
                    show(l.report.days_difference, 1.0, " j"),
                );
            } else {
                println!(
                    "{}: B − A, paid within 14 days {}; mean days to payment {} ({conf}% intervals)",
                    l.experiment,
                    show(l.report.rate_difference, 100.0, " pts"),
                    show(l.report.days_difference, 1.0, " d"),
                );
            }
            println!("{}", l.verdict_text);
        }
    }
    Ok(())
}

pub async fn scores(
    store: &Store,
    creditor: &CreditorRecord,
    as_of: NaiveDate,
    args: &ReportArgs,
) -> anyhow::Result<()> {
    let customers = store.payer_histories(creditor.id, as_of).await?;
    #[derive(serde::Serialize)]
    struct Line<'a> {
        customer: &'a str,
        customer_name: &'a str,
        score: u8,
        grade: String,
        paid_invoices: u32,
        explanation: String,
        as_of: String,
    }
    let scored: Vec<(&CustomerCash, Score)> = customers
        .iter()
        .filter(|c| args.customer.as_ref().is_none_or(|w| *w == c.code))
        .filter(|c| c.history.paid > 0 || c.history.open_minor > 0)
        .map(|c| (c, score(&c.history)))
        .collect();
    let lines: Vec<Line> = scored
        .iter()
        .map(|(c, s)| Line {
            customer: &c.code,
            customer_name: &c.name,
            score: s.score,
            grade: s.grade.to_string(),
            paid_invoices: c.history.paid,
            explanation: s.explanation(&args.lang).to_string(),
            as_of: as_of.to_string(),
        })
        .collect();
    let headers = [
        "customer",
        "customer_name",
        "score",
        "grade",
        "paid_invoices",
        "explanation",
    ];
    let rows: Vec<Vec<String>> = lines
        .iter()
        .map(|l| {
            vec![
                l.customer.to_string(),
                l.customer_name.to_string(),
                l.score.to_string(),
                l.grade.clone(),
                l.paid_invoices.to_string(),
                l.explanation.clone(),
            ]
        })
        .collect();
    print_rows(args.format, &headers, &rows, &lines)?;
    Ok(())
}
