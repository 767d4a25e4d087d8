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


ARCHITECTURE_DOC = HARNESS.parent / "docs" / "architecture.md"
GROUND_MODULES_ABOVE = {"harness.file_lock": {"harness.errors", "harness.deadline"}}  # within the ground


def _layers() -> list[tuple[str, set[str], set[str]]]:
    """(layer, its packages, the layers it may import) from the table of docs/architecture.md."""
    rows, names = [], []
    for line in ARCHITECTURE_DOC.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("layer", "") or set(cells[0]) <= {"-"}:
            continue
        layer, packages, _, may_import = cells
        rows.append((layer, {f"harness.{p.strip(' `')}" for p in packages.split(",")}, may_import))
        names.append(layer)
        if layer == "reporters":
            break
    out = []
    for k, (layer, packages, may_import) in enumerate(rows):
        if may_import == "everything":
            allowed = set(names)
        elif may_import == "everything below":
            allowed = set(names[:k])
        elif may_import == "nothing above":
            allowed = set()
        else:
            allowed = {w.strip().removeprefix("the ").strip() for w in may_import.split(",")}
            assert allowed <= set(names), f"docs/architecture.md, layer {layer}: unknown layer in {may_import!r}"
        out.append((layer, packages, allowed | {layer}))
    return out


def test_the_layer_table_is_read():
    layers = _layers()
    assert [name for name, _, _ in layers][:2] == ["ground", "numbers"] and layers[-1][0] == "reporters"
    assert "harness.errors" in layers[0][1] and "harness.cli" in layers[-1][1]
    assert layers[1][2] == {"numbers", "ground"}


def test_every_package_is_in_one_layer():
    placed = [p for _, packages, _ in _layers() for p in packages]
    assert len(placed) == len(set(placed)), "a package is in two rows of docs/architecture.md"
    top = {_package(m) for m in _modules()} - {"harness", "harness.__main__"}
    assert top - set(placed) == set(), "packages missing from the table of docs/architecture.md"


def test_each_layer_imports_only_what_its_row_allows():
    layers = _layers()
    layer_of = {p: name for name, packages, _ in layers for p in packages}
    allowed = {name: may for name, _, may in layers}
    wrong = []
    for module, targets in _imports(_modules()).items():
        package = _package(module)
        if package not in layer_of:
            continue
        for target in targets:
            other = _package(target)
            if other == package or other == "harness":
                continue
            if layer_of.get(other) not in allowed[layer_of[package]]:
                wrong.append(f"{module} ({layer_of[package]}) imports {target} ({layer_of.get(other)})")
            elif layer_of[package] == "ground" and target not in GROUND_MODULES_ABOVE.get(package, set()):
                wrong.append(f"{module} (ground) imports {target}: the ground floor imports nothing")
    assert wrong == []
