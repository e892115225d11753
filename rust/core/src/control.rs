//! Progress and cancellation shared between a running kernel and its caller.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

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

/// Runs `f` on a dedicated rayon pool of `num_threads` threads (None: all cores).
pub fn with_threads<R: Send>(
    num_threads: Option<usize>,
    f: impl FnOnce() -> R + Send,
) -> Result<R> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = num_threads {
        if n == 0 {
            return Err(CoreError::InvalidInput(
                "num_threads must be a positive integer or None".into(),
            ));
        }
        builder = builder.num_threads(n);
    }
    let pool = builder
        .build()
        .map_err(|e| CoreError::ThreadPool(e.to_string()))?;
    Ok(pool.install(f))
}
