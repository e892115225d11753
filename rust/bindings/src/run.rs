//! The one place that releases the GIL, runs core work on a rayon pool,
//! reports progress, honours Ctrl-C and maps core errors to Python.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use astrograph_core::{with_threads, Control, CoreError};
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyType;

/// Maps a core error to its class in `astrograph.errors`.
pub fn to_pyerr(py: Python<'_>, e: CoreError) -> PyErr {
    let class = match e {
        CoreError::InvalidInput(_) => "InputError",
        CoreError::InvalidBins(_) => "BinningError",
        CoreError::InvalidBox(_) => "BoxError",
        CoreError::MemoryBudget { .. } => "MemoryBudgetError",
        CoreError::CorruptGraph(_) => "GraphFormatError",
        CoreError::ThreadPool(_) => "AstrographError",
        CoreError::Cancelled => return PyKeyboardInterrupt::new_err("interrupted"),
    };
    match py
        .import("astrograph.errors")
        .and_then(|m| m.getattr(class))
        .and_then(|c| c.cast_into::<PyType>().map_err(PyErr::from))
    {
        Ok(cls) => PyErr::from_type(cls, e.to_string()),
        Err(_) => PyValueError::new_err(e.to_string()),
    }
}

/// Runs `work` without the GIL on `num_threads` threads (None: all cores).
/// Every 100 ms the caller's thread takes the GIL back to check for Ctrl-C and
/// to call `progress(stage, done, total)`; either may cancel the work.
pub fn run<R: Send>(
    py: Python<'_>,
    num_threads: Option<usize>,
    progress: Option<&Bound<'_, PyAny>>,
    work: impl FnOnce(&Control) -> Result<R, CoreError> + Send,
) -> PyResult<R> {
    let control = Control::new();
    let slot: Mutex<Option<std::thread::Result<Result<R, CoreError>>>> = Mutex::new(None);
    let ready = Condvar::new();
    let mut interrupt: Option<PyErr> = None;
    std::thread::scope(|s| {
        s.spawn(|| {
            let out = catch_unwind(AssertUnwindSafe(|| {
                with_threads(num_threads, || work(&control)).and_then(|r| r)
            }));
            *slot.lock().unwrap() = Some(out);
            ready.notify_all();
        });
        loop {
            let done = py.detach(|| {
                let guard = slot.lock().unwrap();
                let (guard, _) = ready
                    .wait_timeout_while(guard, Duration::from_millis(100), |v| v.is_none())
                    .unwrap();
                guard.is_some()
            });
            if done {
                break;
            }
            if interrupt.is_some() {
                continue;
            }
            let polled = py.check_signals().and_then(|()| match progress {
                Some(cb) => cb.call1(control.progress()).map(|_| ()),
                None => Ok(()),
            });
            if let Err(e) = polled {
                control.cancel();
                interrupt = Some(e);
            }
        }
    });
    if let Some(e) = interrupt {
        return Err(e);
    }
    match slot.into_inner().unwrap().expect("worker finished") {
        Ok(Ok(r)) => Ok(r),
        Ok(Err(e)) => Err(to_pyerr(py, e)),
        Err(_) => Err(PyRuntimeError::new_err(
            "internal error in the astrograph core (a worker thread panicked); please report it",
        )),
    }
}
