"""The import graph obeys the layers of ``docs/architecture.md``: no circles, no upward imports.

Every ``.py`` file of the repository (not ``tests/``, virtual environments or build output) is
parsed with ``ast``; every ``import`` counts, at module level or inside a function (a lazy import
is still a dependency, and still closes a circle the moment it runs), and so does
``importlib.import_module("constant.name")``. ``from pkg import name`` points at ``pkg.name`` when
that is a module of the repository, else at ``pkg``; importing ``a.b.c`` does not count as
importing the packages ``a`` and ``a.b`` (their ``__init__`` re-exports would make every package a
circle).

Layers, bottom to top (a module may import its own layer and the layers below it):

0. foundation: ``vidsift.errors``, ``vidsift.atomic``, ``vidsift.workspace``, ``vidsift.catalog``,
   ``vidsift.timecode``, ``vidsift.progress`` (and the bare ``vidsift`` package, which only holds
   ``__version__``)
1. domain: ``video`` < ``training`` < ``embedder`` < ``index`` < ``discovery``; a domain package
   may import the foundation and LOWER domain packages only
2. use cases: ``vidsift.services``, ``vidsift.reproduce``
3. faces: ``vidsift.cli``, ``vidsift.ui_support``, ``vidsift.page`` and ``vidsift.views``, ``app``, ``vidsift.doctor``, ``vidsift.__main__``
4. ``bench``, on top of everything

The domain order is measured, not chosen (tree of issue #17): ``training`` imports ``video``
(3 modules: sources decode files); ``embedder`` imports ``video`` (7) and ``training`` (3:
checkpoint embedders load trained models); ``index`` imports ``embedder`` (4: stores, manifests);
``discovery`` imports ``embedder`` (3) and ``video`` (2). Against that order there are only the
ALLOWLIST's ``training -> embedder`` (1 lazy import, so ``training`` and ``embedder`` import each
other) and ``training -> discovery`` (2 lazy imports in ``training.finetune``, closing the package
loop training -> discovery -> embedder -> training); the majority direction sets the order.

The ALLOWLIST holds the upward imports that exist today and are owned by other work; the test
fails on a new violation AND on an allowlisted edge that is gone, so the list only shrinks.

Run ``python -m tests.test_architecture`` to print the violations of the current tree.
"""

from __future__ import annotations

import ast
import functools
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIP_DIRS = {"tests", ".venv", "venv", "build", "dist", "node_modules", "__pycache__",
             "vidsift-workspace"}

# vidsift.progress (a tqdm wrapper that imports nothing of ours) is used by domain code: foundation
FOUNDATION = ("vidsift.errors", "vidsift.atomic", "vidsift.workspace", "vidsift.catalog",
              "vidsift.timecode", "vidsift.progress", "vidsift.locks")
DOMAIN = ("video", "training", "embedder", "index", "discovery")  # bottom to top, measured
USE_CASES = ("vidsift.services", "vidsift.reproduce")
FACES = ("vidsift.cli", "vidsift.ui_support", "vidsift.page", "vidsift.views", "vidsift.api", "app", "vidsift.doctor",
         "vidsift.__main__")
TOP = ("bench",)

#: (importer, imported) -> why it is still there. Remove an entry when its edge goes.
ALLOWLIST: dict[tuple[str, str], str] = {
}


# -------------------------------------------------------------------------------------- graph


def module_files(root: Path = ROOT) -> dict[str, Path]:
    """``{dotted module name: file}`` for every Python file of the repository."""
    out: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if any(p in SKIP_DIRS or p.startswith(".") or p.endswith(".egg-info")
               for p in rel.parts[:-1]):
            continue
        parts = list(rel.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if parts:
            out[".".join(parts)] = path
    return out


def _resolve(name: str, modules: Iterable[str]) -> str | None:
    """The longest prefix of ``name`` that is a module of the repository."""
    mods = set(modules)
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        cand = ".".join(parts[:n])
        if cand in mods:
            return cand
    return None


def _imported_names(tree: ast.AST, module: str, is_package: bool) -> Iterator[tuple[str, str | None]]:
    """``(base, member)`` for every import in ``tree``; ``member`` is the name of a
    ``from base import member`` (it may be a submodule)."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".") if package else []
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                yield base, alias.name
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module"
                   or isinstance(node.func, ast.Name) and node.func.id == "import_module")):
            yield node.args[0].value, None


def _in_repo_terms(name: str) -> str:
    """``vidsift.video.reader`` -> ``video.reader``: the domain packages are installed under the
    ``vidsift`` namespace but live in top-level folders of the repository (pyproject.toml)."""
    head, _, rest = name.partition(".")
    if head == "vidsift" and rest.split(".")[0] in DOMAIN:
        return rest
    return name


def bare_domain_imports(root: Path = ROOT) -> list[str]:
    """``file:line`` of every ``import video...`` / ``from training... import`` without the
    ``vidsift.`` prefix: outside a source checkout those names do not exist, and inside one they
    would load a second copy of the module beside ``vidsift.video...``."""
    out = []
    for path in module_files(root).values():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and not node.level and node.module
                     else [])
            if any(n.split(".")[0] in DOMAIN for n in names):
                out.append(f"{path.relative_to(root)}:{node.lineno}")
    return out


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """``{module: modules of the repository it imports}`` (self-imports dropped)."""
    files = module_files(root)
    graph: dict[str, set[str]] = {m: set() for m in files}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for base, member in _imported_names(tree, module, path.name == "__init__.py"):
            base = _in_repo_terms(base)
            target = None
            if member is not None and member != "*":
                full = _in_repo_terms(f"{base}.{member}")
                target = _resolve(full, files)
                if target != full:
                    target = None
            target = target or _resolve(base, files)
            if target is not None and target != module:
                graph[module].add(target)
    return graph


@functools.lru_cache(maxsize=1)
def _repo_graph() -> dict[str, frozenset[str]]:
    """The repository's graph, built once per test session."""
    return {m: frozenset(t) for m, t in import_graph().items()}


def circles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    comp.append(m)
                    if m == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return sorted(out)


# ------------------------------------------------------------------------------------- layers


def _under(module: str, prefixes: Iterable[str]) -> str | None:
    for p in prefixes:
        if module == p or module.startswith(p + "."):
            return p
    return None


def layer(module: str) -> tuple[int, int]:
    """``(layer, rank inside the domain layer)``; raises for a module in no layer."""
    if module == "vidsift" or _under(module, FOUNDATION):
        return (0, 0)
    pkg = _under(module, DOMAIN)
    if pkg is not None:
        return (1, DOMAIN.index(pkg))
    if _under(module, USE_CASES):
        return (2, 0)
    if _under(module, FACES):
        return (3, 0)
    if _under(module, TOP):
        return (4, 0)
    raise LookupError(
        f"module {module!r} is in no layer; add it to a layer in tests/test_architecture.py "
        "and docs/architecture.md"
    )


def _placed(module: str) -> bool:
    try:
        layer(module)
    except LookupError:
        return False
    return True


def upward_edges(graph: Mapping[str, Iterable[str]]) -> set[tuple[str, str]]:
    """Every ``(importer, imported)`` whose target sits above the importer (modules in no layer
    are left to ``test_every_module_is_in_a_layer``)."""
    return {(a, b) for a, targets in graph.items() for b in targets
            if _placed(a) and _placed(b) and layer(b) > layer(a)}


def _describe(edge: tuple[str, str]) -> str:
    names = ("foundation", "domain", "use cases", "faces", "bench")
    (la, ra), (lb, rb) = layer(edge[0]), layer(edge[1])
    what = (f"{DOMAIN[ra]} -> {DOMAIN[rb]}" if la == lb == 1 else f"{names[la]} -> {names[lb]}")
    return f"{edge[0]} imports {edge[1]} ({what})"


# -------------------------------------------------------------------------------------- tests


def test_every_module_is_in_a_layer() -> None:
    unplaced = [m for m in _repo_graph() if not _placed(m)]
    assert not unplaced, f"modules in no layer (add them to a layer): {unplaced}"


def test_graph_sees_imports_under_the_vidsift_namespace() -> None:
    graph = _repo_graph()
    assert "video" in graph["embedder.reader"]  # lazy `from vidsift.video import open_video`
    assert "video.timeline" in graph["embedder.reader"]
    assert "embedder.store" in graph["vidsift.services.indexes"]


def test_domain_packages_are_imported_under_vidsift() -> None:
    assert bare_domain_imports() == []
    tests = Path(__file__).resolve().parent
    assert bare_domain_imports(tests) == [], "tests import the domain as vidsift.<package> too"


def test_no_import_circles() -> None:
    found = circles(_repo_graph())
    assert not found, "import circles (break each by moving the shared piece down): " + "; ".join(
        " <-> ".join(c) for c in found
    )


def test_no_new_upward_imports() -> None:
    new = sorted(upward_edges(_repo_graph()) - set(ALLOWLIST))
    assert not new, "upward imports (import only downwards, see docs/architecture.md):\n" + "\n".join(
        _describe(e) for e in new
    )


def test_allowlist_only_shrinks() -> None:
    gone = sorted(set(ALLOWLIST) - upward_edges(_repo_graph()))
    assert not gone, f"these allowlisted upward imports are gone; delete them from ALLOWLIST: {gone}"


def test_graph_sees_lazy_and_relative_imports(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("from .a import f\n")
    (tmp_path / "pkg" / "a.py").write_text("def f():\n    from pkg import b\n    return b\n")
    (tmp_path / "pkg" / "b.py").write_text("import importlib\nimportlib.import_module('pkg.a')\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "t.py").write_text("import pkg.a\n")
    graph = import_graph(tmp_path)
    assert graph == {"pkg": {"pkg.a"}, "pkg.a": {"pkg.b"}, "pkg.b": {"pkg.a"}}
    assert circles(graph) == [["pkg.a", "pkg.b"]]


def main() -> int:
    graph = import_graph()
    found = circles(graph)
    up = upward_edges(graph)
    print(f"{len(graph)} modules, {sum(map(len, graph.values()))} imports")
    unplaced = [m for m in graph if not _placed(m)]
    print(f"modules in no layer: {unplaced}")
    print(f"circles: {len(found)}")
    for c in found:
        print("  " + " <-> ".join(c))
    print(f"upward imports: {len(up)} ({len(up & set(ALLOWLIST))} allowlisted)")
    for e in sorted(up):
        print(("  [allowed] " if e in ALLOWLIST else "  [NEW]     ") + _describe(e))
    for e in sorted(set(ALLOWLIST) - up):
        print(f"  [gone]    {e[0]} -> {e[1]}: delete from ALLOWLIST")
    return int(bool(unplaced or found or (up ^ set(ALLOWLIST))))


if __name__ == "__main__":
    sys.exit(main())
