//! Customers (debtors) of a creditor: lookups by code and the fields an import may set.

use relance_core::ids::{CreditorId, CustomerId};
use relance_core::party::{CustomerKind, Language};
use sqlx::Row;

use crate::error::{Result, StoreError};
use crate::Store;

/// A customer as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CustomerRecord {
    pub id: CustomerId,
    pub code: String,
    pub name: String,
    pub kind: CustomerKind,
    pub language: Language,
    pub siren: Option<String>,
    /// E-mail addresses, in order of preference.
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub address: String,
}

/// What a file says about a customer; `None` or empty means "the file does not say".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerFields {
    pub code: String,
    pub name: Option<String>,
    pub kind: Option<CustomerKind>,
    pub emails: Vec<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub siren: Option<String>,
    pub language: Option<Language>,
}

pub(crate) const CUSTOMER_COLUMNS: &str =
    "id, code, name, kind, language, siren, emails, phones, address";

pub(crate) fn customer_from_row(row: &sqlx::any::AnyRow) -> Result<CustomerRecord> {
    let kind: String = row.try_get("kind")?;
    let language: String = row.try_get("language")?;
    let emails: String = row.try_get("emails")?;
    let phones: String = row.try_get("phones")?;
    Ok(CustomerRecord {
        id: CustomerId(row.try_get("id")?),
        code: row.try_get("code")?,
        name: row.try_get("name")?,
        kind: CustomerKind::parse(&kind).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        language: Language::parse(&language).unwrap_or_default(),
        siren: row.try_get("siren")?,
        emails: split_list(&emails),
        phones: split_list(&phones),
        address: row.try_get("address")?,
    })
}

/// Lists are stored as newline-separated text: portable across both engines.
pub(crate) fn split_list(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

pub(crate) fn join_list(items: &[String]) -> String {
    items.join("\n")
}

impl CustomerRecord {
    /// Whether what a file says differs from the record (cheap: no allocation). Called for
    /// every imported row, so it must stay fast; [`Self::merged_with`] then says what changed.
    pub(crate) fn differs_from(&self, fields: &CustomerFields) -> bool {
        fields
            .name
            .as_ref()
            .is_some_and(|n| !n.is_empty() && *n != self.name)
            || fields.kind.is_some_and(|k| k != self.kind)
            || fields.language.is_some_and(|l| l != self.language)
            || (!fields.emails.is_empty() && fields.emails != self.emails)
            || fields
                .phone
                .as_ref()
                .is_some_and(|p| !p.is_empty() && self.phones.first() != Some(p))
            || fields
                .address
                .as_ref()
                .is_some_and(|a| !a.is_empty() && *a != self.address)
            || fields
                .siren
                .as_ref()
                .is_some_and(|s| Some(s) != self.siren.as_ref())
    }

    /// The record after applying what a file says; returns the list of changed fields.
    pub(crate) fn merged_with(&self, fields: &CustomerFields) -> (CustomerRecord, Vec<String>) {
        let mut next = self.clone();
        let mut changes = Vec::new();
        if let Some(name) = fields
            .name
            .as_ref()
            .filter(|n| !n.is_empty() && **n != self.name)
        {
            changes.push(format!("name \"{}\" → \"{}\"", self.name, name));
            next.name = name.clone();
        }
        if let Some(kind) = fields.kind.filter(|k| *k != self.kind) {
            changes.push(format!("kind {} → {}", self.kind.as_str(), kind.as_str()));
            next.kind = kind;
        }
        if let Some(language) = fields.language.filter(|l| *l != self.language) {
            changes.push(format!(
                "language {} → {}",
                self.language.as_str(),
                language.as_str()
            ));
            next.language = language;
        }
        if !fields.emails.is_empty() && fields.emails != self.emails {
            changes.push(format!(
                "e-mail {} → {}",
                self.emails.join(", "),
                fields.emails.join(", ")
            ));
            next.emails = fields.emails.clone();
        }
        if let Some(phone) = fields.phone.as_ref().filter(|p| !p.is_empty()) {
            if self.phones.first() != Some(phone) {
                changes.push(format!("phone {} → {}", self.phones.join(", "), phone));
                next.phones = vec![phone.clone()];
            }
        }
        if let Some(address) = fields
            .address
            .as_ref()
            .filter(|a| !a.is_empty() && **a != self.address)
        {
            changes.push("address".to_string());
            next.address = address.clone();
        }
        if let Some(siren) = fields
            .siren
            .as_ref()
            .filter(|s| Some(*s) != self.siren.as_ref())
        {
            changes.push(format!("SIREN {}", siren));
            next.siren = Some(siren.clone());
        }
        (next, changes)
    }
}

impl Store {
    /// The customer with this code, if any.
    pub async fn customer_by_code(
        &self,
        creditor: CreditorId,
        code: &str,
    ) -> Result<Option<CustomerRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE creditor_id = $1 AND code = $2"
        ))
        .bind(creditor.0)
        .bind(code)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(customer_from_row).transpose()
    }

    /// Every customer of the creditor, by code.
    pub async fn customers(&self, creditor: CreditorId) -> Result<Vec<CustomerRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE creditor_id = $1 ORDER BY code"
        ))
        .bind(creditor.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(customer_from_row).collect()
    }

    pub async fn count_customers(&self, creditor: CreditorId) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM customers WHERE creditor_id = $1",
        )
        .bind(creditor.0)
        .fetch_one(&self.pool)
        .await?)
    }
}
