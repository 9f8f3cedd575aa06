"""A deterministic Replicate-compatible prediction server on loopback: image blocks run offline.

    server = FakeReplicate().start()   # server.url == "http://127.0.0.1:<port>/v1"
    server.stop()

Replicate's HTTP API, the part the image blocks use: `POST /v1/models/<owner>/<name>/predictions`
with `{"input": {...}}` (Bearer token required) creates a prediction with status `processing`;
`GET /v1/predictions/<id>` then answers `succeeded` with `output`: a URL that is a pure function
of the model and input (`https://replicate.delivery/fake/<sha256[:16]>.<output_format or webp>`).
A prompt containing `FAIL` gives a `failed` prediction with an `error`. `server.requests` holds
every (model, input) created.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from localcloud.fake_openai import send_json


class FakeReplicate:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._predictions: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> FakeReplicate:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _send(self, status: int, body: dict[str, Any]) -> None:
                send_json(self, status, body)

            def _authorized(self) -> bool:
                if not self.headers.get("Authorization", "").startswith("Bearer "):
                    self._send(401, {"detail": "Unauthenticated", "status": 401})
                    return False
                return True

            def do_POST(self) -> None:
                if not self._authorized():
                    return
                parts = self.path.strip("/").split("/")  # v1 models owner name predictions
                if len(parts) != 5 or parts[:2] != ["v1", "models"] or parts[4] != "predictions":
                    self._send(404, {"detail": "Not found", "status": 404})
                    return
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                model, inputs = f"{parts[2]}/{parts[3]}", body.get("input") or {}
                fake.requests.append((model, inputs))
                digest = hashlib.sha256(json.dumps([model, inputs], sort_keys=True).encode()).hexdigest()
                prediction_id = f"fake{len(fake.requests):04d}{digest[:8]}"
                if "FAIL" in str(inputs.get("prompt", "")):
                    done: dict[str, Any] = {"status": "failed", "output": None, "error": "The fake model failed"}
                else:
                    extension = inputs.get("output_format") or "webp"
                    done = {
                        "status": "succeeded",
                        "output": f"https://replicate.delivery/fake/{digest[:16]}.{extension}",
                    }
                prediction = {"id": prediction_id, "model": model, "input": inputs, "error": None}
                fake._predictions[prediction_id] = {**prediction, **done}
                self._send(201, {**prediction, "status": "processing", "output": None})

            def do_GET(self) -> None:
                if not self._authorized():
                    return
                prediction_id = self.path.rstrip("/").rsplit("/", 1)[-1]
                prediction = fake._predictions.get(prediction_id) if self.path.startswith("/v1/predictions/") else None
                if prediction is None:
                    self._send(404, {"detail": "Not found", "status": 404})
                    return
                self._send(200, prediction)

        return Handler
