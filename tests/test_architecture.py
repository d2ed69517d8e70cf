"""The shape of the package, checked from its source: no import cycles, imports only downhill.

The import graph is built from the source with ``ast`` (nothing is executed), counting every
import wherever it stands - inside functions and ``TYPE_CHECKING`` blocks too, because a
function-local import is exactly how a cycle hides. A module imports another when it names
it, or names a package and takes one of its submodules (``from strum.platform import daemon``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"


@dataclass(frozen=True)
class Edge:
    """One import: ``source`` imports ``target`` at ``line``.

    ``written`` is the module the statement names (``strum.platform`` in ``from
    strum.platform import daemon``), ``named`` the whole name (``strum.platform.daemon``).
    """

    source: str
    target: str
    written: str
    named: str
    line: int


@cache
def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_package(name: str) -> bool:
    return modules()[name].name == "__init__.py"


def _known(name: str) -> str | None:
    """The module a dotted name lands in (a longer name may be an attribute of it)."""
    while name and name not in modules():
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str) -> Iterator[tuple[str, str, int]]:
    """Every import of ``module``: the module written, the whole name, the line."""
    path = modules()[module]
    package = module if _is_package(module) else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield base, f"{base}.{alias.name}", node.lineno


@cache
def edges() -> tuple[Edge, ...]:
    found = []
    for module in modules():
        for written, named, line in _imports(module):
            target = _known(named)
            if target is None:
                found.append(Edge(module, named, written, named, line))
            elif target != module:
                found.append(Edge(module, target, written, named, line))
    return tuple(found)


def strum_edges() -> list[Edge]:
    return [edge for edge in edges() if edge.target in modules()]


def cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    graph: dict[str, set[str]] = {module: set() for module in modules()}
    for edge in strum_edges():
        graph[edge.source].add(edge.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _inside(module: str, *prefixes: str) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def _show(found: list[Edge]) -> list[str]:
    return [f"{e.source} (line {e.line}) imports {e.named}" for e in found]


def test_the_graph_sees_real_imports():
    # The checks below are only as good as the graph: a few edges that must be there.
    pairs = {(edge.source, edge.target) for edge in strum_edges()}
    assert ("strum.cli", "strum.errors") in pairs
    assert ("strum.adapter", "strum.adapter._wsgi") in pairs or any(
        source == "strum.adapter" for source, _ in pairs
    )
    assert len(modules()) > 100


def test_no_module_takes_part_in_an_import_cycle():
    assert cycles() == []


# (layer, what it must never import): the platform's direction is api and urls -> invoke ->
# engine -> sandbox, and api and invoke -> state; nothing below reaches back up.
PLATFORM_LAYERS = [
    ("strum.platform.sandbox", ["engine", "invoke", "api", "urls", "state", "server"]),
    ("strum.platform.engine", ["invoke", "api", "urls", "server"]),
    ("strum.platform.state", ["engine", "invoke", "api", "urls", "sandbox", "server"]),
    ("strum.platform.invoke", ["api", "urls", "server"]),
    ("strum.platform.api", ["urls", "server", "dashboard"]),
    ("strum.platform.dashboard", ["urls", "server"]),
    ("strum.platform.urls", ["server"]),
    ("strum.platform.errors", ["engine", "invoke", "api", "urls", "state", "sandbox", "server"]),
    ("strum.platform.settings", ["engine", "invoke", "api", "urls", "state", "sandbox", "server"]),
    ("strum.platform.arns", ["engine", "invoke", "api", "urls", "state", "sandbox", "server"]),
]


@pytest.mark.parametrize(("layer", "above"), PLATFORM_LAYERS)
def test_platform_imports_run_one_way(layer, above):
    forbidden = [f"strum.platform.{name}" for name in above]
    found = [
        edge
        for edge in strum_edges()
        if _inside(edge.source, layer) and _inside(edge.target, *forbidden)
    ]
    assert _show(found) == []


# aiohttp is the HTTP edge: the API routes, the Function URL listeners, the Runtime API
# listener and the wiring. The state, the invoker, the engine's core and the sandbox are
# plain Python, so they can be driven and tested without a server.
AIOHTTP_ALLOWED = (
    "strum.platform.api",
    "strum.platform.dashboard",
    "strum.platform.urls",
    "strum.platform.engine.runtime_api",
    "strum.platform.server",
)


def test_aiohttp_only_at_the_platforms_http_edge():
    found = [
        edge
        for edge in edges()
        if edge.named.split(".")[0] == "aiohttp" and not _inside(edge.source, *AIOHTTP_ALLOWED)
    ]
    assert _show(found) == []


CLIENTS = ("boto3", "botocore", "strum.aws.client", "strum.deploy.local.client")


@pytest.mark.parametrize("planner", ["strum.aws.plan", "strum.deploy.steps"])
def test_planners_never_import_a_client(planner):
    found = [
        edge for edge in edges() if _inside(edge.source, planner) and _inside(edge.named, *CLIENTS)
    ]
    assert _show(found) == []


def test_the_aws_target_borrows_nothing_from_the_local_target():
    found = [
        edge
        for edge in strum_edges()
        if _inside(edge.source, "strum.aws") and _inside(edge.target, "strum.deploy.local")
    ]
    assert _show(found) == []


def test_the_cli_imports_only_the_faces_of_other_packages():
    # A face is a package's __init__ (strum.platform) or a module at the top (strum.errors).
    found = [
        edge
        for edge in strum_edges()
        if _inside(edge.source, "strum.cli")
        and not _inside(edge.written, "strum.cli")
        and not (_is_package(edge.written) or edge.written.count(".") == 1)
    ]
    assert _show(found) == []


@pytest.mark.parametrize(
    "package", sorted(name for name in modules() if _is_package(name) and name != "strum")
)
def test_every_package_has_a_face(package):
    tree = ast.parse(modules()[package].read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), f"{package} has no docstring"
    assigned = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
    }
    assert "__all__" in assigned, f"{package} has no __all__"
