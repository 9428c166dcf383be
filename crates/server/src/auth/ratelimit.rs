//! Sliding-window rate limits kept in memory (one server process). Keys are
//! strings such as `login-fail:ada@example.org` or `login-ip:203.0.113.9`;
//! unknown accounts get windows like known ones, so limits reveal nothing.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Default)]
pub struct Limiter {
    windows: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// Past the limit: seconds until the oldest counted event leaves the window.
#[derive(Debug, PartialEq, Eq)]
pub struct Limited(pub u64);

impl Limiter {
    /// Refuses when `limit` events already fall in the window, without counting.
    pub fn check(&self, key: &str, limit: u32, window: Duration) -> Result<(), Limited> {
        self.at(key, limit, window, Instant::now(), false)
    }

    /// Counts one event, refusing (and not counting) past the limit.
    pub fn hit(&self, key: &str, limit: u32, window: Duration) -> Result<(), Limited> {
        self.at(key, limit, window, Instant::now(), true)
    }

    /// Counts one event unconditionally (a failed login).
    pub fn record(&self, key: &str) {
        let mut w = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        w.entry(key.to_owned()).or_default().push_back(Instant::now());
    }

    pub fn clear(&self, key: &str) {
        self.windows.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }

    fn at(&self, key: &str, limit: u32, window: Duration, now: Instant, count: bool) -> Result<(), Limited> {
        let mut map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            // Bounded memory under a flood of distinct keys: drop idle ones.
            map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < Duration::from_secs(3600)));
        }
        let q = map.entry(key.to_owned()).or_default();
        while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
            q.pop_front();
        }
        if q.len() >= limit as usize {
            let oldest = *q.front().expect("limit > 0 implies an entry");
            let wait = window.saturating_sub(now.duration_since(oldest));
            return Err(Limited(wait.as_secs() + u64::from(wait.subsec_nanos() > 0)));
        }
        if count {
            q.push_back(now);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_past_the_limit_and_says_how_long() {
        let l = Limiter::default();
        let w = Duration::from_secs(60);
        for _ in 0..3 {
            l.hit("k", 3, w).unwrap();
        }
        let Limited(s) = l.hit("k", 3, w).unwrap_err();
        assert!((59..=60).contains(&s), "{s}");
        assert!(l.hit("other", 3, w).is_ok());
        l.clear("k");
        assert!(l.check("k", 3, w).is_ok());
    }

    #[test]
    fn window_slides() {
        let l = Limiter::default();
        let w = Duration::from_millis(50);
        l.record("k");
        assert!(l.check("k", 1, w).is_err());
        std::thread::sleep(Duration::from_millis(60));
        assert!(l.check("k", 1, w).is_ok());
    }
}
