"""Every function has sample events, and each of them runs through its handler on moto."""

from __future__ import annotations

import json

from localcloud.sample_events import EVENTS_DIR, all_samples
from localcloud.settings import DEFAULT_JWT_SECRET


def test_every_function_has_a_sample_event(stack):
    covered = {function for function, _ in all_samples(stack.http_routes()).values()}
    assert covered == set(stack.functions())


def test_committed_events_match_the_generator(stack):
    for name, (_, event) in all_samples(stack.http_routes()).items():
        stored = json.loads((EVENTS_DIR / f"{name}.json").read_text())
        if "requestContext" in event:  # API Gateway events: tokens and ids change on each run
            assert stored["requestContext"]["routeKey"] == event["requestContext"]["routeKey"], name
        else:  # stream and EventBridge samples are deterministic
            assert stored == event, name


def test_sample_events_succeed_in_order(api, stack, monkeypatch, management):
    monkeypatch.setenv("JWT_VERIFY_KEY", DEFAULT_JWT_SECRET)
    for name, (function, _) in all_samples(stack.http_routes()).items():
        event = json.loads((EVENTS_DIR / f"{name}.json").read_text())
        result = api.runner.invoke(function, event)
        assert not result.errored, (name, result.payload)
        if "requestContext" in event:  # only API Gateway events answer with a status code
            assert result.payload["statusCode"] == 200, (name, result.payload)
