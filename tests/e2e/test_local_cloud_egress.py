"""SSRF through the local cloud: a user's web request block cannot reach the cloud's own AWS
endpoint, its gateways or a private listener; only the cloud's loopback fakes are allowed."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from tests.e2e.conftest import auth, node_items, run_to_end

WEB = "6595ae1f-b924-42cb-9a41-551a0611c4b4"
OUT = "363ae599-353e-4804-937e-b2ee3cef3da4"


def _web_graph(url: str) -> dict:
    return {
        "name": "ssrf",
        "nodes": [
            {"id": "web", "block_id": WEB, "input_default": {"url": url, "method": "GET"}},
            {"id": "out", "block_id": OUT, "input_default": {"name": "out"}},
        ],
        "links": [{"source_id": "web", "source_name": "response", "sink_id": "out", "sink_name": "value"}],
    }


def test_the_web_request_block_cannot_reach_the_local_aws_endpoint_or_a_private_listener(cloud):
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    listener = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=listener.serve_forever, daemon=True).start()
    port = listener.server_address[1]
    aws_port = cloud.aws.rsplit(":", 1)[1]
    targets = [
        f"{cloud.aws}/moto-api/data.json",
        f"http://[::ffff:127.0.0.1]:{aws_port}/",
        f"http://0.0.0.0:{aws_port}/",
        f"{cloud.http}/api/credits",
        f"http://localhost:{port}/",
        f"http://127.0.0.1:{port}/secret",
        "http://[::169.254.169.254]/latest/meta-data/",
    ]
    try:
        with httpx.Client(base_url=cloud.http, timeout=30) as http:
            http.post("/api/auth/user", headers=auth("ssrf"))
            for url in targets:
                meta = run_to_end(cloud, http, "ssrf", _web_graph(url), {})
                web = next(n for n in node_items(cloud, meta["id"]) if n["block_id"] == WEB)
                error = " ".join(map(str, web["output_data"].get("error", [])))
                assert "Refused host" in error and "public addresses only" in error, (url, web["output_data"])
                assert meta["outputs"] == {}
    finally:
        listener.shutdown()
    assert hits == []


def test_saving_a_metadata_mcp_url_or_model_base_url_is_422(cloud):
    with httpx.Client(base_url=cloud.http, timeout=30) as http:
        http.post("/api/auth/user", headers=auth("ssrf-save"))
        answer = http.put(
            "/api/mag/mcp",
            headers=auth("ssrf-save"),
            json={"mcpServers": {"meta": {"transportType": "streamable_http", "url": "http://169.254.169.254/mcp"}}},
        )
        assert answer.status_code == 422 and "public addresses only" in answer.json()["detail"]
        answer = http.post(
            "/api/mag/models",
            headers=auth("ssrf-save"),
            json={"name": "aws", "base_url": f"{cloud.aws}/v1", "api_key": "sk-mine", "model": "gpt-4o-mini"},
        )
        assert answer.status_code == 422 and "base_url" in answer.json()["detail"]
        # The cloud's own demo MCP server is one of its allowed fakes.
        answer = http.put(
            "/api/mag/mcp",
            headers=auth("ssrf-save"),
            json={"mcpServers": {"demo": {"transportType": "streamable_http", "url": cloud.mcp}}},
        )
        assert answer.status_code == 200, answer.text
