"""WebSocket API handlers: $connect, $disconnect and AutoGPT's message methods."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from stratus.auth.jwt_tokens import verify_token
from stratus.errors import Unauthorized
from stratus.observability import metrics, observed
from stratus.realtime import connections
from stratus.realtime.protocol import error_reply, heartbeat_reply, parse_message

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
    if request.method == "heartbeat":
        reply = heartbeat_reply()
    else:
        reply = error_reply(request.method, f"Unknown method {request.method!r}.")
    connections.post(connection_id, reply.to_json())
    return {"statusCode": 200}
