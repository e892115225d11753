"""Matplotlib figures for the machine-learning modules.

Every function draws on a given (or new) Axes and returns the Figure, so the
caller decides whether to show or save it.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from .metrics import photoz_metrics

__all__ = [
    "plot_photoz",
    "plot_depth_study",
    "plot_importances",
    "plot_tree_png",
    "plot_confusion",
    "plot_roc",
    "plot_elbow",
    "plot_bic",
    "plot_embedding",
]


def _ax(ax: Axes | None, figsize: tuple[float, float] = (5, 5)) -> tuple[Figure, Axes]:
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
        return fig, ax
    return ax.figure, ax


def plot_photoz(
    z_phot: ArrayLike, z_spec: ArrayLike, ax: Axes | None = None, title: str = ""
) -> Figure:
    """Standard photo-z vs spec-z plot with the 1:1 line and |dz| = 0.15 bounds."""
    zp, zs = np.asarray(z_phot), np.asarray(z_spec)
    m = photoz_metrics(zp, zs)
    fig, ax = _ax(ax)
    ax.scatter(zs, zp, s=2, alpha=0.4, color="k", rasterized=True)
    lim = [0, max(zs.max(), zp.max()) * 1.05]
    z = np.linspace(*lim, 50)
    ax.plot(z, z, "r-", lw=1)
    for s in (-0.15, 0.15):
        ax.plot(z, z + s * (1 + z), "r--", lw=0.8)
    ax.set(xlim=lim, ylim=lim, xlabel="$z_{spec}$", ylabel="$z_{phot}$", title=title)
    ax.text(
        0.03, 0.97,
        f"$\\sigma_{{NMAD}}$={m['sigma_nmad']:.4f}\nbias={m['bias']:+.4f}\n"
        f"rms={m['rms']:.4f}\n$\\eta_{{0.15}}$={100 * m['eta_015']:.2f}%",
        transform=ax.transAxes, va="top", fontsize=9,
    )  # fmt: skip
    return fig


def plot_depth_study(study: dict[str, np.ndarray], ax: Axes | None = None) -> Figure:
    """Train / test RMS against max_depth from :func:`astrograph.ml.photoz.depth_study`."""
    fig, ax = _ax(ax, (6, 4))
    ax.plot(study["depth"], study["train_rms"], "o-", label="train")
    ax.plot(study["depth"], study["test_rms"], "s-", label="test")
    best = int(np.argmin(study["test_rms"]))
    ax.axvline(
        study["depth"][best], color="grey", ls=":", label=f"best depth {study['depth'][best]}"
    )
    ax.set(xlabel="max_depth", ylabel="RMS of $\\Delta z/(1+z)$", yscale="log")
    ax.legend()
    return fig


def plot_importances(imp: dict[str, Any], ax: Axes | None = None) -> Figure:
    """Impurity and permutation importances side by side (normalised to max 1)."""
    fig, ax = _ax(ax, (7, 4))
    names = imp["names"]
    x = np.arange(len(names))
    a = np.asarray(imp["impurity"])
    p = np.asarray(imp["permutation_mean"])
    ax.bar(x - 0.2, a / a.max(), 0.4, label="impurity")
    ax.bar(x + 0.2, p / max(p.max(), 1e-12), 0.4, label="permutation")
    ax.set_xticks(x, names, rotation=60)
    ax.set_ylabel("relative importance")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_tree_png(
    tree_model: Any, path: str, feature_names: list[str] | None = None, dpi: int | None = None
) -> str:
    """Render a fitted decision tree (any depth) to a PNG file and return its path.

    The canvas grows with the number of leaves (2**depth) so boxes do not overlap;
    deep trees get a lower default dpi to keep the file size sane.
    """
    from sklearn.tree import plot_tree  # lazy: the other figures do not need scikit-learn

    depth = tree_model.get_depth()
    width = min(max(12.0, 2.4 * 2 ** min(depth, 8)), 160.0)
    fig, ax = plt.subplots(figsize=(width, 2.0 + 1.8 * depth))
    plot_tree(
        tree_model, feature_names=feature_names, filled=True, ax=ax,
        fontsize=9 if depth <= 4 else 6, precision=4,
    )  # fmt: skip
    fig.savefig(path, dpi=dpi or (100 if depth <= 5 else 40), bbox_inches="tight")
    plt.close(fig)
    return str(path)


def plot_confusion(
    cm: ArrayLike, classes: ArrayLike, ax: Axes | None = None, normalise: bool = True
) -> Figure:
    """Confusion matrix (rows = true class), optionally row-normalised."""
    c = np.asarray(cm, dtype=float)
    shown = c / c.sum(axis=1, keepdims=True) if normalise else c
    fig, ax = _ax(ax, (4.5, 4))
    im = ax.imshow(shown, cmap="Blues", vmin=0)
    for i in range(c.shape[0]):
        for j in range(c.shape[1]):
            txt = f"{shown[i, j]:.3f}" if normalise else f"{int(c[i, j])}"
            ax.text(
                j,
                i,
                txt,
                ha="center",
                va="center",
                color="w" if shown[i, j] > shown.max() / 2 else "k",
            )
    ax.set_xticks(range(len(classes)), classes)
    ax.set_yticks(range(len(classes)), classes)
    ax.set(xlabel="predicted", ylabel="true")
    fig.colorbar(im, ax=ax)
    return fig


def plot_roc(roc: dict[str, dict[str, Any]], ax: Axes | None = None) -> Figure:
    """One-vs-rest ROC curves from :func:`astrograph.ml.classify.evaluate_classifier`."""
    fig, ax = _ax(ax)
    for name, r in roc.items():
        ax.plot(r["fpr"], r["tpr"], label=f"{name} (AUC {r['auc']:.3f})")
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(xlabel="false positive rate", ylabel="true positive rate")
    ax.legend(loc="lower right")
    return fig


def plot_elbow(res: dict[str, Any], ax: Axes | None = None) -> Figure:
    """WCSS elbow curve with silhouette on a twin axis (from ``kmeans_elbow``)."""
    fig, ax = _ax(ax, (6, 4))
    ax.plot(res["k"], res["wcss"], "o-", color="C0")
    ax.axvline(res["elbow_k"], color="C0", ls=":", label=f"elbow k={res['elbow_k']}")
    ax.set(xlabel="k", ylabel="WCSS")
    ax2 = ax.twinx()
    ax2.plot(res["k"], res["silhouette"], "s--", color="C1")
    ax2.set_ylabel("silhouette", color="C1")
    ax.legend(loc="upper right")
    return fig


def plot_bic(res: dict[str, Any], ax: Axes | None = None) -> Figure:
    """BIC against number of Gaussian components (from ``gmm_bic``)."""
    fig, ax = _ax(ax, (6, 4))
    ax.plot(res["n"], res["bic"], "o-", label="BIC")
    ax.plot(res["n"], res["aic"], "s--", label="AIC")
    ax.axvline(res["best_n"], color="grey", ls=":")
    ax.set(xlabel="components", ylabel="information criterion")
    ax.legend()
    return fig


def plot_embedding(
    emb: ArrayLike, labels: ArrayLike, ax: Axes | None = None, title: str = ""
) -> Figure:
    """2-d embedding (PCA / t-SNE) coloured by label."""
    e = np.asarray(emb)
    lab = np.asarray(labels)
    fig, ax = _ax(ax)
    for c in np.unique(lab):
        sel = lab == c
        ax.scatter(e[sel, 0], e[sel, 1], s=3, alpha=0.6, label=str(c), rasterized=True)
    ax.set(title=title, xticks=[], yticks=[])
    ax.legend(markerscale=4)
    return fig
