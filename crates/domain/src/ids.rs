//! Typed identifiers. Every row and every event carries a UUIDv7: globally
//! unique without coordination (sync depends on it) and time-ordered, so
//! B-tree inserts stay append-mostly.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ts_rs::TS)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    )*};
}

id_type!(
    /// A bibliographic record (work/edition).
    TitleId,
    /// A physical copy of a title.
    CopyId,
    /// A patron of a library, or a friend a collector lends to.
    MemberId,
    /// A login.
    AccountId,
    /// A circulation event (append-only).
    EventId,
    /// A hold (reservation) on a title.
    HoldId,
    /// A review and rating.
    ReviewId,
    /// A member type (loan rules).
    MemberTypeId,
    /// A replica of the store: each store file has its own.
    SiteId,
);
