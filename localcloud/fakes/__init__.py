"""Deterministic loopback fakes of the outside services integration blocks call.

Each fake is a `FakeService` subclass in a module of this package: one HTTP server on
127.0.0.1 that answers the requests the real service's public API gets from the block (same
paths, methods, auth headers, bodies and response shapes), deterministically: a reply is a pure
function of the request. A fake names the block endpoints it serves (`endpoints`: the
`ServiceEndpoint` name of stratus.blocks.endpoints -> the path prefix on this server), so

    fakes = start_fakes()          # every fake of this package, started
    fakes.environment()            # {"JINA_SEARCH_BASE_URL": "http://127.0.0.1:<port>/search", ...}
    fakes.netlocs()                # ["127.0.0.1:<port>", ...] for EGRESS_ALLOW_LIST
    fakes.stop()

The local cloud starts them all and gives the integration function that environment (the
ready line lists them); the tests' `service_fakes` fixture does the same. A subclass
implements `handle(request) -> Reply`, and may read `self.requests` (every request received).
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lowercased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return {key: values[-1] for key, values in parse_qs(self.body.decode()).items()}

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def bearer(self) -> str | None:
        value = self.headers.get("authorization", "")
        return value[7:] if value.lower().startswith("bearer ") else None


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list: JSON; str: text; bytes: as is
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None

    def encode(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, self.content_type or "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode(), self.content_type or "text/plain; charset=utf-8"
        return json.dumps(self.body).encode(), self.content_type or "application/json"


def json_error(status: int, message: str, **extra: Any) -> Reply:
    return Reply(status, {"error": message, **extra})


class FakeService:
    name: ClassVar[str]  # what the ready line calls it
    endpoints: ClassVar[dict[str, str]]  # ServiceEndpoint name -> path prefix on this server

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._thread: threading.Thread | None = None
        self.requests: list[Request] = []
        self._lock = threading.Lock()

    # --- lifecycle ----------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def netloc(self) -> str:
        return urlsplit(self.url).netloc

    def start(self) -> FakeService:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name=f"fake-{self.name}")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        """Forget the recorded requests (state a subclass keeps is its own to reset)."""
        with self._lock:
            self.requests.clear()

    def environment(self) -> dict[str, str]:
        """`<ENDPOINT>_BASE_URL` of each endpoint this fake serves."""
        return {f"{name.upper()}_BASE_URL": self.url + prefix for name, prefix in self.endpoints.items()}

    # --- serving ------------------------------------------------------------------------
    def handle(self, request: Request) -> Reply:
        raise NotImplementedError

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={key.lower(): value for key, value in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                with fake._lock:
                    fake.requests.append(request)
                try:
                    reply = fake.handle(request)
                except Exception as exc:  # a fake's bug is a 500 the block reports, not a hang
                    reply = json_error(500, f"{type(exc).__name__}: {exc}")
                data, content_type = reply.encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        return Handler


def fake_classes() -> list[type[FakeService]]:
    """Every FakeService subclass defined in this package's modules."""
    classes: list[type[FakeService]] = []
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, FakeService)
                and value is not FakeService
                and value.__module__ == module.__name__
                and getattr(value, "endpoints", None)
            ):
                classes.append(value)
    return classes


class Fakes:
    """The started fakes, by class name."""

    def __init__(self, services: list[FakeService]):
        self.services = services

    def __getitem__(self, cls: type[FakeService]) -> Any:
        return next(service for service in self.services if isinstance(service, cls))

    def environment(self) -> dict[str, str]:
        environment: dict[str, str] = {}
        for service in self.services:
            environment.update(service.environment())
        return environment

    def netlocs(self) -> list[str]:
        return [service.netloc for service in self.services]

    def describe(self) -> str:
        return ", ".join(f"{service.name} {service.url}" for service in self.services)

    def reset(self) -> None:
        for service in self.services:
            service.reset()

    def stop(self) -> None:
        for service in self.services:
            service.stop()


def start_fakes() -> Fakes:
    return Fakes([cls().start() for cls in fake_classes()])
