"""WebSocket API handlers: $connect, $disconnect and AutoGPT's message methods."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from stratus.auth.jwt_tokens import verify_token
from stratus.config import WebSocketFunctionSettings, require
from stratus.errors import Unauthorized
from stratus.observability import metrics, observed
from stratus.realtime import connections, subscriptions
from stratus.realtime.protocol import (
    HEARTBEAT,
    SUBSCRIPTION_METHODS,
    UNSUBSCRIBE,
    WsMessage,
    error_reply,
    heartbeat_reply,
    parse_message,
    requested_channel,
    subscription_reply,
)

require(WebSocketFunctionSettings)  # cold start: fails here, naming any missing or invalid variable

_CORRELATION = "requestContext.requestId"


@observed(_CORRELATION)
def connect(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    token = (event.get("queryStringParameters") or {}).get("token")
    if not token:
        return {"statusCode": 401, "body": "Missing token: connect with ?token=<JWT>."}
    try:
        claims = verify_token(token)
    except Unauthorized as exc:
        return {"statusCode": 403, "body": str(exc.detail)}
    connections.register(event["requestContext"]["connectionId"], claims.user_id)
    metrics.add_metric(name="WebSocketConnects", unit="Count", value=1)
    return {"statusCode": 200}


@observed(_CORRELATION)
def disconnect(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    connections.forget(event["requestContext"]["connectionId"])
    return {"statusCode": 200}


@observed(_CORRELATION)
def message(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    connection_id = event["requestContext"]["connectionId"]
    try:
        request = parse_message(event.get("body"))
    except ValueError as exc:
        connections.post(connection_id, error_reply("error", str(exc)).to_json())
        return {"statusCode": 200}
    connections.post(connection_id, _reply(connection_id, request).to_json())
    return {"statusCode": 200}


def _reply(connection_id: str, request: WsMessage) -> WsMessage:
    if request.method == HEARTBEAT:
        return heartbeat_reply()
    if request.method not in SUBSCRIPTION_METHODS:
        return error_reply(request.method, f"Unknown method {request.method!r}.")
    connection = connections.get(connection_id)
    if connection is None:
        return error_reply(request.method, "Unknown connection: reconnect with ?token=<JWT>.")
    try:
        # The channel is built from the connection's own user id: no one can name another's.
        channel = requested_channel(request.method, connection["user_id"], request.data)
    except ValueError as exc:
        return error_reply(request.method, str(exc))
    if request.method == UNSUBSCRIBE:
        subscriptions.unsubscribe(connection_id, channel)
    else:
        subscriptions.subscribe(connection_id, channel, expires_at=connection["expires_at"])
    return subscription_reply(request.method, channel)
