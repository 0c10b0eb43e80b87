//! Template overrides on both databases: versions, the one in force, resets kept in history.

mod common;

use common::TestDb;
use relance_store::creditors::CreditorInput;
use relance_store::templates::TemplateId;

fn id(step: &str, part: &str) -> TemplateId {
    TemplateId {
        step: step.into(),
        language: "fr".into(),
        part: part.into(),
    }
}

on_both_databases!(
    versions_are_kept_and_the_latest_is_in_force,
    |db: TestDb| async move {
        let store = db.store;
        let mut creditors = Vec::new();
        for name in ["Acme", "Other"] {
            let (c, _) = store
                .upsert_creditor(&CreditorInput {
                    name: name.into(),
                    ..Default::default()
                })
                .await
                .expect("creditor");
            creditors.push(c.id);
        }
        let (a, b) = (creditors[0], creditors[1]);
        let letter = id("first_reminder", "letter");
        assert!(store.template_overrides(a).await.expect("list").is_empty());
        assert_eq!(
            store
                .save_template(a, &letter, Some("v1 {{ debtor.name }}"), "first")
                .await
                .expect("save"),
            1
        );
        assert_eq!(
            store
                .save_template(a, &letter, Some("v2 {{ debtor.name }}"), "")
                .await
                .expect("save"),
            2
        );
        store
            .save_template(a, &id("formal_notice", "subject"), Some("MED"), "")
            .await
            .expect("save");
        let now = store.template_overrides(a).await.expect("list");
        let sources: Vec<(String, String, Option<String>)> = now
            .iter()
            .map(|t| (t.id.step.clone(), t.id.part.clone(), t.source.clone()))
            .collect();
        assert_eq!(
            sources,
            [
                (
                    "first_reminder".into(),
                    "letter".into(),
                    Some("v2 {{ debtor.name }}".into())
                ),
                ("formal_notice".into(), "subject".into(), Some("MED".into())),
            ]
        );
        assert_eq!(now[0].version, 2);
        // Another creditor sees none of it.
        assert!(store.template_overrides(b).await.expect("list").is_empty());
        // A reset is a version too: the built-in template is in force again, history kept.
        assert_eq!(
            store
                .save_template(a, &letter, None, "back to default")
                .await
                .expect("reset"),
            3
        );
        let now = store.template_overrides(a).await.expect("list");
        assert_eq!(now.len(), 1);
        assert_eq!(now[0].id.step, "formal_notice");
        let history = store.template_history(a, &letter).await.expect("history");
        let versions: Vec<(i64, Option<String>, String)> = history
            .into_iter()
            .map(|v| (v.version, v.source, v.note))
            .collect();
        assert_eq!(
            versions,
            [
                (1, Some("v1 {{ debtor.name }}".into()), "first".into()),
                (2, Some("v2 {{ debtor.name }}".into()), String::new()),
                (3, None, "back to default".into()),
            ]
        );
    }
);
