//! Instants as the server shows them. A leaf module: storage and the HTTP
//! layer both use it.

/// Milliseconds since the epoch as RFC 3339 (UTC, millisecond precision),
/// as responses and the desktop's change payloads carry instants.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)).unwrap_or_default()
}

/// "Now" for the expiries the server checks itself (signed email links):
/// the system clock, moved forward only by [`Clock::advance`], so a test
/// sees a link expire without waiting for it. Clones share one offset.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    ahead_ms: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl Clock {
    pub fn now_ms(&self) -> i64 {
        chrono::Utc::now().timestamp_millis() + self.ahead_ms.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// Moves this clock (and its clones) forward by `by`.
    pub fn advance(&self, by: std::time::Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.ahead_ms.fetch_add(ms, std::sync::atomic::Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_is_utc_with_milliseconds() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(super::rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }

    #[test]
    fn a_clock_moves_forward_for_all_its_clones() {
        let clock = super::Clock::default();
        let twin = clock.clone();
        let before = twin.now_secs();
        clock.advance(std::time::Duration::from_secs(3600));
        assert!(twin.now_secs() >= before + 3600);
    }
}
