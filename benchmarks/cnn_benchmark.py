"""Galaxy Zoo 2 spirals vs non-spirals: accuracy, training time, throughput, JIT compile time.

Trains :class:`astrograph.ml.morphology.GalaxyCNN` on ``gz2_spirals`` (1,400 real SDSS
images) with a fixed seed and scores it on 280 galaxies it never saw.

    python benchmarks/cnn_benchmark.py                # the full configuration
    python benchmarks/cnn_benchmark.py --config ci    # the smaller CI configuration

The data folder is ``../shared/data`` beside the repository, or ``$ASTROGRAPH_DATA``.
Decoded images are cached in ``$TMPDIR/astrograph_cache`` (never in the repository).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax
import numpy as np

from astrograph.ml.datasets import load_image_folder
from astrograph.ml.morphology import GZ2_PRESETS, GalaxyCNN

ROOT = Path(__file__).resolve().parents[1]

CONFIGS = GZ2_PRESETS


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", choices=sorted(CONFIGS), default="full")
    ap.add_argument("--seed", type=int, default=0, help="training seed")
    ap.add_argument("--split-seed", type=int, default=42, help="seed of the train/test split")
    ap.add_argument("--n-test", type=int, default=280)
    ap.add_argument("--ensemble", type=int, default=1, help="networks averaged")
    ap.add_argument("--epochs", type=int, default=None, help="override the epochs")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args()

    cfg = CONFIGS[args.config]
    data = Path(os.environ.get("ASTROGRAPH_DATA", ROOT.parent / "shared" / "data"))
    cache = Path(tempfile.gettempdir()) / "astrograph_cache"
    cache /= f"gz2_{cfg['image']}_{cfg['crop']}.npz"
    t0 = time.perf_counter()
    X, y, names = load_image_folder(
        data / "gz2_spirals", size=cfg["image"], crop=cfg["crop"], cache=cache
    )
    load_s = time.perf_counter() - t0

    perm = np.random.default_rng(args.split_seed).permutation(len(X))
    test, train = perm[: args.n_test], perm[args.n_test :]
    params = dict(cfg["model"], random_state=args.seed, n_ensemble=args.ensemble, verbose=5)
    if args.epochs:
        params["epochs"] = args.epochs
    model = GalaxyCNN(**params)
    print(f"{args.config} config on {jax.devices()[0].platform}: {params}", flush=True)
    model.fit(X[train], y[train])

    t1 = time.perf_counter()
    acc_tta = model.score(X[test], y[test])
    predict_s = time.perf_counter() - t1
    model.tta = False
    acc_plain = model.score(X[test], y[test])
    model.tta = True
    res = {
        "config": args.config,
        "ensemble": args.ensemble,
        "epochs": model.epochs,
        "n_train": len(train),
        "n_test": len(test),
        "accuracy_tta": round(acc_tta, 4),
        "accuracy_no_tta": round(acc_plain, 4),
        "train_seconds": round(model.fit_seconds_, 1),
        "images_per_second": round(model.images_per_second_, 1),
        "jit_compile_seconds": round(model.compile_seconds_, 2),
        "predict_seconds_tta": round(predict_s, 2),
        "load_seconds": round(load_s, 2),
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg(),
        "machine": platform.processor() or platform.machine(),
        "jax": jax.__version__,
    }
    print(json.dumps(res, indent=1))
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
