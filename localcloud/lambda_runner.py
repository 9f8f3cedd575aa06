"""Run a template function's handler in-process, the way Lambda would.

Each function's module is imported once (a warm container) under a unique module name,
with the function's environment variables, a Lambda-like context and its timeout.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from localcloud.stack import FunctionSpec

REPO_ROOT = Path(__file__).resolve().parent.parent
LAYER_DIR = REPO_ROOT / "shared"


class LambdaContext:
    def __init__(self, spec: FunctionSpec, deadline: float):
        self.function_name = spec.logical_id
        self.function_version = "$LATEST"
        self.invoked_function_arn = spec.arn
        self.memory_limit_in_mb = spec.memory
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.logical_id}"
        self.log_stream_name = f"local/{self.aws_request_id}"
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class InvocationResult:
    payload: Any
    errored: bool
    duration_ms: float
    request_id: str


class LambdaRunner:
    def __init__(self, functions: dict[str, FunctionSpec], base_environment: dict[str, str] | None = None):
        self.functions = functions
        self.base_environment = base_environment or {}
        self._handlers: dict[str, Callable[[Any, Any], Any]] = {}
        # (function, duration ms, memory MB) of every invocation: `make bench` prices them.
        self.invocations: list[tuple[str, float, int]] = []
        self._import_lock = threading.Lock()
        if str(LAYER_DIR) not in sys.path:
            sys.path.insert(0, str(LAYER_DIR))
        # Functions share this process, so they share one environment: the union of theirs.
        for spec in functions.values():
            os.environ.update(self.base_environment)
            os.environ.update(spec.environment)
        from stratus.config import reset_settings  # the layer's package, on the path above

        reset_settings()  # settings read before now came from another environment

    def spec(self, name_or_arn: str) -> FunctionSpec:
        name = name_or_arn.split(":function:")[-1].split(":")[0]
        if name not in self.functions:
            raise KeyError(f"No function {name!r} in the template")
        return self.functions[name]

    def handler(self, spec: FunctionSpec) -> Callable[[Any, Any], Any]:
        with self._import_lock:
            if spec.logical_id not in self._handlers:
                self._handlers[spec.logical_id] = getattr(_load_module(spec), spec.handler_name)
            return self._handlers[spec.logical_id]

    def invoke(self, name_or_arn: str, event: Any) -> InvocationResult:
        spec = self.spec(name_or_arn)
        handler = self.handler(spec)
        started = time.monotonic()
        context = LambdaContext(spec, started + spec.timeout)
        outcome: dict[str, Any] = {}

        def run() -> None:
            # Lambda runs handlers on a main thread that has an event loop (Mangum needs one).
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                outcome["payload"] = handler(event, context)
            except Exception as exc:  # the Lambda error shape
                outcome["error"] = {
                    "errorMessage": str(exc),
                    "errorType": type(exc).__name__,
                    "stackTrace": traceback.format_tb(exc.__traceback__),
                }
            finally:
                loop.close()

        worker = threading.Thread(target=run, name=f"lambda-{spec.logical_id}", daemon=True)
        worker.start()
        worker.join(spec.timeout)
        duration_ms = (time.monotonic() - started) * 1000
        self.invocations.append((spec.logical_id, duration_ms, spec.memory))
        if worker.is_alive():
            error = {
                "errorMessage": f"Task timed out after {spec.timeout:.2f} seconds",
                "errorType": "Sandbox.Timedout",
            }
            return InvocationResult(error, True, duration_ms, context.aws_request_id)
        if "error" in outcome:
            return InvocationResult(outcome["error"], True, duration_ms, context.aws_request_id)
        return InvocationResult(outcome.get("payload"), False, duration_ms, context.aws_request_id)


def _load_module(spec: FunctionSpec) -> ModuleType:
    module_name = f"stratus_function_{spec.logical_id}"
    module_spec = importlib.util.spec_from_file_location(module_name, spec.module_file)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"Cannot load {spec.module_file}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_name] = module
    module_spec.loader.exec_module(module)
    return module


def to_json(payload: Any) -> str:
    return json.dumps(payload, default=str)
