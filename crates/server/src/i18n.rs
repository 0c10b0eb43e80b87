//! French and English: the language of a request (a `lang` cookie set by the switch, else
//! `Accept-Language`, else French) and the strings of the pages.

use std::collections::BTreeMap;

use axum::http::header::ACCEPT_LANGUAGE;
use axum::http::HeaderMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Fr,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    pub fn parse(text: &str) -> Option<Lang> {
        match text {
            "fr" => Some(Lang::Fr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The cookie's choice, else the first of French or English in `Accept-Language` (by
    /// quality), else French.
    pub fn of(headers: &HeaderMap) -> Lang {
        if let Some(l) = crate::auth::cookie(headers, "lang").and_then(|v| Lang::parse(&v)) {
            return l;
        }
        let Some(accept) = headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()) else {
            return Lang::Fr;
        };
        let mut best: Option<(f32, Lang)> = None;
        for part in accept.split(',') {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next().unwrap_or("").trim().to_lowercase();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q=").map(str::to_string))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let lang = match tag.split('-').next() {
                Some("fr") => Lang::Fr,
                Some("en") => Lang::En,
                _ => continue,
            };
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or(Lang::Fr)
    }

    pub fn money(self, m: &relance_core::money::Money) -> String {
        match self {
            Lang::Fr => m.format_fr(),
            Lang::En => m.format_en(),
        }
    }
}

/// (key, French, English).
const STRINGS: &[(&str, &str, &str)] = &[
    (
        "unsubscribe_title",
        "Désinscription",
        "Unsubscribe",
    ),
    (
        "unsubscribe_done",
        "C'est fait : vous ne recevrez plus de messages commerciaux de",
        "Done: you will receive no more commercial messages from",
    ),
    (
        "unsubscribe_receivables",
        "Les courriers relatifs à des factures restant dues ne sont pas des messages commerciaux et peuvent vous être encore adressés.",
        "Letters about invoices still due are not commercial messages and may still be sent to you.",
    ),
    ("app", "relance", "relance"),
    ("skip", "Aller au contenu", "Skip to content"),
    ("dashboard", "Tableau de bord", "Dashboard"),
    ("customers", "Clients", "Customers"),
    ("customer", "Client", "Customer"),
    ("invoice", "Facture", "Invoice"),
    ("logout", "Se déconnecter", "Log out"),
    ("login", "Connexion", "Log in"),
    ("email", "Adresse e-mail", "E-mail address"),
    ("password", "Mot de passe", "Password"),
    (
        "login_failed",
        "Adresse ou mot de passe incorrect.",
        "Wrong e-mail address or password.",
    ),
    (
        "too_many",
        "Trop de tentatives : réessayez dans quelques minutes.",
        "Too many attempts: try again in a few minutes.",
    ),
    ("language", "Langue", "Language"),
    ("open_receivables", "Encours", "Open receivables"),
    ("overdue", "Échu", "Overdue"),
    ("open_invoices", "factures ouvertes", "open invoices"),
    ("overdue_invoices", "factures échues", "overdue invoices"),
    ("aged_balance", "Balance âgée", "Aged balance"),
    ("not_due", "Non échu", "Not due"),
    ("d1_30", "1 à 30 j", "1–30 days"),
    ("d31_60", "31 à 60 j", "31–60 days"),
    ("d61_90", "61 à 90 j", "61–90 days"),
    ("over_90", "Plus de 90 j", "Over 90 days"),
    ("total", "Total", "Total"),
    ("today_actions", "Actions du jour", "Today's actions"),
    ("no_actions", "Aucune action prévue.", "No action planned."),
    ("promises_due", "Promesses à échéance", "Promises due"),
    (
        "no_promises",
        "Aucune promesse dans les 7 jours.",
        "No promise within 7 days.",
    ),
    ("open_disputes", "Litiges ouverts", "Open disputes"),
    ("no_disputes", "Aucun litige ouvert.", "No open dispute."),
    ("step", "Étape", "Step"),
    ("channel", "Canal", "Channel"),
    ("due_on", "Échéance", "Due"),
    ("amount", "Montant", "Amount"),
    ("search", "Rechercher", "Search"),
    (
        "search_hint",
        "Nom, code, SIREN ou e-mail (début des mots)",
        "Name, code, SIREN or e-mail (beginnings of words)",
    ),
    (
        "overdue_only",
        "Seulement les clients en retard",
        "Only customers with overdue invoices",
    ),
    ("sort", "Trier par", "Sort by"),
    ("code", "Code", "Code"),
    ("name", "Nom", "Name"),
    ("descending", "Ordre décroissant", "Descending"),
    ("apply", "Appliquer", "Apply"),
    ("next_page", "Page suivante", "Next page"),
    ("first_page", "Première page", "First page"),
    ("open_amount", "Reste dû", "Open"),
    (
        "no_customers",
        "Aucun client ne correspond.",
        "No customer matches.",
    ),
    ("open_items", "Pièces ouvertes", "Open items"),
    ("number", "Numéro", "Number"),
    ("issue_date", "Date", "Issued"),
    ("due_date", "Échéance", "Due"),
    ("settled", "Réglé", "Paid"),
    ("disputed", "en litige", "disputed"),
    ("timeline", "Historique", "Timeline"),
    ("contacts", "Coordonnées", "Contacts"),
    ("address", "Adresse", "Address"),
    ("phone", "Téléphone", "Phone"),
    ("case", "Dossier", "Case"),
    ("status", "Statut", "Status"),
    ("next_action", "Prochaine action", "Next action"),
    ("promise", "Promesse de paiement", "Promise to pay"),
    ("promise_date", "Date promise", "Promised date"),
    (
        "amount_optional",
        "Montant (vide : tout le reste dû)",
        "Amount (empty: the whole open amount)",
    ),
    (
        "record_promise",
        "Enregistrer la promesse",
        "Record the promise",
    ),
    ("dispute", "Litige", "Dispute"),
    ("reason", "Motif", "Reason"),
    ("open_dispute", "Ouvrir un litige", "Open a dispute"),
    ("hold", "Suspension", "Hold"),
    ("hold_until", "Suspendre jusqu'au", "Hold until"),
    ("put_on_hold", "Suspendre les relances", "Put on hold"),
    ("note", "Note", "Note"),
    ("add_note", "Ajouter la note", "Add the note"),
    ("holds", "Suspensions", "Holds"),
    ("no_events", "Rien pour l'instant.", "Nothing yet."),
    ("done", "Enregistré.", "Saved."),
    ("allocations", "Règlements imputés", "Payments allocated"),
    (
        "no_allocations",
        "Aucun règlement imputé.",
        "No payment allocated.",
    ),
    ("disputes", "Litiges", "Disputes"),
    ("resolved", "résolu", "resolved"),
    (
        "viewer_note",
        "Votre rôle permet la consultation seulement.",
        "Your role can only view.",
    ),
    ("creditor", "Société", "Company"),
    ("nav_policies", "Scénarios", "Policies"),
    ("nav_templates", "Modèles", "Templates"),
    ("nav_settings", "Paramètres", "Settings"),
    ("portal_title", "Vos factures", "Your invoices"),
    (
        "portal_intro",
        "Voici les factures restant dues à",
        "These invoices are still due to",
    ),
    ("how_to_pay", "Comment payer", "How to pay"),
    (
        "pay_by_transfer",
        "Par virement, en indiquant le numéro de facture :",
        "By bank transfer, quoting the invoice number:",
    ),
    ("portal_promise", "Je m'engage à payer", "I promise to pay"),
    (
        "portal_promise_button",
        "Envoyer ma promesse",
        "Send my promise",
    ),
    (
        "portal_dispute",
        "Je conteste une facture",
        "I dispute an invoice",
    ),
    ("message", "Message", "Message"),
    (
        "portal_dispute_button",
        "Envoyer la contestation",
        "Send the dispute",
    ),
    (
        "portal_thanks",
        "Merci, c'est noté. Votre interlocuteur en est informé.",
        "Thank you, it is recorded. Your contact has been told.",
    ),
    (
        "nothing_due",
        "Rien n'est dû pour l'instant. Merci !",
        "Nothing is due for now. Thank you!",
    ),
    (
        "no_creditor",
        "Aucune société accessible : demandez un accès à un administrateur.",
        "No company you may see: ask an administrator for access.",
    ),
    ("kind_invoice", "facture", "invoice"),
    ("kind_credit_note", "avoir", "credit note"),
    ("customer_page_of", "Fiche client", "Customer page"),
    (
        "chart_desc",
        "Montants ouverts par ancienneté de retard",
        "Open amounts by days overdue",
    ),
];

/// (key, French, English): the refusals of the forms, `{0}`, `{1}`… standing for what
/// [`refusal`] is given (the value the user typed, a limit).
const REFUSALS: &[(&str, &str, &str)] = &[
    (
        "not_a_date",
        "{0} : « {1} » n'est pas une date (AAAA-MM-JJ)",
        "{0}: \"{1}\" is not a date (YYYY-MM-DD)",
    ),
    (
        "not_an_amount",
        "montant : « {0} » n'est pas un montant (par exemple 1250,50)",
        "amount: \"{0}\" is not an amount (for example 1250.50)",
    ),
    (
        "not_an_invoice_of_customer",
        "la facture « {0} » n'est pas une facture de ce client",
        "invoice \"{0}\" is not an invoice of this customer",
    ),
    (
        "not_an_open_invoice_of_customer",
        "la facture « {0} » n'est pas une facture ouverte de ce client",
        "invoice \"{0}\" is not an open invoice of this customer",
    ),
    ("reason_required", "motif : obligatoire", "reason: required"),
    (
        "until_after_today",
        "jusqu'au : la date doit être après aujourd'hui",
        "until: must be after today",
    ),
    (
        "note_length",
        "note : entre 1 et {0} caractères",
        "note: between 1 and {0} characters",
    ),
    (
        "note_too_long",
        "note : {0} caractères au plus",
        "note: at most {0} characters",
    ),
    (
        "why_too_long",
        "pourquoi : {0} caractères au plus",
        "why: at most {0} characters",
    ),
    (
        "why_required",
        "pourquoi : dites pourquoi le message est écarté",
        "why: say why the message is skipped",
    ),
    (
        "not_an_outcome",
        "résultat : « {0} » n'est pas un résultat d'appel",
        "outcome: \"{0}\" is not an outcome",
    ),
    (
        "from_after_to",
        "la date de début {0} est après la date de fin {1}",
        "from {0} is after to {1}",
    ),
    (
        "choose_a_file",
        "fichier : choisissez un fichier à importer",
        "file: choose a file to import",
    ),
    (
        "not_a_kind",
        "contenu : « {0} » n'est ni des factures ni des paiements",
        "kind: \"{0}\" is neither invoices nor payments",
    ),
    (
        "file_too_large",
        "envoi : le fichier dépasse {0} Mo ; importez-le avec `relance import`",
        "upload: the file is larger than {0} MB; import it with `relance import`",
    ),
    (
        "bad_upload",
        "envoi : formulaire illisible ({0})",
        "upload: {0}",
    ),
    (
        "not_your_open_invoice",
        "la facture {0} n'est pas une de vos factures ouvertes",
        "invoice {0} is not one of your open invoices",
    ),
    (
        "promise_in_the_past",
        "la date promise est déjà passée",
        "the promised date is in the past",
    ),
    (
        "message_length",
        "le message doit compter entre 1 et {0} caractères",
        "the message must have between 1 and {0} characters",
    ),
    (
        "policy_id",
        "identifiant de politique « {0} » : 1 à 40 lettres minuscules, chiffres, _ et -",
        "policy id \"{0}\": 1 to 40 lowercase letters, digits, _ and -",
    ),
];

/// The names of the fields the refusals name: (field, French, English).
const FIELDS: &[(&str, &str, &str)] = &[
    ("date", "date", "date"),
    ("until", "jusqu'au", "until"),
    ("as_of", "au", "as of"),
    ("from", "du", "from"),
    ("to", "au", "to"),
];

/// A form's refusal in `lang`: the catalogue's sentence with `args` in its `{0}`, `{1}`…
pub fn refusal(lang: Lang, key: &'static str, args: &[&str]) -> String {
    let sentence = REFUSALS
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, fr, en)| if lang == Lang::Fr { *fr } else { *en })
        .unwrap_or(key);
    args.iter()
        .enumerate()
        .fold(sentence.to_string(), |out, (i, arg)| {
            out.replace(&format!("{{{i}}}"), arg)
        })
}

/// A field's name in `lang` (the name itself when the catalogue has none).
pub fn field(lang: Lang, name: &str) -> String {
    FIELDS
        .iter()
        .find(|(k, _, _)| *k == name)
        .map(|(_, fr, en)| if lang == Lang::Fr { *fr } else { *en })
        .unwrap_or(name)
        .to_string()
}

/// One string of the catalogue in `lang`: messages composed by handlers (flash messages, form
/// errors). An unknown key comes back as itself, which a test would notice.
pub fn text(lang: Lang, key: &'static str) -> &'static str {
    STRINGS
        .iter()
        .chain(crate::work::STRINGS)
        .chain(crate::insights::STRINGS)
        .find(|(k, _, _)| *k == key)
        .map(|(_, fr, en)| if lang == Lang::Fr { *fr } else { *en })
        .unwrap_or(key)
}

/// The strings of the pages in `lang`, for the templates (`t.key`).
pub fn strings(lang: Lang) -> BTreeMap<&'static str, &'static str> {
    STRINGS
        .iter()
        .chain(crate::work::STRINGS)
        .chain(crate::insights::STRINGS)
        .map(|(k, fr, en)| (*k, if lang == Lang::Fr { *fr } else { *en }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn picks_the_language() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::of(&h), Lang::Fr);
        h.insert(
            ACCEPT_LANGUAGE,
            HeaderValue::from_static("de-DE,en-GB;q=0.8,fr;q=0.5"),
        );
        assert_eq!(Lang::of(&h), Lang::En);
        h.insert("cookie", HeaderValue::from_static("lang=fr"));
        assert_eq!(Lang::of(&h), Lang::Fr);
    }

    #[test]
    fn refusals_in_both_languages() {
        assert_eq!(
            refusal(
                Lang::Fr,
                "not_a_date",
                &[&field(Lang::Fr, "until"), "demain"]
            ),
            "jusqu'au : « demain » n'est pas une date (AAAA-MM-JJ)"
        );
        assert_eq!(
            refusal(
                Lang::En,
                "not_a_date",
                &[&field(Lang::En, "until"), "tomorrow"]
            ),
            "until: \"tomorrow\" is not a date (YYYY-MM-DD)"
        );
        // Every refusal has its two sentences, with the same placeholders.
        for (key, fr, en) in REFUSALS {
            for i in 0..3 {
                let p = format!("{{{i}}}");
                assert_eq!(fr.contains(&p), en.contains(&p), "{key}: {p}");
            }
            assert_ne!(fr, en, "{key} is not translated");
        }
        let mut keys: Vec<&str> = REFUSALS.iter().map(|r| r.0).collect();
        keys.sort_unstable();
        let n = keys.len();
        keys.dedup();
        assert_eq!(n, keys.len());
    }

    #[test]
    fn every_key_once() {
        let mut keys: Vec<&str> = STRINGS
            .iter()
            .chain(crate::work::STRINGS)
            .chain(crate::insights::STRINGS)
            .map(|s| s.0)
            .collect();
        keys.sort_unstable();
        let n = keys.len();
        keys.dedup();
        assert_eq!(n, keys.len());
    }
}
