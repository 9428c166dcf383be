//! Sliding-window rate limits kept in memory (one server process). Keys are
//! strings such as `login-fail:ada@example.org` or `login-ip:203.0.113.9`;
//! unknown accounts get windows like known ones, so limits reveal nothing.
//!
//! Memory is bounded with O(1) work per call: keys live in two generations.
//! A key is looked up in the current one, then the previous one (and moved
//! forward); when the current generation is full it becomes the previous
//! one and the oldest is dropped whole. A flood of distinct keys can only
//! push out keys nobody used for a generation; checking a key never adds
//! it.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys per generation: at most twice this many are kept.
const GENERATION: usize = 50_000;

type Window = VecDeque<Instant>;

#[derive(Default)]
struct Generations {
    current: HashMap<String, Window>,
    previous: HashMap<String, Window>,
}

impl Generations {
    fn get(&mut self, key: &str) -> Option<&mut Window> {
        if !self.current.contains_key(key) {
            let moved = self.previous.remove(key)?;
            self.insert(key, moved);
        }
        self.current.get_mut(key)
    }

    fn get_or_insert(&mut self, key: &str) -> &mut Window {
        if self.get(key).is_none() {
            self.insert(key, Window::new());
        }
        self.current.get_mut(key).expect("just inserted")
    }

    fn insert(&mut self, key: &str, w: Window) {
        if self.current.len() >= GENERATION {
            self.previous = std::mem::take(&mut self.current);
        }
        self.current.insert(key.to_owned(), w);
    }

    fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }
}

#[derive(Default)]
pub struct Limiter {
    windows: Mutex<Generations>,
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
        w.get_or_insert(key).push_back(Instant::now());
    }

    pub fn clear(&self, key: &str) {
        let mut w = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        w.current.remove(key);
        w.previous.remove(key);
    }

    /// How many keys are kept (bounded by twice a generation).
    pub fn keys(&self) -> usize {
        self.windows.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    fn at(&self, key: &str, limit: u32, window: Duration, now: Instant, count: bool) -> Result<(), Limited> {
        let mut map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let q = if count {
            map.get_or_insert(key)
        } else {
            match map.get(key) {
                Some(q) => q,
                // Never seen: nothing to refuse, and nothing to keep.
                None => return Ok(()),
            }
        };
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

    #[test]
    fn a_check_keeps_nothing_and_a_flood_of_keys_stays_bounded() {
        let l = Limiter::default();
        let w = Duration::from_secs(3600);
        assert!(l.check("never-seen", 1, w).is_ok());
        assert_eq!(l.keys(), 0, "checking a key does not keep it");
        l.record("victim");
        for i in 0..(3 * GENERATION) {
            l.hit(&format!("flood:{i}"), 5, w).unwrap();
            // The victim is used meanwhile, so it is never pushed out.
            if i % (GENERATION / 2) == 0 {
                assert!(l.check("victim", 1, w).is_err(), "the victim's failure is still counted after {i} keys");
            }
        }
        assert!(l.keys() <= 2 * GENERATION, "{} keys kept", l.keys());
    }
}
