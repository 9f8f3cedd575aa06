"""DynamoDB stream of the ExecutionsTable → AutoGPT graph/node execution events to subscribers."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from stratus.config import NotifierSettings, require
from stratus.observability import metrics, observed
from stratus.realtime.notifier import notify

require(NotifierSettings)  # cold start: fails here, naming any missing or invalid variable


@observed("Records[0].eventID")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    delivery = notify(event.get("Records") or [])
    metrics.add_metric(name="ExecutionEventsSent", unit="Count", value=delivery.sent)
    if delivery.gone:
        metrics.add_metric(name="WebSocketConnectionsGone", unit="Count", value=delivery.gone)
    if delivery.failed:
        metrics.add_metric(name="ExecutionEventsFailed", unit="Count", value=delivery.failed)
    # Lambda ignores a stream handler's result; this summary is for `make invoke` and logs.
    return {"events": delivery.events, "sent": delivery.sent, "gone": delivery.gone, "failed": delivery.failed}
