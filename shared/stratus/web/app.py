"""App factory: AutoGPT's `{"detail": ...}` errors and the OpenAPI document at /api/openapi.json."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from stratus.errors import StratusError
from stratus.observability import logger
from stratus.payload_limits import MAX_REQUEST_BYTES, request_too_large


def _validation_detail(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # FastAPI's own shape (loc/msg/type) minus the echoed input, which may hold secrets.
    return [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in errors]


class JSONWithNonFinite(JSONResponse):
    """JSON that keeps inf/nan (as Python's json writes them) instead of failing with a 500:
    AutoGPT blocks yield them (Calculator divides by zero to inf)."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, allow_nan=True, separators=(",", ":")).encode("utf-8")


def json_response(content: Any) -> JSONWithNonFinite:
    """A response that bypasses FastAPI's serializer, which turns inf/nan into null."""
    from pydantic import BaseModel

    def plain(value: Any) -> Any:
        return value.model_dump(mode="json") if isinstance(value, BaseModel) else value

    return JSONWithNonFinite(content=[plain(v) for v in content] if isinstance(content, list) else plain(content))


def create_app(title: str) -> FastAPI:
    app = FastAPI(
        title=title,
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        default_response_class=JSONWithNonFinite,
    )

    @app.exception_handler(StratusError)
    async def _domain_error(_: Request, exc: StratusError) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail})

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": _validation_detail(list(exc.errors()))})

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("Unhandled error")
        return JSONResponse(status_code=500, content={"detail": "Internal server error."})

    app.add_middleware(_BodyLimit)
    return app


class _BodyLimit:
    """413 for a request body over MAX_REQUEST_BYTES, before any route parses it."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        messages, size, more = [], 0, True
        while more:  # Mangum hands over the whole body at once; buffering costs nothing more
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            more = message.get("more_body", False) and message["type"] == "http.request"
            if size > MAX_REQUEST_BYTES:
                error = request_too_large(size)
                response = JSONResponse(status_code=error.status_code, content={"detail": error.detail})
                return await response(scope, receive, send)
        replay = iter(messages)

        async def replayed() -> dict:
            return next(replay, None) or await receive()

        return await self.app(scope, replayed, send)


def lambda_handler(app: FastAPI) -> Callable[[dict, Any], dict]:
    """The Lambda entry point for an app: Mangum with Logger, Tracer and Metrics around it."""
    from aws_lambda_powertools.logging import correlation_paths
    from mangum import Mangum

    from stratus.observability import observed

    asgi = Mangum(app, lifespan="off", api_gateway_base_path="/")

    @observed(correlation_paths.API_GATEWAY_HTTP)
    def handler(event: dict, context: Any) -> dict:
        return asgi(event, context)

    return handler
