//! Hybrid logical clock.
//!
//! An HLC timestamp packs wall-clock milliseconds (upper 48 bits) and a
//! logical counter (lower 16 bits) into one `u64`. It never goes backwards on
//! a replica even when the wall clock does, stays close to real time, and
//! orders causally related changes correctly across replicas. Ties between
//! replicas are broken by site id, so `(Hlc, SiteId)` is a total order.

use serde::{Deserialize, Serialize};
use std::fmt;

const LOGICAL_BITS: u32 = 16;

/// How far ahead of our own wall clock a remote timestamp may be before it is
/// treated as a broken clock rather than merged (it would otherwise drag every
/// later local write into the future).
pub const MAX_FORWARD_DRIFT_MS: u64 = 5 * 60 * 1000;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Hlc(pub u64);

impl Hlc {
    pub const ZERO: Hlc = Hlc(0);

    pub fn from_parts(wall_ms: u64, logical: u16) -> Self {
        Hlc((wall_ms << LOGICAL_BITS) | u64::from(logical))
    }

    pub fn wall_ms(self) -> u64 {
        self.0 >> LOGICAL_BITS
    }

    pub fn logical(self) -> u16 {
        (self.0 & 0xFFFF) as u16
    }

    /// The next timestamp for a local write, given the last one issued and
    /// the wall clock now. Strictly greater than `last`.
    pub fn tick(last: Hlc, now_ms: u64) -> Hlc {
        let candidate = Hlc::from_parts(now_ms, 0);
        if candidate > last { candidate } else { Hlc(last.0 + 1) }
    }

    /// The next local timestamp after seeing a remote one. Refuses a remote
    /// clock too far in the future instead of adopting it.
    pub fn receive(last: Hlc, remote: Hlc, now_ms: u64) -> Result<Hlc, ClockSkew> {
        if remote.wall_ms() > now_ms + MAX_FORWARD_DRIFT_MS {
            return Err(ClockSkew { remote, now_ms });
        }
        Ok(Hlc::tick(last.max(remote), now_ms))
    }

    pub fn as_i64(self) -> i64 {
        // 48 bits of milliseconds fit comfortably in an i64 until the year 10889.
        self.0 as i64
    }

    pub fn from_i64(v: i64) -> Self {
        Hlc(v as u64)
    }
}

impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:05}", self.wall_ms(), self.logical())
    }
}

/// A remote timestamp that is further in the future than the allowed drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockSkew {
    pub remote: Hlc,
    pub now_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_is_strictly_monotonic_even_if_the_wall_clock_goes_back() {
        let a = Hlc::tick(Hlc::ZERO, 1_000);
        let b = Hlc::tick(a, 1_000);
        let c = Hlc::tick(b, 500);
        assert!(a < b && b < c);
        assert_eq!(c.wall_ms(), 1_000);
        assert_eq!(c.logical(), 2);
        let d = Hlc::tick(c, 2_000);
        assert_eq!((d.wall_ms(), d.logical()), (2_000, 0));
    }

    #[test]
    fn receive_moves_past_the_remote_clock() {
        let local = Hlc::from_parts(1_000, 3);
        let remote = Hlc::from_parts(1_500, 7);
        let next = Hlc::receive(local, remote, 1_200).unwrap();
        assert!(next > remote && next > local);
    }

    #[test]
    fn receive_refuses_a_clock_far_in_the_future() {
        let remote = Hlc::from_parts(10_000_000, 0);
        assert!(Hlc::receive(Hlc::ZERO, remote, 1_000).is_err());
    }
}
