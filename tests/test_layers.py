"""Data flows one way: gmm_core → gmm_figures → gmm_app → pages, and no layer reaches back.

Each package's modules are read with ``ast`` (nothing is imported), so a forbidden import
inside a function is caught as well as one at the top of a module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Top-level packages each layer must never import.
FORBIDDEN: dict[str, frozenset[str]] = {
    "gmm_core": frozenset({"streamlit", "plotly", "pandas", "gmm_figures", "gmm_app"}),
    "gmm_figures": frozenset({"streamlit", "gmm_app"}),
    # Compiled work lives in gmm_core: the app and its pages never touch JAX directly
    # (so they can never call jax.jit in a page script).
    "gmm_app": frozenset({"jax", "jaxlib"}),
    "pages": frozenset({"jax", "jaxlib", "plotly"}),
}


def imported_packages(path: Path) -> set[str]:
    """Top-level package names that the module at ``path`` imports, anywhere in it."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_no_layer_imports_a_layer_above_it(layer: str) -> None:
    modules = sorted((ROOT / layer).glob("*.py")) + ([ROOT / "app.py"] if layer == "pages" else [])
    assert modules, f"no modules found in {layer}/"
    reached = {path.name: sorted(imported_packages(path) & FORBIDDEN[layer]) for path in modules}
    assert not {name: found for name, found in reached.items() if found}


def test_the_import_reader_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "late.py"
    module.write_text("def f():\n    import streamlit as st\n    from plotly import io\n")
    assert imported_packages(module) == {"streamlit", "plotly"}
