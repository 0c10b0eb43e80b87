//! The litigation file (*dossier contentieux*): what a lawyer or a commissaire de justice needs
//! to act without calling the credit manager back.
//!
//! Sections: the parties; the claim (each invoice's principal, penalties or interest, indemnity,
//! and the total, with the legal basis); the chronology of every reminder, call, promise and
//! dispute; the list of documents with their SHA-256 (so a copy can be proven identical to what
//! was sent), registered-letter numbers and acknowledgements; and a pre-filled draft of the
//! request that fits the amount (small claims or injonction de payer). It is a child module of
//! `pdf` so that it shares the letter's typesetting (fonts, wrapping, page breaks, footers).

use chrono::NaiveDate;
use relance_core::law::{Procedure, ProcedureChoice};
use relance_core::party::{CustomerKind, Language};
use relance_core::Money;
use serde::Serialize;

use super::{legal_footer, Align, Layout, LEADING, LEFT, MM, PAGE_W, RIGHT};
use crate::font::Face;
use crate::format;
use crate::model::{CreditorInfo, DebtorInfo};
use crate::RenderError;

/// One invoice of the claim.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimLine {
    pub number: String,
    pub issue_date: Option<NaiveDate>,
    pub due_date: NaiveDate,
    /// The invoice's amount less what was settled outside relance.
    pub principal: Money,
    /// What is still owed of the principal.
    pub open: Money,
    /// Late penalties (business debtor) or legal interest (consumer), as of the file's date.
    pub interest: Money,
    /// The 40 € recovery indemnity (business debtors only).
    pub indemnity: Money,
    /// When a person waived penalties and indemnity: the day and the reason.
    pub waived: Option<String>,
}

/// Sums of the claim, in one currency.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimTotals {
    pub open: Money,
    pub interest: Money,
    pub indemnity: Money,
    pub total: Money,
}

/// One line of the chronology.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChronologyLine {
    pub date: NaiveDate,
    /// What happened: "Relance envoyée", "Promesse de paiement", …
    pub what: String,
    pub channel: Option<String>,
    pub detail: String,
}

/// A document of the file (a letter or e-mail sent, the statement of account…).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentLine {
    pub date: NaiveDate,
    pub description: String,
    /// The file's name in the file's folder (`--out DIR`), when relance holds the document.
    pub file_name: Option<String>,
    /// Its SHA-256, when relance holds the document (a copy can be proven identical).
    pub sha256: Option<String>,
    pub registered_number: Option<String>,
    pub acknowledged_on: Option<NaiveDate>,
    /// Sent registered with acknowledgement of receipt: the file says "not yet" until the
    /// acknowledgement is recorded.
    pub expects_acknowledgement: bool,
}

/// Everything the litigation file says.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LitigationData {
    pub creditor: CreditorInfo,
    pub debtor: DebtorInfo,
    pub debtor_siren: Option<String>,
    pub place: String,
    pub date: NaiveDate,
    pub language: Language,
    pub claims: Vec<ClaimLine>,
    pub totals: ClaimTotals,
    pub chronology: Vec<ChronologyLine>,
    pub documents: Vec<DocumentLine>,
    pub procedure: ProcedureChoice,
    /// The day the formal notice was sent, when it was.
    pub formal_notice_on: Option<NaiveDate>,
    /// Prescription warnings on the claimed invoices, already worded.
    pub warnings: Vec<String>,
}

struct Words {
    title: &'static str,
    parties: &'static str,
    creditor: &'static str,
    debtor: &'static str,
    claim: &'static str,
    cols: [&'static str; 7],
    total: &'static str,
    waived: &'static str,
    basis_business: &'static str,
    basis_consumer: &'static str,
    chronology: &'static str,
    nothing: &'static str,
    documents: &'static str,
    doc_cols: [&'static str; 3],
    none: &'static str,
    registered: &'static str,
    acknowledged: &'static str,
    not_yet: &'static str,
    procedure: &'static str,
    proposed: &'static str,
    fallback: &'static str,
    draft: &'static str,
    warnings: &'static str,
}

fn words(lang: Language) -> Words {
    match lang {
        Language::Fr => Words {
            title: "DOSSIER CONTENTIEUX",
            parties: "1. Les parties",
            creditor: "Créancier",
            debtor: "Débiteur",
            claim: "2. La créance",
            cols: [
                "Facture",
                "Échéance",
                "Principal",
                "Reste dû",
                "Pénalités",
                "Indemnité",
                "Total",
            ],
            total: "Total réclamé",
            waived: "pénalités abandonnées",
            basis_business:
                "Fondement : pénalités de retard au taux de la BCE majoré de 10 points \
                (Code de commerce L441-10 II), indemnité forfaitaire pour frais de recouvrement \
                de 40 € par facture (D441-5), exigibles sans rappel le jour suivant l'échéance.",
            basis_consumer: "Fondement : intérêts au taux légal à compter de la mise en demeure \
                (Code civil 1231-6 et 1344-1).",
            chronology: "3. Chronologie des relances et échanges",
            nothing: "Aucun échange enregistré.",
            documents: "4. Pièces",
            doc_cols: ["Date", "Pièce", "Empreinte SHA-256"],
            none: "Aucune pièce conservée par relance.",
            registered: "LRAR n°",
            acknowledged: "AR signé le",
            not_yet: "AR : pas encore revenu",
            procedure: "5. Procédure proposée",
            proposed: "Procédure proposée : ",
            fallback: "À défaut d'accord du débiteur : ",
            draft: "Projet de requête (à vérifier et compléter avant dépôt)",
            warnings: "Prescription",
        },
        Language::En => Words {
            title: "LITIGATION FILE",
            parties: "1. The parties",
            creditor: "Creditor",
            debtor: "Debtor",
            claim: "2. The claim",
            cols: [
                "Invoice",
                "Due",
                "Principal",
                "Open",
                "Penalties",
                "Indemnity",
                "Total",
            ],
            total: "Total claimed",
            waived: "penalties waived",
            basis_business: "Basis: late penalties at the ECB rate plus 10 points (French \
                Commercial Code L441-10 II) and a fixed 40 € recovery indemnity per invoice \
                (D441-5), due without reminder from the day after the due date.",
            basis_consumer: "Basis: legal interest from the formal notice (French Civil Code \
                1231-6 and 1344-1).",
            chronology: "3. Chronology of reminders and contacts",
            nothing: "No contact recorded.",
            documents: "4. Documents",
            doc_cols: ["Date", "Document", "SHA-256 fingerprint"],
            none: "No document kept by relance.",
            registered: "Registered letter no.",
            acknowledged: "receipt signed on",
            not_yet: "acknowledgement of receipt: not yet",
            procedure: "5. Proposed procedure",
            proposed: "Proposed procedure: ",
            fallback: "If the debtor does not agree: ",
            draft: "Draft request (check and complete before filing)",
            warnings: "Prescription",
        },
    }
}

fn heading(l: &mut Layout, text: &str) {
    l.ensure(3.0 * LEADING);
    l.y -= LEADING + 6.0;
    l.text(LEFT, l.y, text, Face::Bold, 11.0, Align::Left);
    l.hline(LEFT, RIGHT, l.y - 3.0, 0.5);
    l.y -= 2.0;
}

fn sum_or_zero(m: &Money, lang: Language) -> String {
    format::money(m, lang)
}

/// The litigation file as a PDF.
pub fn render_litigation_pdf(data: &LitigationData) -> Result<Vec<u8>, RenderError> {
    let lang = data.language;
    let w = words(lang);
    let mut l = Layout::new(legal_footer(&data.creditor))?;
    l.text(
        PAGE_W / 2.0,
        l.y - 14.0,
        w.title,
        Face::Bold,
        16.0,
        Align::Center,
    );
    l.y -= 30.0;
    let subtitle = format!(
        "{} — {} — {}",
        data.creditor.name,
        data.debtor.name,
        format::date_long(data.date, lang)
    );
    l.text(
        PAGE_W / 2.0,
        l.y,
        &subtitle,
        Face::Regular,
        10.0,
        Align::Center,
    );
    l.y -= 6.0;

    // 1. Parties.
    heading(&mut l, w.parties);
    party(
        &mut l,
        w.creditor,
        &data.creditor.name,
        &creditor_lines(data),
    );
    party(&mut l, w.debtor, &data.debtor.name, &debtor_lines(data));

    // 2. Claim.
    heading(&mut l, w.claim);
    claim_table(&mut l, data, &w);
    l.y -= 4.0;
    let basis = match data.debtor.kind {
        CustomerKind::Business => w.basis_business,
        CustomerKind::Consumer => w.basis_consumer,
    };
    l.paragraph(basis, Face::Regular, 8.5, 0.0, false);
    if !data.warnings.is_empty() {
        l.y -= 4.0;
        l.paragraph(w.warnings, Face::Bold, 9.0, 0.0, false);
        for warning in &data.warnings {
            l.paragraph(warning, Face::Regular, 8.5, 5.0 * MM, true);
        }
    }

    // 3. Chronology.
    heading(&mut l, w.chronology);
    if data.chronology.is_empty() {
        l.paragraph(w.nothing, Face::Regular, 9.0, 0.0, false);
    }
    for line in &data.chronology {
        let channel = line
            .channel
            .as_deref()
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        let text = format!(
            "{} — {}{} : {}",
            format::date_short(line.date),
            line.what,
            channel,
            line.detail
        );
        l.paragraph(&text, Face::Regular, 8.5, 5.0 * MM, true);
    }

    // 4. Documents.
    heading(&mut l, w.documents);
    if data.documents.is_empty() {
        l.paragraph(w.none, Face::Regular, 9.0, 0.0, false);
    }
    for doc in &data.documents {
        l.ensure(3.0 * LEADING);
        let mut first = format!("{} — {}", format::date_short(doc.date), doc.description);
        if let Some(name) = &doc.file_name {
            first.push_str(&format!(" — {name}"));
        }
        if let Some(n) = &doc.registered_number {
            first.push_str(&format!(" — {} {n}", w.registered));
        }
        if let Some(on) = doc.acknowledged_on {
            first.push_str(&format!(", {} {}", w.acknowledged, format::date_short(on)));
        } else if doc.expects_acknowledgement {
            first.push_str(&format!(" — {}", w.not_yet));
        }
        l.paragraph(&first, Face::Regular, 8.5, 5.0 * MM, true);
        if let Some(sha) = &doc.sha256 {
            l.paragraph(
                &match lang {
                    Language::Fr => format!("{} : {sha}", w.doc_cols[2]),
                    Language::En => format!("{}: {sha}", w.doc_cols[2]),
                },
                Face::Regular,
                7.0,
                5.0 * MM,
                false,
            );
        }
    }

    // 5. Procedure and draft.
    heading(&mut l, w.procedure);
    let title = |p: Procedure| match lang {
        Language::Fr => p.title_fr(),
        Language::En => p.title_en(),
    };
    l.paragraph(
        &format!(
            "{}{} ({})",
            w.proposed,
            title(data.procedure.procedure),
            data.procedure.procedure.legal_basis()
        ),
        Face::Bold,
        9.0,
        0.0,
        false,
    );
    if let Some(fallback) = data.procedure.fallback {
        l.paragraph(
            &format!("{}{}", w.fallback, title(fallback)),
            Face::Regular,
            9.0,
            0.0,
            false,
        );
    }
    l.paragraph(&procedure_reason(data), Face::Regular, 8.5, 0.0, false);
    l.y -= 6.0;
    l.paragraph(w.draft, Face::Bold, 10.0, 0.0, false);
    for paragraph in draft_request(data) {
        l.y -= 3.0;
        l.paragraph(&paragraph, Face::Regular, 9.0, 0.0, false);
    }
    let title = format!("{} — {}", w.title, data.debtor.name);
    Ok(l.finish(&title, lang))
}

fn creditor_lines(data: &LitigationData) -> Vec<String> {
    let c = &data.creditor;
    let mut lines = c.address_lines.clone();
    if let Some(s) = &c.siren {
        lines.push(format!("SIREN {s}"));
    }
    if let Some(r) = &c.rcs {
        lines.push(r.clone());
    }
    if let Some(e) = &c.email {
        lines.push(e.clone());
    }
    lines
}

fn debtor_lines(data: &LitigationData) -> Vec<String> {
    let d = &data.debtor;
    let mut lines = d.address_lines.clone();
    if let Some(s) = &data.debtor_siren {
        lines.push(format!("SIREN {s}"));
    }
    lines.push(match data.language {
        Language::Fr => format!("Compte client {}", d.customer_code),
        Language::En => format!("Customer account {}", d.customer_code),
    });
    if let Some(e) = &d.email {
        lines.push(e.clone());
    }
    lines
}

fn party(l: &mut Layout, role: &str, name: &str, lines: &[String]) {
    l.ensure(LEADING * (lines.len() as f32 + 2.0));
    l.y -= LEADING + 2.0;
    l.text(LEFT, l.y, role, Face::Bold, 9.0, Align::Left);
    l.text(LEFT + 30.0 * MM, l.y, name, Face::Bold, 9.0, Align::Left);
    for line in lines {
        l.y -= LEADING - 2.0;
        l.text(LEFT + 30.0 * MM, l.y, line, Face::Regular, 8.5, Align::Left);
    }
}

/// Column right edges (mm from the left margin) of the claim table, after the number column.
const CLAIM_X: [f32; 7] = [1.0, 58.0, 84.0, 108.0, 132.0, 152.0, 170.0];

fn claim_header(l: &mut Layout, w: &Words) {
    l.ensure(2.0 * LEADING);
    l.y -= LEADING + 2.0;
    l.rect_fill(LEFT, l.y - 3.0, RIGHT - LEFT, LEADING, 0.9);
    for (i, c) in w.cols.iter().enumerate() {
        claim_cell(l, i, c, Face::Bold);
    }
}

fn claim_cell(l: &mut Layout, column: usize, text: &str, face: Face) {
    let y = l.y;
    if column == 0 {
        l.text(LEFT + CLAIM_X[0] * MM, y, text, face, 8.0, Align::Left);
    } else if column == 1 {
        l.text(LEFT + 34.0 * MM, y, text, face, 8.0, Align::Left);
    } else {
        l.text(
            LEFT + CLAIM_X[column] * MM,
            y,
            text,
            face,
            8.0,
            Align::Right,
        );
    }
}

fn claim_table(l: &mut Layout, data: &LitigationData, w: &Words) {
    let lang = data.language;
    claim_header(l, w);
    for c in &data.claims {
        if l.ensure(2.0 * LEADING) {
            claim_header(l, w);
        }
        l.y -= LEADING;
        let total = c
            .open
            .checked_add(c.interest)
            .and_then(|t| t.checked_add(c.indemnity))
            .unwrap_or(c.open);
        let cells = [
            c.number.clone(),
            format::date_short(c.due_date),
            format::money(&c.principal, lang),
            format::money(&c.open, lang),
            format::money(&c.interest, lang),
            format::money(&c.indemnity, lang),
            format::money(&total, lang),
        ];
        for (i, cell) in cells.iter().enumerate() {
            claim_cell(l, i, cell, Face::Regular);
        }
        if let Some(reason) = &c.waived {
            l.y -= LEADING - 3.0;
            l.text(
                LEFT + 4.0 * MM,
                l.y,
                &format!("({} : {reason})", w.waived),
                Face::Regular,
                7.0,
                Align::Left,
            );
        }
        l.hline(LEFT, RIGHT, l.y - 3.5, 0.3);
    }
    l.ensure(LEADING);
    l.y -= LEADING;
    let t = &data.totals;
    claim_cell(l, 0, w.total, Face::Bold);
    claim_cell(l, 3, &sum_or_zero(&t.open, lang), Face::Bold);
    claim_cell(l, 4, &sum_or_zero(&t.interest, lang), Face::Bold);
    claim_cell(l, 5, &sum_or_zero(&t.indemnity, lang), Face::Bold);
    claim_cell(l, 6, &sum_or_zero(&t.total, lang), Face::Bold);
}

/// Why this procedure, in the file's language.
fn procedure_reason(data: &LitigationData) -> String {
    let lang = data.language;
    let t = &data.totals;
    let principal_and_interest = t.open.checked_add(t.interest).unwrap_or(t.open);
    let amount = format::money(&principal_and_interest, lang);
    let ceiling = format::money(
        &Money::eur(relance_core::law::SMALL_CLAIMS_CEILING_EUR),
        lang,
    );
    let court = |p: Option<Procedure>| match (p, lang) {
        (Some(Procedure::PaymentOrderCommercialCourt), Language::Fr) => {
            "le tribunal de commerce (les deux parties sont commerçantes)"
        }
        (Some(_), Language::Fr) => "le tribunal judiciaire (le débiteur n'est pas commerçant)",
        (Some(Procedure::PaymentOrderCommercialCourt), Language::En) => {
            "the commercial court (both parties are traders)"
        }
        (Some(_), Language::En) => "the judicial court (the debtor is not a trader)",
        (None, _) => "",
    };
    match (data.procedure.procedure, lang) {
        (Procedure::SmallClaims, Language::Fr) => format!(
            "{amount} en principal et intérêts, dans le plafond de {ceiling} de la procédure \
             simplifiée (R125-1 CPCE). Faute d'accord du débiteur dans le mois, requête en \
             injonction de payer devant {}.",
            court(data.procedure.fallback)
        ),
        (Procedure::SmallClaims, Language::En) => format!(
            "{amount} in principal and interest, within the {ceiling} ceiling of the simplified \
             procedure (R125-1 CPCE). If the debtor does not agree within a month, a request for \
             a payment order before {}.",
            court(data.procedure.fallback)
        ),
        (p, Language::Fr) => format!(
            "{amount} en principal et intérêts{} : requête en injonction de payer devant {}.",
            if t.open.currency == relance_core::Currency::EUR {
                format!(", au-delà du plafond de {ceiling} de la procédure simplifiée")
            } else {
                String::new()
            },
            court(Some(p))
        ),
        (p, Language::En) => format!(
            "{amount} in principal and interest{}: a request for a payment order before {}.",
            if t.open.currency == relance_core::Currency::EUR {
                format!(", above the {ceiling} ceiling of the simplified procedure")
            } else {
                String::new()
            },
            court(Some(p))
        ),
    }
}

/// The draft request's paragraphs, pre-filled from the file. Always in French: it is addressed
/// to a French court or commissaire de justice.
pub fn draft_request(data: &LitigationData) -> Vec<String> {
    let c = &data.creditor;
    let d = &data.debtor;
    let fr = Language::Fr;
    let creditor_id = {
        let mut parts = vec![c.name.clone()];
        if let Some(s) = &c.siren {
            parts.push(format!("SIREN {s}"));
        }
        if !c.address_lines.is_empty() {
            parts.push(format!("siège : {}", c.address_lines.join(", ")));
        }
        parts.join(", ")
    };
    let debtor_id = {
        let mut parts = vec![d.name.clone()];
        if let Some(s) = &data.debtor_siren {
            parts.push(format!("SIREN {s}"));
        }
        if !d.address_lines.is_empty() {
            let label = match d.kind {
                CustomerKind::Business => "siège",
                CustomerKind::Consumer => "demeurant",
            };
            parts.push(format!("{label} : {}", d.address_lines.join(", ")));
        }
        parts.join(", ")
    };
    let invoices = data
        .claims
        .iter()
        .filter(|c| c.open.is_positive() || c.interest.is_positive())
        .map(|c| {
            format!(
                "facture n° {} échue le {} ({} restant dû)",
                c.number,
                format::date_short(c.due_date),
                format::money(&c.open, fr)
            )
        })
        .collect::<Vec<_>>()
        .join(" ; ");
    let t = &data.totals;
    let amounts = match d.kind {
        CustomerKind::Business => format!(
            "{} en principal, {} de pénalités de retard (Code de commerce L441-10 II) arrêtées au {}, \
             et {} d'indemnités forfaitaires pour frais de recouvrement (D441-5), soit {} au total, \
             outre les pénalités à courir jusqu'à parfait paiement",
            format::money(&t.open, fr),
            format::money(&t.interest, fr),
            format::date_short(data.date),
            format::money(&t.indemnity, fr),
            format::money(&t.total, fr)
        ),
        CustomerKind::Consumer => format!(
            "{} en principal et {} d'intérêts au taux légal arrêtés au {} (Code civil 1231-6), \
             soit {} au total, outre les intérêts à courir jusqu'à parfait paiement",
            format::money(&t.open, fr),
            format::money(&t.interest, fr),
            format::date_short(data.date),
            format::money(&t.total, fr)
        ),
    };
    let notice = data
        .formal_notice_on
        .map(|on| format!("une mise en demeure du {}", format::date_short(on)))
        .unwrap_or_else(|| "les relances listées en pièces".to_string());
    let mut pieces: Vec<String> = data
        .claims
        .iter()
        .map(|c| format!("facture n° {}", c.number))
        .collect();
    pieces.extend(data.documents.iter().map(|doc| doc.description.clone()));
    pieces.push("chronologie des relances (présent dossier)".to_string());
    let pieces = pieces
        .iter()
        .enumerate()
        .map(|(i, p)| format!("pièce n° {} : {p}", i + 1))
        .collect::<Vec<_>>()
        .join(" ; ");
    match data.procedure.procedure {
        Procedure::SmallClaims => vec![
            format!(
                "Demande de mise en œuvre de la procédure simplifiée de recouvrement des petites \
                 créances (articles L125-1 et R125-1 et suivants du Code des procédures civiles \
                 d'exécution), adressée à Maître …, commissaire de justice à …"
            ),
            format!("Le créancier : {creditor_id}."),
            format!("Le débiteur : {debtor_id}."),
            format!(
                "La créance, d'origine contractuelle, porte sur : {invoices}. Elle s'élève à {amounts}."
            ),
            format!(
                "Le débiteur n'a pas réglé malgré {notice}. Le créancier demande au commissaire \
                 de justice d'inviter le débiteur à participer à la procédure et, en cas d'accord \
                 sur le montant et les modalités de paiement, de délivrer un titre exécutoire."
            ),
            format!("Pièces jointes : {pieces}."),
            format!(
                "Fait à {}, le {}. Signature :",
                if data.place.is_empty() { "…" } else { &data.place },
                format::date_long(data.date, fr)
            ),
        ],
        Procedure::PaymentOrderCommercialCourt | Procedure::PaymentOrderJudicialCourt => {
            let court = if data.procedure.procedure == Procedure::PaymentOrderCommercialCourt {
                "Monsieur le Président du tribunal de commerce de …"
            } else {
                "Monsieur le Président du tribunal judiciaire de … (formulaire Cerfa n° 12948)"
            };
            vec![
                format!(
                    "Requête en injonction de payer (articles 1405 et suivants du Code de \
                     procédure civile), adressée à {court}"
                ),
                format!("Le requérant : {creditor_id}."),
                format!("Le débiteur : {debtor_id}."),
                format!(
                    "Le requérant a l'honneur d'exposer qu'il est créancier du débiteur au titre de : \
                     {invoices}. Malgré {notice}, le débiteur n'a pas réglé."
                ),
                format!(
                    "Il sollicite une ordonnance enjoignant au débiteur de payer {amounts}, ainsi \
                     que les dépens."
                ),
                format!("Pièces jointes : {pieces}."),
                format!(
                    "Fait à {}, le {}. Signature :",
                    if data.place.is_empty() { "…" } else { &data.place },
                    format::date_long(data.date, fr)
                ),
            ]
        }
    }
}
