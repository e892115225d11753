//! The one error type of the core; the bindings map each variant once to a
//! Python exception in `astrograph.errors`.

/// Everything that can go wrong in the core.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// Bad positions, weights or shapes.
    #[error("{0}")]
    InvalidInput(String),
    /// Bin edges that cannot be used.
    #[error("{0}")]
    InvalidBins(String),
    /// A periodic box that does not fit the search radius or the points.
    #[error("{0}")]
    InvalidBox(String),
    /// The graph (or a count table) would not fit the memory budget.
    #[error(
        "{what} would need about {estimate_bytes} bytes ({detail}), over the memory \
         budget of {budget_bytes} bytes; {advice}"
    )]
    MemoryBudget {
        what: &'static str,
        estimate_bytes: u64,
        budget_bytes: u64,
        detail: String,
        advice: &'static str,
    },
    /// A graph whose buffers do not describe a valid forward adjacency.
    #[error("corrupt graph: {0}")]
    CorruptGraph(String),
    /// The caller asked to stop (Ctrl-C).
    #[error("interrupted")]
    Cancelled,
    /// rayon could not build the requested pool.
    #[error("cannot start the thread pool: {0}")]
    ThreadPool(String),
}

pub type Result<T> = std::result::Result<T, CoreError>;
