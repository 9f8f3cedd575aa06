"""Event sources of the template's functions: DynamoDB streams, EventBridge rules on Step
Functions status changes, and rate() schedules. Each runs in a background thread."""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from localcloud.lambda_runner import LambdaRunner
from localcloud.stack import ACCOUNT_ID, REGION, FunctionSpec

log = logging.getLogger("localcloud.events")
MAX_BATCH_RETRIES = 3


def matches(pattern: Any, event: Any) -> bool:
    """EventBridge pattern matching for the forms templates use: value lists and nesting."""
    if isinstance(pattern, dict):
        return isinstance(event, dict) and all(
            key in event and matches(value, event[key]) for key, value in pattern.items()
        )
    if isinstance(pattern, list):
        return event in pattern if not isinstance(event, list) else any(e in pattern for e in event)
    return pattern == event


class _Loop(threading.Thread):
    def __init__(self, name: str, stop: threading.Event, interval: float):
        super().__init__(name=name, daemon=True)
        self.stop_event = stop
        self.interval = interval

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                busy = self.tick()
            except Exception:  # keep polling: a failed poll is retried next tick
                log.exception("%s failed", self.name)
                busy = False
            if not busy:
                self.stop_event.wait(self.interval)

    def tick(self) -> bool:
        raise NotImplementedError


class StreamPoller(_Loop):
    """Reads a table's stream from the time the cloud started and invokes the function with
    batches of up to BatchSize records, in order, as an event source mapping does: a failed
    batch is retried (MaximumRetryAttempts, default 3), split in halves when
    BisectBatchOnFunctionError is set, and a record that still fails alone is skipped and
    reported, so one bad record never stops delivery of the others."""

    def __init__(
        self,
        runner: LambdaRunner,
        function: str,
        table: str,
        batch_size: int,
        dynamodb: Any,
        streams: Any,
        stop: threading.Event,
        retries: int = MAX_BATCH_RETRIES,
        bisect: bool = False,
    ):
        super().__init__(f"stream-{table}-{function}", stop, 0.02)
        self.runner, self.function, self.table = runner, function, table
        self.batch_size = batch_size
        self.retries = retries if retries >= 0 else MAX_BATCH_RETRIES  # -1 (forever) is capped locally
        self.bisect = bisect
        self.streams = streams
        self.skipped: list[dict[str, Any]] = []  # records given up on (for logs and tests)
        stream_arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        self.stream_arn = stream_arn
        shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
        self.iterators = [
            streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST")[
                "ShardIterator"
            ]
            for shard in shards
        ]

    def tick(self) -> bool:
        busy = False
        for index, iterator in enumerate(self.iterators):
            try:
                response = self.streams.get_records(ShardIterator=iterator, Limit=self.batch_size)
            except Exception:  # this shard is retried next tick; the others go on
                log.exception("%s: reading the %s stream failed", self.function, self.table)
                continue
            records = response.get("Records", [])
            if records:
                for record in records:
                    record.setdefault("eventSourceARN", self.stream_arn)
                    record.setdefault("awsRegion", REGION)
                    record.setdefault("eventSource", "aws:dynamodb")
                self._deliver(records)
                busy = True
            self.iterators[index] = response.get("NextShardIterator") or iterator
        return busy

    def _deliver(self, records: list[dict[str, Any]]) -> None:
        error: Any = None
        for attempt in range(1 + self.retries):
            try:
                result = self.runner.invoke(self.function, {"Records": records})
            except Exception as exc:  # noqa: BLE001 - e.g. an event that cannot be built or imported
                error = repr(exc)
            else:
                if not result.errored:
                    return
                error = result.payload
            log.warning(
                "%s failed on a stream batch of %d (attempt %d): %s", self.function, len(records), attempt + 1, error
            )
            if self.bisect and len(records) > 1:
                half = len(records) // 2
                self._deliver(records[:half])  # in order: the first half before the second
                self._deliver(records[half:])
                return
        for record in records:
            self.skipped.append(record)
            log.error(
                "%s: skipping stream record %s (%s) after %d attempts: %s",
                self.function,
                record.get("dynamodb", {}).get("SequenceNumber"),
                record.get("eventName"),
                1 + self.retries,
                error,
            )


class StepFunctionsStatusWatcher(_Loop):
    """Emits 'Step Functions Execution Status Change' events to matching EventBridge rules."""

    def __init__(
        self,
        runner: LambdaRunner,
        rules: list[tuple[dict[str, Any], str]],
        state_machine_arns: Callable[[], list[str]],
        sfn: Any,
        stop: threading.Event,
    ):
        super().__init__("sfn-status-watcher", stop, 0.1)
        self.runner, self.rules, self.sfn = runner, rules, sfn
        self.state_machine_arns = state_machine_arns
        self.seen: dict[str, str] = {}

    def tick(self) -> bool:
        changed = False
        for machine_arn in self.state_machine_arns():
            pages = self.sfn.get_paginator("list_executions").paginate(stateMachineArn=machine_arn)
            for page in pages:
                for execution in page["executions"]:
                    arn, status = execution["executionArn"], execution["status"]
                    if self.seen.get(arn) == status:
                        continue
                    self.seen[arn] = status
                    self._emit(machine_arn, execution)
                    changed = True
        return changed

    def _emit(self, machine_arn: str, execution: dict[str, Any]) -> None:
        detail = {
            "executionArn": execution["executionArn"],
            "stateMachineArn": machine_arn,
            "name": execution["name"],
            "status": execution["status"],
            "startDate": _epoch_ms(execution.get("startDate")),
            "stopDate": _epoch_ms(execution.get("stopDate")),
        }
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Step Functions Execution Status Change",
            "source": "aws.states",
            "account": ACCOUNT_ID,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": REGION,
            "resources": [execution["executionArn"]],
            "detail": detail,
        }
        for pattern, function in self.rules:
            if matches(pattern, event):
                self.runner.invoke(function, event)


class RateSchedule(_Loop):
    """`rate(N minute|minutes|hour|hours|day|days)` schedules from the template."""

    UNITS = {"minute": 60, "hour": 3600, "day": 86400}

    def __init__(self, runner: LambdaRunner, function: str, expression: str, payload: Any, stop: threading.Event):
        found = re.fullmatch(r"rate\((\d+)\s+(minute|hour|day)s?\)", expression.strip())
        if not found:
            raise ValueError(f"Local schedules support rate(...) only, not {expression!r}")
        super().__init__(f"schedule-{function}", stop, int(found[1]) * self.UNITS[found[2]])
        self.runner, self.function, self.payload = runner, function, payload
        self.started = time.monotonic()

    def tick(self) -> bool:
        if time.monotonic() - self.started >= self.interval:
            self.runner.invoke(self.function, self.payload)
        return False


def _epoch_ms(value: Any) -> int | None:
    return int(value.timestamp() * 1000) if isinstance(value, datetime) else None


def sources_for(spec: FunctionSpec) -> list[tuple[str, dict[str, Any]]]:
    """(event type, properties) for each non-API event of a function."""
    resolve = spec.stack.resolver.resolve if spec.stack else (lambda value: value)
    return [
        (event.get("Type", ""), resolve(event.get("Properties", {})))
        for event in spec.events.values()
        if event.get("Type") not in ("HttpApi", "Api")
    ]
