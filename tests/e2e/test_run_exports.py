"""`python -m localcloud.run_exports`: exports imported and run on the embedded local cloud, one
report per export (completed, refused at upload with its node errors by block, failed nodes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import COLD_START_PLACEHOLDERS

ROOT = Path(__file__).resolve().parents[2]
UNKNOWN_BLOCK = "00000000-0000-4000-8000-00000000beef"
WEB = "6595ae1f-b924-42cb-9a41-551a0611c4b4"
OUT = "363ae599-353e-4804-937e-b2ee3cef3da4"
TEXT_INPUT = "7fcd3bcb-8e1b-4e69-903d-32d3d4a92158"
FIND = "0e50422c-6dee-4145-83d6-3a5a392f65de"


def _refused_export() -> dict:
    """A graph whose bundled sub-graph uses a block Stratus does not have."""
    return {
        "id": "parent",
        "version": 1,
        "name": "Uses an unknown block",
        "nodes": [{"id": "out", "block_id": OUT, "input_default": {"name": "out", "value": "x"}}],
        "links": [],
        "sub_graphs": [
            {
                "id": "child",
                "version": 1,
                "name": "child",
                "nodes": [{"id": "mystery", "block_id": UNKNOWN_BLOCK, "input_default": {}}],
                "links": [],
            }
        ],
    }


def _failing_export() -> dict:
    """A web request to a private address (refused by the egress check) fed by a URL input."""
    return {
        "name": "Fetches a private address",
        "nodes": [
            {"id": "site", "block_id": TEXT_INPUT, "input_default": {"name": "Site", "value": "http://10.0.0.1/"}},
            {"id": "web", "block_id": WEB, "input_default": {"method": "GET"}},
            {"id": "out", "block_id": OUT, "input_default": {"name": "out"}},
        ],
        "links": [
            {"source_id": "site", "source_name": "result", "sink_id": "web", "sink_name": "url"},
            {"source_id": "web", "source_name": "response", "sink_id": "out", "sink_name": "value"},
        ],
    }


def _cloud_env() -> dict[str, str]:
    # The tool's cloud gives each function its template's values, not the in-process tiers'.
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "JWT_", "USERS_", "MOTO_")) and k not in COLD_START_PLACEHOLDERS
    }


def test_run_exports_reports_completed_refused_and_failed_exports(tmp_path):
    (tmp_path / "refused.json").write_text(json.dumps(_refused_export()))
    (tmp_path / "failing.json").write_text(json.dumps(_failing_export()))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "localcloud.run_exports",
            str(ROOT / "examples" / "calculator.json"),
            str(tmp_path),
            "--json",
        ],
        cwd=ROOT,
        env=_cloud_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    reports = {report["file"]: report for report in json.loads(done.stdout)}
    assert done.returncode == 1, done.stderr  # the failing export did not complete cleanly
    calculator = reports["calculator.json"]
    assert calculator["imported"] and calculator["status"] == "COMPLETED" and calculator["ok"]
    assert calculator["node_counts"] == {"COMPLETED": 5} and calculator["failed_nodes"] == []
    refused = reports["refused.json"]
    assert not refused["imported"] and refused["ok"]
    assert list(refused["refused"]) == [UNKNOWN_BLOCK]
    assert UNKNOWN_BLOCK in refused["refused"][UNKNOWN_BLOCK][0]
    failing = reports["failing.json"]
    # As in AutoGPT, a failed node does not fail the graph: COMPLETED, but not ok.
    assert failing["imported"] and failing["status"] == "COMPLETED" and not failing["ok"]
    [failed] = failing["failed_nodes"]
    assert failed["block"] == "SendWebRequestBlock"
    assert "Refused host 10.0.0.1" in failed["error"] and "public addresses only" in failed["error"]
    assert failing["node_counts"] == {"COMPLETED": 1, "FAILED": 1}


def test_stub_unknown_blocks_lets_a_refused_export_run_through_the_cloud(tmp_path):
    export = {
        "name": "Mail digest",
        "nodes": [
            {"id": "mail", "block_id": UNKNOWN_BLOCK, "input_default": {"query": "inbox"}},
            {"id": "find", "block_id": FIND, "input_default": {"key": "subject"}},
            {"id": "out", "block_id": OUT, "input_default": {"name": "subject"}},
        ],
        "links": [
            {"source_id": "mail", "source_name": "email", "sink_id": "find", "sink_name": "input"},
            {"source_id": "find", "source_name": "output", "sink_id": "out", "sink_name": "value"},
        ],
    }
    (tmp_path / "mail.json").write_text(json.dumps(export))
    done = subprocess.run(
        [sys.executable, "-m", "localcloud.run_exports", str(tmp_path), "--json", "--stub-unknown-blocks"],
        cwd=ROOT,
        env=_cloud_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    [report] = json.loads(done.stdout)
    # The stub runs in the cloud's block registry: it yields the dictionary the lookup reads.
    assert report["imported"] and report["status"] == "COMPLETED" and report["ok"]
    assert report["node_counts"] == {"COMPLETED": 3}
