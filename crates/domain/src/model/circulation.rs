//! Loans and holds as records.

use crate::ids::*;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Loan {
    pub id: EventId,
    pub copy_id: CopyId,
    pub barcode: String,
    pub title_id: TitleId,
    pub title: String,
    pub member_id: MemberId,
    pub card: String,
    pub member_name: String,
    pub out_at: DateTime<Utc>,
    pub due_on: NaiveDate,
    pub renewals: u32,
    pub returned_at: Option<DateTime<Utc>>,
    pub lost_at: Option<DateTime<Utc>>,
}

impl Loan {
    pub fn is_open(&self) -> bool {
        self.returned_at.is_none() && self.lost_at.is_none()
    }

    /// Days overdue on `today` (0 if not overdue or returned).
    pub fn days_overdue(&self, today: NaiveDate) -> i64 {
        if !self.is_open() {
            return 0;
        }
        (today - self.due_on).num_days().max(0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum HoldStatus {
    Waiting,
    Ready,
    Fulfilled,
    Cancelled,
    Expired,
}

impl HoldStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HoldStatus::Waiting => "waiting",
            HoldStatus::Ready => "ready",
            HoldStatus::Fulfilled => "fulfilled",
            HoldStatus::Cancelled => "cancelled",
            HoldStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "waiting" => HoldStatus::Waiting,
            "ready" => HoldStatus::Ready,
            "fulfilled" => HoldStatus::Fulfilled,
            "cancelled" => HoldStatus::Cancelled,
            "expired" => HoldStatus::Expired,
            _ => return None,
        })
    }

    pub fn is_active(self) -> bool {
        matches!(self, HoldStatus::Waiting | HoldStatus::Ready)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Hold {
    pub id: HoldId,
    pub title_id: TitleId,
    pub title: String,
    pub member_id: MemberId,
    pub card: String,
    pub member_name: String,
    pub placed_at: DateTime<Utc>,
    pub status: HoldStatus,
    /// The copy waiting on the hold shelf, once the hold is ready.
    pub copy_barcode: Option<String>,
    pub expires_on: Option<NaiveDate>,
    /// 1-based place in the title's queue while waiting.
    pub position: Option<u32>,
}
