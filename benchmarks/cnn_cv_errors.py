"""Which galaxies the cross-validated CNN gets wrong, from a ``cnn_cv.py`` result.

Every image is in the test fold once per repeat, each time scored by a network
trained on a different 4/5 of the data with a different seed. An image that
both are wrong about is a systematic error (the image, or its label); one wrong
only once is the networks' variance. Prints, per true class, the errors, those
made in every repeat, and how confident the networks were.

    python benchmarks/cnn_cv_errors.py benchmarks/results/cnn_cv.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from astrograph.ml.datasets.images import _folder_files

ROOT = Path(__file__).resolve().parents[1]


def labels(folder: Path) -> tuple[np.ndarray, list[str]]:
    """Class index per image in ``load_image_folder``'s order (sorted classes, sorted files)."""
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir())
    return np.array([label for _, label in _folder_files(folder, classes)]), classes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("result", type=Path, help="a cnn_cv.py JSON with out-of-fold probabilities")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "gz2_spirals")
    args = ap.parse_args()
    result = json.loads(args.result.read_text())
    y, classes = labels(args.data)
    # proba[r, i]: the probability of class 1 given to image i in repeat r
    n_folds = result["settings"]["folds"]
    repeats = len(result["folds"]) // n_folds
    if repeats < 1 or any("proba" not in f for f in result["folds"]):
        raise SystemExit("need complete repeats with out-of-fold probabilities (cnn_cv.py)")
    proba = np.full((repeats, len(y)), np.nan)
    for f in result["folds"][: repeats * n_folds]:
        proba[f["fold"] // n_folds, f["test_index"]] = f["proba"]
    wrong = (proba > 0.5) != y
    confidence = np.abs(proba - 0.5) * 2  # 0 at the boundary, 1 for certainty
    print(f"{len(y)} images, {repeats} repeats; accuracy per repeat:",
          " ".join(f"{1 - w.mean():.3f}" for w in wrong))  # fmt: skip
    for k, name in enumerate(classes):
        mine = y == k
        every = wrong[:, mine].all(axis=0)
        conf = confidence[:, mine][wrong[:, mine]]
        print(
            f"true {name}: {mine.sum()} images, wrong {wrong[:, mine].sum(axis=1).tolist()} "
            f"per repeat, wrong in every repeat {every.sum()}; confidence of the errors: "
            f"median {np.median(conf):.2f}, above 0.4 in {np.mean(conf > 0.4):.0%}"
        )
    every = wrong.all(axis=0)
    once = wrong.any(axis=0) & ~every
    print(
        f"wrong in every repeat: {every.sum()} images ({every.mean():.1%}); "
        f"in some but not all: {once.sum()} ({once.mean():.1%})"
    )


if __name__ == "__main__":
    main()
