"""The local WebSocket API: connections become $connect / message / $disconnect events, and
the management API (post_to_connection, get_connection, delete_connection) reaches sockets."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import threading
import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from localcloud.apigw import websocket_event
from localcloud.lambda_runner import LambdaRunner
from localcloud.stack import WebSocketApiSpec

log = logging.getLogger("localcloud.ws")


def _new_connection_id() -> str:
    # API Gateway ids look like 'L0SM9cOFvHcCIhw=': 10 random bytes, base64.
    return base64.urlsafe_b64encode(os.urandom(10)).decode()


class WebSocketGateway:
    def __init__(self, runner: LambdaRunner, api: WebSocketApiSpec, port: int):
        self.runner = runner
        self.api = api
        self.requested_port = port
        self.port = port
        self.sockets: dict[str, ServerConnection] = {}
        self.meta: dict[str, dict[str, Any]] = {}
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Future | None = None
        self._thread = threading.Thread(target=self._run, name="ws-gateway", daemon=True)

    # --- lifecycle ------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()
        self._ready.wait(10)

    def stop(self) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set_result, None)
            self._thread.join(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stop = self.loop.create_future()
        async with serve(
            self._on_socket, "127.0.0.1", self.requested_port, process_request=self._on_handshake, ping_interval=None
        ) as server:
            self.port = next(iter(server.sockets)).getsockname()[1]
            self._ready.set()
            await self._stop

    # --- API Gateway behaviour ------------------------------------------------------
    def _invoke(self, route_key: str, event: dict[str, Any]) -> Any:
        function = self.api.routes.get(route_key)
        if not function:
            return {"statusCode": 200}
        result = self.runner.invoke(function, event)
        return {"statusCode": 500} if result.errored else result.payload

    async def _on_handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        connection_id = _new_connection_id()
        query = dict(parse_qsl(urlsplit(request.path).query, keep_blank_values=True))
        headers = {k: v for k, v in request.headers.raw_items()}
        event = websocket_event(
            "CONNECT",
            "$connect",
            connection_id,
            query=query or None,
            headers=headers,
            domain=f"127.0.0.1:{self.port}",
            stage=self.api.stage,
        )
        payload = await asyncio.to_thread(self._invoke, "$connect", event)
        status = int(payload.get("statusCode", 200)) if isinstance(payload, dict) else 200
        if status // 100 != 2:
            body = (payload.get("body") or "") if isinstance(payload, dict) else ""
            return Response(
                status,
                {401: "Unauthorized", 403: "Forbidden"}.get(status, "Error"),
                Headers([("Content-Type", "text/plain")]),
                body.encode(),
            )
        connection.stratus_connection_id = connection_id  # type: ignore[attr-defined]
        now = int(time.time() * 1000)
        self.meta[connection_id] = {"connectedAt": now, "lastActiveAt": now, "sourceIp": "127.0.0.1"}
        return None

    async def _on_socket(self, connection: ServerConnection) -> None:
        connection_id = connection.stratus_connection_id  # type: ignore[attr-defined]
        self.sockets[connection_id] = connection
        try:
            async for message in connection:
                body = message if isinstance(message, str) else message.decode("utf-8", "replace")
                self.meta[connection_id]["lastActiveAt"] = int(time.time() * 1000)
                try:
                    route_key = self.api.select_route(body)
                except Exception:  # noqa: BLE001 - a frame that is not JSON goes to $default
                    route_key = "$default" if "$default" in self.api.routes else None
                if route_key is None:
                    await connection.send(json.dumps({"message": "Forbidden", "connectionId": connection_id}))
                    continue
                event = websocket_event(
                    "MESSAGE",
                    route_key,
                    connection_id,
                    body=body,
                    domain=f"127.0.0.1:{self.port}",
                    stage=self.api.stage,
                )
                try:
                    await asyncio.to_thread(self._invoke, route_key, event)
                except Exception:  # noqa: BLE001 - one bad frame never ends the connection
                    log.exception("websocket route %s failed", route_key)
                    await connection.send(
                        json.dumps({"message": "Internal server error", "connectionId": connection_id})
                    )
        except Exception:  # a dropped socket ends like a close
            pass
        finally:
            self.sockets.pop(connection_id, None)
            self.meta.pop(connection_id, None)
            event = websocket_event(
                "DISCONNECT", "$disconnect", connection_id, domain=f"127.0.0.1:{self.port}", stage=self.api.stage
            )
            await asyncio.to_thread(self._invoke, "$disconnect", event)

    # --- management API (called from the HTTP gateway's threads) ----------------------
    def manage(self, method: str, connection_id: str, body: bytes) -> tuple[int, Any]:
        socket = self.sockets.get(connection_id)
        if socket is None:
            return 410, {"message": "GoneException"}
        if method == "POST":
            data: str | bytes
            try:
                data = body.decode("utf-8")
            except UnicodeDecodeError:
                data = body
            future = asyncio.run_coroutine_threadsafe(socket.send(data), self.loop)
            try:
                future.result(timeout=5)
            except Exception:
                return 410, {"message": "GoneException"}
            return 200, None
        if method == "GET":
            meta = self.meta.get(connection_id, {})
            # The wire format (botocore maps it to ConnectedAt / Identity / LastActiveAt).
            return 200, {
                "connectedAt": _iso(meta.get("connectedAt")),
                "lastActiveAt": _iso(meta.get("lastActiveAt")),
                "identity": {"sourceIp": meta.get("sourceIp", "127.0.0.1"), "userAgent": ""},
            }
        if method == "DELETE":
            asyncio.run_coroutine_threadsafe(socket.close(), self.loop)
            return 204, None
        return 405, {"message": "Method Not Allowed"}


def _iso(epoch_ms: int | None) -> str | None:
    if epoch_ms is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_ms / 1000))
