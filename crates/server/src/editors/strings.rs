//! The French and English strings of the editors and the settings page (`e.key` in their
//! templates), kept apart from the pages' catalogue (`crate::i18n`) so that each screen's
//! wording lives with it.

use std::collections::BTreeMap;

use crate::i18n::Lang;

/// (key, French, English).
const STRINGS: &[(&str, &str, &str)] = &[
    // Dashboard: DSO.
    ("dso_title", "DSO (délai moyen de paiement)", "DSO (days sales outstanding)"),
    ("days", "j", "days"),
    ("vs_last_month", "par rapport au mois précédent", "against last month"),
    ("dso_desc", "DSO par mois, méthode de l'épuisement du chiffre d'affaires", "DSO per month, count-back method"),
    ("lower_bound", "au moins : historique trop court", "at least: history too short"),
    // Templates.
    ("templates_title", "Modèles de messages", "Message templates"),
    (
        "not_commercial",
        "Ces messages réclament une créance : ce sont des courriers de gestion, pas de la prospection commerciale. N'y ajoutez ni publicité ni offre.",
        "These messages claim a debt: they are business correspondence, not marketing. Add no advertising or offer to them.",
    ),
    (
        "templates_intro",
        "Un modèle par étape, langue et partie. La partie « body » est partagée par l'e-mail (text, html) et la lettre PDF (letter) ; « subject » sert aux deux.",
        "One template per step, language and part. The \"body\" part is shared by the e-mail (text, html) and the PDF letter (letter); \"subject\" serves both.",
    ),
    ("parts", "Parties", "Parts"),
    ("builtin", "modèle d'origine", "built-in"),
    ("saved_version", "Enregistré : version", "Saved: version"),
    ("admin_only", "Consultation seulement : seul un administrateur peut modifier.", "Read only: only an admin may change this."),
    ("source", "Texte du modèle (minijinja)", "Template text (minijinja)"),
    ("preview_customer", "Client de l'aperçu (code)", "Customer for the preview (code)"),
    ("sample_data", "vide : données d'exemple", "empty: sample data"),
    ("preview_email", "Aperçu de l'e-mail", "Preview the e-mail"),
    ("preview_sms", "Aperçu du SMS", "Preview the SMS"),
    ("preview_letter", "Aperçu de la lettre PDF", "Preview the PDF letter"),
    ("preview", "Aperçu", "Preview"),
    ("version_note", "Note de version (facultative)", "Version note (optional)"),
    ("save", "Enregistrer", "Save"),
    ("reset", "Revenir au modèle d'origine", "Back to the built-in template"),
    ("refused", "Refusé, rien n'est enregistré :", "Refused, nothing saved:"),
    ("cannot_render", "Ce texte ne peut pas être rendu :", "This text cannot be rendered:"),
    ("variables", "Variables disponibles", "Available variables"),
    (
        "filters",
        "Filtres : money, date (14 avril 2026), date_short (14/04/2026), rate, iban, channel, nonzero, paragraphs. Balisage lu par le PDF : « # TITRE », « - élément », [[invoices]], [[payment]].",
        "Filters: money, date (14 April 2026), date_short (14/04/2026), rate, iban, channel, nonzero, paragraphs. Markup read by the PDF: \"# TITLE\", \"- item\", [[invoices]], [[payment]].",
    ),
    ("history", "Versions", "Versions"),
    ("subject", "Objet", "Subject"),
    ("html_part", "Partie HTML de l'e-mail", "HTML part of the e-mail"),
    ("text_part", "Partie texte", "Text part"),
    // Policies.
    ("policies_title", "Scénarios de relance", "Follow-up policies"),
    (
        "policies_intro",
        "Les scénarios sont essayés dans cet ordre : celui nommé sur le client, sinon le premier dont les conditions conviennent.",
        "Policies are tried in this order: the one named on the customer, else the first whose conditions fit.",
    ),
    ("conditions", "Conditions", "Conditions"),
    ("conditions_help", "Listes vides : tous les clients.", "Empty lists: every customer."),
    ("steps", "Étapes", "Steps"),
    (
        "steps_help",
        "Délai en jours calendaires depuis l'échéance (négatif : avant) ou depuis l'étape précédente ; reporté au jour ouvré suivant. Position : ordre des étapes. Ligne vide en bas : nouvelle étape.",
        "Delay in calendar days from the due date (negative: before) or from the previous step; moved to the next business day. Position: order of the steps. Empty last row: a new step.",
    ),
    ("grouping", "Regroupement", "Grouping"),
    ("grouping_per_customer", "par client", "per customer"),
    ("grouping_per_invoice", "par facture", "per invoice"),
    ("minimum", "Montant minimum", "Minimum amount"),
    ("currency", "Devise", "Currency"),
    ("tags", "Segments (étiquettes)", "Segments (tags)"),
    ("grades", "Notes de payeur", "Payer grades"),
    ("everyone", "tous les clients", "every customer"),
    ("customer_kind", "Type de client", "Customer kind"),
    ("kind_business", "professionnel", "business"),
    ("kind_consumer", "particulier", "consumer"),
    ("export", "Exporter", "Export"),
    ("import", "Importer", "Import"),
    ("import_file", "Fichier TOML ou JSON", "TOML or JSON file"),
    ("import_text", "ou le texte du fichier", "or the file's text"),
    ("new_policy", "Nouveau scénario", "New policy"),
    ("policy_id", "Identifiant (a-z, 0-9, _)", "Identifier (a-z, 0-9, _)"),
    ("create", "Créer", "Create"),
    ("new_from_default", "Nouveau scénario, prérempli avec les étapes du scénario standard.", "New policy, filled in with the standard policy's steps."),
    ("replan", "Les dossiers seront replanifiés au prochain passage.", "Cases are planned again at the next run."),
    ("fix_fields", "Corrigez les champs signalés ; rien n'est enregistré.", "Fix the fields marked; nothing is saved."),
    ("general", "Général", "General"),
    ("position", "Position", "Position"),
    ("step_id", "Étape", "Step"),
    ("delay", "Délai (j)", "Delay (days)"),
    ("anchor", "Depuis", "From"),
    ("anchor_due_date", "l'échéance", "the due date"),
    ("anchor_previous_step", "l'étape précédente", "the previous step"),
    ("without_email", "Sans e-mail", "Without e-mail"),
    ("template", "Modèle", "Template"),
    ("tone", "Ton", "Tone"),
    ("before_due", "Avant échéance", "Before due"),
    ("attach_statement", "Relevé de compte", "Statement of account"),
    (
        "attach_statement_help",
        "Joint le relevé de compte du client à l'e-mail et l'imprime après le courrier.",
        "Attaches the customer's statement of account to the e-mail and prints it after the letter.",
    ),
    ("remove", "Supprimer", "Remove"),
    ("new_step", "nouvelle étape", "new step"),
    ("experiment", "Expérience A/B", "A/B experiment"),
    (
        "experiment_help",
        "Nom vide : pas d'expérience. Les clients de la variante B (part en %, tirés de façon stable) reçoivent l'étape avec les changements remplis ; les autres (A) l'étape telle quelle. Comparez avec relance report experiment.",
        "Empty name: no experiment. Customers in variant B (share in %, chosen stably) get the step with the changes filled in; the others (A) the step as it is. Compare with relance report experiment.",
    ),
    ("exp_name", "Nom de l'expérience", "Experiment name"),
    ("exp_share_b", "Part B (%)", "Share in B (%)"),
    ("exp_offset_days", "Délai B (j)", "B's delay (days)"),
    ("exp_template", "Modèle B", "B's template"),
    ("exp_tone", "Ton B", "B's tone"),
    ("exp_send_hour", "Heure d'envoi B (0–23)", "B's sending hour (0–23)"),
    ("assign_title", "Affecter un client à ce scénario", "Assign a customer to this policy"),
    (
        "assign_help",
        "Le client suivra ce scénario quelles que soient les conditions ; ses dossiers sont replanifiés au prochain passage.",
        "The customer follows this policy whatever the conditions say; their case is planned again at the next run.",
    ),
    ("assign", "Affecter", "Assign"),
    ("assigned", "Affecté :", "Assigned:"),
    ("optional", "facultatif", "optional"),
    // Settings.
    ("settings_title", "Paramètres", "Settings"),
    ("identity", "Identité de la société", "Company identity"),
    ("vat_number", "N° de TVA intracommunautaire", "VAT number"),
    ("signatory", "Signataire des lettres", "Letters signed by"),
    ("logo", "Logo", "Logo"),
    ("logo_file", "Image PNG ou JPEG", "PNG or JPEG image"),
    ("kib_max", "Kio max.", "KiB max."),
    ("remove_logo", "Retirer le logo", "Remove the logo"),
    (
        "logo_help",
        "Imprimé en haut à gauche des lettres PDF (16 mm de haut au plus) ; la transparence d'un PNG est imprimée en blanc.",
        "Printed at the top left of the PDF letters (at most 16 mm high); a PNG's transparency prints white.",
    ),
    ("smtp_url", "Serveur SMTP (URL)", "SMTP server (URL)"),
    ("smtp_from", "Expéditeur", "Sender"),
    ("smtp_reply_to", "Adresse de réponse", "Reply-to"),
    ("password_kept", "enregistré (laisser vide pour le garder)", "stored (leave empty to keep it)"),
    ("clear_password", "Effacer le mot de passe enregistré", "Clear the stored password"),
    ("rates_and_run", "Taux, calendrier et passage quotidien", "Rates, calendar and daily run"),
    ("contractual_rate", "Taux de pénalités contractuel (% par an)", "Contractual penalty rate (% a year)"),
    ("legal_rate", "vide : taux légal (BCE + 10 points)", "empty: statutory rate (ECB + 10 points)"),
    ("time_zone", "Fuseau horaire", "Time zone"),
    ("run_at", "Heure du passage quotidien", "Time of the daily run"),
    ("alsace_moselle", "Calendrier d'Alsace-Moselle (26 décembre, Vendredi saint)", "Alsace-Moselle calendar (26 December, Good Friday)"),
    (
        "rates_help",
        "Le taux contractuel s'applique aux clients professionnels (L441-10 du Code de commerce) ; les particuliers restent au taux légal.",
        "The contractual rate applies to business customers (French Commercial Code L441-10); consumers stay at the statutory rate.",
    ),
];

/// The strings in `lang`, for the templates (`e.key`).
pub fn strings(lang: Lang) -> BTreeMap<&'static str, &'static str> {
    STRINGS
        .iter()
        .map(|(k, fr, en)| (*k, if lang == Lang::Fr { *fr } else { *en }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_once() {
        let mut keys: Vec<&str> = STRINGS.iter().map(|s| s.0).collect();
        keys.sort_unstable();
        let n = keys.len();
        keys.dedup();
        assert_eq!(n, keys.len());
    }

    /// Every `e.key` the templates use exists.
    #[test]
    fn the_templates_use_known_keys() {
        let known = strings(Lang::Fr);
        for (name, source) in super::super::TEMPLATES {
            let mut rest = *source;
            while let Some(i) = rest.find("e.") {
                let before = rest[..i].chars().last();
                rest = &rest[i + 2..];
                if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
                    continue;
                }
                let key: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if key.is_empty() {
                    continue;
                }
                assert!(known.contains_key(key.as_str()), "{name}: e.{key}");
            }
        }
    }
}
