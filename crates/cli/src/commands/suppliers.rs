//! `relance import purchase-orders|supplier-invoices`, `relance supplier delivered`,
//! `relance report suppliers`: the suppliers' side that `relance run` chases.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::NaiveDate;
use relance_formats::{
    read_purchase_orders_csv, read_supplier_invoices_csv, ReadReport, Severity, SupplierCells,
};
use relance_store::creditors::CreditorRecord;
use relance_store::suppliers::{PurchaseOrderInput, SupplierInput, SupplierInvoiceInput};
use relance_store::Store;

use crate::cli::{OutputFormat, SupplierCommand};
use crate::context::{creditor, today_for};
use crate::output::print_rows;

fn supplier_input(cells: SupplierCells) -> SupplierInput {
    SupplierInput {
        code: cells.code,
        name: cells.name,
        email: cells.email,
        address: cells.address,
        language: cells.language,
    }
}

/// Prints every problem; true when the file must be refused.
fn refused(source: &str, report: &ReadReport) -> bool {
    for problem in &report.problems {
        eprintln!("{problem}");
    }
    let errors = report
        .problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    if errors > 0 {
        eprintln!("{source}: refused, {errors} error(s); nothing was imported");
    }
    errors > 0
}

/// `relance import purchase-orders FILE`: all or nothing, every problem with its position.
pub async fn import_purchase_orders(
    store: &Store,
    wanted: Option<&str>,
    file: &Path,
) -> anyhow::Result<ExitCode> {
    let creditor = creditor(store, wanted).await?;
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let source = file.display().to_string();
    let mut rows = Vec::new();
    let report = read_purchase_orders_csv(&source, &bytes, &mut |row| rows.push(row));
    if refused(&source, &report) {
        return Ok(ExitCode::FAILURE);
    }
    let orders: Vec<PurchaseOrderInput> = rows
        .into_iter()
        .map(|row| PurchaseOrderInput {
            supplier: supplier_input(row.supplier),
            number: row.number,
            ordered_on: row.ordered_on,
            promised_on: row.promised_on,
            amount: row.amount,
            quantity: row.quantity,
            delivered_on: row.delivered_on,
        })
        .collect();
    let done = store
        .import_purchase_orders(creditor.id, &orders, &source)
        .await?;
    println!(
        "Imported {source}: {} order(s), {} new, {} updated, {} unchanged",
        orders.len(),
        done.created,
        done.updated,
        done.unchanged
    );
    Ok(ExitCode::SUCCESS)
}

/// `relance import supplier-invoices FILE`: all or nothing; the next run checks them.
pub async fn import_supplier_invoices(
    store: &Store,
    wanted: Option<&str>,
    file: &Path,
) -> anyhow::Result<ExitCode> {
    let creditor = creditor(store, wanted).await?;
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let source = file.display().to_string();
    let mut rows = Vec::new();
    let report = read_supplier_invoices_csv(&source, &bytes, &mut |row| rows.push(row));
    if refused(&source, &report) {
        return Ok(ExitCode::FAILURE);
    }
    let invoices: Vec<SupplierInvoiceInput> = rows
        .into_iter()
        .map(|row| SupplierInvoiceInput {
            supplier: supplier_input(row.supplier),
            number: row.number,
            issued_on: row.issued_on,
            po_number: row.po_number,
            amount: row.amount,
            quantity: row.quantity,
        })
        .collect();
    let done = store
        .import_supplier_invoices(creditor.id, &invoices, &source)
        .await?;
    println!(
        "Imported {source}: {} supplier invoice(s), {} new, {} already known",
        invoices.len(),
        done.created,
        done.unchanged
    );
    Ok(ExitCode::SUCCESS)
}

/// `relance supplier delivered PO [--on D]`.
pub async fn supplier(
    store: &Store,
    wanted: Option<&str>,
    command: SupplierCommand,
) -> anyhow::Result<ExitCode> {
    let creditor = creditor(store, wanted).await?;
    match command {
        SupplierCommand::Delivered { po, on } => {
            let on = on.unwrap_or_else(|| today_for(&creditor));
            if store.supplier_delivered(creditor.id, &po, on).await? {
                println!("{on}: order {po} delivered; its chase stops");
            } else {
                println!("order {po} was already delivered");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `relance report suppliers`.
pub async fn report(
    store: &Store,
    creditor: &CreditorRecord,
    as_of: NaiveDate,
    format: OutputFormat,
) -> anyhow::Result<()> {
    let lines = store.supplier_report(creditor.id, as_of).await?;
    let (headers, rows) = relance_dispatch::tables::supplier_rows(&lines);
    print_rows(format, &headers, &rows, &lines)
}
