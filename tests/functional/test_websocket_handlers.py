"""WebSocket handlers on moto, with API Gateway's management endpoint faked on loopback."""

from __future__ import annotations

import json

from localcloud.apigw import websocket_event
from stratus.realtime import connections
from tests.conftest import token


def _invoke(api, function: str, event: dict) -> dict:
    result = api.runner.invoke(function, event)
    assert not result.errored, result.payload
    return result.payload


def test_connect_requires_a_valid_token(api):
    assert _invoke(api, "WsConnectFunction", websocket_event("CONNECT", "$connect", "c1"))["statusCode"] == 401
    bad = websocket_event("CONNECT", "$connect", "c1", query={"token": "garbage"})
    assert _invoke(api, "WsConnectFunction", bad)["statusCode"] == 403
    assert connections.get("c1") is None
    good = websocket_event("CONNECT", "$connect", "c1", query={"token": token("alice")})
    assert _invoke(api, "WsConnectFunction", good)["statusCode"] == 200
    stored = connections.get("c1")
    assert stored["user_id"] == "alice" and stored["expires_at"] > 0


def test_heartbeat_and_bad_messages_get_replies(api, management):
    management.live.add("c1")
    _invoke(api, "WsConnectFunction", websocket_event("CONNECT", "$connect", "c1", query={"token": token("alice")}))
    _invoke(
        api,
        "WsMessagesFunction",
        websocket_event("MESSAGE", "heartbeat", "c1", body=json.dumps({"method": "heartbeat"})),
    )
    _invoke(api, "WsMessagesFunction", websocket_event("MESSAGE", "$default", "c1", body="{oops"))
    _invoke(api, "WsMessagesFunction", websocket_event("MESSAGE", "$default", "c1", body=json.dumps({"method": "fly"})))
    replies = management.messages("c1")
    assert replies[0] == {"method": "heartbeat", "data": "pong", "success": True}
    assert replies[1]["success"] is False and "method" in replies[1]["error"]
    assert replies[2] == {"method": "fly", "success": False, "error": "Unknown method 'fly'."}


def test_gone_connection_is_forgotten(api, management):
    _invoke(api, "WsConnectFunction", websocket_event("CONNECT", "$connect", "gone", query={"token": token("bob")}))
    assert connections.get("gone") is not None
    _invoke(
        api,
        "WsMessagesFunction",
        websocket_event("MESSAGE", "heartbeat", "gone", body=json.dumps({"method": "heartbeat"})),
    )
    assert connections.get("gone") is None


def test_disconnect_forgets_the_connection(api):
    _invoke(api, "WsConnectFunction", websocket_event("CONNECT", "$connect", "c2", query={"token": token("bob")}))
    _invoke(api, "WsDisconnectFunction", websocket_event("DISCONNECT", "$disconnect", "c2"))
    assert connections.get("c2") is None
