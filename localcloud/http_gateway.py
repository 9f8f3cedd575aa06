"""The local HTTP API: requests become API Gateway HTTP API (payload v2) events.

It also serves the WebSocket API's management endpoint (`/@ws/<stage>/@connections/<id>`)
that functions reach through WEBSOCKET_MANAGEMENT_ENDPOINT.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from localcloud.apigw import HttpRouter, http_event
from localcloud.lambda_runner import LambdaRunner

log = logging.getLogger("localcloud.http")
MANAGEMENT_PREFIX = "/@ws/"
_MANAGEMENT_PATH = re.compile(r"^/@ws/(?P<stage>[^/]+)/@connections/(?P<connection_id>[^/]+)$")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class HttpGateway:
    def __init__(
        self,
        runner: LambdaRunner,
        routes: list[tuple[str, str, str]],
        port: int,
        management: Callable[[str, str, bytes], tuple[int, Any]] | None = None,
    ):
        self.runner = runner
        self.router = HttpRouter(routes)
        self.management = management
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # one small response must not wait for a delayed ACK

            def log_message(self, *args: Any) -> None:  # quiet: the functions log
                pass

            def _handle(self) -> None:
                # The functions' own limit (the layer is on sys.path once the runner exists).
                from stratus.payload_limits import MAX_REQUEST_BYTES, request_too_large

                try:
                    length = int(self.headers.get("content-length") or 0)
                    if length > MAX_REQUEST_BYTES:  # refused, as API Gateway refuses oversized payloads
                        for offset in range(0, length, 1 << 20):  # drained, unkept: the client then reads the 413
                            self.rfile.read(min(1 << 20, length - offset))
                        self.close_connection = True
                        status, headers = 413, [("content-type", "application/json"), ("connection", "close")]
                        payload = json.dumps({"detail": request_too_large(length).detail}).encode()
                    else:
                        body = self.rfile.read(length) if length > 0 else b""
                        status, headers, payload = gateway.handle(
                            self.command, self.path, dict(self.headers), body, self.client_address[0]
                        )
                except Exception:  # a fault of the gateway itself still gets an answer
                    log.exception("gateway failed on %s %s", self.command, self.path)
                    status, headers, payload = _json(500, {"message": "Internal Server Error"})
                    self.close_connection = True  # the request body may be unread
                self._send(status, headers, payload)

            def _refuse(self) -> None:
                # The HTTP API routes only these methods; API Gateway never answers 501.
                self.close_connection = True
                self._send(*_json(405, {"message": f"Method {self.command} Not Allowed"}))

            def __getattr__(self, name: str) -> Any:
                if name.startswith("do_"):  # any method without a do_X of its own
                    return self._refuse
                raise AttributeError(name)

            def _send(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _handle

        self.server = _Server(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, name="http-gateway", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes, source_ip: str
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        parts = urlsplit(raw_path)
        path = parts.path
        if path.startswith(MANAGEMENT_PREFIX) and self.management:
            found = _MANAGEMENT_PATH.match(path)
            if not found:
                return _json(404, {"message": "Not Found"})
            status, payload = self.management(method, unquote(found["connection_id"]), body)
            return _json(status, payload)
        matched = self.router.match(method, path)
        if not matched:
            return _json(404, {"message": "Not Found"})
        route_key, function, path_parameters = matched
        event = http_event(method, path, route_key, headers, parts.query, body, path_parameters, source_ip)
        result = self.runner.invoke(function, event)
        if result.errored:
            return _json(500 if "timed out" not in str(result.payload) else 503, {"message": "Internal Server Error"})
        return _response(result.payload)


def _json(status: int, payload: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    data = b"" if payload is None else json.dumps(payload).encode()
    return status, [("content-type", "application/json")], data


def _response(payload: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """Payload v2 responses: a full {statusCode, headers, body} or any JSON value (→ 200)."""
    if not isinstance(payload, dict) or "statusCode" not in payload:
        return _json(200, payload)
    headers = [(k, str(v)) for k, v in (payload.get("headers") or {}).items() if k.lower() != "content-length"]
    for name, values in (payload.get("multiValueHeaders") or {}).items():
        headers.extend((name, str(v)) for v in values)
    headers.extend(("set-cookie", cookie) for cookie in payload.get("cookies") or [])
    body = payload.get("body") or ""
    data = base64.b64decode(body) if payload.get("isBase64Encoded") else body.encode()
    return int(payload["statusCode"]), headers, data
