"""The package's layers: imports run one way, from the surfaces down to plain types and configuration.

    surfaces (cli, web), training, evaluation, bench
        -> answering -> indexing -> reading -> config, types

A module may import its own layer or a lower one, never a higher one; among the top-level packages the
imports form no cycle, and nothing below them imports training, evaluation or bench.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "qa"
LAYERS = {
    "config": 0, "types": 0, "": 0,
    "reading": 1,
    "indexing": 2,
    "answering": 3,
    "cli": 4, "__main__": 4, "web": 4, "training": 4, "evaluation": 4, "bench": 4,
}


def _module(path: Path, root: Path = PACKAGE) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, root: Path = PACKAGE) -> set[str]:
    """Every qa module or package this file imports (relative imports resolved), lazy ones included."""
    name = _module(path, root)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "qa" or target.startswith("qa."):
                out.add(target)
                out.update(f"{target}.{a.name}" for a in node.names)   # `from qa.indexing import store`
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name == "qa" or a.name.startswith("qa."))
    return out


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _layer(module: str) -> int:
    top = _top(module)
    if top not in LAYERS:
        raise AssertionError(f"{module}: a new top-level module or package needs its place in LAYERS")
    return LAYERS[top]


FILES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer():
    assert FILES
    for path in FILES:
        _layer(_module(path))


def _check(path: Path, root: Path = PACKAGE) -> None:
    here = _module(path, root)
    for target in _imports(path, root):
        if _top(target) in LAYERS:       # `from qa.indexing import store` also names qa.indexing.store
            assert _layer(target) <= _layer(here), f"{here} (layer {_layer(here)}) imports {target} " \
                                                   f"(layer {_layer(target)})"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_no_module_imports_a_higher_layer(path):
    _check(path)


def test_top_level_packages_import_each_other_without_a_cycle():
    edges: dict[str, set[str]] = {}
    for path in FILES:
        here = _top(_module(path))
        for target in _imports(path):
            there = _top(target)
            if there != here and there in LAYERS:
                edges.setdefault(here, set()).add(there)
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            assert state.get(nxt) != 1, "import cycle: " + " -> ".join(trail + [node, nxt])
            if nxt not in state:
                visit(nxt, trail + [node])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [])
    # the answering path never reaches training, evaluation or benchmarks
    below = {t for t, layer in LAYERS.items() if layer < 4}
    assert not any(edges.get(t, set()) & {"training", "evaluation", "bench"} for t in below)


def test_the_check_sees_a_wrong_way_import(tmp_path):
    """The checker itself: a reading module that imports answering, even lazily, is caught."""
    fake = tmp_path / "qa" / "reading" / "bad.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("def f():\n    from ..answering.ask import ask\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="imports qa.answering.ask"):
        _check(fake, tmp_path / "qa")
