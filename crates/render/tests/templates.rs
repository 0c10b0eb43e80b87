//! Templates: the rendered French text, and hostile templates refused when saved.

use relance_core::party::{CustomerKind, Language};
use relance_render::{LetterData, Part, RenderError, StepId, TemplateKey, Templates};

fn render(step: StepId, kind: CustomerKind, lang: Language, part: Part) -> String {
    let t = Templates::new().expect("templates");
    t.render(part, &LetterData::sample(step, kind, lang))
        .expect("render")
}

#[test]
fn first_reminder_french_text_reads_as_expected() {
    let text = render(
        StepId::FirstReminder,
        CustomerKind::Business,
        Language::Fr,
        Part::Text,
    );
    let expected = "Madame, Monsieur,

Sauf erreur ou omission de notre part, nous n'avons pas encore reçu le règlement des factures suivantes, arrivées à échéance :

- facture F-2026-0042 du 15/01/2026, échéance le 14/02/2026 : 1\u{202f}234,56\u{a0}€, reste dû 1\u{202f}234,56\u{a0}€
- facture F-2026-0057 du 28/01/2026, échéance le 27/02/2026 : 600,00\u{a0}€, déjà réglé 200,00\u{a0}€, reste dû 400,00\u{a0}€
Total restant dû : 1\u{202f}634,56\u{a0}€

Il s'agit sans doute d'un simple oubli. Nous vous remercions de bien vouloir nous régler la somme de 1\u{202f}634,56\u{a0}€ d'ici le 16 avril 2026. Une copie de ces factures vous sera adressée sur simple demande.

Si votre règlement nous est parvenu entre-temps, merci de ne pas tenir compte de ce message. Pour toute question, vous pouvez nous joindre au 04 78 00 00 00 ou à compta@atelier-cezanne.fr.

Règlement par virement : IBAN FR76 3000 6000 0112 3456 7890 189, BIC AGRIFRPP, en indiquant la référence C001-F20260042.
Vous pouvez aussi régler en ligne : https://pay.example.invalid/c/C001

Nous vous prions d'agréer, Madame, Monsieur, nos salutations distinguées.

Claire Martin, responsable du recouvrement
Atelier Cézanne SAS
";
    assert_eq!(text, expected);
    let subject = render(
        StepId::FirstReminder,
        CustomerKind::Business,
        Language::Fr,
        Part::Subject,
    );
    assert_eq!(
        subject,
        "Factures F-2026-0042, F-2026-0057 : règlement en attente"
    );
}

#[test]
fn no_message_numbers_its_reminders() {
    for step in StepId::ALL {
        for lang in [Language::Fr, Language::En] {
            for part in [Part::Subject, Part::Text, Part::Letter] {
                let text = render(step, CustomerKind::Business, lang, part).to_lowercase();
                for numbered in [
                    "1re relance",
                    "1ère relance",
                    "première relance",
                    "deuxième relance",
                    "seconde relance",
                    "2e relance",
                    "1st reminder",
                    "first reminder",
                    "second reminder",
                    "final reminder",
                ] {
                    assert!(
                        !text.contains(numbered),
                        "{step:?} {lang:?} {part:?}: {numbered}"
                    );
                }
            }
        }
    }
}

#[test]
fn business_reminders_state_penalties_and_indemnity_consumers_do_not() {
    let b2b = render(
        StepId::SecondReminder,
        CustomerKind::Business,
        Language::Fr,
        Part::Text,
    );
    for want in [
        "L441-10",
        "D441-5",
        "40 € par facture",
        "12,15\u{a0}%",
        "16 avril 2026",
    ] {
        assert!(b2b.contains(want), "{want} missing:\n{b2b}");
    }
    let b2c = render(
        StepId::SecondReminder,
        CustomerKind::Consumer,
        Language::Fr,
        Part::Text,
    );
    for unwanted in ["L441-10", "D441-5", "40 €", "indemnité"] {
        assert!(!b2c.contains(unwanted), "{unwanted} in:\n{b2c}");
    }
}

#[test]
fn html_part_escapes_what_the_data_contains() {
    let t = Templates::new().expect("templates");
    let mut data = LetterData::sample(StepId::FirstReminder, CustomerKind::Business, Language::Fr);
    data.creditor.name = "Dupont & Fils <SARL>".into();
    data.creditor.phone = Some("<script>alert(1)</script>".into());
    let html = t.render(Part::Html, &data).expect("html");
    assert!(html.contains("Dupont &amp; Fils &lt;SARL&gt;"), "{html}");
    assert!(!html.contains("<script>"), "{html}");
    assert!(!html.contains("&amp;amp;"), "double escaping: {html}");
    assert!(html.contains("<li>facture F-2026-0042"), "{html}");
}

fn refused(source: &str) -> String {
    let t = Templates::new().expect("templates");
    match t.validate(source) {
        Err(RenderError::Template { message, .. }) => message,
        other => panic!("{source:?} was accepted: {other:?}"),
    }
}

#[test]
fn hostile_templates_are_refused_when_saved() {
    let unknown = refused("Bonjour {{ debtor.nom }}");
    assert!(
        unknown.contains("undefined") || unknown.contains("nom"),
        "{unknown}"
    );
    let unknown_top = refused("{{ password }}");
    assert!(unknown_top.contains("undefined"), "{unknown_top}");
    let syntax = refused("Bonjour {{ debtor.name ");
    assert!(
        syntax.contains("syntax") || syntax.contains("unexpected"),
        "{syntax}"
    );
    let unclosed = refused("{% if debtor.name %}oui");
    assert!(!unclosed.is_empty());
    for include in [
        "{% include \"/etc/passwd\" %}",
        "{% include \"../../Cargo.toml\" %}",
        "{% import \"/etc/hostname\" as h %}",
        "{% extends \"/etc/passwd\" %}",
        "{% from \"secrets.txt\" import x %}",
    ] {
        let msg = refused(include);
        assert!(msg.contains("not found"), "{include}: {msg}");
    }
    let looping = refused(
        "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}",
    );
    assert!(looping.contains("fuel"), "{looping}");
    let recursive = refused("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
    assert!(!recursive.is_empty());
    let bomb = refused("{% for i in range(50) %}{{ 'x' * 99999999 }}{% endfor %}");
    assert!(bomb.contains("output larger"), "{bomb}");
    let huge = refused("{{ range(1000000) | length }}");
    assert!(!huge.is_empty());
    // A filter misused on the sample data is caught too.
    let bad_filter = refused("{{ debtor.name | money }}");
    assert!(bad_filter.contains("money"), "{bad_filter}");
}

#[test]
fn valid_overrides_are_saved_and_used_invalid_ones_keep_the_previous() {
    let mut t = Templates::new().expect("templates");
    let key = TemplateKey::new(StepId::FirstReminder, Language::Fr, Part::Subject);
    t.set(
        key,
        "Rappel {{ invoice_numbers }} ({{ totals.open | money }})",
    )
    .expect("valid");
    let data = LetterData::sample(StepId::FirstReminder, CustomerKind::Business, Language::Fr);
    assert_eq!(
        t.render(Part::Subject, &data).expect("subject"),
        "Rappel F-2026-0042, F-2026-0057 (1\u{202f}634,56\u{a0}€)"
    );
    assert!(t.set(key, "{{ nope }}").is_err());
    assert!(t
        .render(Part::Subject, &data)
        .expect("subject")
        .starts_with("Rappel"));
    // A body that breaks the letter (penalties read without a guard) is refused for consumers.
    let body = TemplateKey::new(StepId::FirstReminder, Language::Fr, Part::Body);
    let err = t.set(body, "Pénalités : {{ penalties.interest | money }}");
    assert!(err.is_err());
    assert!(t
        .validate("{% if penalties %}{{ penalties.interest | money }}{% endif %}")
        .is_ok());
    t.reset(key).expect("reset");
    assert!(t.overrides().is_empty());
}

#[test]
fn documented_variables_exist_in_the_context() {
    let t = Templates::new().expect("templates");
    for (names, _) in relance_render::templates::VARIABLES {
        let first = names.split([' ', ',']).next().expect("name");
        let source = format!("{{{{ {first} is defined }}}}");
        t.validate(&source)
            .unwrap_or_else(|e| panic!("{first}: {e}"));
        let rendered = t
            .render_source(
                &source,
                &LetterData::sample(StepId::FormalNotice, CustomerKind::Business, Language::Fr),
            )
            .expect("render");
        assert_eq!(rendered, "True", "{first} is not in the context");
    }
}

/// Every step's built-in SMS, in both languages and for both kinds of debtor, stays within two
/// GSM segments, names the creditor, the amount and the reference, and carries the payment
/// link when there is one; a longer override is saved with a warning.
#[test]
fn the_sms_part_is_short_gsm_text_with_the_portal_link() {
    use relance_render::sms::{sms_length, MAX_SEGMENTS};

    let mut templates = Templates::new().expect("templates");
    for step in StepId::ALL {
        for language in [Language::Fr, Language::En] {
            for kind in [CustomerKind::Business, CustomerKind::Consumer] {
                let data = LetterData::sample(step, kind, language);
                let text = templates.render(Part::Sms, &data).expect("sms");
                let length = sms_length(&text);
                assert!(
                    length.segments <= MAX_SEGMENTS && !length.unicode,
                    "{step:?} {language:?}: {length:?} {text}"
                );
                assert!(text.contains(&data.creditor.name), "{text}");
                assert!(text.contains(&data.payment_reference), "{text}");
                let portal = data.portal_url.clone().expect("the sample has a link");
                assert!(text.contains(&portal), "{text}");
                assert!(!text.contains('\n'), "one line: {text}");
            }
            assert_eq!(
                templates.sms_warning(TemplateKey::new(step, language, Part::Sms)),
                None
            );
        }
    }
    // Without a link, the creditor's phone number or nothing.
    let mut data = LetterData::sample(StepId::FirstReminder, CustomerKind::Business, Language::Fr);
    data.portal_url = None;
    let text = templates.render(Part::Sms, &data).expect("sms");
    assert!(!text.contains("Payer :"), "{text}");

    // An override too long for two segments is valid but warned about.
    let key = TemplateKey::new(StepId::FirstReminder, Language::Fr, Part::Sms);
    let long = format!("{{{{ creditor.name }}}} {}", "relance ".repeat(50));
    templates.set(key, &long).expect("valid");
    let warning = templates
        .sms_warning(key)
        .expect("a warning beyond two segments");
    assert!(warning.contains("segments"), "{warning}");
    // A source naming an unknown variable is refused, as for every part.
    assert!(templates.set(key, "{{ debtor.nope }}").is_err());
}
