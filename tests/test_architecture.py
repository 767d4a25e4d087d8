"""The layers of docs/architecture.md, checked: no import cycle between modules or packages of
``harness``, lazy imports inside functions included (a cycle hidden in a function is still one)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

HARNESS = Path(__file__).resolve().parents[1] / "harness"


def _modules() -> dict[str, Path]:
    out = {}
    for path in HARNESS.rglob("*.py"):
        name = ".".join(path.relative_to(HARNESS.parent).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = path
    return out


def _imports(modules) -> dict[str, set[str]]:
    edges = defaultdict(set)
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("harness"):
                targets = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names if alias.name.startswith("harness")]
            edges[name].update(t for t in targets if t in modules and t != name)
    return edges


def _cycles(edges) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan, iterative enough for this size)."""
    index, low, on, stack, found, counter = {}, {}, set(), [], [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(set(edges) | {w for ws in edges.values() for w in ws}):
        if v not in index:
            visit(v)
    return found


def _package(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_no_module_imports_itself_through_others():
    assert _cycles(_imports(_modules())) == []


def test_no_package_imports_itself_through_others():
    packages = defaultdict(set)
    for module, targets in _imports(_modules()).items():
        packages[_package(module)].update(_package(t) for t in targets if _package(t) != _package(module))
    assert _cycles(packages) == []


def test_the_lowest_layers_import_no_higher_one():
    """errors, deadline, paths, process and file_lock are the ground floor; link and quant sit on
    them only."""
    floor = {"harness.errors", "harness.deadline", "harness.paths", "harness.process", "harness.file_lock"}
    allowed = {"harness.link": floor, "harness.quant": floor, "harness.signals": floor,
               "harness.errors": set(), "harness.deadline": floor, "harness.paths": set(),
               "harness.process": set(), "harness.file_lock": {"harness.errors", "harness.deadline"}}
    for module, targets in _imports(_modules()).items():
        package = _package(module)
        if package in allowed:
            above = {_package(t) for t in targets} - allowed[package] - {package}
            assert not above, f"{module} imports {sorted(above)}"
