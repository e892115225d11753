"""Shared training loop for the Flax models: progress, early stopping, Ctrl-C, checkpoints.

The loop works on a *pure pytree* training state (parameters, optimiser state,
batch statistics, ...) and two user functions, so the same code drives the dense
photo-z regressor and the galaxy CNN.  JAX arrays are immutable, so remembering
the best state is just keeping a reference to it: no copies are made.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jax
import numpy as np

from ...errors import CheckpointError, CheckpointNotFoundError, InputError, TrainingError

__all__ = [
    "History",
    "train_loop",
    "save_pytree",
    "load_pytree",
    "minibatches",
]


@dataclass
class History:
    """Per-epoch learning curves filled in by :func:`train_loop`."""

    epoch: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    metric: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_metric: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    best_epoch: int = -1
    interrupted: bool = False
    stopped_early: bool = False
    compile_seconds: float = 0.0  # first step: tracing + XLA compilation + one step

    def as_dict(self) -> dict[str, Any]:
        """The history as a plain dict (for JSON)."""
        return dict(self.__dict__)


def minibatches(n: int, batch_size: int, rng: np.random.Generator, drop_last: bool = True):
    """Shuffled index batches for one epoch (the last partial batch is dropped by default,
    which keeps one compiled shape for the jitted step)."""
    order = rng.permutation(n)
    stop = n - n % batch_size if drop_last and n >= batch_size else n
    for start in range(0, stop, batch_size):
        yield order[start : start + batch_size]


def train_loop(
    state: Any,
    step: Callable[[Any, Any], tuple[Any, Any, Any]],
    epoch_batches: Callable[[int], Iterable[Any]],
    n_epochs: int,
    evaluate: Callable[[Any], tuple[float, float]] | None = None,
    patience: int | None = None,
    metric_name: str = "metric",
    verbose: int = 0,
    select: Callable[[Any], Any] | None = None,
    keep: str = "best",
) -> tuple[Any, History]:
    """Run epochs of ``step`` over ``epoch_batches(epoch)``, keeping the best state.

    Parameters
    ----------
    state : pytree
        Initial training state.
    step : callable
        ``step(state, batch) -> (state, loss, metric)``; loss and metric are batch means.
    epoch_batches : callable
        ``epoch_batches(epoch)`` yields the batches of one epoch.
    n_epochs : int
        Maximum number of epochs.
    evaluate : callable, optional
        ``evaluate(state) -> (val_loss, val_metric)`` on held-out data.  The best
        state is the one with the lowest validation loss (training loss if absent).
    patience : int, optional
        Stop when the monitored loss has not improved for this many epochs.
    metric_name : str
        Label of the metric in the progress lines (e.g. ``"acc"``).
    verbose : int
        Print a progress line every ``verbose`` epochs (0: silent).
    select : callable, optional
        Maps the state to what is remembered as "best" (default: the whole state).
    keep : {"best", "last"}
        Return the state of the best epoch, or of the last completed epoch (e.g. when
        a learning-rate schedule decays to the end and there is no validation set).

    Returns
    -------
    best : pytree
        ``select(state)`` at the best (or last completed) epoch.  After Ctrl-C
        (KeyboardInterrupt) the loop stops and returns that state instead of raising.
    history : History
    """
    select = select or (lambda s: s)
    if keep not in ("best", "last"):
        raise InputError(f"keep must be 'best' or 'last', got {keep!r}")
    hist = History()
    best, best_loss, since_best = select(state), np.inf, 0
    t_start = time.perf_counter()
    try:
        for epoch in range(n_epochs):
            time.perf_counter()
            losses, metrics, weights = [], [], []
            for batch in epoch_batches(epoch):
                if not hist.epoch and not losses:
                    # time the first call on its own: tracing + XLA compilation + 1 step
                    tc = time.perf_counter()
                    state, loss, metric = jax.block_until_ready(step(state, batch))
                    hist.compile_seconds = time.perf_counter() - tc
                else:
                    state, loss, metric = step(state, batch)
                losses.append(loss)
                metrics.append(metric)
                weights.append(len(jax.tree.leaves(batch)[0]))
            if not losses:
                raise InputError("no training batches: fewer samples than one batch?")
            w = np.asarray(weights, dtype=float)
            # one device->host transfer per epoch, not per step
            loss = float(np.average(np.asarray(jax.device_get(losses)), weights=w))
            metric = float(np.average(np.asarray(jax.device_get(metrics)), weights=w))
            val_loss, val_metric = evaluate(state) if evaluate is not None else (np.nan, np.nan)
            if not np.isfinite(loss):
                raise TrainingError(f"training loss became {loss} at epoch {epoch + 1}")
            hist.epoch.append(epoch + 1)
            hist.loss.append(loss)
            hist.metric.append(metric)
            hist.val_loss.append(float(val_loss))
            hist.val_metric.append(float(val_metric))
            hist.seconds.append(time.perf_counter() - t_start)
            if keep == "last":
                best, hist.best_epoch = select(state), epoch + 1
            monitored = val_loss if evaluate is not None else loss
            if monitored < best_loss:
                best_loss, since_best = monitored, 0
                if keep == "best":
                    best, hist.best_epoch = select(state), epoch + 1
            else:
                since_best += 1
            if verbose and ((epoch + 1) % verbose == 0 or epoch == 0):
                line = (
                    f"epoch {epoch + 1:4d}/{n_epochs}  loss {loss:.4f}  {metric_name} {metric:.4f}"
                )
                if evaluate is not None:
                    line += f"  val_loss {val_loss:.4f}  val_{metric_name} {val_metric:.4f}"
                line += f"  {hist.seconds[-1]:.1f}s" + ("  *" if since_best == 0 else "")
                print(line, flush=True)
            if patience is not None and since_best >= patience:
                hist.stopped_early = True
                if verbose:
                    print(f"early stop: best epoch {hist.best_epoch}", flush=True)
                break
    except KeyboardInterrupt:
        hist.interrupted = True
        warnings.warn(
            f"training interrupted; keeping the best weights (epoch {hist.best_epoch})",
            stacklevel=2,
        )
        print("interrupted: best weights kept", file=sys.stderr, flush=True)
    return best, hist


def _flatten(tree: Any) -> dict[str, np.ndarray]:
    flat, _ = jax.tree_util.tree_flatten_with_path(tree)
    return {jax.tree_util.keystr(path): np.asarray(leaf) for path, leaf in flat}


def save_pytree(path: str | Path, tree: Any, meta: dict[str, Any] | None = None) -> Path:
    """Save the arrays of a pytree (e.g. ``nnx.state(model)``) and JSON metadata to ``.npz``.

    Arrays are stored bit for bit, so :func:`load_pytree` restores them exactly.
    """
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_suffix(path.suffix + ".npz") if path.suffix else path.with_suffix(".npz")
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {f"a{i}": a for i, a in enumerate(_flatten(tree).values())}
    keys = list(_flatten(tree))
    header = json.dumps({"keys": keys, "meta": meta or {}})
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, __header__=np.array(header), **arrays)
    tmp.replace(path)
    return path


def load_pytree(path: str | Path, like: Any | None = None) -> tuple[Any, dict[str, Any]]:
    """Load a file written by :func:`save_pytree`.

    Parameters
    ----------
    path : str or Path
    like : pytree, optional
        A pytree of the same structure (e.g. the state of a freshly built model); the
        loaded arrays are put into its structure, checking names, shapes and dtypes.

    Returns
    -------
    tree : pytree or dict
        The restored pytree (``like``'s structure) or a flat ``{name: array}`` dict.
    meta : dict
    """
    path = Path(path)
    if not path.is_file():
        what = "is a directory, not a checkpoint file" if path.is_dir() else "does not exist"
        raise CheckpointNotFoundError(f"checkpoint file {path} {what}")
    with np.load(path, allow_pickle=False) as z:
        header = json.loads(str(z["__header__"]))
        flat = {k: z[f"a{i}"] for i, k in enumerate(header["keys"])}
    if like is None:
        return flat, header["meta"]
    leaves_with_path, treedef = jax.tree_util.tree_flatten_with_path(like)
    leaves = []
    for p, ref in leaves_with_path:
        name = jax.tree_util.keystr(p)
        if name not in flat:
            raise CheckpointError(f"{path}: checkpoint has no array for {name}")
        arr = flat[name]
        ref = np.asarray(ref)
        if arr.shape != ref.shape or arr.dtype != ref.dtype:
            raise CheckpointError(
                f"{path}: {name} is {arr.dtype}{arr.shape}, model expects {ref.dtype}{ref.shape}"
            )
        leaves.append(jax.numpy.asarray(arr))
    return jax.tree_util.tree_unflatten(treedef, leaves), header["meta"]
