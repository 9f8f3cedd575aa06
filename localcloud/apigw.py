"""API Gateway event shapes: HTTP API payload v2 and WebSocket API events."""

from __future__ import annotations

import base64
import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl

from localcloud.stack import ACCOUNT_ID

TEXT_TYPES = ("application/json", "text/", "application/xml", "application/x-www-form-urlencoded")


def _request_time() -> tuple[str, int]:
    now = time.time()
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)), int(now * 1000)


def http_event(
    method: str,
    path: str,
    route_key: str = "$default",
    headers: dict[str, str] | None = None,
    query: str = "",
    body: bytes = b"",
    path_parameters: dict[str, str] | None = None,
    source_ip: str = "127.0.0.1",
    api_id: str = "local",
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event, as Lambda receives it."""
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    content_type = headers.get("content-type", "")
    is_text = not body or any(content_type.startswith(t) for t in TEXT_TYPES)
    cookies = [c.strip() for c in headers.pop("cookie", "").split(";") if c.strip()]
    query_parameters: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        # API Gateway joins repeated keys with commas.
        query_parameters[key] = f"{query_parameters[key]},{value}" if key in query_parameters else value
    time_text, time_epoch = _request_time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": api_id,
            "domainName": headers.get("host", "localhost"),
            "domainPrefix": "localhost",
            "http": {
                "method": method.upper(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": time_text,
            "timeEpoch": time_epoch,
        },
    }
    if cookies:
        event["cookies"] = cookies
    if query_parameters:
        event["queryStringParameters"] = query_parameters
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body and is_text:
        try:
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:  # API Gateway passes a body that is not UTF-8 as base64
            is_text = False
    if body and not is_text:
        event["body"] = base64.b64encode(body).decode()
    event["isBase64Encoded"] = not is_text
    return event


def _route_regex(route_path: str) -> re.Pattern[str]:
    pattern = ""
    for part in re.split(r"(\{[^}]+\})", route_path):
        if part.startswith("{") and part.endswith("+}"):
            pattern += f"(?P<{part[1:-2]}>.+)"
        elif part.startswith("{"):
            pattern += f"(?P<{part[1:-1]}>[^/]+)"
        else:
            pattern += re.escape(part)
    return re.compile(f"^{pattern}$")


class HttpRouter:
    """API Gateway's route selection: exact routes beat parameters, which beat greedy ones."""

    def __init__(self, routes: list[tuple[str, str, str]]):
        def rank(route: tuple[str, str, str]) -> tuple:
            method, path, _ = route
            greedy = "+}" in path
            params = path.count("{")
            return (path == "$default", greedy, params, -len(path), method == "ANY")

        self.routes = sorted(routes, key=rank)
        self._patterns = {path: _route_regex(path) for _, path, _ in routes if path != "$default"}

    def match(self, method: str, path: str) -> tuple[str, str, dict[str, str]] | None:
        """(route key, function logical id, path parameters) or None."""
        for route_method, route_path, function in self.routes:
            if route_method not in ("ANY", method.upper()):
                continue
            if route_path == "$default":
                return "$default", function, {}
            found = self._patterns[route_path].match(path)
            if found:
                return f"{route_method} {route_path}", function, found.groupdict()
        return None


def websocket_event(
    event_type: str,
    route_key: str,
    connection_id: str,
    body: str | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    domain: str = "localhost",
    stage: str = "local",
    api_id: str = "localws",
) -> dict[str, Any]:
    """A WebSocket API event ($connect / $disconnect / MESSAGE) as Lambda receives it."""
    time_text, time_epoch = _request_time()
    event: dict[str, Any] = {
        "requestContext": {
            "routeKey": route_key,
            "eventType": event_type,
            "extendedRequestId": str(uuid.uuid4()),
            "requestTime": time_text,
            "messageDirection": "IN",
            "stage": stage,
            "connectedAt": time_epoch,
            "requestTimeEpoch": time_epoch,
            "requestId": str(uuid.uuid4()),
            "domainName": domain,
            "connectionId": connection_id,
            "apiId": api_id,
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "isBase64Encoded": False,
    }
    if headers is not None:
        event["headers"] = headers
    if query:
        event["queryStringParameters"] = query
    if body is not None:
        event["body"] = body
    return event
