"""Import hygiene of astrograph.ml: importing it is cheap, its lazy names resolve,
and every function-local import says why it is lazy.

The layer order and the clustering <-> ml rule are checked for the whole
package by tests/test_layering.py.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ML = Path(__file__).resolve().parents[2] / "python" / "astrograph" / "ml"
SOURCES = sorted(ML.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ML)))
def test_function_local_imports_say_why_they_are_lazy(path):
    lines = path.read_text().splitlines()
    tree = ast.parse("\n".join(lines))
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(fn):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    line = lines[node.lineno - 1]
                    assert "# lazy:" in line, f"{path.name}:{node.lineno}: {line.strip()}"


def test_import_is_cheap_and_stays_in_its_half():
    code = (
        "import sys, astrograph.ml, astrograph.ml.nn, astrograph.ml.datasets\n"
        "heavy = [m for m in ('sklearn', 'jax', 'flax', 'matplotlib', 'pandas') if m in sys.modules]\n"
        "ours = sorted(m for m in sys.modules if m.startswith('astrograph'))\n"
        "assert not heavy, heavy\n"
        "assert not [m for m in ours if m.startswith('astrograph.clustering')], ours\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("package", ["astrograph.ml", "astrograph.ml.nn", "astrograph.ml.datasets"])
def test_lazy_names_resolve(package):
    pkg = importlib.import_module(package)
    for name in pkg.__all__:
        module = importlib.import_module(pkg._LAZY[name])
        assert getattr(pkg, name) is getattr(module, name)
        assert name in module.__all__, f"{name} is not public in {module.__name__}"
    if package == "astrograph.ml":  # every public name of the ml-level modules
        for module_name, names in pkg._MODULES.items():
            assert set(names) == set(importlib.import_module(module_name).__all__), module_name
