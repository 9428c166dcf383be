//! Argon2id on a bounded pool. Each hash takes ~19 MiB and tens of ms of
//! CPU; running them on the async workers would stall every other request
//! during a login flood, and an unbounded `spawn_blocking` queue would grow
//! without limit. A semaphore sized to the cores admits that many hashes at
//! once; others wait up to `hash_queue_ms`, then get 503 with Retry-After.

use crate::error::{ApiError, ApiResult};
use shelfkeeper_domain::password;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    queue_wait: Duration,
}

impl Hasher {
    pub fn new(workers: usize, queue_wait: Duration) -> Hasher {
        let n = if workers == 0 { std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2) } else { workers };
        Hasher { permits: Arc::new(Semaphore::new(n)), queue_wait }
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> ApiResult<T> {
        let permit = match tokio::time::timeout(self.queue_wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(p)) => p,
            Ok(Err(_)) => return Err(ApiError::internal("hasher semaphore closed")),
            Err(_) => {
                metrics::counter!("shelfkeeper_hash_rejected_total").increment(1);
                return Err(ApiError::busy(self.queue_wait.as_secs().max(1)));
            }
        };
        let started = std::time::Instant::now();
        let out = tokio::task::spawn_blocking(move || {
            let out = f();
            drop(permit);
            out
        })
        .await
        .map_err(ApiError::internal)?;
        metrics::histogram!("shelfkeeper_hash_seconds").record(started.elapsed().as_secs_f64());
        Ok(out)
    }

    pub async fn hash(&self, pw: String) -> ApiResult<String> {
        self.run(move || password::hash(&pw)).await?.map_err(ApiError::from)
    }

    pub async fn verify(&self, pw: String, phc: String) -> ApiResult<bool> {
        self.run(move || password::verify(&pw, &phc)).await
    }

    /// Same cost as `verify`, for unknown accounts.
    pub async fn verify_dummy(&self, pw: String) -> ApiResult<()> {
        self.run(move || password::verify_dummy(&pw)).await
    }
}
