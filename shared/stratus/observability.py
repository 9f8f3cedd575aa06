"""Powertools Logger, Tracer and Metrics shared by every handler in a container."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()

# Most requests publish no business metric; Powertools warns about that on every flush.
import warnings  # noqa: E402

warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
