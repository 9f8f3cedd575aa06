"""Every events/*.json runs through its function's handler on moto and succeeds."""

from __future__ import annotations

import json

from localcloud.sample_events import EVENTS_DIR, http_samples
from localcloud.settings import DEFAULT_JWT_SECRET
from stratus.config import get_settings


def test_every_function_has_a_sample_event(stack):
    routed = set()
    router_functions = {function for _, _, function in stack.http_routes()}
    for name in http_samples():
        event = json.loads((EVENTS_DIR / f"{name}.json").read_text())
        routed.add(_function_for(stack, event))
    assert router_functions <= routed


def _function_for(stack, event) -> str:
    from localcloud.apigw import HttpRouter

    matched = HttpRouter(stack.http_routes()).match(event["requestContext"]["http"]["method"], event["rawPath"])
    assert matched, event["rawPath"]
    return matched[1]


def test_sample_http_events_succeed_in_order(api, stack, monkeypatch):
    monkeypatch.setenv("JWT_VERIFY_KEY", DEFAULT_JWT_SECRET)
    get_settings.cache_clear()
    try:
        for name in http_samples():
            event = json.loads((EVENTS_DIR / f"{name}.json").read_text())
            result = api.runner.invoke(_function_for(stack, event), event)
            assert not result.errored, (name, result.payload)
            assert result.payload["statusCode"] == 200, (name, result.payload)
    finally:
        get_settings.cache_clear()
