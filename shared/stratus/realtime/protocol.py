"""AutoGPT's WebSocket envelope: {method, data?, success?, channel?, error?}."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError


class WsMessage(BaseModel):
    method: str
    data: Any = None
    success: bool | None = None
    channel: str | None = None
    error: str | None = None

    def to_json(self) -> str:
        return self.model_dump_json(exclude_none=True)


def parse_message(body: str | None) -> WsMessage:
    """The client's message, or ValueError with a sentence the client can act on."""
    if not body:
        raise ValueError("Empty message: send JSON like {\"method\": \"heartbeat\"}.")
    try:
        return WsMessage.model_validate(json.loads(body))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise ValueError("Invalid message: expected JSON with a string 'method'.") from exc


def heartbeat_reply() -> WsMessage:
    return WsMessage(method="heartbeat", data="pong", success=True)


def error_reply(method: str, error: str) -> WsMessage:
    return WsMessage(method=method, success=False, error=error)
