//! Ratings, reviews and reading status.

use crate::error::{Error, Result};
use crate::ids::*;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ReadingState {
    WantToRead,
    Reading,
    Read,
    Abandoned,
}

impl ReadingState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReadingState::WantToRead => "want_to_read",
            ReadingState::Reading => "reading",
            ReadingState::Read => "read",
            ReadingState::Abandoned => "abandoned",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "want_to_read" => ReadingState::WantToRead,
            "reading" => ReadingState::Reading,
            "read" => ReadingState::Read,
            "abandoned" => ReadingState::Abandoned,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ReadingStatus {
    pub title_id: TitleId,
    pub state: ReadingState,
    pub started_on: Option<NaiveDate>,
    pub finished_on: Option<NaiveDate>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Review {
    pub id: ReviewId,
    pub title_id: TitleId,
    /// `None` for the owner of a personal collection.
    pub member_id: Option<MemberId>,
    pub rating: u8,
    pub body: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub fn validate_rating(rating: i64) -> Result<u8> {
    if (1..=5).contains(&rating) { Ok(rating as u8) } else { Err(Error::RatingOutOfRange(rating)) }
}
