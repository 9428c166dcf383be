//! The HTTP client: TLS, limits, one attempt, and the retry loop.

use crate::config::Config;
use crate::error::ClientError;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use rustls_platform_verifier::BuilderVerifierExt;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Sent with every request.
pub const USER_AGENT: &str = concat!("Shelfkeeper/", env!("CARGO_PKG_VERSION"));

/// Why one request failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Connection refused, DNS, timeout, connection cut while reading.
    Offline(String),
    /// An answer whose status is not 2xx.
    Status { status: u16, retry_after: Option<Duration> },
    /// The body (declared or streamed) is over the cap.
    TooLarge { limit: usize },
    /// The Content-Type is not one the caller accepts.
    WrongType(String),
    /// Anything else (too many redirects, a bad URL).
    Other(String),
}

impl Failure {
    fn retryable(&self) -> bool {
        match self {
            Failure::Offline(_) => true,
            Failure::Status { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            _ => false,
        }
    }
}

/// A failure and how many attempts were made.
#[derive(Clone, Debug)]
pub(crate) struct Failed {
    pub failure: Failure,
    pub attempts: u32,
    /// Set when a `Retry-After` was longer than allowed to wait.
    pub retry_after_refused: Option<Duration>,
}

impl Failed {
    /// "HTTP 503 (3 attempts)" and the like.
    pub fn describe(&self) -> String {
        let what = match &self.failure {
            Failure::Offline(m) => m.clone(),
            Failure::Status { status: 429, .. } => "rate limited (HTTP 429)".to_string(),
            Failure::Status { status, .. } => format!("HTTP {status}"),
            Failure::TooLarge { limit } => format!("the answer is larger than {} KiB", limit / 1024),
            Failure::WrongType(m) | Failure::Other(m) => m.clone(),
        };
        let mut out = what;
        if let Some(ra) = self.retry_after_refused {
            out.push_str(&format!("; asked to retry after {} s", ra.as_secs()));
        }
        if self.attempts > 1 {
            out.push_str(&format!(" ({} attempts)", self.attempts));
        }
        out
    }
}

/// What a successful request returns.
pub(crate) struct Body {
    pub bytes: Vec<u8>,
}

/// Accepts or refuses a Content-Type (absent: `None`) with a reason.
pub(crate) type ContentTypeCheck = fn(Option<&str>) -> Result<(), String>;

/// How to make one logical request.
pub(crate) struct Request<'a> {
    pub url: &'a str,
    pub accept: &'static str,
    pub timeout: Duration,
    pub retries: u32,
    pub deadline: Instant,
    pub max_bytes: usize,
    /// Checked before the body is read: the Content-Type (if any).
    pub check_type: Option<ContentTypeCheck>,
}

#[derive(Clone)]
pub(crate) struct Http {
    client: reqwest::Client,
    backoff: Duration,
    max_retry_after: Duration,
}

impl Http {
    pub fn new(config: &Config) -> Result<Http, ClientError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ClientError::Tls(e.to_string()))?
            .with_platform_verifier()
            .map_err(|e| ClientError::Tls(e.to_string()))?
            .with_no_client_auth();
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .user_agent(USER_AGENT)
            .redirect(reqwest::redirect::Policy::limited(config.max_redirects))
            .build()
            .map_err(|e| ClientError::Build(chain(&e)))?;
        Ok(Http {
            client,
            backoff: Duration::from_millis(config.backoff_ms),
            max_retry_after: Duration::from_millis(config.max_retry_after_ms),
        })
    }

    /// Makes the request, retrying offline, 5xx, 408 and 429 answers with
    /// exponential back-off and jitter (or the `Retry-After` asked for, up
    /// to the cap) until the retries or the deadline run out.
    pub async fn get(&self, req: &Request<'_>) -> Result<Body, Failed> {
        let mut attempts = 0u32;
        let mut last: Option<Failure> = None;
        loop {
            let now = Instant::now();
            if now >= req.deadline {
                let failure = last.unwrap_or_else(|| Failure::Offline("the look-up's time ran out".into()));
                return Err(Failed { failure, attempts, retry_after_refused: None });
            }
            let timeout = req.timeout.min(req.deadline - now);
            attempts += 1;
            let failure = match self.attempt(req, timeout).await {
                Ok(body) => return Ok(body),
                Err(f) => f,
            };
            if !failure.retryable() || attempts > req.retries {
                return Err(Failed { failure, attempts, retry_after_refused: None });
            }
            let wait = match &failure {
                Failure::Status { retry_after: Some(ra), .. } if *ra > self.max_retry_after => {
                    let ra = *ra;
                    return Err(Failed { failure, attempts, retry_after_refused: Some(ra) });
                }
                Failure::Status { retry_after: Some(ra), .. } => *ra,
                _ => backoff(self.backoff, attempts - 1),
            };
            if Instant::now() + wait >= req.deadline {
                return Err(Failed { failure, attempts, retry_after_refused: None });
            }
            tokio::time::sleep(wait).await;
            last = Some(failure);
        }
    }

    async fn attempt(&self, req: &Request<'_>, timeout: Duration) -> Result<Body, Failure> {
        let work = async {
            let mut resp = self.client.get(req.url).header(ACCEPT, req.accept).timeout(timeout).send().await.map_err(|e| classify(&e))?;
            let status = resp.status();
            if !status.is_success() {
                return Err(Failure::Status { status: status.as_u16(), retry_after: retry_after(resp.headers()) });
            }
            if let Some(check) = req.check_type {
                let ct = resp.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
                check(ct).map_err(Failure::WrongType)?;
            }
            if resp.content_length().is_some_and(|n| n > req.max_bytes as u64) {
                return Err(Failure::TooLarge { limit: req.max_bytes });
            }
            // Streamed: stop as soon as the cap is passed, whatever the
            // server declared (or did not).
            let mut bytes = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(|e| classify(&e))? {
                if bytes.len() + chunk.len() > req.max_bytes {
                    return Err(Failure::TooLarge { limit: req.max_bytes });
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(Body { bytes })
        };
        match tokio::time::timeout(timeout, work).await {
            Ok(r) => r,
            Err(_) => Err(Failure::Offline(format!("no answer within {} ms", timeout.as_millis()))),
        }
    }
}

/// `base * 2^n`, then a random wait between half and all of it.
fn backoff(base: Duration, n: u32) -> Duration {
    let full = base.saturating_mul(1u32 << n.min(16));
    let random = std::collections::hash_map::RandomState::new().hash_one(Instant::now().elapsed().as_nanos());
    let fraction = (random % 1001) as f64 / 1000.0;
    full / 2 + full.mul_f64(fraction / 2.0)
}

/// `Retry-After` as seconds or as an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let secs = (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_milliseconds().max(0);
    Some(Duration::from_millis(secs as u64))
}

fn classify(e: &reqwest::Error) -> Failure {
    if e.is_timeout() {
        Failure::Offline("timed out".into())
    } else if e.is_connect() {
        Failure::Offline(format!("could not connect: {}", chain(e)))
    } else if e.is_redirect() {
        Failure::Other(format!("redirect refused: {}", chain(e)))
    } else if e.is_builder() {
        Failure::Other(format!("bad request: {}", chain(e)))
    } else {
        Failure::Offline(format!("connection failed: {}", chain(e)))
    }
}

/// An error and its causes, innermost last, without repeats.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_below_the_full_wait() {
        let base = Duration::from_millis(100);
        for n in 0..4 {
            let full = base * (1 << n);
            for _ in 0..20 {
                let w = backoff(base, n);
                assert!(w >= full / 2 && w <= full, "{w:?} for attempt {n}");
            }
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(RETRY_AFTER, "Sun, 06 Nov 1994 08:49:37 GMT".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
    }
}
