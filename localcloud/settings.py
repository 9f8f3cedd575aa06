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


# The AI blocks' model endpoints, one per LLM provider (openai, anthropic, open_router, groq,
# ollama, llama_api, aiml_api, v0). Unset: the local cloud points the provider at
# localcloud.fake_openai on loopback (offline, deterministic; it speaks OpenAI's chat API and
# Anthropic's Messages API). Set STRATUS_<PROVIDER>_BASE_URL (and STRATUS_<PROVIDER>_API_KEY)
# to use a real endpoint of that provider, e.g. STRATUS_OPENAI_BASE_URL.
LOCAL_MODEL_KEY = "stratus-local-model-key"  # the loopback server accepts any key


def model_base_url(provider: str) -> str | None:
    return os.environ.get(f"STRATUS_{provider.upper()}_BASE_URL") or None


def model_api_key(provider: str) -> str:
    return os.environ.get(f"STRATUS_{provider.upper()}_API_KEY") or LOCAL_MODEL_KEY


def openai_base_url() -> str | None:
    return model_base_url("openai")


def openai_api_key() -> str:
    return model_api_key("openai")


def egress_allow_list() -> list[str]:
    """More non-public destinations the local cloud's functions may reach (e.g. a model server
    of yours on 127.0.0.1:11434), besides its own loopback fakes: STRATUS_EGRESS_ALLOW_LIST."""
    return [entry.strip() for entry in os.environ.get("STRATUS_EGRESS_ALLOW_LIST", "").split(",") if entry.strip()]
