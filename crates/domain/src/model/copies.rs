//! Copies of a title and their status.

use crate::error::{Error, Result};
use crate::ids::*;
use crate::text::{bounded, clean};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct CopyDraft {
    pub barcode: String,
    pub location: Option<String>,
    pub shelf: Option<String>,
    pub condition: Option<String>,
    pub acquired_on: Option<NaiveDate>,
    /// In minor units of `currency` (cents).
    pub price_cents: Option<i64>,
    pub currency: Option<String>,
    pub provenance: Option<String>,
    pub notes: Option<String>,
}

impl CopyDraft {
    pub fn validate(&self) -> Result<CopyDraft> {
        let barcode = crate::text::barcode("barcode", &self.barcode)?;
        if let Some(p) = self.price_cents
            && p < 0
        {
            return Err(Error::invalid("price", "cannot be negative"));
        }
        let currency = match clean(self.currency.as_deref()) {
            Some(c) if c.len() == 3 && c.chars().all(|x| x.is_ascii_alphabetic()) => Some(c.to_uppercase()),
            Some(c) => return Err(Error::invalid("currency", format!("'{c}' is not a currency code like EUR or USD"))),
            None => None,
        };
        if let Some(d) = self.acquired_on
            && d > Utc::now().date_naive() + chrono::Days::new(1)
        {
            return Err(Error::invalid("acquired_on", "is in the future"));
        }
        Ok(CopyDraft {
            barcode,
            location: bounded("location", clean(self.location.as_deref()), 200)?,
            shelf: bounded("shelf", clean(self.shelf.as_deref()), 200)?,
            condition: bounded("condition", clean(self.condition.as_deref()), 200)?,
            acquired_on: self.acquired_on,
            price_cents: self.price_cents,
            currency,
            provenance: bounded("provenance", clean(self.provenance.as_deref()), 2000)?,
            notes: bounded("notes", clean(self.notes.as_deref()), 5000)?,
        })
    }
}

/// Where a copy is, derived from its circulation events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum CopyStatus {
    Available,
    OnLoan,
    OnHoldShelf,
    Lost,
}

impl CopyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CopyStatus::Available => "available",
            CopyStatus::OnLoan => "on_loan",
            CopyStatus::OnHoldShelf => "on_hold_shelf",
            CopyStatus::Lost => "lost",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "available" => CopyStatus::Available,
            "on_loan" => CopyStatus::OnLoan,
            "on_hold_shelf" => CopyStatus::OnHoldShelf,
            "lost" => CopyStatus::Lost,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Copy {
    pub id: CopyId,
    pub title_id: TitleId,
    pub barcode: String,
    pub location: Option<String>,
    pub shelf: Option<String>,
    pub condition: Option<String>,
    pub acquired_on: Option<NaiveDate>,
    pub price_cents: Option<i64>,
    pub currency: Option<String>,
    pub provenance: Option<String>,
    pub notes: Option<String>,
    pub status: CopyStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
