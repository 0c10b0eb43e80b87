//! The dispatcher: takes due actions from the outbox, renders them, sends them, records how it
//! went — batch by batch, each message exactly once or visibly not (see `relance_store::outbox`).
//!
//! One batch: claim (a lease) → load what the messages say for the whole batch → render →
//! `begin_sending` (the last check: still owed, not on hold; the rows go to `sending`) → send in
//! parallel (bounded by the SMTP pool) → `record_deliveries` in one transaction. A crash after
//! `begin_sending` leaves rows in `sending`: flagged in doubt at the next dispatch once the lease
//! has expired, never sent again without a person.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use chrono::{NaiveDate, NaiveDateTime};
use relance_core::calendar::BusinessCalendar;
use relance_core::calls::{next_send_window, within_send_window};
use relance_core::law::RateTable;
use relance_core::planner::Channel;
use relance_deliver::http_provider::{
    HttpMessage, HttpOutcome, HttpProvider, HttpProviderSettings, PostalMessage,
};
use relance_deliver::{write_letter, Mailer, MailerSettings, OutgoingEmail, SendOutcome};
use relance_render::{build_email, render_letter_pdf, EmailEnvelope, Part, StepId, Templates};
use relance_store::creditors::CreditorRecord;
use relance_store::outbox::{
    ClaimedAction, CustomerContext, Delivery, RetryPolicy, SendDecision, SENDABLE_CHANNELS,
};
use relance_store::Store;

/// How a dispatch runs.
#[derive(Debug, Clone)]
pub struct DispatchOptions {
    /// Messages due on or before this day are sent; letters are filed under it.
    pub today: NaiveDate,
    /// Names the claims of this dispatcher (host, process, task).
    pub worker: String,
    pub batch: usize,
    /// Messages sent at once.
    pub concurrency: usize,
    pub lease: Duration,
    pub retry: RetryPolicy,
    pub outbox: PathBuf,
    /// Stop after about this many messages.
    pub limit: Option<usize>,
    /// The SMS provider; `None`: SMS stay planned in the outbox.
    pub sms: Option<Arc<HttpProvider>>,
    /// The postal provider; `None`: letters are filed for the print batch only.
    pub postal: Option<Arc<HttpProvider>>,
    /// The creditor's local time that decides the SMS send window; `None`: the clock.
    pub now: Option<NaiveDateTime>,
}

/// How messages leave: the settings `relance send`, `relance run` and `relance serve` share
/// (flags and `RELANCE_*` variables of the binary).
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// `smtp://[user:pass@]host[:port]`, `smtps://…`, `smtp://…?tls=required`; `None`: `.eml`
    /// files under `outbox/mail`.
    pub smtp_url: Option<String>,
    /// PEM of a certificate authority trusted for the SMTP server's certificate.
    pub smtp_ca_file: Option<PathBuf>,
    /// Letters (`outbox/letters/DAY/*.pdf`), and e-mails without SMTP.
    pub outbox: PathBuf,
    /// At most this many messages per second to one recipient domain (0: no limit).
    pub rate_per_domain: f64,
    /// SMTP connections kept open and messages sent at once.
    pub connections: u32,
    /// After this, a claim may be taken over, and a message left in "sending" is in doubt.
    pub lease_timeout: Duration,
    /// Before the second attempt after a temporary error (doubled at each attempt).
    pub retry_after: Duration,
    /// Attempts before a temporarily failing message is marked failed.
    pub max_attempts: i64,
    /// Messages claimed and recorded per transaction.
    pub batch: usize,
    /// The SMS provider (`RELANCE_SMS_URL`…); `None`: SMS stay planned.
    pub sms: Option<HttpProviderSettings>,
    /// The postal provider (`RELANCE_POSTAL_URL`…): letters are filed as PDF (our copy) and
    /// handed to it, and left out of the print batch; `None`: printed and posted by hand.
    pub postal: Option<HttpProviderSettings>,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        DeliverySettings {
            smtp_url: None,
            smtp_ca_file: None,
            outbox: PathBuf::from("outbox"),
            rate_per_domain: 0.0,
            connections: 8,
            lease_timeout: Duration::from_secs(300),
            retry_after: Duration::from_secs(300),
            max_attempts: 6,
            batch: 200,
            sms: None,
            postal: None,
        }
    }
}

impl DispatchOptions {
    /// Fails when the SMS provider's settings are wrong (a template that does not render, a
    /// URL that is not http or https).
    pub fn new(
        settings: &DeliverySettings,
        today: NaiveDate,
        limit: Option<usize>,
    ) -> anyhow::Result<Self> {
        let sms = match &settings.sms {
            Some(sms) => Some(Arc::new(
                HttpProvider::new(sms.clone()).context("the SMS provider")?,
            )),
            None => None,
        };
        let postal = match &settings.postal {
            Some(postal) => Some(Arc::new(
                HttpProvider::postal(postal.clone()).context("the postal provider")?,
            )),
            None => None,
        };
        Ok(DispatchOptions {
            today,
            worker: worker_name(0),
            batch: settings.batch.max(1),
            concurrency: usize::try_from(settings.connections.max(1)).unwrap_or(8),
            lease: settings.lease_timeout,
            retry: RetryPolicy {
                max_attempts: settings.max_attempts.max(1),
                base: settings.retry_after,
            },
            outbox: absolute_outbox(&settings.outbox),
            limit,
            sms,
            postal,
            now: None,
        })
    }
}

/// The mailer the settings describe.
pub fn mailer_for(settings: &DeliverySettings) -> anyhow::Result<Mailer> {
    Ok(Mailer::new(&MailerSettings {
        smtp_url: settings.smtp_url.clone(),
        outbox: absolute_outbox(&settings.outbox),
        pool_size: settings.connections.max(1),
        per_domain_rate: settings.rate_per_domain,
        timeout: Duration::from_secs(60),
        ca_file: settings.smtp_ca_file.clone(),
    })?)
}

/// The outbox folder as an absolute path: the paths recorded on the actions (read back by the
/// litigation file and the print batch) must not depend on the folder a command runs from.
fn absolute_outbox(outbox: &std::path::Path) -> PathBuf {
    std::path::absolute(outbox).unwrap_or_else(|_| outbox.to_path_buf())
}

/// `host:pid:n`: who holds a claim.
pub fn worker_name(n: usize) -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into());
    format!("{host}:{}:{n}", std::process::id())
}

/// What a dispatch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct DispatchReport {
    pub sent: usize,
    pub letters: usize,
    pub cancelled: usize,
    pub postponed: usize,
    pub deferred: usize,
    pub failed: usize,
    /// Flagged in doubt at the start (left in "sending" by a dispatcher that died).
    pub in_doubt: usize,
    /// Seconds spent in each phase (summed over batches): claim, load (customers, items,
    /// contacts), render, check (the last check and the move to sending), send, record.
    pub seconds: [f64; 6],
}

impl DispatchReport {
    pub fn add(&mut self, other: &DispatchReport) {
        self.sent += other.sent;
        self.letters += other.letters;
        self.cancelled += other.cancelled;
        self.postponed += other.postponed;
        self.deferred += other.deferred;
        self.failed += other.failed;
        self.in_doubt += other.in_doubt;
        for (a, b) in self.seconds.iter_mut().zip(other.seconds) {
            *a += b;
        }
    }

    /// Where the time went, phase by phase.
    pub fn timings(&self) -> String {
        let total: f64 = self.seconds.iter().sum();
        let names = ["claim", "load", "render", "check", "send", "record"];
        let parts: Vec<String> = names
            .iter()
            .zip(self.seconds)
            .map(|(n, s)| format!("{n} {s:.2} s ({:.0} %)", 100.0 * s / total.max(1e-9)))
            .collect();
        format!(
            "time by phase (summed over dispatchers): {}",
            parts.join(", ")
        )
    }

    pub fn summary(&self) -> String {
        format!(
            "{} sent ({} letters filed), {} cancelled (no longer owed), {} postponed (on hold), {} to retry later, {} failed{}",
            self.sent,
            self.letters,
            self.cancelled,
            self.postponed,
            self.deferred,
            self.failed,
            if self.in_doubt > 0 {
                format!(
                    "; {} in doubt (see `relance outbox list --in-doubt`)",
                    self.in_doubt
                )
            } else {
                String::new()
            }
        )
    }
}

/// A message ready to leave.
enum Prepared {
    Email(OutgoingEmail),
    /// A letter: filed as PDF, and handed to the postal provider when there is one.
    Letter {
        name: String,
        pdf: Vec<u8>,
        postal: Option<Box<PostalMessage>>,
    },
    Sms(HttpMessage),
}

/// Flags the rows in doubt, then sends batch after batch until nothing is due.
pub async fn dispatch(
    store: &Store,
    creditor: &CreditorRecord,
    mailer: Arc<Mailer>,
    options: &DispatchOptions,
) -> anyhow::Result<DispatchReport> {
    let mut report = DispatchReport {
        in_doubt: store
            .flag_in_doubt(creditor.id, options.lease, options.today)
            .await?
            .len(),
        ..Default::default()
    };
    // Without a sender address, e-mails stay in the outbox (planned) until one is set.
    let mut channels: Vec<&str> = SENDABLE_CHANNELS
        .iter()
        .copied()
        .filter(|c| *c != "email" || creditor.email.is_some())
        .collect();
    // SMS only inside the send window (08:00–20:00 creditor time, not on Sundays nor public
    // holidays): outside it they stay planned, and the next dispatch after the opening sends
    // them.
    if options.sms.is_some() {
        let now = options.now.unwrap_or_else(|| local_now(creditor));
        let calendar = BusinessCalendar::new(creditor.alsace_moselle);
        if within_send_window(now, &calendar) {
            channels.push("sms");
        } else {
            tracing::info!(
                creditor = %creditor.name,
                opens = %next_send_window(now, &calendar),
                "SMS wait for the send window"
            );
        }
    }
    if creditor.email.is_none() {
        tracing::warn!(
            creditor = %creditor.name,
            "e-mails are kept in the outbox: the company has no sender address (set one with `relance init --name … --email …`)"
        );
    }
    let templates = crate::templates_for(store, creditor.id).await?;
    let rates = crate::law_rates(store).await?;
    // The settings page's letterhead, sender and contractual rate.
    let letterhead = crate::letters::Letterhead::load(store, creditor).await?;
    let mut handled = 0usize;
    loop {
        let limit = match options.limit {
            Some(limit) if handled >= limit => break,
            Some(limit) => options.batch.min(limit - handled),
            None => options.batch,
        };
        let clock = std::time::Instant::now();
        let claimed = store
            .claim_due(
                creditor.id,
                &options.worker,
                options.today,
                limit,
                options.lease,
                &channels,
            )
            .await?;
        if claimed.is_empty() {
            break;
        }
        handled += claimed.len();
        report.seconds[0] += clock.elapsed().as_secs_f64();
        let batch = send_batch(
            store,
            creditor,
            &mailer,
            (&templates, &rates, &letterhead),
            options,
            claimed,
        )
        .await?;
        report.add(&batch);
    }
    Ok(report)
}

/// What "send now" did with one action.
#[derive(Debug, Clone, PartialEq)]
pub enum SendNow {
    /// Claimed and taken through the pipeline; the report says whether it left, was cancelled
    /// (nothing owed any more), postponed (on hold), deferred (a temporary error) or failed.
    Done(DispatchReport),
    /// Not claimable: not a planned e-mail due by today, or a dispatcher holds it right now.
    NotClaimable,
    /// The creditor has no sender address: e-mails stay in the outbox.
    NoSender,
}

/// Sends the one e-mail action `id` now, through the same steps as [`dispatch`] (claim with a
/// lease → render → last check → send → record): a person's "send now" from the work queue
/// instead of waiting for the scheduler's next check. The claim and the last check keep it
/// exactly once (a dispatcher running at the same moment skips the claimed row) and never for
/// an invoice paid or disputed meanwhile.
pub async fn dispatch_action(
    store: &Store,
    creditor: &CreditorRecord,
    mailer: Arc<Mailer>,
    options: &DispatchOptions,
    id: i64,
) -> anyhow::Result<SendNow> {
    if creditor.email.is_none() {
        return Ok(SendNow::NoSender);
    }
    // What rendering needs, before the claim: a failure here leaves the row unclaimed.
    let templates = crate::templates_for(store, creditor.id).await?;
    let rates = crate::law_rates(store).await?;
    let letterhead = crate::letters::Letterhead::load(store, creditor).await?;
    let clock = std::time::Instant::now();
    let Some(claimed) = store
        .claim_action(
            creditor.id,
            &options.worker,
            id,
            options.today,
            options.lease,
            &["email"],
        )
        .await?
    else {
        return Ok(SendNow::NotClaimable);
    };
    let claim_seconds = clock.elapsed().as_secs_f64();
    let mut report = send_batch(
        store,
        creditor,
        &mailer,
        (&templates, &rates, &letterhead),
        options,
        vec![claimed],
    )
    .await?;
    report.seconds[0] += claim_seconds;
    Ok(SendNow::Done(report))
}

async fn send_batch(
    store: &Store,
    creditor: &CreditorRecord,
    mailer: &Arc<Mailer>,
    rendering: Rendering<'_>,
    options: &DispatchOptions,
    claimed: Vec<ClaimedAction>,
) -> anyhow::Result<DispatchReport> {
    let mut report = DispatchReport::default();
    let mut clock = std::time::Instant::now();
    let mut lap = |report: &mut DispatchReport, phase: usize| {
        report.seconds[phase] += clock.elapsed().as_secs_f64();
        clock = std::time::Instant::now();
    };
    let customers: Vec<_> = claimed.iter().map(|a| a.customer_id).collect();
    let contexts = store.delivery_context(creditor.id, &customers).await?;
    lap(&mut report, 1);
    let followup_ids: Vec<i64> = claimed.iter().filter_map(|a| a.followup_id).collect();
    let followups = if followup_ids.is_empty() {
        HashMap::new()
    } else {
        store.followups_by_id(creditor.id, &followup_ids).await?
    };
    // The portal's key signs the portal link of every reminder and, under another domain
    // string, the unsubscribe link of commercial messages.
    let optout_key = crate::optout::optout_key(store).await?;
    let links = Links {
        base: crate::optout::public_url(),
        key: optout_key.clone(),
    };
    // The statements of account the batch's steps send along, one per customer, as of today.
    let mut statements: HashMap<i64, Result<Vec<u8>, String>> = HashMap::new();
    for action in claimed
        .iter()
        .filter(|a| a.attach_statement && a.followup_id.is_none() && a.channel != "sms")
    {
        let Some(context) = contexts.get(&action.customer_id) else {
            continue;
        };
        if statements.contains_key(&action.customer_id.0) {
            continue;
        }
        let pdf = crate::letters::statement_pdf(
            store,
            creditor,
            rendering.2,
            &context.customer.code,
            options.today,
        )
        .await
        .map_err(|e| format!("the statement of account: {e:#}"));
        statements.insert(action.customer_id.0, pdf);
    }
    // Suppliers' orders and invoices (kinds `supplier_delivery` and `supplier_invoice`).
    let order_ids: Vec<i64> = claimed
        .iter()
        .filter(|a| a.kind == relance_core::planner::supplier::DELIVERY_KIND)
        .filter_map(|a| a.supplier_document_id)
        .collect();
    let invoice_ids: Vec<i64> = claimed
        .iter()
        .filter(|a| a.kind == relance_core::planner::supplier::INVOICE_KIND)
        .filter_map(|a| a.supplier_document_id)
        .collect();
    let orders = if order_ids.is_empty() {
        HashMap::new()
    } else {
        store.purchase_orders_by_id(creditor.id, &order_ids).await?
    };
    let supplier_invoices = if invoice_ids.is_empty() {
        HashMap::new()
    } else {
        store
            .supplier_invoices_by_id(creditor.id, &invoice_ids)
            .await?
    };
    let calendar = relance_core::calendar::BusinessCalendar::new(creditor.alsace_moselle);
    let mut prepared: HashMap<i64, Result<Prepared, String>> = HashMap::new();
    for action in &claimed {
        if action.kind.starts_with("supplier_") {
            let message = match contexts.get(&action.customer_id) {
                None => Err(format!("supplier party {} not found", action.customer_id.0)),
                Some(context) => prepare_supplier_action(
                    creditor,
                    rendering.2,
                    context,
                    (&orders, &supplier_invoices),
                    action,
                    &calendar,
                    options,
                )
                .map_err(|e| format!("{e:#}")),
            };
            prepared.insert(action.id, message);
            continue;
        }
        let message = match (contexts.get(&action.customer_id), action.followup_id) {
            (Some(context), Some(id)) => match followups.get(&id) {
                Some(followup) => crate::followup::prepare_followup(
                    creditor,
                    context,
                    followup,
                    action,
                    &optout_key,
                    options.today,
                )
                .map(Prepared::Email)
                .map_err(|e| format!("{e:#}")),
                None => Err(format!("follow-up {id} not found")),
            },
            (Some(context), None) => prepare(
                creditor,
                context,
                rendering,
                &links,
                action,
                statements.get(&action.customer_id.0),
                options.today,
                options.postal.is_some(),
            )
            .map_err(|e| format!("{e:#}")),
            (None, _) => Err(format!("customer {} not found", action.customer_id.0)),
        };
        prepared.insert(action.id, message);
    }
    lap(&mut report, 2);
    let decisions = store
        .begin_sending(creditor.id, &options.worker, &claimed, options.today)
        .await?;
    lap(&mut report, 3);
    let by_id: HashMap<i64, &ClaimedAction> = claimed.iter().map(|a| (a.id, a)).collect();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(options.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (id, decision) in decisions {
        match decision {
            SendDecision::Cancelled(_) => report.cancelled += 1,
            SendDecision::Postponed(_) => report.postponed += 1,
            SendDecision::Lost => {}
            SendDecision::Send => {
                let Some(action) = by_id.get(&id).map(|a| (*a).clone()) else {
                    continue;
                };
                let message = prepared
                    .remove(&id)
                    .unwrap_or_else(|| Err("not rendered".into()));
                let mailer = Arc::clone(mailer);
                let semaphore = Arc::clone(&semaphore);
                let outbox = options.outbox.clone();
                let today = options.today;
                let providers = Providers {
                    sms: options.sms.clone(),
                    postal: options.postal.clone(),
                };
                tasks.spawn(async move {
                    let _permit = semaphore.acquire_owned().await;
                    let delivery = deliver(&mailer, &providers, &outbox, today, message).await;
                    (action, delivery)
                });
            }
        }
    }
    let mut outcomes = Vec::with_capacity(tasks.len());
    while let Some(done) = tasks.join_next().await {
        let (action, delivery) = done.context("a sending task panicked")?;
        if matches!(delivery, Delivery::Sent { .. }) && action.channel.contains("letter") {
            report.letters += 1;
        }
        outcomes.push((action, delivery));
    }
    outcomes.sort_by_key(|(a, _)| a.id);
    lap(&mut report, 4);
    let counts = store
        .record_deliveries(creditor.id, &outcomes, options.today, options.retry)
        .await?;
    lap(&mut report, 5);
    report.sent += counts.sent;
    report.deferred += counts.deferred;
    report.failed += counts.failed;
    Ok(report)
}

/// A supplier action's message: its order or invoice, rendered by [`crate::supplier`].
fn prepare_supplier_action(
    creditor: &CreditorRecord,
    letterhead: &crate::letters::Letterhead,
    context: &CustomerContext,
    (orders, invoices): (
        &HashMap<i64, relance_store::suppliers::PurchaseOrderRecord>,
        &HashMap<i64, relance_store::suppliers::SupplierInvoiceRecord>,
    ),
    action: &ClaimedAction,
    calendar: &relance_core::calendar::BusinessCalendar,
    options: &DispatchOptions,
) -> anyhow::Result<Prepared> {
    use crate::supplier::{SupplierDocument, SupplierMessage};
    let id = action
        .supplier_document_id
        .context("a supplier action without its document")?;
    let document = if action.kind == relance_core::planner::supplier::DELIVERY_KIND {
        SupplierDocument::Order(
            orders
                .get(&id)
                .with_context(|| format!("order {id} not found"))?,
        )
    } else {
        SupplierDocument::Invoice(
            invoices
                .get(&id)
                .with_context(|| format!("supplier invoice {id} not found"))?,
        )
    };
    let data = crate::supplier::supplier_data(
        creditor,
        letterhead,
        context,
        &document,
        action,
        calendar,
        options.today,
    )?;
    Ok(
        match crate::supplier::prepare_supplier(
            creditor,
            letterhead,
            context,
            &data,
            action,
            options.today,
        )? {
            SupplierMessage::Email(email) => Prepared::Email(email),
            SupplierMessage::Letter { name, pdf } => {
                let postal = if options.postal.is_some() {
                    let address = context.customer.address.trim();
                    anyhow::ensure!(
                        !address.is_empty(),
                        "supplier {} has no postal address",
                        data.supplier.customer_code
                    );
                    Some(Box::new(PostalMessage::new(
                        &context.customer.name,
                        address,
                        &creditor.name,
                        &creditor.address,
                        &action.channel,
                        &format!("{name}.pdf"),
                        &pdf,
                        &action.key,
                    )))
                } else {
                    None
                };
                Prepared::Letter { name, pdf, postal }
            }
        },
    )
}

/// The HTTP providers a message may go through.
struct Providers {
    sms: Option<Arc<HttpProvider>>,
    postal: Option<Arc<HttpProvider>>,
}

async fn deliver(
    mailer: &Mailer,
    providers: &Providers,
    outbox: &std::path::Path,
    today: NaiveDate,
    message: Result<Prepared, String>,
) -> Delivery {
    match message {
        Err(error) => Delivery::Permanent {
            error: format!("cannot prepare the message: {error}"),
            rejected_address: None,
        },
        Ok(Prepared::Email(email)) => match mailer.send(&email).await {
            SendOutcome::Sent { path } => Delivery::Sent {
                message_id: Some(email.message_id.clone()),
                document_sha256: relance_deliver::sha256_hex(&email.bytes),
                document_path: path.map(|p| p.display().to_string()),
                carrier_reference: None,
            },
            SendOutcome::Temporary(error) => Delivery::Temporary { error },
            SendOutcome::Permanent(error) => Delivery::Permanent {
                error,
                rejected_address: Some(email.to.clone()),
            },
        },
        Ok(Prepared::Sms(mut message)) => {
            let Some(provider) = providers.sms.as_deref() else {
                return Delivery::Temporary {
                    error: "no SMS provider configured (RELANCE_SMS_URL)".into(),
                };
            };
            if let Some(from) = provider.sender() {
                message.from = from.to_string();
            }
            match provider.send(&message).await {
                HttpOutcome::Sent { provider_id, body } => Delivery::Sent {
                    message_id: provider_id,
                    document_sha256: relance_deliver::sha256_hex(&body),
                    document_path: None,
                    carrier_reference: None,
                },
                HttpOutcome::Temporary(error) => Delivery::Temporary { error },
                // A 4xx says the request is wrong (a credential, a number the provider
                // refuses): recorded on the action, not on the customer's contact.
                HttpOutcome::Permanent(error) => Delivery::Permanent {
                    error,
                    rejected_address: None,
                },
            }
        }
        Ok(Prepared::Letter { name, pdf, postal }) => {
            // Our copy first: the litigation file and the fingerprint need it whoever posts.
            let (path, sha256) = match write_letter(outbox, today, &name, &pdf).await {
                Ok(written) => written,
                Err(e) => {
                    return Delivery::Temporary {
                        error: e.to_string(),
                    }
                }
            };
            let document_path = Some(path.display().to_string());
            let Some(postal) = postal else {
                return Delivery::Sent {
                    message_id: None,
                    document_sha256: sha256,
                    document_path,
                    carrier_reference: None,
                };
            };
            let Some(provider) = providers.postal.as_deref() else {
                return Delivery::Temporary {
                    error: "no postal provider configured (RELANCE_POSTAL_URL)".into(),
                };
            };
            match provider.send(postal.as_ref()).await {
                // No id in the answer: our reference (sent in the request) names it.
                HttpOutcome::Sent { provider_id, .. } => Delivery::Sent {
                    message_id: provider_id.clone(),
                    document_sha256: sha256,
                    document_path,
                    carrier_reference: Some(
                        provider_id.unwrap_or_else(|| postal.reference.clone()),
                    ),
                },
                HttpOutcome::Temporary(error) => Delivery::Temporary { error },
                // A 4xx: the provider refuses the request (an address it cannot post to, a
                // credential): recorded on the action for a person.
                HttpOutcome::Permanent(error) => Delivery::Permanent {
                    error,
                    rejected_address: None,
                },
            }
        }
    }
}

/// What a message is rendered with: the creditor's templates, the rate tables and the
/// settings page's letterhead.
/// Where the links in messages point, and the key that signs them.
struct Links {
    base: String,
    key: Vec<u8>,
}

type Rendering<'a> = (&'a Templates, &'a RateTable, &'a crate::letters::Letterhead);

/// Renders one action: the e-mail (with the letter attached from the second reminder on) or
/// the PDF letter; with the customer's statement of account when the step asks for it (an
/// attachment of the e-mail; the letter's last pages, posted in the same envelope).
#[allow(clippy::too_many_arguments)]
fn prepare(
    creditor: &CreditorRecord,
    context: &CustomerContext,
    (templates, rates, letterhead): Rendering<'_>,
    links: &Links,
    action: &ClaimedAction,
    statement: Option<&Result<Vec<u8>, String>>,
    today: NaiveDate,
    postal: bool,
) -> anyhow::Result<Prepared> {
    let step = StepId::parse(&action.step)
        .with_context(|| format!("no template for the step \"{}\"", action.step))?;
    let channel = Channel::parse(&action.channel)
        .with_context(|| format!("unknown channel \"{}\"", action.channel))?;
    // An SMS carries no attachment. Asked for and missing (several currencies, a store
    // error): the message does not leave without it; the error is recorded on the action.
    let statement: Option<&[u8]> = match (
        action.attach_statement && channel != Channel::Sms,
        statement,
    ) {
        (false, _) => None,
        (true, Some(Ok(pdf))) => Some(pdf),
        (true, Some(Err(e))) => anyhow::bail!("{e}"),
        (true, None) => anyhow::bail!("the statement of account was not prepared"),
    };
    let mut data = crate::letters::build_letter(
        creditor,
        &context.customer,
        &context.open_items,
        &context.contacts,
        step,
        channel,
        today,
        Some(&action.invoices),
        Some(rates),
    )?;
    letterhead.apply_to_letter(&mut data, Some(rates))?;
    data.portal_url = Some(crate::portal_link::link(
        &links.base,
        &links.key,
        creditor.id.0,
        &context.customer.code,
        today,
    ));
    if channel == Channel::Sms {
        let to = context
            .customer
            .phones
            .first()
            .filter(|p| !p.trim().is_empty())
            .cloned()
            .with_context(|| format!("{} has no phone number", context.customer.code))?;
        return Ok(Prepared::Sms(HttpMessage {
            to,
            from: options_from(creditor),
            // The step's `sms` template (per step and language, editable like the others).
            text: templates.render(Part::Sms, &data)?,
            reference: action.key.clone(),
        }));
    }
    if channel != Channel::Email {
        let letter = render_letter_pdf(&data, templates)?;
        // One envelope: the statement's pages follow the letter's in the one document that is
        // filed, printed in the day's batch and handed to the postal provider.
        let pdf = match statement {
            Some(statement) => relance_render::concat_pdfs(&[&letter, statement])?,
            None => letter,
        };
        let name = format!(
            "{}-{}-{}-{}",
            action.id, context.customer.code, action.step, action.channel
        );
        let postal = if postal {
            let address = context.customer.address.trim();
            anyhow::ensure!(
                !address.is_empty(),
                "{} has no postal address",
                context.customer.code
            );
            Some(Box::new(PostalMessage::new(
                &context.customer.name,
                address,
                &creditor.name,
                &creditor.address,
                &action.channel,
                &format!("{name}.pdf"),
                &pdf,
                &action.key,
            )))
        } else {
            None
        };
        return Ok(Prepared::Letter { name, pdf, postal });
    }
    let settings = &letterhead.settings;
    let from = settings
        .smtp_from
        .clone()
        .or_else(|| creditor.email.clone())
        .context(
            "the creditor has no e-mail address: set one with `relance init --name … --email …`",
        )?;
    let to = context
        .customer
        .emails
        .first()
        .cloned()
        .with_context(|| format!("{} has no e-mail address", context.customer.code))?;
    let message = templates.render_message(&data)?;
    let mut attachments = if matches!(
        step,
        StepId::SecondReminder | StepId::FormalNotice | StepId::Litigation
    ) {
        vec![(
            format!("{}-{}.pdf", step.as_str(), context.customer.code),
            "application/pdf".to_string(),
            render_letter_pdf(&data, templates)?,
        )]
    } else {
        Vec::new()
    };
    if let Some(statement) = statement {
        attachments.push((
            crate::letters::statement_file_name(&context.customer),
            "application/pdf".to_string(),
            statement.to_vec(),
        ));
    }
    let domain = from.rsplit('@').next().unwrap_or("relance.invalid");
    let message_id = format!(
        "relance.{}.{}@{domain}",
        action.id,
        &relance_deliver::sha256_hex(action.key.as_bytes())[..16]
    );
    let envelope = EmailEnvelope {
        from_name: creditor.name.clone(),
        from_address: from.clone(),
        reply_to: Some(
            settings
                .smtp_reply_to
                .clone()
                .unwrap_or_else(|| from.clone()),
        ),
        to_name: context.customer.name.clone(),
        to_address: to.clone(),
        date: chrono::Utc::now().fixed_offset(),
        message_id: message_id.clone(),
        attachments,
        list_unsubscribe: None,
    };
    let bytes = build_email(&envelope, &message)?;
    Ok(Prepared::Email(OutgoingEmail {
        from,
        to,
        message_id,
        day: today,
        bytes,
    }))
}

/// The creditor's local time now.
fn local_now(creditor: &CreditorRecord) -> NaiveDateTime {
    let tz: chrono_tz::Tz = creditor
        .time_zone
        .parse()
        .unwrap_or(chrono_tz::Europe::Paris);
    chrono::Utc::now().with_timezone(&tz).naive_local()
}

/// The sender given to the SMS provider's templates: the creditor's name.
fn options_from(creditor: &CreditorRecord) -> String {
    creditor.name.clone()
}
