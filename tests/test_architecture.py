"""The layout shows the flow, and the import rules of docs/architecture.md hold for every module.

    records -> rdf -> validation -> browse -> release -> sparql -> query -> remote -> web / cli

A module may import from its own layer and the layers before it, never after; a few third-party
packages belong to one place each. Every module is found by walking the package, none listed by
hand.
"""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import lod

LAYERS = ("core", "records", "rdf", "validation", "browse", "release", "sparql", "query", "remote", "web",
          "cli")
"""In the order of the flow; ``core`` is the top-level modules (errors, vocab, settings, …)."""

OWNERS = {
    "flask": ("lod.web",),
    "werkzeug": ("lod.web",),
    "jinja2": ("lod.web",),
    "waitress": ("lod.web",),
    "click": ("lod.cli",),
    "SPARQLWrapper": (),  # the tests' SPARQL client; lod speaks HTTP through lod.remote.http
    "pyshacl": ("lod.validation.pyshacl",),
}
"""Third-party packages that only these modules (or packages) may import."""


def modules() -> list[str]:
    names = ["lod"]
    names += [info.name for info in pkgutil.walk_packages(lod.__path__, "lod.")]
    return sorted(names)


def layer(module: str) -> str:
    parts = module.split(".")
    if module in ("lod", "lod.__main__"):
        return "api"  # the doors: the public API and `python -m lod`
    if len(parts) == 2 and parts[1] not in LAYERS:
        return "core"
    return parts[1]


def source(module: str) -> Path:
    path = Path(lod.__path__[0]).parent.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def imports(module: str) -> set[str]:
    """Every module ``module`` imports, relative imports resolved, at any depth of its code."""
    tree = ast.parse(source(module).read_text())
    package = module if source(module).name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.add(name)
            found |= {f"{name}.{alias.name}" for alias in node.names}  # `from lod import web`
    return found


def lod_imports(module: str) -> set[str]:
    known = set(modules())
    return {name for name in imports(module) if name in known and name != module}


@pytest.mark.parametrize("module", [m for m in modules() if layer(m) not in ("api",)])
def test_imports_follow_the_flow(module: str) -> None:
    own = LAYERS.index(layer(module))
    later = sorted(name for name in lod_imports(module)
                   if layer(name) in LAYERS and LAYERS.index(layer(name)) > own)
    assert later == [], f"{module} ({layer(module)}) imports from later layers: {later}"


@pytest.mark.parametrize("module", modules())
def test_third_party_packages_stay_where_they_belong(module: str) -> None:
    for package, owners in OWNERS.items():
        uses = any(name == package or name.startswith(f"{package}.") for name in imports(module))
        if uses:
            assert module.startswith(owners), f"{module} imports {package}, which only {owners} may"


def test_every_module_has_a_docstring() -> None:
    missing = [m for m in modules() if ast.get_docstring(ast.parse(source(m).read_text())) is None]
    assert missing == []


def test_the_core_loads_neither_flask_nor_click_nor_the_web() -> None:
    core = [m for m in modules() if layer(m) not in ("web", "cli") and m != "lod.__main__"]
    code = (f"import sys, importlib\nfor m in {core!r}: importlib.import_module(m)\n"
            "print(','.join(m for m in ('flask', 'click', 'werkzeug', 'waitress', 'lod.web', 'lod.cli') "
            "if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == ""


PUBLIC_API = [
    'CheckedData',
    'Cooperation',
    'Dataset',
    'Event',
    'InputError',
    'IriMinter',
    'LodError',
    'Membership',
    'Organisation',
    'Origin',
    'PartialDate',
    'Person',
    'Post',
    'Problem',
    'RdfFormat',
    'Release',
    'Settings',
    'Source',
    'Statement',
    'Tenure',
    'UsageError',
    'ValidationReport',
    'ValidationResult',
    '__version__',
    'build_release',
    'check_dataset',
    'check_records',
    'load_schemes',
    'open_release',
    'read_records',
    'record_iris',
    'to_graph',
    'triples',
    'validate_graph',
]


def test_the_public_api_is_pinned() -> None:
    assert sorted(lod.__all__) == sorted(PUBLIC_API)
    assert [name for name in lod.__all__ if not hasattr(lod, name)] == []
