"""ScheduledRunFunction: EventBridge Scheduler's target; starts the schedule's graph execution."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from stratus.config import ScheduledRunSettings, require
from stratus.observability import observed

require(ScheduledRunSettings)  # cold start: fails here, naming any missing or invalid variable


@observed("schedule_id")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from stratus.library import schedules

    return schedules.run_scheduled(event)
