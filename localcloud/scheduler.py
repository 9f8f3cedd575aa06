"""EventBridge Scheduler for the local cloud: moto stores schedules but never fires them.

A thread lists moto's schedules (dev tooling: ListSchedules + GetSchedule), computes each one's
next fire time from its expression and time zone, and when it is due invokes the target Lambda
with the target's Input through the runner, context attributes (`<aws.scheduler.…>`)
replaced as EventBridge Scheduler does. Like EventBridge, a schedule first fires at its next
occurrence after it is seen, and the invocation is asynchronous (a failed one is retried
twice, as Lambda does for asynchronous invocations).

Supported expressions: `cron(...)` (no L, W, #), `at(...)`, and `rate(n minutes|hours|days)`
(first fired one period after it is seen; EventBridge fires a rate schedule without a
StartDate at once).

Hooks for people and tests: `fire_now(name)`, or a file `<state dir>/scheduler/fire/<name>`
(its content, if any, is the group); `STRATUS_SCHEDULER_TICK` sets the poll interval (s).
Schedules are kept in `<state dir>/scheduler/schedules.json` and restored on start, since the
snapshot holds tables and buckets only.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from localcloud.lambda_runner import LambdaRunner

log = logging.getLogger("localcloud.scheduler")
ASYNC_ATTEMPTS = 3  # Lambda's asynchronous invocation: the first try and two retries
RETRY_DELAY_SECONDS = 1.0  # Lambda waits minutes; locally a second keeps things moving
_RATE = re.compile(r"rate\((\d+)\s+(minute|hour|day)s?\)")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


def default_tick() -> float:
    return float(os.environ.get("STRATUS_SCHEDULER_TICK") or 1.0)


@dataclass
class _Tracked:
    modified: Any  # LastModificationDate when read: a change re-reads the schedule
    definition: dict[str, Any]
    next_fire: datetime | None


class LocalScheduler(threading.Thread):
    def __init__(
        self,
        runner: LambdaRunner,
        scheduler: Any,
        stop: threading.Event,
        state_dir: Path | None = None,
        tick: float | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ):
        super().__init__(name="eventbridge-scheduler", daemon=True)
        self.runner, self.scheduler, self.stop_event = runner, scheduler, stop
        self.tick_seconds = default_tick() if tick is None else tick
        self.now = now
        self.state_dir = Path(state_dir) if state_dir else None
        self.tracked: dict[tuple[str, str], _Tracked] = {}
        self.fired: list[dict[str, Any]] = []  # (schedule, scheduled time, result) of each firing
        self._lock = threading.Lock()

    # --- loop --------------------------------------------------------------------------
    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                self.tick()
            except Exception:  # keep going: the next tick retries
                log.exception("scheduler tick failed")
            self.stop_event.wait(self.tick_seconds)

    def tick(self) -> int:
        """One pass: refresh the schedules, fire those due and those asked for. Returns firings."""
        with self._lock:
            now = self.now()
            self._refresh(now)
            fired = 0
            for tracked in self.tracked.values():
                if tracked.next_fire is not None and tracked.next_fire <= now:
                    self._fire(tracked.definition, tracked.next_fire)
                    fired += 1
                    # Missed occurrences (the laptop slept) are not caught up: next after now.
                    tracked.next_fire = next_fire_time(tracked.definition, max(now, tracked.next_fire))
            fired += self._fire_requested(now)
            return fired

    def _refresh(self, now: datetime) -> None:
        seen: set[tuple[str, str]] = set()
        changed = False
        for summary in self._list():
            key = (summary["GroupName"], summary["Name"])
            seen.add(key)
            if summary.get("State", "ENABLED") != "ENABLED":
                continue
            known = self.tracked.get(key)
            if known is not None and known.modified == summary.get("LastModificationDate"):
                continue
            definition = self.scheduler.get_schedule(Name=key[1], GroupName=key[0])
            definition.pop("ResponseMetadata", None)
            self.tracked[key] = _Tracked(
                summary.get("LastModificationDate"), definition, next_fire_time(definition, now)
            )
            changed = True
        for key in set(self.tracked) - seen:
            del self.tracked[key]
            changed = True
        if changed:
            self._save()

    def _list(self) -> list[dict[str, Any]]:
        summaries, token = [], None
        while True:
            response = self.scheduler.list_schedules(**({"NextToken": token} if token else {}))
            summaries.extend(response.get("Schedules", []))
            token = response.get("NextToken")
            if not token:
                return summaries

    # --- firing ------------------------------------------------------------------------
    def fire_now(self, name: str, group: str | None = None) -> bool:
        """Fire a schedule at once (scheduled time = now); False when there is none."""
        with self._lock:
            return self._fire_by_name(name, group, self.now())

    def _fire_by_name(self, name: str, group: str | None, now: datetime) -> bool:
        self._refresh(now)
        for (group_name, schedule_name), tracked in self.tracked.items():
            if schedule_name == name and (group is None or group_name == group):
                self._fire(tracked.definition, now)
                return True
        return False

    def _fire_requested(self, now: datetime) -> int:
        folder = self.state_dir / "scheduler" / "fire" if self.state_dir else None
        if folder is None or not folder.is_dir():
            return 0
        fired = 0
        for request in sorted(folder.iterdir()):
            group = request.read_text().strip() or None
            request.unlink(missing_ok=True)
            if self._fire_by_name(request.name, group, now):
                fired += 1
            else:
                log.warning("fire request for unknown schedule %s", request.name)
        return fired

    def _fire(self, definition: dict[str, Any], scheduled: datetime) -> None:
        target = definition["Target"]
        payload_text = _with_context(target.get("Input") or "{}", definition, scheduled)
        try:
            payload: Any = json.loads(payload_text)
        except json.JSONDecodeError:
            payload = payload_text
        record: dict[str, Any] = {
            "name": definition["Name"],
            "group": definition.get("GroupName"),
            "scheduled_time": scheduled,
            "payload": payload,
            "result": None,
        }
        self.fired.append(record)

        def invoke() -> None:
            for attempt in range(1, ASYNC_ATTEMPTS + 1):
                try:
                    result = self.runner.invoke(target["Arn"], payload)
                except KeyError:
                    log.error(
                        "schedule %s targets %s, which is not a local function", definition["Name"], target["Arn"]
                    )
                    return
                record["result"] = result.payload
                if not result.errored:
                    return
                log.warning("schedule %s: target failed (attempt %d): %s", definition["Name"], attempt, result.payload)
                if self.stop_event.wait(RETRY_DELAY_SECONDS):
                    return

        threading.Thread(target=invoke, name=f"schedule-{definition['Name']}", daemon=True).start()

    # --- durability --------------------------------------------------------------------
    def _state_file(self) -> Path | None:
        return self.state_dir / "scheduler" / "schedules.json" if self.state_dir else None

    def _save(self) -> None:
        path = self._state_file()
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        kept = (
            "Name",
            "GroupName",
            "Description",
            "ScheduleExpression",
            "ScheduleExpressionTimezone",
            "FlexibleTimeWindow",
            "Target",
            "State",
        )
        saved = [{k: t.definition[k] for k in kept if t.definition.get(k) is not None} for t in self.tracked.values()]
        path.write_text(json.dumps(saved, indent=1, default=str))

    def restore(self) -> int:
        """Re-create the saved schedules missing from moto (moto starts empty). Returns the count."""
        path = self._state_file()
        if path is None or not path.exists():
            return 0
        restored = 0
        for definition in json.loads(path.read_text()):
            try:
                self.scheduler.get_schedule(Name=definition["Name"], GroupName=definition["GroupName"])
                continue
            except Exception:  # not there: re-create it below
                pass
            try:
                self.scheduler.create_schedule(**definition)
                restored += 1
            except Exception:
                log.exception("could not restore schedule %s", definition.get("Name"))
        return restored


def next_fire_time(definition: dict[str, Any], after: datetime) -> datetime | None:
    """The first fire time strictly after `after` (UTC), None if there is none or the
    expression is not supported locally."""
    expression = definition.get("ScheduleExpression", "").strip()
    zone = ZoneInfo(definition.get("ScheduleExpressionTimezone") or "UTC")
    try:
        if expression.startswith("cron("):
            from stratus.library.cron import parse_aws

            upcoming = parse_aws(expression).next_after(after, zone)
            return upcoming.astimezone(UTC) if upcoming else None
        if expression.startswith("at("):
            moment = datetime.fromisoformat(expression[3:-1]).replace(tzinfo=zone).astimezone(UTC)
            return moment if moment > after else None
        found = _RATE.fullmatch(expression)
        if found:
            return after + timedelta(seconds=int(found[1]) * _UNITS[found[2]])
    except ValueError as error:
        log.warning("schedule %s: %s", definition.get("Name"), error)
        return None
    log.warning("schedule %s: expression %r is not supported locally", definition.get("Name"), expression)
    return None


def _with_context(text: str, definition: dict[str, Any], scheduled: datetime) -> str:
    """EventBridge Scheduler's context attributes in the target input."""
    values = {
        "schedule-arn": definition.get("Arn", ""),
        "scheduled-time": scheduled.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "execution-id": uuid.uuid4().hex[:16],
        "attempt-number": "1",
    }
    for name, value in values.items():
        text = text.replace(f"<aws.scheduler.{name}>", value)
    return text
