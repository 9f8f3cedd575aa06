"""The layer boundaries of `stratus`, checked by static analysis (stdlib `ast`, no import runs).

Every module under shared/stratus/ and functions/ is parsed and ALL its imports are collected,
also those inside functions and methods: a lazy import is still a dependency, and a cycle hidden
by one is still a cycle (only `if TYPE_CHECKING:` blocks, which never run, are left out).
Relative imports are resolved; `import a.b.c` depends on `a.b.c`, and on the packages `a` and
`a.b` only when their `__init__` modules hold code (more than a docstring and `__future__`).

The rules:

* the engine (`stratus.engine.*`) imports no AWS, no db layer, no AI blocks and no execution
  store, neither directly nor through any module it imports;
* blocks (`stratus.blocks.*`) import no data access (db, AWS) and no service module that
  reaches it;
* there is no import cycle among `stratus` modules;
* botocore is imported only by the AWS edge modules listed in BOTOCORE_EDGE.

A failure names the module, the import (file:line) and the chain that reaches the forbidden one.
"""

from __future__ import annotations

import ast
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

ENGINE = "stratus.engine"
ENGINE_FORBIDDEN = ("boto3", "botocore", "stratus.aws", "stratus.db", "stratus.blocks.ai", "stratus.executions")
BLOCKS = "stratus.blocks"
DATA_ACCESS = ("boto3", "botocore", "stratus.aws", "stratus.db")
BLOCKS_FORBIDDEN = (
    *DATA_ACCESS,
    "stratus.integrations",
    "stratus.mag.service",
    "stratus.executions",
    "stratus.graphs.service",
    "stratus.store",
    "stratus.library",
    "stratus.users",
)
# The domain imports botocore only where it calls an AWS API itself and must tell its errors
# apart; everything else goes through these modules (db.dynamo turns ClientError into ours).
BOTOCORE_EDGE = {
    "stratus.aws": "creates the boto3 clients (botocore.config.Config)",
    "stratus.db.dynamo": "the DynamoDB edge: boto3's type (de)serializers, ClientError -> ConditionFailed & co.",
    "stratus.integrations.secrets": "KMS encrypt/decrypt of stored credentials: ClientError on a bad key",
    "stratus.realtime.connections": "API Gateway @connections posts: a GoneException is a closed connection",
    "stratus.realtime.notifier": "the stream notifier's posts: BotoCoreError/ClientError are retried or dropped",
    "stratus.executions.subagents": "Step Functions SendTaskSuccess/Failure: an expired task token is ClientError",
}


@dataclass(frozen=True)
class Import:
    target: str
    line: int


@dataclass
class ModuleGraph:
    """Modules of the analysed packages, and every import each one makes."""

    paths: dict[str, Path] = field(default_factory=dict)
    imports: dict[str, list[Import]] = field(default_factory=lambda: defaultdict(list))

    def internal(self, module: str) -> list[Import]:
        return [i for i in self.imports[module] if i.target in self.paths]

    def where(self, module: str, imported: Import) -> str:
        return f"{self.paths[module].relative_to(self.root)}:{imported.line}"

    root: Path = ROOT


def module_name(path: Path, package_root: Path, prefix: str = "") -> str:
    parts = list(path.relative_to(package_root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([p for p in [prefix] if p] + parts)


def _has_code(path: Path) -> bool:
    body = ast.parse(path.read_text()).body
    for node in body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            continue
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue
        return True
    return False


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth (functions, methods, try/except), except under
    `if TYPE_CHECKING:`."""
    found: list[ast.Import | ast.ImportFrom] = []
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            pending.extend(node.orelse)
            continue
        pending.extend(ast.iter_child_nodes(node))
    return sorted(found, key=lambda n: n.lineno)


def build_graph(packages: list[tuple[Path, str]], root: Path = ROOT) -> ModuleGraph:
    """`packages`: (directory, module prefix) pairs, e.g. (shared/stratus, "stratus")."""
    graph = ModuleGraph(root=root)
    for directory, prefix in packages:
        for path in sorted(directory.rglob("*.py")):
            graph.paths[module_name(path, directory, prefix)] = path
    packages_with_code = {name for name, path in graph.paths.items() if path.name == "__init__.py" and _has_code(path)}

    def with_packages(target: str) -> list[str]:
        parts = target.split(".")
        parents = [".".join(parts[:i]) for i in range(1, len(parts))]
        return [p for p in parents if p in packages_with_code] + [target]

    for module, path in graph.paths.items():
        is_package = path.name == "__init__.py"
        for node in _import_nodes(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    base = module.split(".") if is_package else module.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                if source == "__future__":
                    continue
                for alias in node.names:
                    candidate = f"{source}.{alias.name}"
                    targets.append(candidate if candidate in graph.paths else source)
            for target in targets:
                for dependency in with_packages(target):
                    if dependency != module:
                        graph.imports[module].append(Import(dependency, node.lineno))
    return graph


def _matches(target: str, prefixes: tuple[str, ...]) -> str | None:
    return next((p for p in prefixes if target == p or target.startswith(p + ".")), None)


def forbidden_reaches(graph: ModuleGraph, layer: str, forbidden: tuple[str, ...]) -> list[str]:
    """For each module of `layer`, the forbidden imports it makes itself or through the modules
    it imports (breadth first, so each chain shown is a shortest one)."""
    violations = []
    for start in sorted(m for m in graph.paths if m == layer or m.startswith(layer + ".")):
        parent: dict[str, str | None] = {start: None}
        queue = deque([start])
        reported: set[str] = set()
        while queue:
            module = queue.popleft()
            for imported in graph.imports[module]:
                hit = _matches(imported.target, forbidden)
                if hit and not _matches(imported.target, (layer,)) and hit not in reported:
                    reported.add(hit)
                    chain, step = [], module
                    while step is not None:
                        chain.append(step)
                        step = parent[step]
                    chain = [*reversed(chain), imported.target]
                    violations.append(f"{start} reaches {hit}: {' -> '.join(chain)} ({graph.where(module, imported)})")
                if imported.target in graph.paths and imported.target not in parent:
                    parent[imported.target] = module
                    queue.append(imported.target)
    return violations


def import_cycles(graph: ModuleGraph, prefix: str = "stratus") -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    nodes = sorted(m for m in graph.paths if m == prefix or m.startswith(prefix + "."))
    edges = {m: sorted({i.target for i in graph.internal(m) if i.target in nodes}) for m in nodes}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(edges[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(edges[child])))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return sorted(components)


def describe_cycle(graph: ModuleGraph, component: list[str]) -> str:
    """One concrete cycle through the component's first module, with each import's file:line."""
    members = set(component)
    start = component[0]
    parent: dict[str, tuple[str, Import] | None] = {start: None}
    queue = deque([start])
    closing: tuple[str, Import] | None = None
    while queue and closing is None:
        module = queue.popleft()
        for imported in graph.internal(module):
            if imported.target == start:
                closing = (module, imported)
                break
            if imported.target in members and imported.target not in parent:
                parent[imported.target] = (module, imported)
                queue.append(imported.target)
    assert closing is not None
    hops = [closing]
    step = closing[0]
    while parent[step] is not None:
        hop = parent[step]
        assert hop is not None
        hops.append(hop)
        step = hop[0]
    hops.reverse()
    path = " -> ".join([start, *(imported.target for _, imported in hops)])
    lines = ", ".join(f"{graph.where(module, imported)} imports {imported.target}" for module, imported in hops)
    return f"cycle of {len(component)} modules {component}: e.g. {path} [{lines}]"


def project_graph() -> ModuleGraph:
    return build_graph([(ROOT / "shared" / "stratus", "stratus"), (ROOT / "functions", "functions")])


# --- the project's rules -----------------------------------------------------------------


def test_the_engine_imports_no_aws_no_db_no_ai_blocks_and_no_execution_store():
    violations = forbidden_reaches(project_graph(), ENGINE, ENGINE_FORBIDDEN)
    assert not violations, "the engine must stay pure:\n" + "\n".join(violations)


def test_blocks_import_no_data_access():
    violations = forbidden_reaches(project_graph(), BLOCKS, BLOCKS_FORBIDDEN)
    assert not violations, "blocks must not reach data access:\n" + "\n".join(violations)


def test_there_is_no_import_cycle():
    graph = project_graph()
    cycles = [describe_cycle(graph, component) for component in import_cycles(graph)]
    assert not cycles, f"{len(cycles)} import cycle(s) among stratus modules:\n" + "\n".join(cycles)


def test_botocore_is_imported_only_at_the_aws_edge():
    graph = project_graph()
    importers = {
        module: imported
        for module in graph.paths
        for imported in graph.imports[module]
        if _matches(imported.target, ("botocore",))
    }
    unexpected = [f"{m} imports {i.target} ({graph.where(m, i)})" for m, i in sorted(importers.items())]
    unexpected = [line for line in unexpected if line.split(" ")[0] not in BOTOCORE_EDGE]
    assert not unexpected, "botocore outside the AWS edge (BOTOCORE_EDGE):\n" + "\n".join(unexpected)
    stale = sorted(set(BOTOCORE_EDGE) - set(importers))
    assert not stale, f"BOTOCORE_EDGE lists modules that no longer import botocore: {stale}"


# --- the analyzer itself, on synthetic packages --------------------------------------------


def _package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "pkg"


def test_the_analyzer_finds_a_cycle_through_a_function_level_import(tmp_path):
    package = _package(
        tmp_path,
        {
            "__init__.py": '"""A docstring only: not a dependency."""\n',
            "a.py": "from pkg import b\n",
            "b.py": "def late():\n    from . import a  # lazy, relative\n    return a\n",
            "c.py": "import pkg.a\n",
        },
    )
    graph = build_graph([(package, "pkg")], root=tmp_path)
    assert graph.imports["pkg.b"] == [Import("pkg.a", 2)]
    assert import_cycles(graph, "pkg") == [["pkg.a", "pkg.b"]]
    assert "pkg.a -> pkg.b -> pkg.a" in describe_cycle(graph, ["pkg.a", "pkg.b"])
    assert "pkg/b.py:2 imports pkg.a" in describe_cycle(graph, ["pkg.a", "pkg.b"])


def test_the_analyzer_passes_a_clean_package_and_reports_a_transitive_chain(tmp_path):
    package = _package(
        tmp_path,
        {
            "__init__.py": "",
            "engine/__init__.py": "",
            "engine/core.py": "from ..util import helper\n",
            "util.py": "import json\n\ndef helper():\n    from pkg.db import table\n    return table\n",
            "db.py": "def table():\n    import boto3\n    return boto3\n",
        },
    )
    graph = build_graph([(package, "pkg")], root=tmp_path)
    assert import_cycles(graph, "pkg") == []
    assert forbidden_reaches(graph, "pkg.util", ("json",)) == [
        "pkg.util reaches json: pkg.util -> json (pkg/util.py:1)"
    ]
    assert forbidden_reaches(graph, "pkg.engine", ("pkg.db", "boto3")) == [
        "pkg.engine.core reaches pkg.db: pkg.engine.core -> pkg.util -> pkg.db (pkg/util.py:4)",
        "pkg.engine.core reaches boto3: pkg.engine.core -> pkg.util -> pkg.db -> boto3 (pkg/db.py:2)",
    ]
    assert forbidden_reaches(graph, "pkg.engine", ("pkg.nothing",)) == []


def test_the_analyzer_skips_type_checking_blocks_and_counts_packages_with_code(tmp_path):
    package = _package(
        tmp_path,
        {
            "__init__.py": "from pkg import b\n",  # code: importing pkg.a runs it
            "a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import b\n",
            "b.py": "import pkg.a\n",
        },
    )
    graph = build_graph([(package, "pkg")], root=tmp_path)
    assert "pkg.b" not in {i.target for i in graph.imports["pkg.a"]}
    assert {i.target for i in graph.imports["pkg.b"]} == {"pkg", "pkg.a"}
    assert import_cycles(graph, "pkg") == [["pkg", "pkg.b"]]
