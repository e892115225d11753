"""Draws the plot gallery of the documentation (docs/gallery.md) from the package.

Every figure is made by astrograph's own plotting methods, on small synthetic
data (a Thomas-process mock for the clustering plots, Gaussian blobs and mock
photometry for the machine-learning ones), so the gallery shows what the code
draws today. ``docs/conf.py`` runs it at build time; by hand::

    python docs/gallery/make_gallery.py [OUTDIR]     # default docs/gallery/_generated

It takes about 20 s on one core. Nothing it writes is committed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import astrograph as ag  # noqa: E402
from astrograph.clustering.mocks import thomas_process, uniform_randoms  # noqa: E402

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "_generated"


def _save(ax_or_fig, out: Path, name: str) -> None:
    fig = ax_or_fig if isinstance(ax_or_fig, plt.Figure) else ax_or_fig.figure
    fig.savefig(out / f"{name}.png", dpi=90, bbox_inches="tight")
    plt.close(fig)


def clustering(out: Path) -> None:
    """2-, 3- and 4-point plots of a clustered mock in a 120 Mpc/h box."""
    box = 120.0
    data = thomas_process(300, 8.0, 2.0, box, seed=1)
    randoms = uniform_randoms(8000, box, seed=2)
    graph = ag.NeighbourGraph.build(data, randoms, rmax=20.0, boxsize=box, num_threads=1)

    pairs = graph.count_pairs(ag.Bins.log(1.0, 20.0, 10, nmu=5), num_threads=1)
    for kind in ("xi", "s2xi", "multipoles", "xi_smu"):
        _save(pairs.plot(kind=kind), out, f"pairs_{kind}")

    triangles = graph.count_triangles(ag.Bins.linear(2.0, 20.0, 6), num_threads=1)
    for kind in ("r1r2", "equilateral", "isosceles", "q"):
        _save(triangles.plot(kind=kind), out, f"triangles_{kind}")

    small = data[np.all(data < 60.0, axis=1)]
    small_randoms = randoms[np.all(randoms < 60.0, axis=1)]
    quads = ag.count_quads(
        small, small_randoms, bins=ag.Bins.linear(2.0, 10.0, 2), boxsize=None, num_threads=1
    )
    for kind in ("tetrahedra", "counts"):
        _save(quads.plot(kind=kind), out, f"quads_{kind}")


def machine_learning(out: Path) -> None:
    """The machine-learning plots on Gaussian blobs and mock ugriz photometry."""
    from sklearn.datasets import make_blobs

    from astrograph.ml import classify, photoz, plots, unsupervised

    rng = np.random.default_rng(0)
    # Mock photometry: colours that drift with redshift, plus noise.
    n = 1500
    z = rng.uniform(0.02, 0.3, n)
    r = rng.normal(17.0, 0.7, n)
    colours = np.column_stack([1.5 + 4 * z, 0.6 + 3 * z, 0.3 + 1.5 * z, 0.2 + 0.8 * z])
    colours += rng.normal(0.0, 0.05, colours.shape)
    g = r + colours[:, 1]
    u = g + colours[:, 0]
    i = r - colours[:, 2]
    zz = i - colours[:, 3]
    mags = np.column_stack([u, g, r, i, zz])
    train, test = slice(0, 1000), slice(1000, None)

    reg = photoz.PhotoZRegressor(model="random_forest", n_estimators=40, random_state=0)
    reg.fit(mags[train], z[train])
    _save(plots.plot_photoz(reg.predict(mags[test]), z[test], title="mock photometry"), out,
          "ml_photoz")  # fmt: skip
    study = photoz.depth_study(mags[train], z[train], mags[test], z[test], depths=(1, 2, 4, 8, 16))
    _save(plots.plot_depth_study(study), out, "ml_depth_study")
    _save(plots.plot_importances(photoz.feature_importances(reg, mags[test], z[test])), out,
          "ml_importances")  # fmt: skip

    X, y = make_blobs(450, n_features=5, centers=3, cluster_std=2.5, random_state=0)
    labels = np.array(["STAR", "GALAXY", "QSO"])[y]
    clf = classify.make_classifier("random_forest", n_estimators=40)
    res = classify.evaluate_classifier(clf, X, labels, cv=3)
    _save(plots.plot_confusion(res["confusion"], res["classes"]), out, "ml_confusion")
    _save(plots.plot_roc(res["roc"]), out, "ml_roc")

    _save(plots.plot_elbow(unsupervised.kmeans_elbow(X, range(1, 8))), out, "ml_elbow")
    _save(plots.plot_bic(unsupervised.gmm_bic(X, range(1, 6))), out, "ml_bic")
    emb, _ = unsupervised.pca_embedding(unsupervised.standardise(X))
    _save(plots.plot_embedding(emb, labels, title="PCA"), out, "ml_embedding")


def main(out: Path = DEFAULT_OUT) -> None:
    out.mkdir(parents=True, exist_ok=True)
    clustering(out)
    machine_learning(out)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT)
