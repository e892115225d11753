"""Clustering, mixtures, embeddings, label spreading and anomaly detection on SDSS DR14."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")

import matplotlib

matplotlib.use("Agg")


from astrograph.ml.features import colour_features  # noqa: E402
from astrograph.ml.plots import plot_embedding  # noqa: E402
from astrograph.ml.unsupervised import (  # noqa: E402
    anomaly_benchmark,
    anomaly_scores,
    choose_elbow,
    gmm_bic,
    kmeans_elbow,
    pca_embedding,
    sprinkle_labels,
    standardise,
    tsne_embedding,
)

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def colours(dr14):
    """2000 random objects: standardised colours and their true classes."""
    idx = np.random.default_rng(0).choice(len(dr14.labels), 2000, replace=False)
    return standardise(colour_features(dr14.mags[idx])[:, 5:]), dr14.labels[idx]


def _blobs(k: int = 4, n: int = 200, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    angle = 2 * np.pi * np.arange(k) / k
    centres = 15 * np.column_stack([np.cos(angle), np.sin(angle)])  # well separated
    return np.vstack([c + rng.normal(size=(n, 2)) for c in centres])


def test_elbow_recovers_known_k():
    res = kmeans_elbow(_blobs(4), range(1, 10))
    assert res["elbow_k"] == 4
    assert res["best_silhouette_k"] == 4
    assert np.all(np.diff(res["wcss"]) < 0)
    assert np.isnan(res["silhouette"][0])


def test_choose_elbow_geometry():
    k = np.arange(1, 8)
    assert choose_elbow(k, [100, 40, 10, 8, 6, 5, 4]) == 3
    with pytest.raises(ValueError, match="length"):
        choose_elbow([1, 2], [3, 2])


def test_elbow_on_sdss_colours(colours):
    X, _ = colours
    res = kmeans_elbow(X, range(1, 9))
    assert 2 <= res["elbow_k"] <= 5
    assert res["silhouette"][1] > 0.3  # stars, galaxies and QSOs do form clumps


def test_gmm_bic_selection():
    res = gmm_bic(_blobs(3), range(1, 7))
    assert res["best_n"] == 3
    assert res["bic"][2] == res["bic"].min()


def test_embeddings(colours, tmp_path):
    X, y = colours
    emb, var = pca_embedding(X, 3)
    assert emb.shape == (2000, 3) and np.all(np.diff(var) <= 0) and var.sum() <= 1 + 1e-9
    assert var[0] > 0.5  # colours are highly correlated
    ts = tsne_embedding(X[:500], perplexity=30)
    assert ts.shape == (500, 2)
    np.testing.assert_allclose(ts, tsne_embedding(X[:500], perplexity=30))  # seeded
    fig = plot_embedding(ts, y[:500], title="t-SNE")
    fig.savefig(tmp_path / "tsne.png")
    assert (tmp_path / "tsne.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="perplexity"):
        tsne_embedding(X[:20], perplexity=30)


def test_sprinkle_labels_on_clumps(colours):
    X, y = colours
    res = sprinkle_labels(X, y, n_per_class=10, random_state=0)
    assert res["seed_index"].size == 30
    # Majority-class guessing gives ~0.5; spreading 30 labels must do far better.
    majority = np.max(np.unique(y, return_counts=True)[1]) / y.size
    assert res["accuracy"] > majority + 0.15
    assert set(np.unique(res["predicted"])) <= set(np.unique(y))
    with pytest.raises(ValueError, match="n_per_class"):
        sprinkle_labels(X[:50], y[:50], n_per_class=40)


def test_anomalies_qso_as_outliers(dr14):
    rng = np.random.default_rng(1)
    normal = rng.choice(np.flatnonzero(dr14.labels != "QSO"), 1900, replace=False)
    qso = rng.choice(np.flatnonzero(dr14.labels == "QSO"), 100, replace=False)
    idx = np.concatenate([normal, qso])
    X = standardise(colour_features(dr14.mags[idx])[:, 5:])
    res = anomaly_benchmark(X, dr14.labels[idx] == "QSO")
    print(res)
    assert res["isolation_forest"]["roc_auc"] > 0.85
    assert 0.0 <= res["lof"]["roc_auc"] <= 1.0
    s = anomaly_scores(X, "isolation_forest")
    np.testing.assert_array_equal(s, anomaly_scores(X, "isolation_forest"))  # seeded
    with pytest.raises(ValueError, match="unknown method"):
        anomaly_scores(X, "dbscan")


def test_bad_feature_matrix():
    X = np.ones((10, 3))
    X[4, 1] = np.nan
    with pytest.raises(ValueError, match=r"1 rows of X contain NaN or inf \(rows \[4\]\)"):
        kmeans_elbow(X)
    with pytest.raises(ValueError, match="2-d"):
        gmm_bic(np.ones(5))
