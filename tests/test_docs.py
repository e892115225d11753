"""The documentation cannot drift from the code.

* Every public class and function has a docstring, and so has every public
  method and property defined in a public class.
* Every public name has an entry in the API reference (``docs/api/*.rst``:
  ``autosummary`` lists and ``.. data::`` directives); constants, which carry
  no docstring of their own, are documented there, and a ``:value:`` the
  reference gives is the code's value.
* ``docs/graph-format.md`` lists exactly the columns (in order, with their Arrow
  types) and the metadata keys that a graph and its saved file carry.

Public names are the ``__all__`` of the modules in :data:`PUBLIC_MODULES` and of
every module of ``astrograph.ml``, plus :data:`EXTRA`. Each check is one test per
name, so a failure names what to fix.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import pkgutil
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
API = ROOT / "docs" / "api"

PUBLIC_MODULES = [
    "astrograph",
    "astrograph.clustering",
    "astrograph.clustering.results",
    "astrograph.errors",
    "astrograph.ml",
]
#: Public objects outside any ``__all__``: returned by public functions, or base
#: classes whose methods every result has.
EXTRA = {
    "astrograph.clustering.mpi.graph": ["DistributedGraph"],
    "astrograph.clustering.catalog": ["choose_columns"],
    "astrograph.clustering.results.table": ["ResultTable"],
    "astrograph.clustering.results.resampling": ["Resampled"],
}


def _ml_modules() -> list[str]:
    ml = importlib.import_module("astrograph.ml")
    return [m.name for m in pkgutil.walk_packages(ml.__path__, "astrograph.ml.")]


def public_names() -> list[tuple[str, str]]:
    """(module, name) of every public name."""
    out = []
    for mod_name in PUBLIC_MODULES + _ml_modules():
        mod = importlib.import_module(mod_name)
        names = getattr(mod, "__all__", None)
        assert names is not None, f"{mod_name} has no __all__"
        out += [(mod_name, n) for n in names]
    out += [(m, n) for m, names in EXTRA.items() for n in names]
    return out


def _obj(module: str, name: str) -> Any:
    return getattr(importlib.import_module(module), name)


def _is_api(obj: Any) -> bool:
    return inspect.isclass(obj) or inspect.isfunction(obj) or inspect.isbuiltin(obj)


def _own_doc(obj: Any) -> str | None:
    """The docstring written for ``obj`` itself (not a dataclass's generated
    signature, not a base class's)."""
    if inspect.isclass(obj):
        doc = obj.__dict__.get("__doc__")
        if doc and dataclasses.is_dataclass(obj) and doc.startswith(f"{obj.__name__}("):
            return None
        return doc
    return getattr(obj, "__doc__", None)


def _members(cls: type) -> list[tuple[str, Any]]:
    """Public methods and properties defined in the body of ``cls``."""
    out = []
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(value, property):
            out.append((name, value))  # its doc: doc= or the getter's
        elif isinstance(value, (staticmethod, classmethod)):
            out.append((name, value.__func__))
        elif inspect.isfunction(value):
            out.append((name, value))
    return out


def _missing_member_docs(cls: type) -> list[str]:
    missing = []
    for name, fn in _members(cls):
        if fn.__doc__:
            continue
        # an override documented by the base class it overrides is fine
        inherited = [getattr(b, name, None) for b in cls.__mro__[1:]]
        if any(getattr(i, "__doc__", None) for i in inherited if i is not None):
            continue
        missing.append(name)
    return missing


# -- the API reference --------------------------------------------------------------------
_DIRECTIVE = re.compile(r"^\.\. (currentmodule|automodule|module|py:module)::\s*(\S+)")
_DATA = re.compile(r"^\.\. (?:py:)?data::\s*(\S+)")


def reference_entries() -> set[str]:
    """Fully qualified names listed in docs/api/*.rst."""
    entries: set[str] = set()
    for path in sorted(API.glob("*.rst")):
        current = ""
        in_summary = False
        for line in path.read_text().splitlines():
            m = _DIRECTIVE.match(line)
            if m:
                current, in_summary = m.group(2), False
                continue
            m = _DATA.match(line)
            if m:
                name = m.group(1)
                entries.add(name if name.startswith("astrograph.") else f"{current}.{name}")
                in_summary = False
                continue
            if line.startswith(".. autosummary::"):
                in_summary = True
                continue
            if in_summary:
                if line and not line.startswith(" "):
                    in_summary = False
                    continue
                item = line.strip()
                if item and not item.startswith(":"):
                    entries.add(item if "." in item and item.startswith("astrograph") else
                                f"{current}.{item}")  # fmt: skip
    return entries


def _resolve(qualified: str) -> Any:
    module, _, name = qualified.rpartition(".")
    try:
        return _obj(module, name)
    except (ImportError, AttributeError):
        return None


@pytest.fixture(scope="module")
def reference() -> tuple[set[str], set[int]]:
    entries = reference_entries()
    ids = {id(o) for o in map(_resolve, entries) if o is not None}
    return entries, ids


def _unique(names: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """One (module, name) per object: a re-exported class or function is checked
    once, under its deepest public module (``astrograph.clustering.Bins``, not
    ``astrograph.Bins``)."""
    best: dict[int, tuple[str, str]] = {}
    out = []
    for module, name in names:
        obj = _obj(module, name)
        if not _is_api(obj):
            out.append((module, name))
            continue
        if id(obj) not in best or len(module) > len(best[id(obj)][0]):
            best[id(obj)] = (module, name)
    return out + sorted(best.values())


NAMES = _unique(public_names())
#: Classes and functions (docstrings of their own), and constants (documented
#: by the reference page).
API_NAMES = [(m, n) for m, n in NAMES if _is_api(_obj(m, n))]
CONSTANTS = [(m, n) for m, n in NAMES if not _is_api(_obj(m, n))]
IDS = [f"{m}.{n}" for m, n in NAMES]


def test_reference_entries_exist():
    """Every entry of the reference names a real object (no stale pages)."""
    stale = sorted(e for e in reference_entries() if _resolve(e) is None)
    assert not stale, f"docs/api lists names that do not exist: {stale}"


@pytest.mark.parametrize(("module", "name"), API_NAMES, ids=[f"{m}.{n}" for m, n in API_NAMES])
def test_public_name_has_docstring(module, name):
    obj = _obj(module, name)
    assert _own_doc(obj), f"{module}.{name} has no docstring"
    if inspect.isclass(obj) and obj.__module__.startswith("astrograph"):
        missing = _missing_member_docs(obj)
        assert not missing, f"{module}.{name}: methods/properties without docstring: {missing}"


@pytest.mark.parametrize(("module", "name"), NAMES, ids=IDS)
def test_public_name_is_in_api_reference(module, name, reference):
    entries, ids = reference
    obj = _obj(module, name)
    if f"{module}.{name}" in entries:
        return
    if _is_api(obj) or isinstance(obj, (tuple, list, dict, frozenset, set)):
        assert id(obj) in ids, (
            f"{module}.{name} is missing from the API reference (docs/api/*.rst): add it to "
            f"an autosummary list under `.. currentmodule:: {getattr(obj, '__module__', module)}`"
        )
    else:
        pytest.fail(f"{module}.{name} is missing from the API reference (docs/api/*.rst)")


def data_values() -> dict[str, str]:
    """The ``:value:`` of every ``.. data::`` directive in docs/api/*.rst,
    by fully qualified name."""
    out: dict[str, str] = {}
    for path in sorted(API.glob("*.rst")):
        current, name = "", None
        for line in path.read_text().splitlines():
            m = _DIRECTIVE.match(line)
            if m:
                current, name = m.group(2), None
                continue
            m = _DATA.match(line)
            if m:
                name = m.group(1) if m.group(1).startswith("astrograph.") else (
                    f"{current}.{m.group(1)}")  # fmt: skip
                continue
            v = re.match(r"^\s+:value:\s*(.+)$", line)
            if name and v:
                out[name] = v.group(1).strip()
            elif line and not line.startswith(" "):
                name = None
    return out


def test_constants_are_checked_not_skipped():
    """Every public name is checked: constants by their reference entry."""
    assert CONSTANTS and API_NAMES and len(CONSTANTS) + len(API_NAMES) == len(NAMES)


@pytest.mark.parametrize(("module", "name"), CONSTANTS, ids=[f"{m}.{n}" for m, n in CONSTANTS])
def test_constant_is_documented_by_the_reference(module, name, reference):
    """A constant has no docstring of its own: the reference lists it (under
    its name, or the object another public name re-exports), and a value the
    reference writes out is the code's."""
    entries, ids = reference
    obj = _obj(module, name)
    listed = [e for e in entries if _resolve(e) is obj]
    assert listed or id(obj) in ids, (
        f"{module}.{name} is not in the API reference (docs/api/*.rst): list it in an "
        "autosummary or give it a `.. data::` directive"
    )
    values = data_values()
    for entry in {f"{module}.{name}", *listed} & set(values):
        assert ast.literal_eval(values[entry]) == obj, (
            f"docs/api says {entry} = {values[entry]}, the code has {obj!r}"
        )


# -- the graph file format ----------------------------------------------------------------
def _doc_tables() -> tuple[list[tuple[str, str]], list[str], str]:
    """(column, type) rows, metadata keys and the whole text of graph-format.md."""
    text = (ROOT / "docs" / "graph-format.md").read_text()
    cols_part = text.split("## Columns", 1)[1].split("\n## ", 1)[0]
    meta_part = text.split("## Schema metadata", 1)[1].split("\n## ", 1)[0]
    cols = re.findall(r"^\| `([a-z_]+)` \| `([^`]+)` \|", cols_part, re.M)
    keys = re.findall(r"^\| `([a-z_.]+)` \|", meta_part, re.M)
    return cols, keys, meta_part


def _type_name(t: Any) -> str:
    import pyarrow as pa

    if pa.types.is_large_list(t):
        return f"large_list<{t.value_type}>"
    return str(t)


def test_graph_format_page_matches_the_code(tmp_path):
    import pyarrow as pa

    import astrograph as ag

    rng = np.random.default_rng(0)
    graph = ag.NeighbourGraph.build(rng.random((40, 3)), rng.random((50, 3)), rmax=0.3)
    batch = graph.to_arrow()
    graph.save(tmp_path / "g.arrow")
    saved = pa.ipc.open_file(tmp_path / "g.arrow").schema

    cols, keys, meta_text = _doc_tables()
    actual = [(f.name, _type_name(f.type)) for f in batch.schema]
    assert cols == actual, f"docs/graph-format.md columns {cols} != the code's {actual}"

    no_mu = ag.NeighbourGraph.build(rng.random((10, 3)), rmax=0.3, store_mu=False).to_arrow()
    assert [f.name for f in no_mu.schema] == [c for c, _ in cols if c != "mu"]

    meta = {k.decode(): v.decode() for k, v in saved.metadata.items()}
    assert sorted(keys) == sorted(meta), (
        f"docs/graph-format.md metadata keys {sorted(keys)} != the file's {sorted(meta)}"
    )
    assert set(meta) - {k.decode() for k in batch.schema.metadata} == {"astrograph.checksum"}
    for key in ("astrograph.format", "astrograph.version"):
        row = re.search(rf"^\| `{re.escape(key)}` \|(.*)$", meta_text, re.M).group(1)
        assert f"`{meta[key]}`" in row, f"{key} = {meta[key]!r} is not what the page says"
