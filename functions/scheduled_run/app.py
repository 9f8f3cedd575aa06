"""ScheduledRunFunction: EventBridge Scheduler's target; starts the schedule's graph execution."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from stratus.observability import observed


@observed("schedule_id")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from stratus.library import schedules

    return schedules.run_scheduled(event)
