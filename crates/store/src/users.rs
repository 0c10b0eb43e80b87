//! Users of the web application, the creditors they may see, their sessions and API tokens, and
//! the server's secrets (migration `0007_web.sql`).
//!
//! The store never sees a password or a token: callers hash them (argon2 for passwords, SHA-256
//! for random session ids and tokens) and the store keeps and compares the hashes.

use relance_core::ids::CreditorId;
use sqlx::Row;

use crate::creditors::CreditorRecord;
use crate::db::now_text;
use crate::error::{Result, StoreError};
use crate::Store;

/// What a user may do. An admin sees every creditor; a collector acts on the creditors they are
/// given; a viewer only reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Collector,
    Viewer,
}

impl Role {
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "collector" => Some(Role::Collector),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Collector => "collector",
            Role::Viewer => "viewer",
        }
    }

    /// Whether the role may record promises, disputes, holds and notes.
    pub fn can_write(self) -> bool {
        matches!(self, Role::Admin | Role::Collector)
    }
}

/// A user as stored (without the password hash).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UserRecord {
    pub id: i64,
    pub email: String,
    pub role: Role,
}

/// A live session: its user and its CSRF token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub user: UserRecord,
    pub csrf: String,
    pub expires_at: String,
}

fn user_from_row(row: &sqlx::any::AnyRow) -> Result<UserRecord> {
    let role: String = row.try_get("role")?;
    Ok(UserRecord {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?,
    })
}

impl Store {
    /// Creates a user with an already hashed password and the creditors they may see. Refused
    /// when the e-mail address is taken.
    pub async fn create_user(
        &self,
        email: &str,
        password_hash: &str,
        role: Role,
        creditors: &[CreditorId],
    ) -> Result<UserRecord> {
        let mut tx = self.pool.begin().await?;
        let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Err(StoreError::Refused(format!(
                "a user with the e-mail address {email} already exists"
            )));
        }
        sqlx::query(
            "INSERT INTO users (email, password_hash, role, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(email)
        .bind(password_hash)
        .bind(role.as_str())
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query("SELECT id, email, role FROM users WHERE email = $1")
            .bind(email)
            .fetch_one(&mut *tx)
            .await?;
        let user = user_from_row(&row)?;
        for creditor in creditors {
            sqlx::query("INSERT INTO user_creditors (user_id, creditor_id) VALUES ($1, $2)")
                .bind(user.id)
                .bind(creditor.0)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(user)
    }

    /// The user with this e-mail address and their password hash.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<(UserRecord, String)>> {
        let row = sqlx::query("SELECT id, email, role, password_hash FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((user_from_row(&r)?, r.try_get("password_hash")?)))
            .transpose()
    }

    pub async fn count_users(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM users")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// The creditors a user may see, by id: all of them for an admin.
    pub async fn creditors_of(&self, user: &UserRecord) -> Result<Vec<CreditorRecord>> {
        let all = self.creditors().await?;
        if user.role == Role::Admin {
            return Ok(all);
        }
        let allowed: Vec<i64> =
            sqlx::query_scalar("SELECT creditor_id FROM user_creditors WHERE user_id = $1")
                .bind(user.id)
                .fetch_all(&self.pool)
                .await?;
        Ok(all
            .into_iter()
            .filter(|c| allowed.contains(&c.id.0))
            .collect())
    }

    /// Records a session whose random id hashes to `id_hash`, valid until `expires_at` (RFC 3339).
    pub async fn create_session(
        &self,
        id_hash: &str,
        user: i64,
        csrf: &str,
        expires_at: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, csrf, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id_hash)
        .bind(user)
        .bind(csrf)
        .bind(expires_at)
        .bind(now_text())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The live session whose id hashes to `id_hash` (expired ones are not returned).
    pub async fn session(&self, id_hash: &str) -> Result<Option<SessionRecord>> {
        let row = sqlx::query(
            "SELECT u.id, u.email, u.role, s.csrf, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id_hash = $1 AND s.expires_at > $2",
        )
        .bind(id_hash)
        .bind(now_text())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(SessionRecord {
                user: user_from_row(&r)?,
                csrf: r.try_get("csrf")?,
                expires_at: r.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    /// Ends a session, and sweeps the expired ones.
    pub async fn delete_session(&self, id_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1 OR expires_at <= $2")
            .bind(id_hash)
            .bind(now_text())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stores the hash of a new API token for a user.
    pub async fn create_api_token(&self, user: i64, token_hash: &str) -> Result<()> {
        sqlx::query("INSERT INTO api_tokens (user_id, token_hash, created_at) VALUES ($1, $2, $3)")
            .bind(user)
            .bind(token_hash)
            .bind(now_text())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The user an API token (by its hash) belongs to.
    pub async fn user_by_token(&self, token_hash: &str) -> Result<Option<UserRecord>> {
        let row = sqlx::query(
            "SELECT u.id, u.email, u.role FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// The server secret `name`, stored as `fresh` the first time it is asked for: every server
    /// process on the same database then agrees on it.
    pub async fn server_secret(&self, name: &str, fresh: &str) -> Result<String> {
        sqlx::query(
            "INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(fresh)
        .execute(&self.pool)
        .await?;
        Ok(
            sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = $1")
                .bind(name)
                .fetch_one(&self.pool)
                .await?,
        )
    }
}
