//! Message templates edited by the creditor (migration `0009_templates.sql`): overrides of the
//! built-in templates per step, language and part, with their version history.
//!
//! The store keeps text only; checking that a source renders (the sandbox, the documented
//! variables) is the renderer's job, done by the caller before [`Store::save_template`].

use relance_core::ids::CreditorId;
use sqlx::Row;

use crate::db::now_text;
use crate::error::Result;
use crate::Store;

/// Which template: a step, a language and a part, as the renderer names them
/// (`first_reminder`, `fr`, `letter`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct TemplateId {
    pub step: String,
    pub language: String,
    pub part: String,
}

/// One saved version of a template.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TemplateVersion {
    pub id: TemplateId,
    pub version: i64,
    /// `None`: this version went back to the built-in template.
    pub source: Option<String>,
    pub note: String,
    pub created_at: String,
}

fn version_from_row(row: &sqlx::any::AnyRow) -> Result<TemplateVersion> {
    Ok(TemplateVersion {
        id: TemplateId {
            step: row.try_get("step")?,
            language: row.try_get("language")?,
            part: row.try_get("part")?,
        },
        version: row.try_get("version")?,
        source: row.try_get("source")?,
        note: row.try_get("note")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    /// The templates in force for a creditor: the latest version of each key, when it is not
    /// a reset. Sorted by step, language, part.
    pub async fn template_overrides(&self, creditor: CreditorId) -> Result<Vec<TemplateVersion>> {
        let rows = sqlx::query(
            "SELECT t.step, t.language, t.part, t.version, t.source, t.note, t.created_at \
             FROM templates t WHERE t.creditor_id = $1 AND t.source IS NOT NULL \
             AND t.version = (SELECT MAX(u.version) FROM templates u WHERE u.creditor_id = t.creditor_id \
             AND u.step = t.step AND u.language = t.language AND u.part = t.part) \
             ORDER BY t.step, t.language, t.part",
        )
        .bind(creditor.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(version_from_row).collect()
    }

    /// Every saved version of one template, oldest first.
    pub async fn template_history(
        &self,
        creditor: CreditorId,
        id: &TemplateId,
    ) -> Result<Vec<TemplateVersion>> {
        let rows = sqlx::query(
            "SELECT step, language, part, version, source, note, created_at FROM templates \
             WHERE creditor_id = $1 AND step = $2 AND language = $3 AND part = $4 ORDER BY version",
        )
        .bind(creditor.0)
        .bind(&id.step)
        .bind(&id.language)
        .bind(&id.part)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(version_from_row).collect()
    }

    /// Saves a new version of a template (`None`: back to the built-in one) and returns its
    /// number. The caller has validated the source.
    pub async fn save_template(
        &self,
        creditor: CreditorId,
        id: &TemplateId,
        source: Option<&str>,
        note: &str,
    ) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let last: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(version) FROM templates WHERE creditor_id = $1 AND step = $2 \
             AND language = $3 AND part = $4",
        )
        .bind(creditor.0)
        .bind(&id.step)
        .bind(&id.language)
        .bind(&id.part)
        .fetch_one(&mut *tx)
        .await?;
        let version = last.unwrap_or(0) + 1;
        sqlx::query(
            "INSERT INTO templates (creditor_id, step, language, part, version, source, note, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(creditor.0)
        .bind(&id.step)
        .bind(&id.language)
        .bind(&id.part)
        .bind(version)
        .bind(source)
        .bind(note)
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(version)
    }
}
