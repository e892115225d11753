"""Sphinx configuration of the astrograph documentation.

Build (needs astrograph installed, e.g. the wheel, and the ``docs`` extra)::

    python -m sphinx -W -n -b html docs docs/_build/html
    python docs/check_links.py docs/_build/html

The API reference documents the *installed* package (autodoc imports it); the
notebooks are copied from ``notebooks/`` and rendered without being executed;
the gallery's figures are drawn at build time by ``gallery/make_gallery.py``.
No network access is needed (no intersphinx, no external link check).
"""

from __future__ import annotations

import builtins
import importlib
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import astrograph

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent

# -- project -------------------------------------------------------------------------------
project = "astrograph"
author = "the astrograph developers"
copyright = "2026, the astrograph developers"
release = astrograph.__version__
version = ".".join(release.split(".")[:2])

# -- general -------------------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax served from the site itself: no CDN needed to read it
    "numpydoc",
    "myst_nb",
]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
templates_path = ["_templates"]
exclude_patterns = ["_build", "gallery/make_gallery.py", "**.ipynb_checkpoints", "README.md"]
nitpicky = True
default_role = "py:obj"

# -- API reference -------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"  # numpydoc docstrings carry the types
autodoc_default_options = {"members": True, "member-order": "groupwise"}
autodoc_member_order = "groupwise"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = True

# Types written in docstrings and signatures that are not documented here (no
# network, so no intersphinx): numpy, pyarrow, matplotlib, scikit-learn, jax ...
nitpick_ignore_regex = [
    (r"py:.*", r"(np|numpy|npt|pa|pyarrow|plt|matplotlib|sklearn|jax|jnp|flax|nnx|optax)\..*"),
    (r"py:.*", r"(pandas|pd|PIL|h5py|astropy|mpi4py|MPI|tqdm)\..*"),
    (r"py:.*", r"(typing|collections|pathlib|os|types|builtins)\..*"),
    (r"py:.*", r"astrograph\._\w+(\..*)?"),  # private helper modules
    (r"py:attr", r"\w+_"),  # fitted attributes (scikit-learn style), listed in docstrings
    # internal classes named in public docstrings
    (r"py:class", r"astrograph\.clustering\.mpi\.decompose\.Order"),
]
# Built-in classes and exceptions (bases of the error classes, types in docstrings).
nitpick_ignore = [(role, name) for name in dir(builtins) for role in ("py:class", "py:exc")]

# -- MyST / notebooks ----------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "off"  # rendered as committed; figures only from stored outputs
nb_merge_streams = True

# -- HTML ----------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"astrograph {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_static_path: list[str] = []
html_show_sourcelink = False


# -- build-time inputs ---------------------------------------------------------------------
def _copy_notebooks() -> None:
    """notebooks/*.ipynb -> docs/notebooks/ (not committed), rendered by myst-nb."""
    dest = DOCS / "notebooks"
    dest.mkdir(exist_ok=True)
    for old in dest.glob("*.ipynb"):
        old.unlink()
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        shutil.copy2(nb, dest / nb.name)


def _draw_gallery() -> None:
    sys.path.insert(0, str(DOCS / "gallery"))
    try:
        import make_gallery
    finally:
        sys.path.pop(0)
    make_gallery.main(DOCS / "gallery" / "_generated")


def _python_object(dotted: str, module: str | None) -> Any:
    """The object a dotted name means, tried absolute, then relative to ``module``
    and its parents; None if nothing imports."""
    bases = [""]
    if module:
        parts = module.split(".")
        bases = [".".join(parts[:i]) + "." for i in range(len(parts), 0, -1)] + [""]
    for base in bases:
        path = (base + dotted).split(".")
        for cut in range(len(path) - 1, 0, -1):
            try:
                obj = importlib.import_module(".".join(path[:cut]))
            except Exception:
                continue
            try:
                for attr in path[cut:]:
                    obj = getattr(obj, attr)
            except AttributeError:
                break
            return obj
    return None


def _key(obj: Any) -> int:
    return id(getattr(obj, "__func__", obj))


def _documented_by_id(env) -> dict[int, str]:
    """id(python object) -> the name under which the py domain documents it."""
    cache = getattr(env, "_astrograph_doc_ids", None)
    if cache is None or cache[0] != len(env.get_domain("py").objects):
        objects = env.get_domain("py").objects
        ids: dict[int, str] = {}
        for name, entry in objects.items():
            if entry.objtype in ("module", "data", "attribute"):
                continue
            obj = _python_object(name, None)
            if obj is not None:
                ids.setdefault(_key(obj), name)
        cache = (len(objects), ids)
        env._astrograph_doc_ids = cache
    return cache[1]


def _resolve_moved(app, env, node, contnode):
    """Resolve a reference to an object documented under another name: a
    re-export (``astrograph.count_pairs``), an unqualified name
    (``:class:`PhotoZRegressor```), or a method inherited from a documented base
    (``:meth:`to_arrow``` in a subclass), by importing what the name means and
    finding where that object is documented."""
    if node.get("refdomain") != "py":
        return None
    domain = env.get_domain("py")
    target = node.get("reftarget", "").lstrip(".~")
    module, cls = node.get("py:module"), node.get("py:class")
    found = None
    if cls and "." not in target:
        owner = _python_object(cls, module)
        documented = _documented_by_id(env)
        for base in getattr(owner, "__mro__", ()):
            name = documented.get(id(base))
            if name and f"{name}.{target}" in domain.objects:
                found = f"{name}.{target}"
                break
    if found is None:
        obj = _python_object(target, module)
        if obj is not None and not isinstance(obj, (str, int, float, tuple, dict, list)):
            found = _documented_by_id(env).get(_key(obj))
    if found is None and module and "." not in target:  # a method of a class of this module
        hits = [
            name
            for name, entry in domain.objects.items()
            if entry.objtype == "class"
            and name.rsplit(".", 1)[0] == module
            and f"{name}.{target}" in domain.objects
        ]
        found = f"{hits[0]}.{target}" if len(hits) == 1 else None
    if found is None and node.get("reftype") == "mod":
        return None
    if found is None:  # a unique documented object with that last name component
        last = target.rsplit(".", 1)[-1]
        roles = domain.objtypes_for_role(node.get("reftype")) or []
        hits = [
            name
            for name, entry in domain.objects.items()
            if name.rsplit(".", 1)[-1] == last and entry.objtype in roles
        ]
        found = hits[0] if len(hits) == 1 else None
    if found is None:
        return None
    return domain.resolve_xref(env, node.get("refdoc"), app.builder, "obj", found, node, contnode)


_BAR = re.compile(r"(?<!\\)\|")
_LONE_STAR = re.compile(r"(?<![\\*\w])\*(?=\w)")


def _plain_text_markup(app, what, name, obj, options, lines):
    """Docstrings write absolute values as ``|dz|`` and unpacked shapes as
    ``(n, *shape)``; reST would read a substitution and an unclosed emphasis.
    Escape bars, and a lone star when a line has an odd number of them, outside
    literals and roles (table rows excepted)."""
    for i, line in enumerate(lines):
        if ("|" not in line and "*" not in line) or line.lstrip().startswith(("|", "+")):
            continue
        parts = line.split("`")
        for k in range(0, len(parts), 2):  # even segments are outside backticks
            seg = _BAR.sub(r"\\|", parts[k])
            if seg.replace("**", "").count("*") % 2:
                seg = _LONE_STAR.sub(r"\\*", seg)
            parts[k] = seg
        lines[i] = "`".join(parts)


def _skip_member(app, what, name, obj, skip, options):
    """scikit-learn's generated metadata-routing methods (``set_fit_request``...)
    are not part of astrograph's API, and their docstrings link to sklearn's site."""
    if re.fullmatch(r"set_\w+_request", name):
        return True
    return None


def setup(app):
    _copy_notebooks()
    _draw_gallery()
    app.connect("missing-reference", _resolve_moved)
    app.connect("autodoc-process-docstring", _plain_text_markup)
    app.connect("autodoc-skip-member", _skip_member)
