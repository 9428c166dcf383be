//! Staff accounts and their roles.

use crate::error::{Error, Result};
use crate::ids::*;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Member,
    Librarian,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Librarian => "librarian",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "member" => Role::Member,
            "librarian" => Role::Librarian,
            "admin" => Role::Admin,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Account {
    pub id: AccountId,
    pub username: String,
    pub role: Role,
    pub disabled: bool,
    pub member_id: Option<MemberId>,
    pub created_at: DateTime<Utc>,
}

pub fn validate_username(raw: &str) -> Result<String> {
    let u = raw.trim().to_lowercase();
    if !(2..=64).contains(&u.chars().count()) {
        return Err(Error::invalid("username", "must be 2 to 64 characters"));
    }
    if !u.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')) {
        return Err(Error::invalid("username", "may contain letters, digits and . _ - @ only"));
    }
    Ok(u)
}
