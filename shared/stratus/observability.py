"""Powertools Logger, Tracer and Metrics shared by every handler in a container."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
