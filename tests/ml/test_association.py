"""Apriori (mlxtend) and Eclat (sorted tid-list intersections) agree exactly."""

from __future__ import annotations

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("mlxtend")

from astrograph.errors import InputError  # noqa: E402
from astrograph.ml.association import (  # noqa: E402
    RULE_COLUMNS,
    apriori_rules,
    discretise,
    eclat,
    intersect_sorted,
    rules_from_itemsets,
)
from astrograph.ml.datasets import load_galaxy_zoo_features  # noqa: E402


def _by_itemset(table: pd.DataFrame) -> pd.DataFrame:
    key = table["itemsets"].map(lambda s: tuple(sorted(s)))
    return table.assign(key=key).sort_values("key", ignore_index=True)


def _by_rule(rules: pd.DataFrame) -> pd.DataFrame:
    key = [
        (tuple(sorted(a)), tuple(sorted(c)))
        for a, c in zip(rules["antecedents"], rules["consequents"], strict=True)
    ]
    return rules.assign(key=key).sort_values("key", ignore_index=True)


def _assert_same(transactions, min_support, min_confidence):
    ap_sets, ap_rules = apriori_rules(transactions, min_support, min_confidence)
    ec_sets = eclat(transactions, min_support)
    ec_rules = rules_from_itemsets(ec_sets, min_confidence)
    a, e = _by_itemset(ap_sets), _by_itemset(ec_sets)
    assert len(a) == len(e) > 0
    assert a["key"].tolist() == e["key"].tolist()
    np.testing.assert_allclose(a["support"], e["support"], rtol=1e-12)
    ra, re = _by_rule(ap_rules), _by_rule(ec_rules)
    assert len(ra) == len(re) > 0
    assert ra["key"].tolist() == re["key"].tolist()
    for col in RULE_COLUMNS[2:]:
        np.testing.assert_allclose(ra[col].astype(float), re[col].astype(float), rtol=1e-12)
    return ap_sets, ap_rules


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_apriori_and_eclat_agree_on_random_data(seed):
    rng = np.random.default_rng(seed)
    n, m = 400, 9
    base = rng.random((n, m)) < rng.uniform(0.15, 0.6, m)
    base[:, 1] |= base[:, 0] & (rng.random(n) < 0.7)  # planted association 0 => 1
    frame = pd.DataFrame(base, columns=[f"item{j}" for j in range(m)])
    _, rules = _assert_same(frame, 0.04, 0.3)
    top = rules[(rules["antecedents"] == {"item0"}) & (rules["consequents"] == {"item1"})]
    assert len(top) == 1 and top["lift"].iloc[0] > 1.2


def test_apriori_and_eclat_agree_on_galaxy_zoo(shared_data):
    gz = load_galaxy_zoo_features(shared_data)
    frame = gz.frame.assign(concentration=gz.frame["petroR90_r"] / gz.frame["petroR50_r"])
    items = discretise(
        frame,
        {
            "g-r": ("blue", "mid", "red"),
            "concentration": ("diffuse", "mid", "concentrated"),
            "petroR50_r": ("small", "mid", "large"),
        },  # fmt: skip
        categorical=["class"],
    )
    assert items.shape == (780, 12) and all(pd.api.types.is_bool_dtype(t) for t in items.dtypes)
    _, rules = _assert_same(items, 0.05, 0.5)
    # astronomy: red and concentrated galaxies are mostly ellipticals
    rule = rules[
        (rules["antecedents"] == {"g-r=red", "concentration=concentrated"})
        & (rules["consequents"] == {"class=elliptical"})
    ]
    assert len(rule) == 1 and rule["confidence"].iloc[0] > 0.6 and rule["lift"].iloc[0] > 1.8


def test_eclat_max_len_and_custom_intersection():
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(rng.random((200, 6)) < 0.5, columns=list("abcdef"))
    calls = []

    def counting(a, b):
        calls.append(1)
        return intersect_sorted(a, b)

    full = eclat(frame, 0.05, intersect=counting)
    assert calls and full["itemsets"].map(len).max() >= 3
    two = eclat(frame, 0.05, max_len=2)
    assert two["itemsets"].map(len).max() == 2
    assert len(two) == (full["itemsets"].map(len) <= 2).sum()
    np.testing.assert_array_equal(
        intersect_sorted(np.array([1, 3, 5, 9]), np.array([3, 4, 9])), [3, 9]
    )


def test_no_frequent_pairs_gives_no_rules():
    frame = pd.DataFrame(np.eye(4, dtype=bool), columns=list("abcd"))
    sets, rules = apriori_rules(frame, 0.25, 0.1)
    assert len(sets) == 4 and len(rules) == 0 and list(rules.columns) == list(RULE_COLUMNS)
    assert len(rules_from_itemsets(eclat(frame, 0.25))) == 0


GOOD = pd.DataFrame({"a": [True, False], "b": [True, True]})


@pytest.mark.parametrize(
    ("func", "args", "msg"),
    [
        (eclat, (np.ones((3, 2), bool), 0.1), "must be a pandas DataFrame"),
        (eclat, (pd.DataFrame(), 0.1), "empty"),
        (eclat, (pd.DataFrame({"a": [1, 0]}), 0.1), "booleans; columns"),
        (eclat, (GOOD, 0.0), r"min_support must be a fraction in \(0, 1\]"),
        (eclat, (GOOD, 1.5), "min_support"),
        (eclat, (GOOD, 0.5, 0), "max_len must be a positive integer"),
        (apriori_rules, (GOOD, 0.5, 1.5), r"min_confidence must be in \[0, 1\]"),
        (rules_from_itemsets, (pd.DataFrame({"x": [1]}),), "columns 'support' and 'itemsets'"),
        (
            rules_from_itemsets,
            (pd.DataFrame({"support": [0.5], "itemsets": [frozenset("ab")]}),),
            "complete table",
        ),
        (
            discretise,
            (pd.DataFrame({"x": [1.0, 2.0]}), {"y": ("lo", "hi")}),
            r"lacks columns \['y'\]",
        ),
        (discretise, (pd.DataFrame({"x": [1.0, 2.0]}), {"x": ("lo",)}), "two distinct labels"),
        (discretise, (pd.DataFrame({"x": [1.0, np.nan]}), {"x": ("lo", "hi")}), "NaN"),
        (discretise, (pd.DataFrame(), {}), "non-empty"),
    ],
)
def test_bad_inputs(func, args, msg):
    with pytest.raises(InputError, match=msg):
        func(*args)


def test_eclat_runs_on_the_core_intersection_kernel():
    """The default intersection is the clustering core's sorted-list kernel
    (merge or galloping), checked against numpy on lists of very different
    lengths; unsorted lists are refused."""
    import astrograph._lib as lib

    rng = np.random.default_rng(0)
    for n, m in ((0, 10), (5, 5000), (3000, 2500), (1000, 20)):
        a = np.unique(rng.integers(0, 10_000, n))
        b = np.unique(rng.integers(0, 10_000, m))
        np.testing.assert_array_equal(intersect_sorted(a, b), np.intersect1d(a, b))
    with pytest.raises(InputError, match="strictly ascending"):
        lib.intersect_sorted(np.array([3, 1], np.uint32), np.array([1], np.uint32))
