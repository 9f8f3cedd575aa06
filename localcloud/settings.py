"""Local cloud settings, from the environment (STRATUS_*)."""

from __future__ import annotations

import os
from pathlib import Path

# Local development only: the template never uses it (AWS reads the key from SSM).
DEFAULT_JWT_SECRET = "stratus-local-dev-secret-not-for-production"


def jwt_secret() -> str:
    return os.environ.get("STRATUS_JWT_SECRET") or DEFAULT_JWT_SECRET


def http_port() -> int:
    return int(os.environ.get("STRATUS_HTTP_PORT", "3000"))


def ws_port() -> int:
    return int(os.environ.get("STRATUS_WS_PORT", "3001"))


def state_dir() -> Path:
    return Path(os.environ.get("STRATUS_STATE_DIR", ".stratus"))


# The AI blocks' model endpoint. Unset: the local cloud starts localcloud.fake_openai on
# loopback (offline, deterministic). Set it (and the key) to use a real OpenAI-compatible API.
LOCAL_MODEL_KEY = "stratus-local-model-key"  # the loopback server accepts any key


def openai_base_url() -> str | None:
    return os.environ.get("STRATUS_OPENAI_BASE_URL") or None


def openai_api_key() -> str:
    return os.environ.get("STRATUS_OPENAI_API_KEY") or LOCAL_MODEL_KEY


def egress_allow_list() -> list[str]:
    """More non-public destinations the local cloud's functions may reach (e.g. a model server
    of yours on 127.0.0.1:11434), besides its own loopback fakes: STRATUS_EGRESS_ALLOW_LIST."""
    return [entry.strip() for entry in os.environ.get("STRATUS_EGRESS_ALLOW_LIST", "").split(",") if entry.strip()]
