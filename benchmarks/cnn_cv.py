"""Galaxy Zoo 2 spirals vs non-spirals: the CNN's defaults, by repeated stratified k-fold CV.

Issue 14's figure: ``load_image_folder(path)`` and ``GalaxyCNN()`` with their
defaults (the galaxy crop, 64-px images, 60 epochs, ...) on all 1,400 images
of ``gz2_spirals``, 5 folds x 2 repeats (``RepeatedStratifiedKFold``, seed 0),
each model trained on 4/5 of the images and scored on the fifth it never saw.
Every fold trains ``--ensemble`` networks (default 2) with the default seeds,
so one run also gives what test-time dihedral averaging (TTA) and a
2-network ensemble add: each member is scored alone with and without TTA,
and the ensemble with TTA. Mean +- standard deviation over the folds.

    python benchmarks/cnn_cv.py                    # 5 x 2 folds, the defaults
    python benchmarks/cnn_cv.py --crop 200         # a fixed 200-px centre crop instead
    python benchmarks/cnn_cv.py --folds 3 --repeats 1 --epochs 5   # a smoke run
    python benchmarks/cnn_cv.py --ensemble 1 --only 0,1 --set mixup=0.2   # a pilot

``--set`` changes a ``GalaxyCNN`` parameter; ``--stretch`` and ``--context`` change
the images (an asinh stretch; a wider second view as 3 more channels).

Progress is printed per epoch block and per fold; results are written to
``benchmarks/results/cnn_cv.json`` after every fold (Ctrl-C keeps the folds done),
with each fold's test images and their probabilities (``cnn_cv_errors.py`` reads them).
The data folder is ``../shared/data`` beside the repository, or ``$ASTROGRAPH_DATA``.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax
import numpy as np
from PIL import Image
from scipy import ndimage
from sklearn.model_selection import RepeatedStratifiedKFold

from astrograph.ml.datasets import load_image_folder
from astrograph.ml.datasets.images import IMAGE_EXTENSIONS, galaxy_crop_side, read_image
from astrograph.ml.morphology import GalaxyCNN

ROOT = Path(__file__).resolve().parents[1]


def rotated(x: np.ndarray, degrees: float) -> np.ndarray:
    """Images turned by ``degrees`` about their centre (bilinear, edges extended)."""
    return ndimage.rotate(x, degrees, axes=(1, 2), reshape=False, order=1, mode="nearest")


def member_scores(model: GalaxyCNN, x: np.ndarray, y: np.ndarray) -> list[dict]:
    """Accuracy of each ensemble member alone, with and without TTA, and with the
    probabilities averaged over the images and the images turned by 45 degrees (a
    view the 8 dihedral ones do not contain)."""
    x45 = rotated(x, 45.0)
    out = []
    for m in model.models_:
        one = copy.copy(model)
        one.models_ = [m]
        row = {}
        for tta in (True, False):
            one.tta = tta
            row["tta" if tta else "no_tta"] = one.score(x, y)
        one.tta = True
        proba = one.predict_proba(x) + one.predict_proba(x45)
        row["tta_45"] = float(np.mean(one.classes_[np.argmax(proba, axis=1)] == y))
        out.append(row)
    return out


def context_images(folder: Path, names: list[str], size: int, factor: float) -> np.ndarray:
    """A second, wider view of each image (in ``load_image_folder``'s order): the centre
    crop ``factor`` times the galaxy crop's side (at most the whole image), resized."""
    out = []
    for name in names:
        for f in sorted((folder / name).iterdir()):
            if f.suffix.lower() not in IMAGE_EXTENSIONS:
                continue
            with Image.open(f) as img:
                short = min(img.size)
                side = min(short, round(factor * galaxy_crop_side(np.asarray(img.convert("RGB")))))
            out.append(read_image(f, size=size, crop=int(side)))
    return np.stack(out)


def summary(values: list[float]) -> dict:
    a = np.asarray(values, dtype=float)
    return {"mean": float(a.mean()), "std": float(a.std(ddof=1)) if len(a) > 1 else 0.0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--ensemble", type=int, default=2, help="networks per fold")
    ap.add_argument("--crop", default="galaxy", help="'galaxy' (default) or pixels")
    ap.add_argument("--size", type=int, default=64, help="image side after the crop")
    ap.add_argument("--epochs", type=int, default=None, help="override the default epochs")
    ap.add_argument(
        "--symmetry", default="dihedral", help="'dihedral' (default) or 'none' (a plain CNN)"
    )
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a GalaxyCNN parameter (a Python literal), e.g. --set ema=0.998",
    )
    ap.add_argument(
        "--context",
        type=float,
        default=None,
        help="add as 3 more channels a crop this many times the galaxy crop's side",
    )
    ap.add_argument("--only", default=None, help="comma-separated fold numbers to run")
    ap.add_argument(
        "--stretch",
        type=float,
        default=None,
        help="asinh stretch of the pixel values, asinh(x / a) / asinh(1 / a), with this a",
    )
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "cnn_cv.json")
    args = ap.parse_args()

    crop = args.crop if args.crop == "galaxy" else int(args.crop)
    data = Path(os.environ.get("ASTROGRAPH_DATA", ROOT.parent / "shared" / "data"))
    cache = Path(tempfile.gettempdir()) / "astrograph_cache" / f"gz2_{args.size}_{crop}.npz"
    t0 = time.perf_counter()
    X, y, names = load_image_folder(data / "gz2_spirals", size=args.size, crop=crop, cache=cache)
    print(f"{len(X)} images {X.shape[1:]} ({names}) in {time.perf_counter() - t0:.1f} s")
    if args.context:
        wide = context_images(data / "gz2_spirals", names, args.size, args.context)
        X = np.concatenate([X, wide], axis=-1)
        print(f"with the context crop: {X.shape[1:]}")
    if args.stretch:
        X = (np.arcsinh(X / args.stretch) / np.arcsinh(1.0 / args.stretch)).astype(np.float32)

    params = {"n_ensemble": args.ensemble, "verbose": 20}
    if args.symmetry != "dihedral":
        params["symmetry"] = None
    if args.epochs:
        params["epochs"] = args.epochs
    for item in args.set:
        name, _, value = item.partition("=")
        params[name] = ast.literal_eval(value)
    only = None if args.only is None else {int(k) for k in args.only.split(",")}
    cv = RepeatedStratifiedKFold(n_splits=args.folds, n_repeats=args.repeats, random_state=0)
    folds = []
    for k, (train, test) in enumerate(cv.split(X, y)):
        if only is not None and k not in only:
            continue
        model = GalaxyCNN(**params, random_state=k)
        model.fit(X[train], y[train])
        fold = {
            "fold": k,
            "n_train": len(train),
            "n_test": len(test),
            "ensemble_tta": model.score(X[test], y[test]),
            "members": member_scores(model, X[test], y[test]),
            "train_seconds": model.fit_seconds_,
            "seconds_per_network": model.fit_seconds_ / args.ensemble,
            "load_average": os.getloadavg()[0],
            # out-of-fold probabilities (load_image_folder's order) for later analysis
            "test_index": test.tolist(),
            "proba": np.round(model.predict_proba(X[test])[:, 1], 5).tolist(),
        }
        folds.append(fold)
        print(
            json.dumps({k: v for k, v in fold.items() if k not in ("test_index", "proba")}),
            flush=True,
        )
        first = [f["members"][0] for f in folds]
        result = {
            "settings": {**vars(args), "out": str(args.out), "params": params},
            "defaults": {k: v for k, v in GalaxyCNN().get_params().items()},
            "folds_done": len(folds),
            "single_tta": summary([m["tta"] for m in first]),
            "single_no_tta": summary([m["no_tta"] for m in first]),
            "single_tta_45": summary([m["tta_45"] for m in first]),
            "all_members_tta": summary([m["tta"] for f in folds for m in f["members"]]),
            "ensemble_tta": summary([f["ensemble_tta"] for f in folds]),
            "seconds_per_network": summary([f["seconds_per_network"] for f in folds]),
            "folds": folds,
            "machine": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "jax": jax.__version__,
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1, default=str))
    for key in ("single_no_tta", "single_tta", "single_tta_45", "all_members_tta", "ensemble_tta"):
        s = result[key]
        print(f"{key:16s} {s['mean']:.4f} +- {s['std']:.4f}")
    print(f"seconds per network {result['seconds_per_network']['mean']:.0f}")


if __name__ == "__main__":
    main()
