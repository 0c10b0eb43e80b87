//! What the work queue, imports and reports pages share: their templates, their French and
//! English strings (chained to the catalogue of `i18n.rs`), and the checks of their forms. Kept
//! apart from `pages.rs` so that those pages grow without touching the others.

use axum::response::Response;
use relance_store::creditors::CreditorRecord;

use crate::auth::Session;
use crate::error::WebError;
use crate::pages::{see_other, url_encode};
use crate::{access, AppState};

const TEMPLATES: &[(&str, &str)] = &[
    ("queue.html", include_str!("../templates/queue.html")),
    ("imports.html", include_str!("../templates/imports.html")),
    ("reports.html", include_str!("../templates/reports.html")),
];

/// Adds the templates of these pages to the environment of `pages::templates`.
pub(crate) fn add_templates(env: &mut minijinja::Environment<'static>) -> Result<(), WebError> {
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    Ok(())
}

/// The creditor of a form, after the CSRF token and the role: a viewer may not change anything.
pub(crate) async fn writer_context(
    state: &AppState,
    session: &Session,
    creditor: i64,
    csrf: &str,
) -> Result<CreditorRecord, WebError> {
    let creditor = access(state.store(), &session.user, creditor).await?;
    session.check_csrf(csrf)?;
    if !session.user.role.can_write() {
        return Err(WebError::Forbidden("your role can only view".into()));
    }
    Ok(creditor)
}

/// Back to `page` with a message saying it was done, or why it was refused (a refusal is the
/// user's to read, not a server error).
pub(crate) fn back_to(page: &str, result: Result<String, WebError>) -> Result<Response, WebError> {
    let sep = if page.contains('?') { '&' } else { '?' };
    match result {
        Ok(done) => Ok(see_other(&format!("{page}{sep}done={}", url_encode(&done)))),
        Err(WebError::BadRequest(m))
        | Err(WebError::Store(relance_store::StoreError::Refused(m))) => {
            Ok(see_other(&format!("{page}{sep}error={}", url_encode(&m))))
        }
        Err(e) => Err(e),
    }
}

/// (key, French, English): the strings of the work queue, imports and reports pages.
pub(crate) const STRINGS: &[(&str, &str, &str)] = &[
    ("wq_queue", "File de travail", "Work queue"),
    ("wq_imports", "Imports", "Imports"),
    ("wq_reports", "Rapports", "Reports"),
    (
        "wq_to_send",
        "Messages du jour",
        "Today's messages",
    ),
    (
        "wq_to_send_hint",
        "Ces messages partent au prochain envoi ; écartez ceux qui ne doivent pas partir.",
        "These messages leave with the next dispatch; skip those that must not go.",
    ),
    (
        "wq_attention",
        "À traiter par une personne",
        "For a person to decide",
    ),
    (
        "wq_attention_hint",
        "Envois en échec ou incertains (commencés mais jamais confirmés) : vérifiez, puis renvoyez ou écartez.",
        "Failed or in-doubt messages (started but never confirmed): check, then send again or skip.",
    ),
    ("wq_calls", "Appels du jour", "Today's calls"),
    ("wq_nothing", "Rien à faire.", "Nothing to do."),
    ("wq_in_doubt", "incertain", "in doubt"),
    ("wq_failed", "échec", "failed"),
    ("wq_attempts", "Tentatives", "Attempts"),
    ("wq_last_error", "Dernière erreur", "Last error"),
    ("wq_invoices", "Factures", "Invoices"),
    ("wq_send_again", "Renvoyer", "Send again"),
    ("wq_send_now", "Envoyer maintenant", "Send now"),
    ("wq_sent_now", "E-mail envoyé.", "E-mail sent."),
    (
        "wq_send_off",
        "L'envoi n'est pas activé sur ce serveur (relance serve --no-send) : le message reste dans la file.",
        "Sending is off on this server (relance serve --no-send): the message stays in the queue.",
    ),
    (
        "wq_send_no_sender",
        "L'entreprise n'a pas d'adresse d'expéditeur : renseignez-la dans les paramètres.",
        "The company has no sender address: set one in the settings.",
    ),
    (
        "wq_send_not_claimable",
        "Ce message n'est plus à envoyer aujourd'hui (déjà parti, écarté, ou en cours d'envoi).",
        "This message is no longer to be sent today (already sent, skipped, or being sent).",
    ),
    (
        "wq_send_cancelled",
        "Non envoyé : plus rien n'est dû sur ces factures (payées ou contestées) ; le message est annulé.",
        "Not sent: nothing is owed on these invoices any more (paid or disputed); the message is cancelled.",
    ),
    (
        "wq_send_postponed",
        "Non envoyé : le dossier est suspendu ; le message partira à la fin de la suspension.",
        "Not sent: the case is on hold; the message will leave when the hold ends.",
    ),
    (
        "wq_send_deferred",
        "Le serveur de messagerie refuse pour l'instant ; un nouvel essai aura lieu au prochain envoi.",
        "The mail server refused for now; it will be tried again at the next dispatch.",
    ),
    (
        "wq_send_failed",
        "Échec de l'envoi : voir « À traiter par une personne ».",
        "Sending failed: see \"For a person to decide\".",
    ),
    ("wq_skip", "Écarter", "Skip"),
    ("wq_why", "Pourquoi", "Why"),
    ("wq_script", "Script d'appel", "Call script"),
    ("wq_history", "Historique récent", "Recent history"),
    ("wq_last_call", "Dernier appel", "Last call"),
    ("wq_no_phone", "aucun numéro", "no number on file"),
    ("wq_outcome", "Résultat de l'appel", "Call outcome"),
    ("wq_o_promised", "Promesse de paiement", "Promise to pay"),
    ("wq_o_dispute", "Contestation", "Dispute"),
    ("wq_o_no_answer", "Pas de réponse", "No answer"),
    ("wq_o_wrong_number", "Mauvais numéro", "Wrong number"),
    ("wq_o_paid", "Dit avoir payé", "Says paid"),
    (
        "wq_on",
        "Date (promesse : payera le ; payé : a payé le)",
        "Date (promise: will pay by; paid: paid on)",
    ),
    (
        "wq_amount_optional",
        "Montant promis (facultatif)",
        "Amount promised (optional)",
    ),
    (
        "wq_invoice_default",
        "la plus ancienne en retard",
        "the oldest overdue",
    ),
    (
        "wq_note_hint",
        "Note (obligatoire pour une contestation)",
        "Note (required for a dispute)",
    ),
    ("wq_record_call", "Enregistrer l'appel", "Record the call"),
    (
        "wq_outside_window",
        "Hors de la plage d'appel (8 h–20 h, ni dimanche ni jour férié).",
        "Outside the call window (08:00–20:00, not on Sundays or public holidays).",
    ),
    ("wq_upload", "Importer un fichier", "Import a file"),
    ("wq_kind", "Contenu", "Content"),
    ("wq_kind_invoices", "Factures (et avoirs)", "Invoices (and credit notes)"),
    ("wq_kind_payments", "Paiements", "Payments"),
    ("wq_file", "Fichier", "File"),
    (
        "wq_formats",
        "Factures : CSV, XLSX, UBL ou CII (XML), Factur-X (PDF), FEC. Paiements : CSV, XLSX, camt.053, CFONB 120, OFX. Le format est reconnu tout seul ; un fichier en erreur est refusé en entier.",
        "Invoices: CSV, XLSX, UBL or CII (XML), Factur-X (PDF), FEC. Payments: CSV, XLSX, camt.053, CFONB 120, OFX. The format is recognised; a file with an error is refused whole.",
    ),
    ("wq_import_button", "Importer", "Import"),
    (
        "wq_refused",
        "Fichier refusé : rien n'a été importé.",
        "File refused: nothing was imported.",
    ),
    ("wq_errors", "erreur(s)", "error(s)"),
    ("wq_warnings", "Avertissements", "Warnings"),
    ("wq_imported", "Importé", "Imported"),
    ("wq_recent_imports", "Derniers imports", "Recent imports"),
    ("wq_when", "Quand", "When"),
    ("wq_source", "Source", "Source"),
    ("wq_rows", "Lignes", "Rows"),
    ("wq_created", "Nouvelles", "New"),
    ("wq_updated", "Modifiées", "Updated"),
    ("wq_unchanged", "Inchangées", "Unchanged"),
    (
        "wq_new_customers",
        "nouveaux clients",
        "new customers",
    ),
    ("wq_allocated", "lettré", "allocated"),
    ("wq_credit", "gardé en avoir", "kept as credit"),
    ("wq_to_reconcile", "à rapprocher", "to reconcile"),
    ("wq_as_of", "Au", "As of"),
    ("wq_from", "Du", "From"),
    ("wq_to", "Au", "To"),
    ("wq_show", "Afficher", "Show"),
    ("wq_download", "Télécharger", "Download"),
    ("wq_dso", "DSO (délai moyen de paiement)", "DSO (days sales outstanding)"),
    ("wq_month", "Mois", "Month"),
    ("wq_sales", "Ventes", "Sales"),
    ("wq_receivables", "Encours", "Receivables"),
    ("wq_count_back", "DSO (épuisement)", "DSO (count-back)"),
    ("wq_simple", "DSO (simple)", "DSO (simple)"),
    ("wq_trend", "Tendance", "Trend"),
    (
        "wq_actions_period",
        "Actions par étape et canal",
        "Actions per step and channel",
    ),
    ("wq_sent", "Envoyées", "Sent"),
    ("wq_cancelled", "Annulées", "Cancelled"),
    ("wq_previous", "Page précédente", "Previous page"),
    ("wq_page", "Page", "Page"),
];
