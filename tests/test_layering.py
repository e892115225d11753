"""The package's imports run one way: read every module's imports (ast) and fail
on an upward import, a cross-half import (clustering <-> ml), or a
function-local import that is not a documented lazy import of an optional or
heavy third-party dependency. docs/architecture.md draws the same layers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "python" / "astrograph"

#: Shared helpers at the top level, importable from both halves.
BASE = ["astrograph.errors", "astrograph._lazy", "astrograph._progress", "astrograph._lib"]

#: Each half, bottom to top: a module may import only modules listed before it
#: (a package's __init__ may import its own submodules).
CLUSTERING = [
    "inputs",
    "sanity",
    "bins",
    "weights",
    "regions",
    "io",
    "catalog",
    "splits",
    "mocks",
    "footprint",
    "plotting",
    "results.norms",
    "results.table",
    "results.analytic",
    "results.resampling",
    "results.twopoint",
    "results.pairs",
    "results.projected",
    "results.angular",
    "results.triangles",
    "results.quads",
    "results.multipoles",
    "results.coupling",
    "results.disconnected",
    "results.quad_multipoles",
    "results",
    "direct",
    "twopoint",
    "multipoles",
    "quad_multipoles",
    "build",
    "graph_file",
    "graph",
    "mpi.timing",
    "mpi.collective",
    "mpi.load",
    "mpi.decompose",
    "mpi.graph",
    "mpi.multipoles",
    "mpi.twopoint",
    "mpi",
    "api",
    "",
]
ML = [
    "validation",
    "features",
    "metrics",
    "pdf_metrics",
    "plots",
    "regression",
    "unsupervised",
    "association",
    "reweighting",
    "classify",
    "_photoz_models",
    "photoz",
    "datasets.download",
    "datasets.sdss",
    "datasets.images",
    "datasets",
    "nn.training",
    "nn.ann",
    "nn.photoz",
    "nn.augment",
    "nn.cnn",
    "nn.dihedral",
    "nn",
    "_morphology_checks",
    "morphology",
    "",
]
#: The top of the package: may import anything below it.
TOP = [
    "astrograph.cli.files",
    "astrograph.cli.options",
    "astrograph.cli.common",
    "astrograph.cli.commands",
    "astrograph.cli.two_point",
    "astrograph.cli.parser",
    "astrograph.cli",
    "astrograph.cli.__main__",
    "astrograph.__main__",
    "astrograph",
]

#: Third-party packages a function may import lazily: optional extras, or
#: heavy imports needed by one feature only.
LAZY_OK = {
    "mpi4py",
    "jax",
    "flax",
    "optax",
    "sklearn",
    "matplotlib",
    "astropy",
    "PIL",
    "h5py",
    "tqdm",
    "pandas",
    "threadpoolctl",
    "scipy",
    "healpy",
    "hpgeom",
}


def _names(half: str, order: list[str]) -> list[str]:
    return [f"astrograph.{half}" + (f".{m}" if m else "") for m in order]


ORDER = BASE + _names("clustering", CLUSTERING) + _names("ml", ML) + TOP
RANK = {m: i for i, m in enumerate(ORDER)}


def _half(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ("clustering", "ml") else None


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(module: str, path: Path, node: ast.ImportFrom | ast.Import) -> list[str]:
    """The astrograph modules an import statement brings in."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "astrograph"]
    if node.level:
        pkg = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        base = ".".join(pkg[: len(pkg) - node.level + 1] + ([node.module] if node.module else []))
    else:
        base = node.module or ""
    if base.split(".")[0] != "astrograph":
        return []
    known = set(_modules()) | set(BASE)
    out = []
    for a in node.names:
        sub = f"{base}.{a.name}"
        out.append(sub if sub in known else base)
    return out


def _imports(module: str, path: Path) -> list[tuple[str, int, bool, ast.AST]]:
    """(imported name, line, inside a function, node) for every import."""
    tree = ast.parse(path.read_text(), str(path))
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.append((module, child.lineno, in_function, child))
            visit(child, inner)

    visit(tree, False)
    return found


def test_every_module_has_a_layer():
    missing = sorted(set(_modules()) - set(RANK))
    assert not missing, f"add these modules to the layer lists in {__file__}: {missing}"


@pytest.mark.parametrize("module", sorted(_modules()))
def test_imports_run_one_way(module):
    path = _modules()[module]
    problems = []
    for _, line, in_function, node in _imports(module, path):
        where = f"{path.relative_to(PACKAGE.parent)}:{line}"
        for target in _resolve(module, path, node):
            if target == module or target not in RANK:
                continue
            halves = {_half(module), _half(target)} - {None}
            if len(halves) == 2:
                problems.append(f"{where}: the {module} half imports the other half ({target})")
            elif RANK[target] >= RANK[module] and not target.startswith(f"{module}."):
                problems.append(f"{where}: {module} imports {target}, which is not below it")
            if in_function:
                problems.append(f"{where}: function-local import of {target}")
        if in_function and isinstance(node, (ast.Import, ast.ImportFrom)):
            top = (
                node.names[0].name if isinstance(node, ast.Import) else (node.module or "")
            ).split(".")[0]
            if not node.__dict__.get("level") and top not in LAZY_OK | {"astrograph"}:
                problems.append(f"{where}: function-local import of {top} (not an optional extra)")
    assert not problems, "\n".join(problems)


def test_package_init_imports_only_below():
    """``import astrograph`` loads neither half (names resolve lazily)."""
    src = (PACKAGE / "__init__.py").read_text()
    assert "clustering" in src and "import astrograph.ml" not in src
    for _, _, _, node in _imports("astrograph", PACKAGE / "__init__.py"):
        for target in _resolve("astrograph", PACKAGE / "__init__.py", node):
            assert target in BASE, target
