//! The command-line contract (see DESIGN.md, "Interfaces that users and tests rely on").

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// relance — receivables follow-up: knows every open invoice, reminds each customer at the right
/// moment, stops when a payment lands, and shows where the cash is.
#[derive(Debug, Parser)]
#[command(name = "relance", version, about, long_about = None)]
pub struct Cli {
    /// Database: sqlite://FILE (default, created and migrated) or postgres://USER@HOST/DB.
    #[arg(
        long,
        global = true,
        env = "RELANCE_DATABASE_URL",
        default_value = "sqlite://relance.db",
        hide_env_values = true
    )]
    pub database_url: String,

    /// The creditor (company) to act for, by name or id, when the database holds several.
    #[arg(long, global = true, env = "RELANCE_CREDITOR")]
    pub creditor: Option<String>,

    /// More logs on stderr (-v, -vv); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Set up (or update) the creditor: the company that is owed money.
    ///
    /// Example: relance init --name "Atelier Dupont SAS" --siren 552100554 --iban FR7630006000011234567890189
    Init(InitArgs),
    /// Load realistic French demo data (a company, customers, a year of invoices and payments)
    /// and print the aged balance.
    ///
    /// Example: relance demo --customers 50 --invoices 500 --seed 7
    Demo(DemoArgs),
    /// Import invoices or payments from a file (all-or-nothing).
    #[command(subcommand)]
    Import(ImportCommand),
    /// Plan and carry out the reminders of a day: each case due takes at most one step.
    /// Running the same day again does nothing.
    ///
    /// Example: relance run --as-of 2026-03-11 --dry-run --json
    Run(RunArgs),
    /// Send the due messages of the outbox (e-mails over SMTP or as .eml files, letters as PDF
    /// files), each exactly once; calls and tasks are left to collectors.
    ///
    /// Example: RELANCE_SMTP_URL=smtp://user:pass@mail.example.fr:587?tls=required relance send
    Send(SendArgs),
    /// The outbox: list its messages (those in doubt after a crash, the failed ones), put one
    /// back to send, or cancel one.
    ///
    /// Example: relance outbox list --in-doubt
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// Letters for the post office: the day's print batch (one PDF in postal order, with a cover
    /// list), the list of registered letters to post, and the registered-letter number and
    /// acknowledgement of receipt when the post office gives them.
    ///
    /// Example: relance letter batch --on 2026-03-11 --out lot-2026-03-11.pdf
    #[command(subcommand)]
    Letter(LetterCommand),
    /// Record a promise to pay: the customer's case pauses until the business day after DATE.
    ///
    /// Example: relance promise F-2026-001 --on 2026-03-20 --amount 600
    Promise(PromiseArgs),
    /// Record a dispute on an invoice: it is not chased until resolved.
    ///
    /// Example: relance dispute F-2026-001 --reason "delivery incomplete"
    Dispute(DisputeArgs),
    /// Resolve the open dispute on an invoice: it is chased again.
    ///
    /// Example: relance resolve F-2026-001 --at 2026-03-12
    Resolve(ResolveArgs),
    /// Put a customer on hold: nothing is sent to them until DATE.
    ///
    /// Example: relance hold C001 --until 2026-04-01 --reason "payment plan being negotiated"
    Hold(HoldArgs),
    /// Reports: aged balance, invoice list, cases, timeline, penalties, prescription, cash
    /// forecast, DSO, what works (steps) and payer scores.
    ///
    /// Example: relance report aging --as-of 2026-03-31 --format csv
    /// Example: relance report forecast --weeks 8 --format json
    Report(ReportArgs),
    /// Export invoices, payments, reminder actions or the aged balance to a file: CSV, JSON lines
    /// or an Excel workbook (by --format, else by the file's extension).
    ///
    /// Example: relance export aging --as-of 2026-03-31 --out balance-agee.xlsx
    Export(ExportArgs),
    /// Apply pending database migrations (also done at every start).
    Migrate,
    /// Copy the SQLite database to FILE while it is in use (consistent online copy).
    ///
    /// Example: relance backup relance-2026-03-31.db
    Backup {
        /// Where to write the copy; must not exist.
        file: PathBuf,
    },
    /// The reconciliation queue: bank credits no rule could match with confidence. Lists them, or
    /// confirms one as a customer's payment (and learns the payer's IBAN for next time).
    ///
    /// Example: relance reconcile --confirm 42 --customer C001 --invoice F-2026-0042
    Reconcile(ReconcileArgs),
    /// The rate tables of the late-payment law: show them, or import a newer file (TOML, the
    /// format of the built-in table) so that a new half-year needs no new release.
    ///
    /// Example: relance rates import taux-2026-S2.toml
    #[command(subcommand)]
    Rates(RatesCommand),
    /// Follow-up policies: list, show, export or import them (TOML or JSON, to version them), and
    /// assign one to a customer.
    ///
    /// Example: relance policy export --out policies.toml
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Waive the late-payment penalties and indemnity of an invoice, with a reason.
    ///
    /// Example: relance waive F-2026-0042 --reason "geste commercial, accord du 12/03"
    Waive {
        /// The invoice number.
        invoice: String,
        /// Why (kept on the customer's timeline).
        #[arg(long)]
        reason: String,
        /// The day of the decision (default: today).
        #[arg(long)]
        at: Option<chrono::NaiveDate>,
    },
    /// Late-payment penalties the law allows on one amount (L441-10, D441-5; Code civil 1231-6).
    ///
    /// Example: relance penalties --amount 10000 --due 2025-05-15 --as-of 2025-08-20 --json
    Penalties(PenaltiesArgs),
    /// Preview one message as the customer would get it: the PDF letter, the e-mail (.eml, with
    /// the letter attached) or its HTML part.
    ///
    /// Example: relance render --customer C001 --step formal_notice --as-of 2026-04-01 --out mise-en-demeure.pdf
    Render(RenderArgs),
    /// Call tasks for collectors: who to call, the call script, the customer's last call.
    ///
    /// Example: relance tasks --today
    Tasks(TasksArgs),
    /// Record the outcome of a call; a promise pauses the case, a dispute takes the invoice
    /// out, "paid" waits five business days for the bank statement.
    ///
    /// Example: relance call C001 --outcome promised --on 2026-03-20 --amount 600 --note "paiement en 2 fois"
    Call(CallArgs),
    /// The litigation file of a customer: the claim (principal, penalties, indemnity, interest),
    /// the chronology of every reminder, call and promise, the documents with their SHA-256, and
    /// a draft of the request that fits the amount (small claims up to 5,000 €, else injonction
    /// de payer). One PDF, or a folder with the PDF, the claim as JSON and the copies.
    ///
    /// Example: relance litigation C001 --out dossier-C001.pdf
    Litigation(LitigationArgs),
    /// Message templates: the built-in ones and the creditor's overrides (validated when saved,
    /// kept with their history), and previews on sample data.
    ///
    /// Example: relance template set first_reminder --channel letter --lang fr --file relance1.txt
    #[command(subcommand)]
    Template(TemplateCommand),
    /// Measure performance on generated data.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Serve the web application (dashboard, customers, debtor portal, JSON API) and run each
    /// day's reminders at --run-at. With --demo on an empty database, loads the demo data and
    /// prints the address and a demo login.
    ///
    /// Example: relance serve --demo --bind 127.0.0.1:8080
    Serve(ServeArgs),
    /// Users of the web application.
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens (for `Authorization: Bearer …` on /api).
    #[command(subcommand)]
    Token(TokenCommand),
    /// The debtor portal: signed, expiring links to a customer's page.
    #[command(subcommand)]
    Portal(PortalCommand),
    /// Quotes followed up by the daily run (a reminder after 3 business days, a call task
    /// after 7, a last message before the validity ends): record the customer's decision.
    ///
    /// Example: relance quote accept DV-2026-014
    #[command(subcommand)]
    Quote(QuoteCommand),
    /// Prospects followed up by the daily run (the next business day, 7–10 days later, then a
    /// call task), until they answer or opt out.
    ///
    /// Example: relance prospect add P-017 --name "Durand SARL" --email contact@durand.example --met-on 2026-04-09
    #[command(subcommand)]
    Prospect(ProspectCommand),
    /// A contact's answer or opt-out: an answer stops their prospect and reactivation
    /// follow-ups; an opt-out stops every commercial message at once (reminders of unpaid
    /// invoices go on).
    ///
    /// Example: relance contact optout P-017
    #[command(subcommand)]
    Contact(ContactCommand),
    /// Suppliers' purchase orders chased by the daily run (a message the next business day
    /// after the promised date, a second one, then a registered mise en demeure): record a
    /// delivery, which stops the chase.
    ///
    /// Example: relance supplier delivered BC-2026-031 --on 2026-03-12
    #[command(subcommand)]
    Supplier(SupplierCommand),
}

#[derive(Debug, Subcommand)]
pub enum SupplierCommand {
    /// The order was delivered: its chase stops and its planned messages are cancelled.
    Delivered {
        /// The purchase order's number.
        po: String,
        /// The day of delivery (default: today).
        #[arg(long)]
        on: Option<chrono::NaiveDate>,
    },
}

#[derive(Debug, Subcommand)]
pub enum QuoteCommand {
    /// The quote was accepted: its follow-up stops.
    Accept {
        /// The quote's number.
        quote: String,
        /// The day (default: today).
        #[arg(long)]
        at: Option<chrono::NaiveDate>,
    },
    /// The quote was refused: its follow-up stops.
    Refuse {
        quote: String,
        #[arg(long)]
        at: Option<chrono::NaiveDate>,
    },
    /// Every follow-up (quotes, prospects, dormant customers) with its status.
    List {
        /// Only this customer's.
        #[arg(long)]
        customer: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProspectCommand {
    /// Start following a prospect met on a day (the contact is created when the code is new).
    Add {
        /// The contact's code.
        code: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        email: Option<String>,
        /// fr or en.
        #[arg(long)]
        language: Option<String>,
        /// The day of the first contact (default: today).
        #[arg(long)]
        met_on: Option<chrono::NaiveDate>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ContactCommand {
    /// The contact answered: their prospect and reactivation follow-ups stop.
    Reply {
        customer: String,
        #[arg(long)]
        at: Option<chrono::NaiveDate>,
    },
    /// The contact wants no more commercial messages (recorded at once).
    Optout {
        customer: String,
        #[arg(long)]
        at: Option<chrono::NaiveDate>,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: std::net::SocketAddr,
    /// On an empty database: load the demo data and create a demo administrator.
    #[arg(long)]
    pub demo: bool,
    /// Local time (HH:MM, each creditor's time zone) of the daily run.
    #[arg(long, default_value = "06:00")]
    pub run_at: chrono::NaiveTime,
    /// Do not run the daily reminders from the server.
    #[arg(long)]
    pub no_scheduler: bool,
    /// Plan the daily reminders but send nothing from the server (`relance send` will).
    #[arg(long)]
    pub no_send: bool,
    #[command(flatten)]
    pub delivery: DeliveryArgs,
    /// Mark cookies Secure: set it when users reach the server over https (behind a proxy).
    #[arg(long, env = "RELANCE_SECURE_COOKIES")]
    pub secure_cookies: bool,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user. Collectors and viewers see the creditor given with --creditor (or the only
    /// one); admins see them all. The password is read from stdin or generated and printed.
    ///
    /// Example: relance user add --email anne@example.fr --role collector --creditor "Atelier Dupont SAS"
    Add {
        #[arg(long)]
        email: String,
        #[arg(long, value_enum)]
        role: UserRole,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UserRole {
    Admin,
    Collector,
    Viewer,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user; it is printed once (only its hash is stored).
    ///
    /// Example: relance token create --email anne@example.fr
    Create {
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PortalCommand {
    /// Print a signed link to a customer's portal page, valid for --days days.
    ///
    /// Example: relance portal link C001 --base-url https://relance.example.fr
    Link {
        /// The customer's code.
        customer: String,
        #[arg(long, default_value_t = 30)]
        days: u64,
        /// The server's public address.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        base_url: String,
    },
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Legal name of the company.
    #[arg(long)]
    pub name: String,
    /// SIREN (nine digits).
    #[arg(long)]
    pub siren: Option<String>,
    /// IBAN for payments by transfer.
    #[arg(long)]
    pub iban: Option<String>,
    /// BIC of the bank.
    #[arg(long)]
    pub bic: Option<String>,
    /// Postal address; separate lines with " / " or newlines.
    #[arg(long)]
    pub address: Option<String>,
    /// E-mail address reminders are sent from and replies go to.
    #[arg(long)]
    pub email: Option<String>,
    /// IANA time zone of the company (dates are read in it).
    #[arg(long)]
    pub time_zone: Option<String>,
    /// The company is in Alsace-Moselle (Good Friday and 26 December are holidays).
    #[arg(long)]
    pub alsace_moselle: bool,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// The policies in the order they are tried.
    List,
    /// One policy's steps, delays and channels.
    Show {
        /// The policy id.
        id: String,
    },
    /// Write policies as TOML (default) or JSON.
    ///
    /// Example: relance policy export standard_b2b --format json --out standard.json
    Export {
        /// Only this policy.
        id: Option<String>,
        #[arg(long, value_enum, default_value_t = PolicyFormat::Toml)]
        format: PolicyFormat,
        /// Write to this file instead of the standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Add or replace policies from a TOML or JSON file (one policy, or `policies = [...]`).
    ///
    /// Example: relance policy import policies.toml
    Import { file: PathBuf },
    /// Make a customer follow a policy (or, without one, the first whose conditions fit), and
    /// set the customer's tags (segments).
    ///
    /// Example: relance policy assign C001 gentle --tag vip
    Assign {
        customer: String,
        policy: Option<String>,
        /// A tag; repeat for several. Without --tag the tags are left as they are.
        #[arg(long = "tag")]
        tags: Vec<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PolicyFormat {
    Toml,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum RatesCommand {
    /// Print the rates in force: ECB changes and the legal interest rate by half-year.
    Show,
    /// Validate and keep a TOML rate file; later computations use it.
    ///
    /// Example: relance rates import taux-2026-S2.toml
    Import {
        /// The TOML file.
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The customer's code.
    #[arg(long)]
    pub customer: String,
    /// courtesy_notice, first_reminder, phone_call, second_reminder, formal_notice or litigation.
    #[arg(long, required_unless_present = "statement")]
    pub step: Option<String>,
    /// Render the customer's statement of account (relevé de compte, PDF) instead of a message.
    #[arg(long, conflicts_with_all = ["step", "attach_statement"])]
    pub statement: bool,
    /// Attach the statement of account to the e-mail (.eml), next to the letter.
    #[arg(long)]
    pub attach_statement: bool,
    /// The day the message is dated (default: today).
    #[arg(long)]
    pub as_of: Option<chrono::NaiveDate>,
    /// The file to write: .pdf, .eml or .html (.pdf only with --statement).
    #[arg(long)]
    pub out: PathBuf,
}

/// Which template: a step, the message it belongs to, a language and a part.
#[derive(Debug, Args)]
pub struct TemplateTarget {
    /// courtesy_notice, first_reminder, phone_call, second_reminder, formal_notice or litigation.
    pub step: String,
    /// The message: email, sms, or letter (registered_letter, registered_letter_ar, phone_call
    /// and task render as letters too).
    #[arg(long, default_value = "letter")]
    pub channel: String,
    /// fr or en.
    #[arg(long, default_value = "fr")]
    pub lang: String,
    /// Which part: body (the content, shared by the letter and both e-mail parts; the
    /// default), subject, letter (letter channels), text or html (e-mail), sms (the SMS's
    /// text, the default with --channel sms).
    #[arg(long, default_value = "body")]
    pub part: String,
}

#[derive(Debug, Subcommand)]
pub enum TemplateCommand {
    /// Every template, built-in or overridden (with its version).
    List,
    /// The variables and filters a template can use.
    Variables,
    /// The source in force of a template; --history lists its saved versions.
    ///
    /// Example: relance template show formal_notice --channel letter --lang fr
    Show {
        #[command(flatten)]
        target: TemplateTarget,
        #[arg(long)]
        history: bool,
    },
    /// Save a new version of a template, refused unless it renders on sample data (unknown
    /// variable, syntax error, sandbox escape, endless loop).
    Set {
        #[command(flatten)]
        target: TemplateTarget,
        /// The source (minijinja).
        #[arg(long)]
        file: PathBuf,
        /// A note kept in the history.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Go back to the built-in template (a version of its own in the history).
    Reset {
        #[command(flatten)]
        target: TemplateTarget,
    },
    /// Render a template on sample data to a file (.pdf, .html or .eml): the one in force, or
    /// the unsaved source of --file.
    ///
    /// Example: relance template preview formal_notice --file draft.txt --out preview.pdf
    Preview {
        #[command(flatten)]
        target: TemplateTarget,
        /// An unsaved source to try instead of the one in force.
        #[arg(long)]
        file: Option<PathBuf>,
        /// The sample debtor: business or consumer.
        #[arg(long, default_value = "business")]
        debtor: String,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// The payment (its id in the list) to confirm.
    #[arg(long, requires = "customer")]
    pub confirm: Option<i64>,
    /// The customer who paid.
    #[arg(long)]
    pub customer: Option<String>,
    /// The invoice to settle first (else the oldest open ones).
    #[arg(long, requires = "confirm")]
    pub invoice: Option<String>,
    /// Output format of the list.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct PenaltiesArgs {
    /// The late principal, e.g. 1200.00 or "1 200,00".
    #[arg(long)]
    pub amount: String,
    /// Currency of the amount.
    #[arg(long, default_value = "EUR")]
    pub currency: String,
    /// Due date of the invoice.
    #[arg(long)]
    pub due: chrono::NaiveDate,
    /// Day of payment, or the day the computation stops.
    #[arg(long)]
    pub as_of: chrono::NaiveDate,
    /// business (L441-10) or consumer (legal interest from the formal notice).
    #[arg(long, default_value = "business")]
    pub kind: String,
    /// Date of the formal notice (mise en demeure); consumer interest runs from the day after.
    #[arg(long)]
    pub formal_notice: Option<chrono::NaiveDate>,
    /// Contractual penalty rate in percent per year (default: ECB rate + 10 points).
    #[arg(long)]
    pub rate: Option<String>,
    /// A partial payment, DATE=AMOUNT; repeat for several.
    #[arg(long = "payment")]
    pub payments: Vec<String>,
    /// A TOML file of newer rates to add to the built-in tables.
    #[arg(long)]
    pub rates: Option<PathBuf>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// `relance run --dormant-months` unless given (the bench plans with it too).
pub const DEFAULT_DORMANT_MONTHS: u32 = 6;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The day to run (default: today in the company's time zone).
    #[arg(long)]
    pub as_of: Option<chrono::NaiveDate>,
    /// Show what the run would do, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// One JSON object per action and channel, one per line.
    #[arg(long)]
    pub json: bool,
    /// Plan every case, not only those due (slower; gives the same result).
    #[arg(long)]
    pub full: bool,
    /// Plan only: leave the messages in the outbox for `relance send`.
    #[arg(long)]
    pub no_send: bool,
    /// Months without an invoice before a customer gets a reactivation message (or twice
    /// their usual ordering interval, whichever is longer).
    #[arg(long, default_value_t = DEFAULT_DORMANT_MONTHS)]
    pub dormant_months: u32,
    #[command(flatten)]
    pub delivery: DeliveryArgs,
}

#[derive(Debug, Args)]
pub struct PromiseArgs {
    /// The invoice number the promise was made about.
    pub invoice: String,
    /// The day the customer promised to pay by.
    #[arg(long = "on")]
    pub on: chrono::NaiveDate,
    /// The amount promised (default: the invoice's open amount).
    #[arg(long)]
    pub amount: Option<String>,
    /// The day the promise was made (default: today).
    #[arg(long)]
    pub at: Option<chrono::NaiveDate>,
}

#[derive(Debug, Args)]
pub struct DisputeArgs {
    /// The invoice number.
    pub invoice: String,
    /// What the customer contests.
    #[arg(long)]
    pub reason: String,
    /// The day the dispute was raised (default: today).
    #[arg(long)]
    pub at: Option<chrono::NaiveDate>,
}

#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// The invoice number.
    pub invoice: String,
    /// The day the dispute was resolved (default: today).
    #[arg(long)]
    pub at: Option<chrono::NaiveDate>,
}

#[derive(Debug, Args)]
pub struct HoldArgs {
    /// The customer's code.
    pub customer: String,
    /// The first day reminders may go out again.
    #[arg(long)]
    pub until: chrono::NaiveDate,
    /// Why (kept on the timeline).
    #[arg(long)]
    pub reason: String,
    /// The day the hold starts (default: today).
    #[arg(long)]
    pub at: Option<chrono::NaiveDate>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of customers.
    #[arg(long, default_value_t = 50)]
    pub customers: usize,
    /// Number of invoices over the last twelve months.
    #[arg(long, default_value_t = 500)]
    pub invoices: usize,
    /// Seed: the same seed gives the same data.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// The day the demo is built around (default: today in the company's time zone).
    #[arg(long)]
    pub as_of: Option<chrono::NaiveDate>,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import invoices and credit notes: CSV (columns found by name, in English or French), UBL 2.1
    /// or UN/CEFACT CII e-invoices, Factur-X / ZUGFeRD PDFs (the embedded CII), an Excel workbook (.xlsx, the CSV's columns), or a FEC (customer accounts 411). Several files or folders are imported together, all or nothing.
    ///
    /// Example: relance import invoices export-mars.csv factures-recues/
    Invoices {
        /// The files or folders to import.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// File format (detected when omitted).
        #[arg(long, value_enum)]
        format: Option<InvoiceFormat>,
        /// Payment term in days for files without due dates (FEC).
        #[arg(long, default_value_t = 30)]
        default_term: i64,
    },
    /// Import payments: a CSV, or a bank statement (camt.053, CFONB 120, OFX) whose credits are
    /// matched to customers and invoices; what no rule matches waits in `relance reconcile`.
    ///
    /// Example: relance import payments releve-mars.csv
    Payments {
        /// The file to import.
        file: PathBuf,
        /// File format (detected when omitted).
        #[arg(long, value_enum)]
        format: Option<PaymentFormat>,
    },
    /// Import quotes sent (CSV with the invoices' rules: customer_id|code client,
    /// quote_number|numéro de devis, sent_date|date d'envoi, valid_until|validité,
    /// amount|montant TTC, and optionally customer_name, email, currency); all or nothing.
    /// Each is followed up by the daily run.
    ///
    /// Example: relance import quotes devis-avril.csv
    Quotes {
        /// The file to import.
        file: PathBuf,
    },
    /// Import purchase orders (CSV with the invoices' rules: supplier_id|code fournisseur,
    /// po_number|numéro de commande, order_date|date de commande, promised_date|date de
    /// livraison promise, amount|montant TTC, quantity|quantité, and optionally supplier_name,
    /// email, address (lines split by `|`), currency, delivered_date|date de réception,
    /// language|langue (fr, en: the supplier's letters)); all
    /// or nothing. A late delivery is chased by the daily run.
    ///
    /// Example: relance import purchase-orders commandes.csv
    PurchaseOrders {
        /// The file to import.
        file: PathBuf,
    },
    /// Import supplier invoices (CSV: supplier_id|code fournisseur, invoice_number|numéro de
    /// facture, invoice_date|date de facture, amount|montant TTC, and optionally
    /// po_number|numéro de commande, quantity|quantité, currency); all or nothing. The daily
    /// run checks each against its order and sends one dispute letter listing what differs.
    ///
    /// Example: relance import supplier-invoices factures-fournisseurs.csv
    SupplierInvoices {
        /// The file to import.
        file: PathBuf,
    },
    /// Import prospects met (CSV with the invoices' rules: name|nom,
    /// first_contact|premier contact, and optionally email, phone|téléphone, notes|objet,
    /// language|langue, contact_id|code contact — without one, the e-mail or else the phone
    /// names the contact); all or nothing. Each is followed up by the daily run.
    ///
    /// Example: relance import prospects salon-lyon.csv
    Prospects {
        /// The file to import.
        file: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum InvoiceFormat {
    Csv,
    Ubl,
    Cii,
    Fec,
    Xlsx,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PaymentFormat {
    Csv,
    Camt053,
    Cfonb120,
    Ofx,
    Xlsx,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Which report.
    #[arg(value_enum)]
    pub kind: ReportKind,
    /// The policy (by id) whose experiments `report experiment` compares.
    pub policy: Option<String>,
    /// The day the report is computed for (default: today).
    #[arg(long)]
    pub as_of: Option<chrono::NaiveDate>,
    /// Only this customer (by code).
    #[arg(long)]
    pub customer: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Only items with an open amount (invoices report).
    #[arg(long)]
    pub open: bool,
    /// Forecast: weeks shown from this week on (later payments are summed on one line).
    #[arg(long, default_value_t = 13)]
    pub weeks: u32,
    /// DSO: months shown, up to the current one.
    #[arg(long, default_value_t = 12)]
    pub months: u32,
    /// DSO: one line per month (with the trend), per customer or per segment (first tag);
    /// forecast: per week, or per invoice.
    #[arg(long, value_enum, default_value_t = ReportBy::Default)]
    pub by: ReportBy,
    /// Language of the explanations (scores, experiment verdicts): en or fr.
    #[arg(long, default_value = "en")]
    pub lang: String,
}

/// How a cash report groups its lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportBy {
    /// The report's natural grouping (weeks for the forecast, months for the DSO).
    Default,
    Week,
    Month,
    Invoice,
    Customer,
    Segment,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportKind {
    Aging,
    Invoices,
    Cases,
    Timeline,
    /// Penalties and indemnities claimable on late invoices (paid late or still open).
    Penalties,
    /// Open invoices whose claim is prescribed or will be within 90 days (5 years between
    /// businesses, Code de commerce L110-4; 2 years against a consumer, Code de la consommation L218-2).
    Prescription,
    /// Expected cash-in per ISO week (low/expected/high), each open invoice's payment date
    /// predicted from its customer's history (`--weeks`, `--by invoice`).
    Forecast,
    /// Days sales outstanding per month, count-back and simple methods, with the trend
    /// (`--months`, `--by customer|segment`).
    Dso,
    /// Per policy step: share of cases paid within 7 and 14 days after it, median days to payment.
    Steps,
    /// Each customer's payer score (0–100), grade (A–E) and why (`--lang fr`).
    Scores,
    /// Purchase orders not delivered (the latest first, with the last chase step) and supplier
    /// invoices disputed or not checked yet (with their discrepancies).
    Suppliers,
    /// `report experiment POLICY`: each experiment of the policy, variant A against B — share
    /// paid within 14 days and days to payment, with intervals, and a verdict (`--lang fr`).
    Experiment,
}

/// How messages leave (shared by `run` and `send`).
#[derive(Debug, Clone, Args)]
pub struct DeliveryArgs {
    /// SMTP server: smtp://[user:pass@]host[:port], smtps://… (TLS), smtp://…?tls=required
    /// (STARTTLS). Unset: e-mails are written as .eml files under OUTBOX/mail.
    #[arg(long, env = "RELANCE_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// A PEM certificate authority trusted for the SMTP server's certificate (a private CA or a
    /// self-signed server), besides the usual roots.
    #[arg(long, env = "RELANCE_SMTP_CA_FILE")]
    pub smtp_ca_file: Option<PathBuf>,
    /// The outbox folder: letters (OUTBOX/letters/DAY/*.pdf), and e-mails without SMTP.
    #[arg(long, env = "RELANCE_OUTBOX", default_value = "outbox")]
    pub outbox: PathBuf,
    /// At most this many messages per second to one recipient domain (0: no limit).
    #[arg(long, env = "RELANCE_SMTP_RATE_PER_DOMAIN", default_value_t = 0.0)]
    pub rate_per_domain: f64,
    /// SMTP connections kept open and messages sent at once.
    #[arg(long, env = "RELANCE_SMTP_POOL", default_value_t = 8)]
    pub connections: u32,
    /// Seconds after which a claim may be taken over, and a message left in "sending" is
    /// flagged in doubt (its dispatcher died between sending and recording).
    #[arg(long, default_value_t = 300)]
    pub lease_timeout: u64,
    /// Seconds before the second attempt after a temporary error (doubled at each attempt).
    #[arg(long, default_value_t = 300)]
    pub retry_after: u64,
    /// Attempts before a temporarily failing message is marked failed.
    #[arg(long, default_value_t = 6)]
    pub max_attempts: i64,
    /// Messages claimed and recorded per transaction.
    #[arg(long, default_value_t = 200)]
    pub batch: usize,
    /// SMS provider (generic HTTP adapter): the URL requests go to, a template
    /// (`{{ to }}`, `{{ from }}`, `{{ text }}`, `{{ reference }}`; filters `json`, `urlencode`).
    /// Unset: SMS stay planned in the outbox.
    #[arg(long, env = "RELANCE_SMS_URL", hide_env_values = true)]
    pub sms_url: Option<String>,
    /// HTTP method of the SMS provider.
    #[arg(long, env = "RELANCE_SMS_METHOD", default_value = "POST")]
    pub sms_method: String,
    /// A header of the SMS requests, `Name: value` (a template); repeat the flag, or put one per
    /// line in RELANCE_SMS_HEADERS. Default: `Content-Type: application/json`.
    #[arg(
        long = "sms-header",
        env = "RELANCE_SMS_HEADERS",
        value_delimiter = '\n',
        hide_env_values = true
    )]
    pub sms_headers: Vec<String>,
    /// The body of the SMS requests (a template). Default: JSON with to, from, text, reference.
    #[arg(long, env = "RELANCE_SMS_BODY")]
    pub sms_body: Option<String>,
    /// The sender of the SMS (`{{ from }}`; default: the company's name).
    #[arg(long, env = "RELANCE_SMS_FROM")]
    pub sms_from: Option<String>,
    /// Seconds allowed for an SMS provider's answer (no answer: retried later).
    #[arg(long, env = "RELANCE_SMS_TIMEOUT", default_value_t = 30)]
    pub sms_timeout: u64,
    /// Postal provider (generic HTTP adapter): letters are filed as PDF and handed to it
    /// (a template: `{{ to }}`, `{{ address_lines }}`, `{{ postcode }}`, `{{ city }}`,
    /// `{{ registered }}`, `{{ acknowledgement }}`, `{{ pdf_base64 }}`, `{{ reference }}`…);
    /// its answer's id is recorded as the letter's reference. Unset: letters go to the print
    /// batch (`relance letter batch`).
    #[arg(long, env = "RELANCE_POSTAL_URL", hide_env_values = true)]
    pub postal_url: Option<String>,
    /// HTTP method of the postal provider.
    #[arg(long, env = "RELANCE_POSTAL_METHOD", default_value = "POST")]
    pub postal_method: String,
    /// A header of the postal requests, `Name: value` (a template); repeat the flag, or one
    /// per line in RELANCE_POSTAL_HEADERS. Default: `Content-Type: application/json`.
    #[arg(
        long = "postal-header",
        env = "RELANCE_POSTAL_HEADERS",
        value_delimiter = '\n',
        hide_env_values = true
    )]
    pub postal_headers: Vec<String>,
    /// The body of the postal requests (a template). Default: JSON with the sender, the
    /// recipient, the registered and acknowledgement flags and the PDF in base64.
    #[arg(long, env = "RELANCE_POSTAL_BODY")]
    pub postal_body: Option<String>,
    /// Seconds allowed for the postal provider's answer (no answer: retried later).
    #[arg(long, env = "RELANCE_POSTAL_TIMEOUT", default_value_t = 60)]
    pub postal_timeout: u64,
}

/// The settings of one HTTP provider from its flags (`name`: the flag prefix in messages).
// The values of one group of flags (`--sms-*` or `--postal-*`), in the flags' order.
#[allow(clippy::too_many_arguments)]
fn provider_settings(
    flag: &str,
    url: Option<&str>,
    method: &str,
    header_lines: &[String],
    body: Option<&str>,
    default_body: &str,
    from: Option<&str>,
    timeout: u64,
) -> anyhow::Result<Option<relance_deliver::http_provider::HttpProviderSettings>> {
    let Some(url) = url.filter(|u| !u.trim().is_empty()) else {
        return Ok(None);
    };
    let defaults = relance_deliver::http_provider::HttpProviderSettings::default();
    let mut headers = Vec::new();
    for line in header_lines.iter().filter(|l| !l.trim().is_empty()) {
        let (name, value) = line.split_once(':').ok_or_else(|| {
            anyhow::anyhow!(
                "--{flag}-header / RELANCE_{}_HEADERS: \"{line}\" is not \"Name: value\"",
                flag.to_ascii_uppercase()
            )
        })?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    Ok(Some(relance_deliver::http_provider::HttpProviderSettings {
        url: url.trim().to_string(),
        method: method.to_string(),
        headers: if headers.is_empty() {
            defaults.headers
        } else {
            headers
        },
        body: body.unwrap_or(default_body).to_string(),
        from: from.unwrap_or_default().to_string(),
        timeout: std::time::Duration::from_secs(timeout.max(1)),
    }))
}

impl DeliveryArgs {
    /// The settings the dispatcher takes.
    pub fn settings(&self) -> anyhow::Result<relance_dispatch::DeliverySettings> {
        let sms = provider_settings(
            "sms",
            self.sms_url.as_deref(),
            &self.sms_method,
            &self.sms_headers,
            self.sms_body.as_deref(),
            relance_deliver::http_provider::DEFAULT_BODY,
            self.sms_from.as_deref(),
            self.sms_timeout,
        )?;
        let postal = provider_settings(
            "postal",
            self.postal_url.as_deref(),
            &self.postal_method,
            &self.postal_headers,
            self.postal_body.as_deref(),
            relance_deliver::http_provider::DEFAULT_POSTAL_BODY,
            None,
            self.postal_timeout,
        )?;
        Ok(relance_dispatch::DeliverySettings {
            smtp_url: self.smtp_url.clone(),
            smtp_ca_file: self.smtp_ca_file.clone(),
            outbox: self.outbox.clone(),
            rate_per_domain: self.rate_per_domain,
            connections: self.connections,
            lease_timeout: std::time::Duration::from_secs(self.lease_timeout),
            retry_after: std::time::Duration::from_secs(self.retry_after),
            max_attempts: self.max_attempts,
            batch: self.batch,
            sms,
            postal,
        })
    }
}

#[derive(Debug, Args)]
pub struct SendArgs {
    /// The day to send for (default: today in the company's time zone): messages due on or
    /// before it.
    #[arg(long)]
    pub as_of: Option<chrono::NaiveDate>,
    /// Stop after about this many messages.
    #[arg(long)]
    pub limit: Option<usize>,
    #[command(flatten)]
    pub delivery: DeliveryArgs,
}

#[derive(Debug, Subcommand)]
pub enum LetterCommand {
    /// The letters sent on a day as one PDF to print: a cover list (addressee, postcode,
    /// reference, registered or not, pages), then each letter as filed, in postal order
    /// (postcode, then name). Each filed letter is checked against its SHA-256 first.
    ///
    /// Example: relance letter batch --on 2026-03-11 --out lot-2026-03-11.pdf
    Batch {
        /// The day the letters were sent (default: today).
        #[arg(long)]
        on: Option<chrono::NaiveDate>,
        /// The PDF to write.
        #[arg(long)]
        out: PathBuf,
        /// Language of the cover list: fr or en.
        #[arg(long, default_value = "fr")]
        lang: String,
    },
    /// The registered letters sent on a day, as the post office needs them: reference,
    /// addressee, full address, with or without acknowledgement of receipt (AR), and a column
    /// for the registered-letter number.
    ///
    /// Example: relance letter registered --on 2026-03-11 --format csv > recommandes.csv
    Registered {
        /// The day the letters were sent (default: today).
        #[arg(long)]
        on: Option<chrono::NaiveDate>,
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
    /// Record the registered-letter number of a letter (its reference, as listed by `relance
    /// letter registered`), and the day its acknowledgement of receipt was signed when it comes
    /// back. Both go on the customer's timeline and into the litigation file.
    ///
    /// Example: relance letter receipt 42 --number "1A 123 456 7890 1" --acknowledged-on 2026-03-14
    Receipt {
        /// The letter's reference (its outbox id).
        reference: String,
        /// The registered-letter number (may be omitted once recorded).
        #[arg(long)]
        number: Option<String>,
        /// The day the addressee signed the acknowledgement of receipt.
        #[arg(long)]
        acknowledged_on: Option<chrono::NaiveDate>,
    },
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// The outbox's messages, oldest first.
    ///
    /// Example: relance outbox list --status failed
    List {
        /// Only this status: planned, rendered, sending, sent, failed, cancelled.
        #[arg(long)]
        status: Option<String>,
        /// Only the messages in doubt (sending started, never confirmed).
        #[arg(long)]
        in_doubt: bool,
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
    /// Put a failed message, or one in doubt, back to send (at the next `relance send`).
    ///
    /// Example: relance outbox retry 42 --note "checked with the customer: never received"
    Retry {
        id: i64,
        /// Why (kept on the timeline).
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Cancel a message that has not left (never one being sent).
    ///
    /// Example: relance outbox cancel 42 --note "paid by cheque"
    Cancel {
        id: i64,
        /// Why (kept on the timeline).
        #[arg(long, default_value = "")]
        note: String,
    },
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// What to export.
    #[arg(value_enum)]
    pub kind: ExportKind,
    /// The file to write (replaced if it exists).
    #[arg(long)]
    pub out: PathBuf,
    /// File format (default: from the extension of --out).
    #[arg(long, value_enum)]
    pub format: Option<ExportFormat>,
    /// The day the aged balance is computed for (default: today).
    #[arg(long)]
    pub as_of: Option<chrono::NaiveDate>,
    /// Only this customer (by code).
    #[arg(long)]
    pub customer: Option<String>,
    /// Only items with an open amount (invoices).
    #[arg(long)]
    pub open: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportKind {
    Invoices,
    Payments,
    /// The outbox: every planned, sent or cancelled reminder.
    Actions,
    /// The aged balance (totals per currency under the rows in a workbook).
    Aging,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Json,
    Xlsx,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Csv,
    Json,
}

/// The phases of `relance bench run`, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchRunPhase {
    /// Generate the invoices and import them (not timed as a run).
    Ledger,
    /// `run --full --dry-run`.
    Full,
    /// The first real run.
    First,
    /// A share of the customers pay (not timed).
    Payments,
    /// The next business day's incremental run.
    Daily,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Send generated reminders through the whole path (outbox rows, rendering, SMTP with a
    /// pool, state recorded) and print messages per second.
    ///
    /// Example: relance bench send --messages 10000 --smtp-url smtp://127.0.0.1:2525
    Send(Box<BenchSendArgs>),
    /// Generate an invoice CSV and import it into a fresh SQLite database; print lines per second
    /// and peak memory.
    ///
    /// Example: relance bench import --lines 1000000
    Import {
        #[arg(long, default_value_t = 1_000_000)]
        lines: usize,
        /// Customers the invoices are spread over.
        #[arg(long, default_value_t = 200_000)]
        customers: usize,
        /// Keep the generated files in this folder instead of a temporary one.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Import open invoices into a fresh SQLite database, then a generated camt.053 statement
    /// whose truth is known (references with bank noise, amount-only payers, combinations,
    /// ambiguous equal amounts, unknown payers); print the time, the matching rate, the wrong
    /// matches and what was queued.
    ///
    /// Example: relance bench match --entries 100000 --invoices 1000000
    Match {
        #[arg(long, default_value_t = 100_000)]
        entries: usize,
        #[arg(long, default_value_t = 1_000_000)]
        invoices: usize,
        /// Keep the generated files in this folder instead of a temporary one.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Build a SQLite ledger of that size with a payment history (the `bench run` invoices,
    /// most of them settled with a habit per customer), then time payer scoring and the cash
    /// forecast of every customer and open invoice.
    ///
    /// Example: relance bench forecast --customers 200000 --invoices 1000000
    Forecast {
        #[arg(long, default_value_t = 200_000)]
        customers: usize,
        #[arg(long, default_value_t = 1_000_000)]
        invoices: usize,
        /// Keep the generated files in this folder instead of a temporary one.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Build a SQLite ledger of that size, then time a full planning run (`--full --dry-run`)
    /// and a typical daily run (payments received from a share of the customers the day
    /// after a first run); print times and peak memory of each.
    ///
    /// Example: relance bench run --customers 200000 --invoices 1000000
    Run {
        #[arg(long, default_value_t = 200_000)]
        customers: usize,
        /// Open invoices spread over the customers.
        #[arg(long, default_value_t = 1_000_000)]
        invoices: usize,
        /// Share of the customers who pay something on the day of the daily run (their case
        /// is then planned again), on top of the cases due that day anyway.
        #[arg(long, default_value_t = 0.02)]
        due_share: f64,
        /// Keep the generated files in this folder instead of a temporary one.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// With --dir: keep copies of the ledger as imported and as it stands before the daily
        /// run, and reuse them when they are of the same size, so a second bench only times the
        /// full and daily runs instead of importing a million invoices again.
        #[arg(long, requires = "dir")]
        reuse: bool,
        /// Run one phase only, in a folder prepared by the earlier phases (each phase runs in
        /// its own process so that its peak memory is its own).
        #[arg(long, value_enum, hide = true, requires = "dir")]
        phase: Option<BenchRunPhase>,
    },
}

#[derive(Debug, Args)]
pub struct LitigationArgs {
    /// The customer's code.
    pub customer: String,
    /// FILE.pdf for the file alone, or a new folder for the file and its documents.
    #[arg(long)]
    pub out: PathBuf,
    /// The day the claim is computed to (default: today).
    #[arg(long)]
    pub as_of: Option<chrono::NaiveDate>,
    /// Language of the file (the draft request is always in French).
    #[arg(long, default_value = "fr")]
    pub lang: String,
}

#[derive(Debug, Args)]
pub struct TasksArgs {
    /// Only the calls due today (or on --as-of).
    #[arg(long)]
    pub today: bool,
    /// The day to list the calls due by (implies --today for that day).
    #[arg(long)]
    pub as_of: Option<chrono::NaiveDate>,
    /// table (with the call script) or json (one task per line).
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct CallArgs {
    /// The customer's code.
    pub customer: String,
    /// promised, dispute, no_answer, wrong_number or paid.
    #[arg(long)]
    pub outcome: String,
    /// With promised: the day the customer will pay by; with paid: the day they say they paid.
    #[arg(long = "on")]
    pub on: Option<chrono::NaiveDate>,
    /// With promised: the amount promised (default: the invoice's open amount).
    #[arg(long)]
    pub amount: Option<String>,
    /// The invoice the promise or dispute is about (default: the oldest overdue one).
    #[arg(long)]
    pub invoice: Option<String>,
    /// What was said; required for a dispute (it is the dispute's reason).
    #[arg(long)]
    pub note: Option<String>,
    /// The day of the call (default: today).
    #[arg(long)]
    pub at: Option<chrono::NaiveDate>,
}

#[derive(Debug, Args)]
pub struct BenchSendArgs {
    /// Messages (one customer and one overdue invoice each).
    #[arg(long, default_value_t = 10_000)]
    pub messages: usize,
    /// Database to fill (default: a fresh SQLite file in a temporary folder). It must be empty.
    #[arg(long)]
    pub db: Option<String>,
    /// Dispatchers working on the outbox at once.
    #[arg(long, default_value_t = 1)]
    pub dispatchers: usize,
    /// Fill the outbox and stop (for `relance send` on the same database).
    #[arg(long)]
    pub prepare_only: bool,
    #[command(flatten)]
    pub delivery: DeliveryArgs,
}
