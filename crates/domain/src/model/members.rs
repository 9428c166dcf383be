//! Members and member types.

use crate::error::{Error, Result};
use crate::ids::*;
use crate::text::{bounded, clean};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct MemberDraft {
    pub card: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    /// A member type code ("adult", "child", "friend", ...).
    pub member_type: String,
    pub expires_on: Option<NaiveDate>,
    pub notes: Option<String>,
}

impl MemberDraft {
    pub fn validate(&self) -> Result<MemberDraft> {
        let card = crate::text::barcode("card", &self.card)?;
        let name = self.name.trim().to_string();
        if name.is_empty() {
            return Err(Error::invalid("name", "is required"));
        }
        if name.chars().count() > 300 {
            return Err(Error::invalid("name", "is longer than 300 characters"));
        }
        let email = clean(self.email.as_deref());
        if let Some(e) = &email {
            let ok = e.len() <= 254
                && e.split_once('@').is_some_and(|(local, domain)| {
                    !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
                })
                && !e.chars().any(char::is_whitespace);
            if !ok {
                return Err(Error::invalid("email", format!("'{e}' is not an email address")));
            }
        }
        let member_type = self.member_type.trim().to_lowercase();
        if member_type.is_empty() {
            return Err(Error::invalid("member_type", "is required"));
        }
        Ok(MemberDraft {
            card,
            name,
            email,
            phone: bounded("phone", clean(self.phone.as_deref()), 50)?,
            address: bounded("address", clean(self.address.as_deref()), 1000)?,
            member_type,
            expires_on: self.expires_on,
            notes: bounded("notes", clean(self.notes.as_deref()), 5000)?,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Member {
    pub id: MemberId,
    pub card: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub member_type: String,
    pub expires_on: Option<NaiveDate>,
    pub blocked: bool,
    pub block_reason: Option<String>,
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Loan rules for one kind of member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct MemberType {
    pub id: MemberTypeId,
    pub code: String,
    pub name: String,
    pub loan_days: u32,
    pub max_renewals: u32,
    pub max_loans: u32,
    /// How long a copy waits on the hold shelf for this member.
    pub hold_pickup_days: u32,
}

impl MemberType {
    pub fn validate(&self) -> Result<()> {
        if self.code.trim().is_empty() || self.code.len() > 40 {
            return Err(Error::invalid("code", "is required (at most 40 characters)"));
        }
        if !(1..=365).contains(&self.loan_days) {
            return Err(Error::invalid("loan_days", "must be between 1 and 365"));
        }
        if self.max_renewals > 100 {
            return Err(Error::invalid("max_renewals", "must be at most 100"));
        }
        if !(1..=1000).contains(&self.max_loans) {
            return Err(Error::invalid("max_loans", "must be between 1 and 1000"));
        }
        if !(1..=60).contains(&self.hold_pickup_days) {
            return Err(Error::invalid("hold_pickup_days", "must be between 1 and 60"));
        }
        Ok(())
    }

    /// The types a new store or server library starts with; staff edit
    /// them in settings. Their ids derive from the code ([`seed_member_type_id`]).
    pub fn defaults() -> Vec<MemberType> {
        let t = |code: &str, name: &str, loan_days, max_renewals, max_loans| MemberType {
            id: seed_member_type_id(code),
            code: code.into(),
            name: name.into(),
            loan_days,
            max_renewals,
            max_loans,
            hold_pickup_days: 7,
        };
        vec![
            t("adult", "Adult", 21, 2, 20),
            t("child", "Child", 14, 2, 10),
            t("staff", "Staff", 28, 5, 50),
            t("friend", "Friend (personal lending)", 30, 1, 10),
        ]
    }
}

/// A default member type's id, derived from its code (UUIDv8: FNV-1a of
/// the code under two seeds): the same in every replica, so replicas that
/// sync (desks and the server) start with the same defaults, which merge as
/// one row each instead of clashing on their codes.
pub fn seed_member_type_id(code: &str) -> MemberTypeId {
    let fnv = |seed: u64| code.bytes().fold(seed, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&fnv(0xcbf2_9ce4_8422_2325).to_be_bytes());
    bytes[8..].copy_from_slice(&fnv(0x5368_656c_666b_6565).to_be_bytes());
    MemberTypeId(uuid::Uuid::new_v8(bytes))
}

/// The stamp of default rows: the clock's first tick, older than any write.
pub const SEED_HLC: u64 = 1;
/// The site of default rows, the same in every replica (they are never
/// sent, so every replica must stamp them alike to stay identical): the
/// largest UUID.
pub const SEED_SITE: uuid::Uuid = uuid::Uuid::max();
