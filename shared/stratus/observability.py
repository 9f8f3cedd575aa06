"""Powertools Logger, Metrics and Tracer shared by every handler in a container.

The Tracer is built on the first invocation, not at import: it loads the X-Ray SDK and
botocore (about half a second), which would otherwise double an HTTP function's init.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
metrics = Metrics()

# Most requests publish no business metric; Powertools warns about that on every flush.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


@functools.lru_cache(maxsize=1)
def tracer() -> Tracer:
    return Tracer()


def traced_handler(handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """`Tracer.capture_lambda_handler` (response not captured), with the Tracer built lazily."""
    traced: Callable[[Any, Any], Any] | None = None

    @functools.wraps(handler)
    def wrapper(event: Any, context: Any) -> Any:
        nonlocal traced
        if traced is None:
            traced = tracer().capture_lambda_handler(handler, capture_response=False)
        return traced(event, context)

    return wrapper


def observed(correlation_id_path: str) -> Callable[[Callable[[Any, Any], Any]], Callable[[Any, Any], Any]]:
    """Logger (with correlation id), Tracer and Metrics around a Lambda handler."""

    def decorate(handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        return logger.inject_lambda_context(correlation_id_path=correlation_id_path, clear_state=True)(
            traced_handler(metrics.log_metrics(handler))
        )

    return decorate
