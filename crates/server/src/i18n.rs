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
    ("search_hint", "Nom ou code", "Name or code"),
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

/// The strings of the pages in `lang`, for the templates (`t.key`).
pub fn strings(lang: Lang) -> BTreeMap<&'static str, &'static str> {
    STRINGS
        .iter()
        .chain(crate::work::STRINGS)
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
    fn every_key_once() {
        let mut keys: Vec<&str> = STRINGS
            .iter()
            .chain(crate::work::STRINGS)
            .map(|s| s.0)
            .collect();
        keys.sort_unstable();
        let n = keys.len();
        keys.dedup();
        assert_eq!(n, keys.len());
    }
}
