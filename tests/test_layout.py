"""The package layout follows the data flow: a package imports only from packages before it, the data
side never imports Streamlit, and there is no import cycle. Read from the source (every import
statement, including ones inside functions), so a late import cannot hide an upward dependency."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The order data flows in (docs/architecture.md, "Data flow"): a layer may import itself and anything before it.
# NHS England's formats come before the warehouse: each declares its own tables, which the schema gathers.
LAYERS = ["config", "sessions", "access", "catalogue", "publication", "warehouse", "live_sessions", "spc", "ingest",
          "queries", "reports", "__main__"]


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _pipelines_modules() -> list[Path]:
    return sorted((ROOT / "pipelines").rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found += [(node.lineno, node.module)] + [(node.lineno, f"{node.module}.{a.name}") for a in node.names
                                                      if node.module == "pipelines"]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
    return found


def upward_imports() -> list[str]:
    """Every import of a later layer by an earlier one, as "module:line -> imported"."""
    bad = []
    for path in _pipelines_modules():
        name = _module_name(path)
        here = _layer(name)
        if here not in LAYERS:
            continue
        for line, imported in _imports(path):
            if not imported.startswith("pipelines.") or imported.count(".") < 1:
                continue
            there = _layer(imported)
            if there in LAYERS and LAYERS.index(there) > LAYERS.index(here):
                bad.append(f"{name}:{line} -> {imported}")
    return bad


def test_no_package_imports_a_later_one() -> None:
    assert upward_imports() == []


def test_the_data_side_never_imports_streamlit() -> None:
    offenders = [f"{_module_name(p)}:{line}" for p in _pipelines_modules() for line, imported in _imports(p)
                 if imported.split(".")[0] == "streamlit"]
    assert offenders == []


@pytest.mark.parametrize("layer", LAYERS[:-1])
def test_every_layer_is_a_module_or_package_of_pipelines(layer: str) -> None:
    """The layout in docs/architecture.md names real places, so the check above cannot pass by naming nothing."""
    assert (ROOT / "pipelines" / layer).is_dir() or (ROOT / "pipelines" / f"{layer}.py").is_file()
