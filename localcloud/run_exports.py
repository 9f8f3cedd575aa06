"""`python -m localcloud.run_exports DIR_OR_FILES… [--json]`: import AutoGPT agent exports and run them.

A developer tool for the compatibility promise ("an agent exported from AutoGPT runs unchanged").
It starts the embedded local cloud (the real templates and state machines on moto, the loopback
fakes, the fake model server), signs in a user over HTTP, and for each export file:

1. uploads it unchanged (`POST /api/graphs`); a 400 is reported with its node errors grouped by
   the block of the node they name (sub-graph nodes included),
2. executes it (`POST /api/graphs/{id}/execute/{version}`) with inputs made from the uploaded
   graph's input schema (`placeholder_inputs`),
3. polls the execution until it ends and reports its status, node counts by status and the
   failed nodes with their errors.

One line per agent is printed (or a JSON list with --json); the exit code is 0 when every export
either completed with no failed node or was refused at upload, 1 otherwise.

`--stub-unknown-blocks` looks past the refusal: each block an export uses that Stratus does not
serve (the integrations) is stood in for, in this process's block registry, by a stub whose
inputs are the pins the export feeds and whose outputs are the pins it links from, each yielding
a placeholder of the type its sink pin wants. The rest of the graph then runs for real, so what
fails there is Stratus's (or the stub's placeholder data's) doing.
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx

RUN_USER = "exports-user"
FINAL = {"COMPLETED", "FAILED", "TERMINATED"}
TOP_UP_CENTS = 1_000_000  # enough credits that no export stops on its balance
# Placeholders per JSON-schema string format, as a user filling AutoGPT's run form would type them.
_FORMAT_PLACEHOLDERS = {
    "email": "someone@example.com",
    "uri": "https://example.com",
    "url": "https://example.com",
    "date": "2026-01-15",
    "time": "09:30:00",
    "date-time": "2026-01-15T09:30:00Z",
}


@dataclass
class AgentReport:
    file: str
    name: str = ""
    imported: bool = False
    refused: dict[str, list[str]] = field(default_factory=dict)  # block id → its node errors
    error: str = ""  # an upload or execute failure that is not node errors
    status: str = ""
    node_counts: dict[str, int] = field(default_factory=dict)
    failed_nodes: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Refused at upload, or completed with no failed node (AutoGPT, and Stratus, end a graph
        COMPLETED even when some of its nodes failed)."""
        return bool(self.refused) or (self.status == "COMPLETED" and not self.failed_nodes)

    def line(self) -> str:
        head = f"{self.name or '?'} ({self.file})"
        if self.refused:
            blocks = "; ".join(f"{block} ×{len(errors)}: {errors[0]}" for block, errors in self.refused.items())
            return f"{head}: REFUSED at upload — {blocks}"
        if self.error:
            return f"{head}: {'imported, ' if self.imported else ''}ERROR {self.error}"
        counts = ", ".join(f"{count} {status}" for status, count in sorted(self.node_counts.items()))
        text = f"{head}: imported, {self.status} in {self.seconds:.1f} s ({counts or 'no node runs'})"
        for failed in self.failed_nodes:
            text += f"\n    failed {failed['block']} (node {failed['node_id']}): {failed['error']}"
        return text


def placeholder_value(prop: dict[str, Any]) -> Any:
    """A value for one input of a graph's input schema: its default, the first of its choices, or
    a plausible placeholder for its type and format."""
    if "default" in prop and prop["default"] not in (None, ""):
        return prop["default"]
    choices = prop.get("enum") or [option.get("const") for option in prop.get("oneOf", []) if "const" in option]
    if choices:
        return choices[0]
    kind = prop.get("type")
    if kind is None and prop.get("anyOf"):  # Optional[X] → X
        kind = next((option.get("type") for option in prop["anyOf"] if option.get("type") not in (None, "null")), None)
    title = str(prop.get("title") or "value")
    if kind == "integer":
        return int(prop.get("minimum", 1) or 1)
    if kind == "number":
        return float(prop.get("minimum", 1) or 1)
    if kind == "boolean":
        return True
    if kind == "array":
        return [placeholder_value(prop.get("items") or {"type": "string", "title": title})]
    if kind == "object":
        return {}
    if prop.get("format") in _FORMAT_PLACEHOLDERS:
        return _FORMAT_PLACEHOLDERS[prop["format"]]
    words = set(re.findall(r"[a-z]+", title.lower()))
    if "email" in words:  # many exports ask for an address in a plain text input
        return _FORMAT_PLACEHOLDERS["email"]
    if words & {"url", "link"}:
        return _FORMAT_PLACEHOLDERS["uri"]
    return f"Example {title}"


def placeholder_inputs(input_schema: dict[str, Any]) -> dict[str, Any]:
    return {name: placeholder_value(prop) for name, prop in (input_schema.get("properties") or {}).items()}


def _node_blocks(export: dict[str, Any]) -> dict[str, str]:
    """Node id (a sub-graph's as `<sub-graph id>/<node id>`, as the upload's errors name them) → block id."""
    blocks = {node["id"]: node["block_id"] for node in export.get("nodes", [])}
    for sub in export.get("sub_graphs") or []:
        blocks.update({f"{sub.get('id')}/{node['id']}": node["block_id"] for node in sub.get("nodes", [])})
    return blocks


def refusal_by_block(export: dict[str, Any], detail: dict[str, Any]) -> dict[str, list[str]]:
    blocks = _node_blocks(export)
    grouped: dict[str, list[str]] = defaultdict(list)
    for node_id, pins in (detail.get("node_errors") or {}).items():
        for pin, message in pins.items():
            grouped[blocks.get(node_id, f"node {node_id}")].append(f"{pin}: {message}")
    return dict(grouped)


def _detail(response: httpx.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        return response.text
    return body.get("detail", body) if isinstance(body, dict) else body


def run_export(
    http: httpx.Client,
    headers: dict[str, str],
    path: Path,
    block_names: dict[str, str] | None = None,
    timeout: float = 600,
    poll: float = 0.5,
) -> AgentReport:
    """Upload one export, run it with placeholder inputs and report how it ended (failed nodes
    named by their block's name when `block_names` knows it)."""
    names = block_names or {}
    export = json.loads(path.read_text())
    report = AgentReport(file=path.name, name=str(export.get("name") or ""))
    uploaded = http.post("/api/graphs", headers=headers, json={"graph": export, "source": "upload"})
    if uploaded.status_code >= 400:
        detail = _detail(uploaded)
        if isinstance(detail, dict) and detail.get("node_errors"):
            report.refused = refusal_by_block(export, detail)
        else:
            report.error = f"upload {uploaded.status_code}: {detail}"
        return report
    graph = uploaded.json()
    report.imported = True
    started = time.monotonic()
    run = http.post(
        f"/api/graphs/{graph['id']}/execute/{graph['version']}",
        headers=headers,
        json={"inputs": placeholder_inputs(graph.get("input_schema") or {})},
    )
    if run.status_code >= 400:
        report.error = f"execute {run.status_code}: {_detail(run)}"
        return report
    execution_url = f"/api/graphs/{graph['id']}/executions/{run.json()['id']}"
    while True:
        execution = http.get(execution_url, headers=headers).json()
        if execution.get("status") in FINAL or time.monotonic() - started > timeout:
            break
        time.sleep(poll)
    report.seconds = time.monotonic() - started
    report.status = execution.get("status") or "?"
    if report.status not in FINAL:
        report.status += f" (still running after {timeout:.0f} s)"
    nodes = execution.get("node_executions") or []
    report.node_counts = dict(Counter(node["status"] for node in nodes))
    for node in nodes:
        if node["status"] == "FAILED":
            errors = node.get("output_data", {}).get("error") or [""]
            block = names.get(node["block_id"], node["block_id"])
            report.failed_nodes.append({"node_id": node["node_id"], "block": block, "error": str(errors[0])})
    graph_error = (execution.get("stats") or {}).get("error")
    if graph_error and report.status != "COMPLETED":
        report.failed_nodes.append({"node_id": "-", "block": "graph", "error": str(graph_error)})
    return report


def _split_output_pin(name: str) -> tuple[str, str]:
    """`result_#_status` → ("result", "status"); a plain pin → (pin, "")."""
    parts = re.split(r"_#_|_@_", name, maxsplit=1)
    return (parts[0], parts[1]) if len(parts) == 2 else (name, "")


def _placeholder_for_sink(sink_block: Any, sink: dict[str, Any], sink_pin: str, label: str) -> Any:
    from stratus.blocks.dynamic_pins import base_name, is_dynamic

    lookup = (sink.get("input_default") or {}).get("key")
    if sink_block is not None and sink_block.name == "FindInDictionaryBlock" and sink_pin == "input" and lookup:
        return {str(lookup): label}  # the dictionary that block looks the key up in
    if sink_block is not None and sink_block.name == "XMLParserBlock":
        return f"<result>{label}</result>"
    prop: dict[str, Any] = {}
    if sink_block is not None and not is_dynamic(sink_pin):
        prop = sink_block.input_schema.jsonschema().get("properties", {}).get(base_name(sink_pin), {})
    kind = prop.get("type") or next((o.get("type") for o in prop.get("anyOf", []) if o.get("type") != "null"), None)
    if kind == "array":
        return [{"text": f"{label} item 1"}, {"text": f"{label} item 2"}]  # items a dictionary lookup can read
    if kind == "object":
        return {"result": label}
    if kind in ("integer", "number"):
        return 1
    if kind == "boolean":
        return True
    return label


def _merge(old: Any, new: Any) -> Any:
    """One placeholder for a stub pin several sinks read: dictionaries merged (each sink finds
    its key), else the more structured one (a dictionary, then a list, then a scalar: text
    sinks take anything), else the first."""
    if isinstance(old, dict) and isinstance(new, dict):
        return {**new, **old}

    def rank(value: Any) -> int:
        return 2 if isinstance(value, dict) else 1 if isinstance(value, list) else 0

    return new if old is None or rank(new) > rank(old) else old


_STUBBED: set[str] = set()  # block ids this process stands in for


def stub_unknown_blocks(exports: list[dict[str, Any]]) -> list[str]:
    """Register a stub for every block id the exports use that the registry lacks (or holds a
    stub of, replaced: its placeholders follow these exports' sinks); their ids."""
    from pydantic import create_model

    from stratus.blocks.registry import all_blocks
    from stratus.blocks.registry import get_block as registered
    from stratus.blocks.sdk import Block, BlockSchema, BlockSchemaOutput

    def get_block(block_id: str) -> Any:
        return None if block_id in _STUBBED else registered(block_id)

    inputs: dict[str, set[str]] = defaultdict(set)
    outputs: dict[str, dict[str, Any]] = defaultdict(dict)
    for export in exports:
        for graph in [export, *(export.get("sub_graphs") or [])]:
            nodes = {node["id"]: node for node in graph.get("nodes", [])}
            for node in nodes.values():
                if get_block(node["block_id"]) is None:
                    inputs[node["block_id"]].update(node.get("input_default") or {})
            for link in graph.get("links", []):
                source, sink = nodes.get(link["source_id"]), nodes.get(link["sink_id"])
                if source is None or sink is None:
                    continue
                if get_block(sink["block_id"]) is None:
                    inputs[sink["block_id"]].add(link["sink_name"])
                if get_block(source["block_id"]) is None and link["source_name"] != "error":
                    label = f"Stub {link['source_name']}"
                    value = _placeholder_for_sink(get_block(sink["block_id"]), sink, link["sink_name"], label)
                    # A dynamic output pin (`result_#_status`) reads a key of the pin's dict.
                    pin, key = _split_output_pin(link["source_name"])
                    pins = outputs[source["block_id"]]
                    pins[pin] = _merge(pins.get(pin), {key: value} if key else value)
    registry = all_blocks()
    for block_id in inputs:
        stub_outputs = outputs.get(block_id, {})
        fields: dict[str, Any] = {name: (Any, None) for name in inputs[block_id] if not name.startswith("_")}

        async def run(self: Any, input_data: Any, _outputs: dict[str, Any] = stub_outputs, **kwargs: Any) -> Any:
            for name, value in _outputs.items():
                yield name, value

        stub = type(
            f"Stub_{block_id[:8]}",
            (Block,),
            {
                "id": block_id,
                "description": "run_exports stand-in for a block Stratus does not serve",
                "input_schema": create_model(f"StubInput_{block_id[:8]}", __base__=BlockSchema, **fields),
                "output_schema": create_model(
                    f"StubOutput_{block_id[:8]}",
                    __base__=BlockSchemaOutput,
                    **{name: (Any, None) for name in stub_outputs},
                ),
                "run": run,
            },
        )
        registry[block_id] = stub()
        _STUBBED.add(block_id)
    return list(inputs)


def _is_graph(path: Path) -> bool:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return True  # reported as the upload error it is
    return isinstance(data, dict) and "nodes" in data


def export_files(arguments: list[str]) -> list[Path]:
    """The files named, and in each folder named its JSON files that are graphs (an export has
    `nodes`; sample inputs and other JSON beside them are left out). A file named is kept."""
    files: list[Path] = []
    for argument in arguments:
        path = Path(argument)
        files.extend([f for f in sorted(path.glob("*.json")) if _is_graph(f)] if path.is_dir() else [path])
    return files


def run_all(
    files: list[Path],
    timeout: float = 600,
    stub_unknown: bool = False,
    on_report: Callable[[AgentReport], None] | None = None,
) -> list[AgentReport]:
    """Start a local cloud in a temporary state directory and run every export on it
    (`on_report` is called with each report as soon as it is made)."""
    from localcloud.cloud import LocalCloud
    from localcloud.settings import jwt_secret
    from stratus.auth.jwt_tokens import issue_token

    user = {"Authorization": f"Bearer {issue_token(jwt_secret(), RUN_USER, email=f'{RUN_USER}@example.com')}"}
    admin = {"Authorization": f"Bearer {issue_token(jwt_secret(), 'exports-admin', admin=True)}"}
    with tempfile.TemporaryDirectory(prefix="stratus-exports-") as state:
        cloud = LocalCloud(http_port=0, ws_port=0, state=Path(state), autosave_seconds=0).start()
        try:
            with httpx.Client(base_url=cloud.http_url, timeout=60) as http:
                http.post("/api/auth/user", headers=user).raise_for_status()
                http.post(
                    "/api/credits/admin/add_credits",
                    headers=admin,
                    json={
                        "user_id": RUN_USER,
                        "amount": TOP_UP_CENTS,
                        "comments": "run_exports top-up",
                        "idempotency_key": f"run-exports-{datetime.date.today()}",
                    },
                ).raise_for_status()
                names = {block["id"]: block["name"] for block in http.get("/api/blocks", headers=user).json()}
                reports = []
                for path in files:
                    if stub_unknown:  # each export's own stubs (runs do not overlap)
                        stub_unknown_blocks([json.loads(path.read_text())])
                    reports.append(run_export(http, user, path, names, timeout))
                    if on_report:
                        on_report(reports[-1])
                return reports
        finally:
            cloud.stop()


def _printer(out: TextIO) -> Callable[[AgentReport], None]:
    def show(report: AgentReport) -> None:
        print(report.line(), file=out, flush=True)

    return show


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("paths", nargs="+", help="export files, or directories of *.json exports")
    parser.add_argument("--json", action="store_true", help="print the reports as a JSON list")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for each execution")
    parser.add_argument(
        "--stub-unknown-blocks",
        action="store_true",
        help="stand in for the blocks Stratus lacks with placeholder stubs, to run the rest of each graph",
    )
    args = parser.parse_args(argv)
    files = export_files(args.paths)
    out = sys.stdout
    # The functions' log and metric lines go to stdout in Lambda: keep them off the report.
    with tempfile.TemporaryFile("w") as function_log:
        sys.stdout = function_log
        try:
            reports = run_all(files, args.timeout, args.stub_unknown_blocks, None if args.json else _printer(out))
        finally:
            sys.stdout = out
    if args.json:
        print(json.dumps([{**asdict(report), "ok": report.ok} for report in reports], indent=2))
    return 0 if all(report.ok for report in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
