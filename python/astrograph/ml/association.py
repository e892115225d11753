"""Association rules: frequent itemsets by Apriori (mlxtend) and by Eclat.

Transactions are a boolean :class:`pandas.DataFrame`: one row per transaction
(e.g. a galaxy), one column per item (e.g. ``"g-r=red"``), ``True`` where the
transaction holds the item - the input format of mlxtend.
:func:`discretise` builds one from a table of measurements.

* :func:`apriori_rules` - mlxtend's ``apriori`` and ``association_rules`` (the
  well-kept implementation, not rewritten here);
* :func:`eclat` - Eclat (Zaki 2000): a depth-first search over the item lattice in
  the vertical layout, where the support of an itemset is the length of the
  intersection of its items' sorted transaction-id lists;
* :func:`rules_from_itemsets` - rules, confidence and lift from any table of
  frequent itemsets (Eclat's or Apriori's), written independently of mlxtend so the
  two implementations check each other.

Eclat's inner loop is the operation at the heart of the clustering core's
triangle search: the intersection of two sorted id lists. :func:`intersect_sorted`
runs that same kernel (``rust/core/src/intersect.rs``: a merge, or galloping when
one list is much shorter); any other function can be passed as
``eclat(..., intersect=...)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import combinations

import numpy as np
import pandas as pd
from mlxtend.frequent_patterns import apriori, association_rules

from .. import _lib
from ..errors import InputError

__all__ = [
    "RULE_COLUMNS",
    "apriori_rules",
    "discretise",
    "eclat",
    "intersect_sorted",
    "rules_from_itemsets",
]

#: Columns of the rule tables returned by :func:`apriori_rules` and
#: :func:`rules_from_itemsets`.
RULE_COLUMNS = (
    "antecedents", "consequents", "antecedent support", "consequent support", "support",
    "confidence", "lift",
)  # fmt: skip

Intersect = Callable[[np.ndarray, np.ndarray], np.ndarray]


def intersect_sorted(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection of two sorted arrays of unique transaction ids (sorted,
    unique), by the core's sorted-list intersection kernel."""
    a32, b32 = (np.ascontiguousarray(x, dtype=np.uint32) for x in (a, b))
    return _lib.intersect_sorted(a32, b32).astype(np.int64)


def _check_transactions(transactions: pd.DataFrame, min_support: float) -> pd.DataFrame:
    if not isinstance(transactions, pd.DataFrame):
        raise InputError(
            "transactions must be a pandas DataFrame of booleans (rows = transactions, "
            f"columns = items), got {type(transactions).__name__}"
        )
    if transactions.shape[0] == 0 or transactions.shape[1] == 0:
        raise InputError(f"transactions is empty (shape {transactions.shape})")
    if not all(pd.api.types.is_bool_dtype(t) for t in transactions.dtypes):
        bad = [c for c, t in transactions.dtypes.items() if not pd.api.types.is_bool_dtype(t)]
        raise InputError(f"transactions must hold booleans; columns {bad[:5]} do not")
    if transactions.columns.duplicated().any():
        raise InputError("transactions has duplicate item (column) names")
    if (
        isinstance(min_support, bool)
        or not isinstance(min_support, (int, float, np.number))
        or not 0 < min_support <= 1
    ):
        raise InputError(f"min_support must be a fraction in (0, 1], got {min_support!r}")
    return transactions


def _check_confidence(min_confidence: float) -> None:
    if (
        isinstance(min_confidence, bool)
        or not isinstance(min_confidence, (int, float, np.number))
        or not 0 <= min_confidence <= 1
    ):
        raise InputError(f"min_confidence must be in [0, 1], got {min_confidence!r}")


def _check_max_len(max_len: int | None) -> None:
    if max_len is not None and (
        isinstance(max_len, bool) or not isinstance(max_len, (int, np.integer)) or max_len < 1
    ):
        raise InputError(f"max_len must be a positive integer or None, got {max_len!r}")


def eclat(
    transactions: pd.DataFrame,
    min_support: float = 0.1,
    max_len: int | None = None,
    intersect: Intersect | None = None,
) -> pd.DataFrame:
    """Frequent itemsets by Eclat (depth-first search on transaction-id lists).

    Parameters
    ----------
    transactions : pandas.DataFrame of bool
        Rows = transactions, columns = items.
    min_support : float
        Smallest fraction of transactions an itemset must appear in.
    max_len : int, optional
        Largest itemset size.
    intersect : callable, optional
        ``intersect(a, b)`` of two sorted unique int64 id arrays, returning their
        sorted intersection (default :func:`intersect_sorted`).

    Returns
    -------
    pandas.DataFrame
        Columns ``support`` and ``itemsets`` (frozensets of column names), as
        ``mlxtend.frequent_patterns.apriori(..., use_colnames=True)``; sorted by
        itemset size, then by the items' column order.
    """
    frame = _check_transactions(transactions, min_support)
    _check_max_len(max_len)
    meet = intersect or intersect_sorted
    n = len(frame)
    min_count = min_support * n
    values = frame.to_numpy(bool)
    items = list(frame.columns)
    # vertical layout: each frequent item's sorted transaction ids
    singles = [
        (j, ids)
        for j in range(values.shape[1])
        if (ids := np.flatnonzero(values[:, j]).astype(np.int64)).size >= min_count
    ]
    found: list[tuple[tuple[int, ...], int]] = []

    def extend(prefix: tuple[int, ...], tails: list[tuple[int, np.ndarray]]) -> None:
        for k, (j, ids) in enumerate(tails):
            itemset = (*prefix, j)
            found.append((itemset, ids.size))
            if max_len is not None and len(itemset) >= max_len:
                continue
            children = []
            for j2, ids2 in tails[k + 1 :]:
                common = meet(ids, ids2)
                if common.size >= min_count:
                    children.append((j2, common))
            if children:
                extend(itemset, children)

    extend((), singles)
    found.sort(key=lambda t: (len(t[0]), t[0]))
    return pd.DataFrame(
        {
            "support": [count / n for _, count in found],
            "itemsets": [frozenset(items[j] for j in s) for s, _ in found],
        }
    )


def rules_from_itemsets(itemsets: pd.DataFrame, min_confidence: float = 0.5) -> pd.DataFrame:
    """Association rules A => C from a complete table of frequent itemsets.

    Every frequent itemset I of two or more items gives the rules A => I \\ A for each
    non-empty proper subset A, with support(A => C) = support(I), confidence =
    support(I) / support(A) and lift = confidence / support(C). Subsets of frequent
    itemsets are frequent, so their supports are in the table (else InputError).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`RULE_COLUMNS`, rules with confidence >= ``min_confidence``,
        sorted by lift, then confidence (descending).
    """
    _check_confidence(min_confidence)
    if not {"support", "itemsets"} <= set(getattr(itemsets, "columns", ())):
        raise InputError("itemsets must be a DataFrame with columns 'support' and 'itemsets'")
    support = dict(zip(itemsets["itemsets"], itemsets["support"], strict=True))
    rows = []
    for itemset, s in support.items():
        for size in range(1, len(itemset)):
            for antecedent in map(frozenset, combinations(sorted(itemset), size)):
                consequent = itemset - antecedent
                if antecedent not in support or consequent not in support:
                    raise InputError(
                        f"itemsets lacks the support of a subset of {set(itemset)}: pass the "
                        "complete table of frequent itemsets"
                    )
                confidence = s / support[antecedent]
                if confidence >= min_confidence:
                    rows.append((antecedent, consequent, support[antecedent],
                                 support[consequent], s, confidence,
                                 confidence / support[consequent]))  # fmt: skip
    rules = pd.DataFrame(rows, columns=list(RULE_COLUMNS))
    return rules.sort_values(["lift", "confidence"], ascending=False, ignore_index=True)


def apriori_rules(
    transactions: pd.DataFrame,
    min_support: float = 0.1,
    min_confidence: float = 0.5,
    max_len: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Frequent itemsets and rules by mlxtend's Apriori.

    Returns
    -------
    itemsets : pandas.DataFrame
        ``support`` and ``itemsets`` (frozensets of column names).
    rules : pandas.DataFrame
        Columns :data:`RULE_COLUMNS`, confidence >= ``min_confidence``, sorted by lift,
        then confidence (descending).
    """
    frame = _check_transactions(transactions, min_support)
    _check_confidence(min_confidence)
    _check_max_len(max_len)
    itemsets = apriori(frame, min_support=min_support, use_colnames=True, max_len=max_len)
    if len(itemsets) == 0 or itemsets["itemsets"].map(len).max() < 2:
        return itemsets, pd.DataFrame(columns=list(RULE_COLUMNS))
    rules = association_rules(
        itemsets, len(frame), metric="confidence", min_threshold=min_confidence
    )[list(RULE_COLUMNS)]
    return itemsets, rules.sort_values(["lift", "confidence"], ascending=False, ignore_index=True)


def discretise(
    frame: pd.DataFrame,
    bins: dict[str, Sequence[str]],
    categorical: Sequence[str] = (),
) -> pd.DataFrame:
    """Turn measurements into boolean items by equal-count (quantile) bins.

    Parameters
    ----------
    frame : pandas.DataFrame
    bins : dict
        ``{column: labels}``: the column is cut at its quantiles into ``len(labels)``
        equally populated bins, which become the items ``"column=label"`` (e.g.
        ``{"g-r": ("blue", "red")}`` gives ``g-r=blue`` / ``g-r=red`` split at the median).
    categorical : sequence of str
        Columns whose distinct values become items ``"column=value"`` as they are.

    Returns
    -------
    pandas.DataFrame of bool
        One row per row of ``frame``, one column per item.
    """
    if not isinstance(frame, pd.DataFrame) or len(frame) == 0:
        raise InputError("frame must be a non-empty pandas DataFrame")
    missing = [c for c in [*bins, *categorical] if c not in frame.columns]
    if missing:
        raise InputError(f"frame lacks columns {missing}; it has {list(frame.columns)}")
    items = {}
    for column, labels in bins.items():
        labels = list(labels)
        if len(labels) < 2 or len(set(labels)) != len(labels):
            raise InputError(f"bins[{column!r}] needs at least two distinct labels, got {labels}")
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(float)
        if not np.isfinite(values).all():
            raise InputError(f"column {column!r} has non-numeric, NaN or inf values")
        cuts = np.quantile(values, np.linspace(0, 1, len(labels) + 1)[1:-1])
        which = np.searchsorted(cuts, values, side="right")
        for k, label in enumerate(labels):
            items[f"{column}={label}"] = which == k
    for column in categorical:
        for value in sorted(pd.unique(frame[column]), key=str):
            items[f"{column}={value}"] = (frame[column] == value).to_numpy(bool)
    return pd.DataFrame(items, index=frame.index)
