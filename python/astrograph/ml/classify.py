"""Star / galaxy / QSO classification, galaxy morphology, and entropy utilities.

* :class:`PhotometricClassifier` - scikit-learn classifier on ugriz photometry
  (features: ugriz, the ten distinct colours and three colour curvatures, see
  :func:`astrograph.ml.features.colour_features`), with random forest, gradient
  boosting, logistic regression or SVM inside, optionally probability-calibrated.
* :func:`make_classifier` - the same model menu for arbitrary feature tables
  (e.g. the Galaxy Zoo morphology features).
* :func:`evaluate_classifier` - k-fold accuracy, confusion matrix, per-class
  precision / recall, one-vs-rest ROC curves from out-of-fold probabilities.
* :func:`entropy` / :func:`information_gain` - the decision-tree split criterion.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    VotingClassifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    auc,
    confusion_matrix,
    precision_recall_fscore_support,
    roc_curve,
)
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from ..errors import InputError
from .features import colour_features, feature_names
from .validation import as_float_array, check_fitted

__all__ = [
    "CLASSIFIERS",
    "PhotometricClassifier",
    "make_classifier",
    "evaluate_classifier",
    "check_labels",
    "entropy",
    "information_gain",
]

CLASSIFIERS = ("random_forest", "gradient_boosting", "logistic", "svm", "voting")


def make_classifier(
    model: str = "random_forest",
    random_state: int | None = 0,
    n_jobs: int | None = None,
    **kwargs: Any,
) -> BaseEstimator:
    """A seeded scikit-learn classifier from the menu :data:`CLASSIFIERS`.

    Logistic regression and the SVM are wrapped in a pipeline with a
    ``StandardScaler`` because both are scale-sensitive. ``kwargs`` go to the
    underlying estimator.
    """
    if model == "random_forest":
        kw = {"n_estimators": 200, "n_jobs": n_jobs, "random_state": random_state} | kwargs
        return RandomForestClassifier(**kw)
    if model == "gradient_boosting":
        # Histogram boosting: same model family as GradientBoostingClassifier, far faster.
        kw = {"max_iter": 200, "learning_rate": 0.1, "random_state": random_state} | kwargs
        return HistGradientBoostingClassifier(**kw)
    if model == "logistic":
        kw = {"C": 10.0, "max_iter": 2000} | kwargs
        return make_pipeline(StandardScaler(), LogisticRegression(**kw))
    if model == "svm":
        kw = {"C": 10.0, "gamma": "scale", "random_state": random_state} | kwargs
        # Platt-scaled probabilities (the replacement for SVC(probability=True)).
        svc = CalibratedClassifierCV(SVC(**kw), method="sigmoid", cv=3, ensemble=False)
        return make_pipeline(StandardScaler(), svc)
    if model == "voting":
        # Soft vote of three different inductive biases: beats each alone on SDSS.
        members = [
            (
                "rf",
                make_classifier(
                    "random_forest", random_state, n_jobs, n_estimators=100, min_samples_leaf=2
                ),
            ),
            (
                "gb",
                make_classifier(
                    "gradient_boosting", random_state, max_iter=300, learning_rate=0.05
                ),
            ),
            ("svm", make_classifier("svm", random_state)),
        ]
        return VotingClassifier(members, voting="soft")
    raise InputError(f"unknown model {model!r}; choose one of {CLASSIFIERS}")


def check_labels(labels: ArrayLike, n: int, classes: ArrayLike | None = None) -> np.ndarray:
    """Validate a label vector: length ``n``, no missing values, only known classes."""
    y = np.asarray(labels)
    if y.ndim != 1 or y.shape[0] != n:
        raise InputError(f"labels has shape {y.shape}; expected ({n},)")
    if n == 0:
        raise InputError("labels is empty; need at least one object")
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise InputError(f"{int(np.isnan(y).sum())} labels are NaN")
    if y.dtype.kind == "O" and any(v is None for v in y):
        raise InputError("labels contain None")
    if classes is not None:
        unknown = sorted(set(y.tolist()) - set(np.asarray(classes).tolist()))
        if unknown:
            raise InputError(f"unknown labels {unknown}; allowed classes are {list(classes)}")
    return y


class PhotometricClassifier(ClassifierMixin, BaseEstimator):
    """Star / galaxy / QSO (or any) classifier on (N, 5) ugriz magnitudes.

    The model sees the magnitudes, the ten distinct colours and the three colour
    curvatures (18 columns, ``colour_features(mags, curvature=True)``).

    Parameters
    ----------
    model : {"random_forest", "gradient_boosting", "logistic", "svm", "voting"}
        ``"voting"`` soft-averages random forest, gradient boosting and SVM.
    classes : sequence of str, optional
        Allowed labels; ``fit`` raises on any other label (catches typos such
        as "Galaxy" vs "GALAXY"). ``None`` accepts whatever is present.
    calibrate : {None, "isotonic", "sigmoid"}
        Wrap the model in ``CalibratedClassifierCV`` (3-fold) so that
        ``predict_proba`` is a calibrated probability.
    random_state, n_jobs :
        Seed and parallelism passed to the model.
    """

    def __init__(
        self,
        model: str = "random_forest",
        classes: tuple[str, ...] | None = ("GALAXY", "QSO", "STAR"),
        calibrate: str | None = None,
        random_state: int | None = 0,
        n_jobs: int | None = None,
    ) -> None:
        self.model = model
        self.classes = classes
        self.calibrate = calibrate
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, mags: ArrayLike, labels: ArrayLike) -> PhotometricClassifier:
        """Fit on (N, 5) ugriz magnitudes and class labels (N,)."""
        X = colour_features(mags, curvature=True)
        y = check_labels(labels, X.shape[0], self.classes)
        est = make_classifier(self.model, self.random_state, self.n_jobs)
        if self.calibrate is not None:
            if self.calibrate not in ("isotonic", "sigmoid"):
                raise InputError(
                    f"calibrate must be None, 'isotonic' or 'sigmoid', got {self.calibrate!r}"
                )
            est = CalibratedClassifierCV(est, method=self.calibrate, cv=3)
        self.estimator_ = est.fit(X, y)
        self.classes_ = self.estimator_.classes_
        self.feature_names_ = feature_names(curvature=True)
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, mags: ArrayLike) -> np.ndarray:
        """Class labels of (N, 5) ugriz magnitudes."""
        check_fitted(self, "estimator_")
        return self.estimator_.predict(colour_features(mags, curvature=True))

    def predict_proba(self, mags: ArrayLike) -> np.ndarray:
        """Class probabilities (N, n_classes) in the order of ``classes_``."""
        check_fitted(self, "estimator_")
        return self.estimator_.predict_proba(colour_features(mags, curvature=True))


def evaluate_classifier(
    estimator: BaseEstimator,
    X: ArrayLike,
    y: ArrayLike,
    cv: int = 5,
    random_state: int = 0,
) -> dict[str, Any]:
    """Stratified k-fold evaluation from out-of-fold predictions.

    ``X`` is whatever the estimator takes (magnitudes for
    :class:`PhotometricClassifier`, a feature table for :func:`make_classifier`).

    Returns
    -------
    dict
        ``accuracy`` (pooled out-of-fold), ``fold_accuracy`` (per fold),
        ``classes``, ``confusion`` (rows = true, columns = predicted),
        ``precision`` / ``recall`` / ``f1`` (per class), ``roc`` (per class:
        ``fpr``, ``tpr``, ``auc``; one-vs-rest), ``proba`` and ``pred``.
    """
    X = as_float_array(X, "X")
    y = check_labels(y, X.shape[0])
    folds = StratifiedKFold(n_splits=cv, shuffle=True, random_state=random_state)
    classes = np.unique(y)
    proba = np.zeros((y.size, classes.size))
    fold_acc = []
    # Explicit loop (not cross_val_predict) so estimators see the original labels.
    for tr, te in folds.split(X, y):
        est = clone(estimator).fit(X[tr], y[tr])
        cols = np.searchsorted(classes, est.classes_)
        proba[np.ix_(te, cols)] = est.predict_proba(X[te])
        fold_acc.append(accuracy_score(y[te], est.predict(X[te])))
    pred = classes[np.argmax(proba, axis=1)]
    prec, rec, f1, _ = precision_recall_fscore_support(y, pred, labels=classes, zero_division=0)
    roc = {}
    for k, c in enumerate(classes):
        fpr, tpr, _ = roc_curve(y == c, proba[:, k])
        roc[str(c)] = {"fpr": fpr, "tpr": tpr, "auc": float(auc(fpr, tpr))}
    return {
        "accuracy": float(accuracy_score(y, pred)),
        "fold_accuracy": np.asarray(fold_acc),
        "classes": classes,
        "confusion": confusion_matrix(y, pred, labels=classes),
        "precision": dict(zip(map(str, classes), prec.tolist(), strict=True)),
        "recall": dict(zip(map(str, classes), rec.tolist(), strict=True)),
        "f1": dict(zip(map(str, classes), f1.tolist(), strict=True)),
        "roc": roc,
        "proba": proba,
        "pred": pred,
    }


def entropy(counts: ArrayLike, base: float = 2.0) -> float:
    """Shannon entropy of a node, from class counts.

    Parameters
    ----------
    counts : array_like
        Number of objects of each class in the node, e.g. ``[9, 1]``. To pass
        raw labels use ``np.unique(labels, return_counts=True)[1]``.
    base : float
        Logarithm base (2 gives bits).

    Examples
    --------
    >>> round(entropy([5, 5]), 4), round(entropy([9, 1]), 4)
    (1.0, 0.469)
    """
    c = as_float_array(counts, "counts")
    if c.ndim != 1 or c.size == 0:
        raise InputError("counts must be a non-empty 1-d array of class counts")
    if np.any(c < 0) or not np.all(np.isfinite(c)):
        raise InputError("class counts must be finite and non-negative")
    n = c.sum()
    if n == 0:
        raise InputError("node is empty (all counts are zero)")
    p = c[c > 0] / n
    return float(-(p * np.log(p)).sum() / np.log(base))


def information_gain(parent: ArrayLike, children: list[ArrayLike], base: float = 2.0) -> float:
    """Information gain of splitting ``parent`` into ``children``.

    ``IG = H(parent) - sum_k (n_k / n) H(child_k)``, all given as class-count
    vectors over the same classes.

    Examples
    --------
    The lecture's worked example: a node with 10 + 10 objects.

    >>> information_gain([10, 10], [[5, 5], [5, 5]])
    0.0
    >>> round(information_gain([10, 10], [[9, 1], [1, 9]]), 4)
    0.531
    """
    p = as_float_array(parent, "parent")
    kids = [as_float_array(k, "children") for k in children]
    if len(kids) < 2:
        raise InputError("a split needs at least two children")
    if any(k.shape != p.shape for k in kids):
        raise InputError("parent and children must give counts over the same classes")
    if not np.allclose(np.sum(kids, axis=0), p):
        raise InputError(
            f"children counts {np.sum(kids, axis=0).tolist()} do not add up to parent {p.tolist()}"
        )
    n = p.sum()
    return float(
        entropy(p, base) - sum(k.sum() / n * entropy(k, base) for k in kids if k.sum() > 0)
    )
