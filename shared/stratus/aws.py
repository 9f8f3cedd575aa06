"""boto3 clients, created once per container and shared by every module.

Endpoints and credentials come from the environment only (boto3 honours
AWS_ENDPOINT_URL), so the same code talks to AWS or to the local cloud.
"""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def client(service: str, endpoint_url: str | None = None) -> Any:
    import boto3  # lazy: keeps import-time cost off functions that never call AWS
    from botocore.config import Config

    config = Config(retries={"max_attempts": 5, "mode": "standard"})
    return boto3.session.Session().client(service, endpoint_url=endpoint_url, config=config)
