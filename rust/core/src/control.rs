//! Progress and cancellation shared between a running kernel and its caller.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::{CoreError, Result};

/// Kernels tick `done` once per chunk and stop at the next chunk once
/// `cancel` is set, so a caller on another thread can show progress and
/// honour Ctrl-C without the kernel knowing about either.
#[derive(Debug, Default)]
pub struct Control {
    cancel: AtomicBool,
    done: AtomicU64,
    total: AtomicU64,
    stage: AtomicU64,
}

impl Control {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(CoreError::Cancelled)
        } else {
            Ok(())
        }
    }

    /// Starts a new stage of `total` chunks.
    pub fn begin(&self, total: u64) {
        self.done.store(0, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
        self.stage.fetch_add(1, Ordering::Relaxed);
    }

    pub fn tick(&self) {
        self.done.fetch_add(1, Ordering::Relaxed);
    }

    /// (stage number, chunks done, chunks in this stage)
    pub fn progress(&self) -> (u64, u64, u64) {
        (
            self.stage.load(Ordering::Relaxed),
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        )
    }
}

/// Runs `f` on a rayon pool of `num_threads` threads (None: the global pool,
/// one thread per core). Pools are made once per size and reused, so repeated
/// calls start no new threads.
pub fn with_threads<R: Send>(
    num_threads: Option<usize>,
    f: impl FnOnce() -> R + Send,
) -> Result<R> {
    let Some(n) = num_threads else {
        return Ok(f());
    };
    if n == 0 {
        return Err(CoreError::InvalidInput(
            "num_threads must be a positive integer or None".into(),
        ));
    }
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<rayon::ThreadPool>>>> = OnceLock::new();
    let pool = {
        let mut pools = POOLS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match pools.get(&n) {
            Some(p) => p.clone(),
            None => {
                let p = rayon::ThreadPoolBuilder::new()
                    .num_threads(n)
                    .build()
                    .map_err(|e| CoreError::ThreadPool(e.to_string()))?;
                pools.entry(n).or_insert(Arc::new(p)).clone()
            }
        }
    };
    Ok(pool.install(f))
}
