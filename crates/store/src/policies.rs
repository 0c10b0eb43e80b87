//! Policies as the creditor edits them: stored as JSON, tried in order, the French default
//! when none is stored; and which policy a customer follows (named, else the first whose
//! conditions accept the customer's kind, tags and payer grade).

use relance_core::ids::{CreditorId, CustomerId};
use relance_core::party::CustomerKind;
use relance_core::planner::{select_policy_graded, Policy};
use relance_core::scoring::Grade;
use sqlx::{Any, Row, Transaction};

use crate::customers::{join_list, split_list};
use crate::db::now_text;
use crate::error::{Result, StoreError};
use crate::Store;

/// The policies of a creditor in selection order; the French default when none is stored.
pub(crate) async fn load_policies<'c, E>(executor: E, creditor: CreditorId) -> Result<Vec<Policy>>
where
    E: sqlx::Executor<'c, Database = Any>,
{
    let rows =
        sqlx::query("SELECT content FROM policies WHERE creditor_id = $1 ORDER BY position, id")
            .bind(creditor.0)
            .fetch_all(executor)
            .await?;
    let mut policies = Vec::with_capacity(rows.len());
    for row in rows {
        let content: String = row.try_get("content")?;
        let policy: Policy = serde_json::from_str(&content)
            .map_err(|e| StoreError::Corrupt(format!("stored policy: {e}")))?;
        policies.push(policy);
    }
    if policies.is_empty() {
        policies.push(Policy::default_french());
    }
    Ok(policies)
}

/// The policy a customer follows: the one named on the customer, else the first policy with
/// conditions that accept it (specific rules before catch-alls), else the first without
/// conditions, else the first of all.
pub(crate) fn policy_for<'p>(
    policies: &'p [Policy],
    kind: CustomerKind,
    tags: &[String],
    grade: Option<Grade>,
    named: Option<&str>,
) -> &'p Policy {
    named
        .and_then(|id| policies.iter().find(|p| p.id == id))
        .or_else(|| {
            policies
                .iter()
                .find(|p| !p.conditions.is_empty() && p.applies_to_graded(kind, tags, grade))
        })
        .or_else(|| select_policy_graded(policies, kind, tags, grade))
        .unwrap_or(&policies[0])
}

/// The policy of one customer, inside a transaction.
pub(crate) async fn customer_policy(
    tx: &mut Transaction<'static, Any>,
    creditor: CreditorId,
    customer: CustomerId,
) -> Result<Policy> {
    let policies = load_policies(&mut **tx, creditor).await?;
    let row = sqlx::query(
        "SELECT kind, tags, grade, policy_id FROM customers WHERE creditor_id = $1 AND id = $2",
    )
    .bind(creditor.0)
    .bind(customer.0)
    .fetch_one(&mut **tx)
    .await?;
    let kind = CustomerKind::parse(&row.try_get::<String, _>("kind")?)
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let tags = split_list(&row.try_get::<String, _>("tags")?);
    let named: Option<String> = row.try_get("policy_id")?;
    let grade: Option<String> = row.try_get("grade")?;
    let grade = grade.as_deref().and_then(Grade::parse);
    Ok(policy_for(&policies, kind, &tags, grade, named.as_deref()).clone())
}

impl Store {
    /// The creditor's policies, in the order they are tried.
    pub async fn policies(&self, creditor: CreditorId) -> Result<Vec<Policy>> {
        load_policies(&self.pool, creditor).await
    }

    /// Adds or replaces a policy (validated first). A new one is tried after the existing ones.
    /// Returns whether it was new.
    pub async fn save_policy(&self, creditor: CreditorId, policy: &Policy) -> Result<bool> {
        policy.validate().map_err(|e| {
            StoreError::Unsupported(format!("policy \"{}\" refused: {e}", policy.id))
        })?;
        let content =
            serde_json::to_string(policy).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.pool.begin().await?;
        let stored: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM policies WHERE creditor_id = $1",
        )
        .bind(creditor.0)
        .fetch_one(&mut *tx)
        .await?;
        if stored == 0 && policy.id != Policy::default_french().id {
            // The built-in default stays first, as it was in force until now.
            let default = serde_json::to_string(&Policy::default_french())
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            sqlx::query("INSERT INTO policies (creditor_id, policy_id, position, content, updated_at) VALUES ($1, $2, 0, $3, $4)")
                .bind(creditor.0)
                .bind(Policy::default_french().id)
                .bind(default)
                .bind(now_text())
                .execute(&mut *tx)
                .await?;
        }
        let updated = sqlx::query("UPDATE policies SET content = $1, updated_at = $2 WHERE creditor_id = $3 AND policy_id = $4")
            .bind(&content)
            .bind(now_text())
            .bind(creditor.0)
            .bind(&policy.id)
            .execute(&mut *tx)
            .await?;
        let created = updated.rows_affected() == 0;
        if created {
            sqlx::query(
                "INSERT INTO policies (creditor_id, policy_id, position, content, updated_at) \
                 VALUES ($1, $2, (SELECT COALESCE(MAX(position), 0) + 1 FROM policies WHERE creditor_id = $1), $3, $4)",
            )
            .bind(creditor.0)
            .bind(&policy.id)
            .bind(&content)
            .bind(now_text())
            .execute(&mut *tx)
            .await?;
        }
        // Cases re-plan with the new rules at the next run.
        sqlx::query("UPDATE cases SET next_action_on = $1 WHERE creditor_id = $2")
            .bind(crate::cases::PENDING)
            .bind(creditor.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Names the policy a customer follows (`None`: chosen by conditions again), and its tags.
    pub async fn assign_policy(
        &self,
        creditor: CreditorId,
        customer_code: &str,
        policy: Option<&str>,
        tags: Option<&[String]>,
    ) -> Result<()> {
        if let Some(id) = policy {
            let policies = self.policies(creditor).await?;
            if !policies.iter().any(|p| p.id == id) {
                return Err(StoreError::Unsupported(format!(
                    "no policy \"{id}\" (known: {})",
                    policies
                        .iter()
                        .map(|p| p.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        let mut tx = self.pool.begin().await?;
        let id: i64 =
            sqlx::query_scalar("SELECT id FROM customers WHERE creditor_id = $1 AND code = $2")
                .bind(creditor.0)
                .bind(customer_code)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::UnknownCustomer(customer_code.to_string()))?;
        sqlx::query("UPDATE customers SET policy_id = $1 WHERE id = $2 AND creditor_id = $3")
            .bind(policy)
            .bind(id)
            .bind(creditor.0)
            .execute(&mut *tx)
            .await?;
        if let Some(tags) = tags {
            sqlx::query("UPDATE customers SET tags = $1 WHERE id = $2 AND creditor_id = $3")
                .bind(join_list(tags))
                .bind(id)
                .bind(creditor.0)
                .execute(&mut *tx)
                .await?;
        }
        crate::cases::mark_pending(&mut tx, self.backend(), creditor, &[id]).await?;
        tx.commit().await?;
        Ok(())
    }
}
