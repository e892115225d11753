"""Packaging: one version in one place, the command CI and the README share, and,
with ``ASTROGRAPH_TEST_INSTALLED=1`` (CI's wheel run), that the package under test
is the installed wheel rather than the source tree."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from importlib.metadata import distribution, version
from pathlib import Path

import pytest

import astrograph

ROOT = Path(__file__).resolve().parents[1]
INSTALLED = os.environ.get("ASTROGRAPH_TEST_INSTALLED") == "1"


def _toml_section(text: str, header: str) -> str:
    """The body of ``[header]`` in a TOML file (tomllib is 3.11+ only)."""
    m = re.search(rf"^\[{re.escape(header)}\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
    assert m, f"no [{header}] section"
    return m.group(1)


def cargo_version() -> str:
    body = _toml_section((ROOT / "Cargo.toml").read_text(), "workspace.package")
    m = re.search(r'^version\s*=\s*"([^"]+)"', body, re.M)
    assert m, "no version in [workspace.package] of Cargo.toml"
    return m.group(1)


def test_version_is_set_once_in_cargo_workspace():
    assert re.fullmatch(r"\d+\.\d+\.\d+", cargo_version())
    root = _toml_section((ROOT / "Cargo.toml").read_text(), "package")
    assert re.search(r"^version\.workspace\s*=\s*true", root, re.M)
    core = _toml_section((ROOT / "rust" / "core" / "Cargo.toml").read_text(), "package")
    assert re.search(r"^version\.workspace\s*=\s*true", core, re.M)
    project = _toml_section((ROOT / "pyproject.toml").read_text(), "project")
    assert not re.search(r"^version\s*=", project, re.M), "pyproject must not repeat the version"
    assert re.search(r'^dynamic\s*=\s*\[[^\]]*"version"', project, re.M)


def test_dunder_version_is_the_installed_cargo_version():
    assert astrograph.__version__ == version("astrograph") == cargo_version()


def test_command_line_version():
    out = subprocess.run(
        [sys.executable, "-m", "astrograph", "--version"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"astrograph {astrograph.__version__}"


def test_changelog_has_this_version():
    text = (ROOT / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in text
    assert re.search(rf"^## \[{re.escape(cargo_version())}\]( - \d{{4}}-\d\d-\d\d)?$", text, re.M)


def test_readme_and_ci_run_the_same_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert ".ci/test" in readme
    assert re.search(r"^\s*ASTROGRAPH_TEST_INSTALLED=1 .*\.ci/test\s*$", ci, re.M)


def _inside(path: str, folder: str) -> bool:
    try:
        Path(path).resolve().relative_to(Path(folder).resolve())
    except ValueError:
        return False
    return True


@pytest.mark.skipif(not INSTALLED, reason="set ASTROGRAPH_TEST_INSTALLED=1 to check a wheel run")
def test_package_under_test_is_the_installed_wheel():
    import astrograph._lib as lib

    site = {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
    for f in (astrograph.__file__, lib.__file__):
        assert any(_inside(f, s) for s in site), f"{f} is not in {site}"
        assert _inside(f, sys.prefix), f"{f} is not inside the environment {sys.prefix}"
        assert not _inside(f, str(ROOT / "python")), f"{f} is the source tree"
    dist = distribution("astrograph")
    direct = json.loads(dist.read_text("direct_url.json") or "{}")
    assert not direct.get("dir_info", {}).get("editable"), f"an editable install: {direct}"
    assert Path(lib.__file__).name.endswith(".abi3.so")


@pytest.mark.skipif(not INSTALLED, reason="set ASTROGRAPH_TEST_INSTALLED=1 to check a wheel run")
def test_no_rust_toolchain_on_path():
    assert shutil.which("cargo") is None and shutil.which("rustc") is None
