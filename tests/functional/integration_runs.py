"""Running integration blocks through the product in functional tests: the blocks API
(GraphsFunction → BlockIntegrationsFunction, moto's Lambda invoke routed in-process) and graph
executions (the real ASL on moto), with every outside service on its loopback fake
(localcloud.fakes, the session's `service_fakes`) and credentials created through the API.

    from tests.functional.integration_runs import integrations_api, run_block, api_key_credentials  # noqa: F401
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.functional.test_state_machine import sfn_api  # noqa: F401 - the fixture


@pytest.fixture()
def integrations_api(sfn_api, service_fakes):  # noqa: F811
    """The API with the state machine on, the fakes reset and the user `alice` signed up."""
    service_fakes.reset()
    sfn_api.request("POST", "/api/auth/user", user="alice")
    return sfn_api


def api_key_credentials(api: Any, provider: str, api_key: str, user: str = "alice") -> dict[str, Any]:
    """Stored API-key credentials, as a node's `credentials` input {id, provider, type, title}."""
    body = {"type": "api_key", "title": f"My {provider} key", "api_key": api_key}
    status, created = api.request("POST", f"/api/integrations/{provider}/credentials", user=user, json_body=body)
    assert status == 201, created
    return {key: created[key] for key in ("id", "provider", "type", "title")}


def run_block(api: Any, block_id: str, inputs: dict[str, Any], user: str = "alice") -> tuple[int, Any]:
    """One run of a block through the blocks API: (status, {pin: [values]})."""
    return api.request("POST", f"/api/blocks/{block_id}/execute", user=user, json_body=inputs)


def block_function_runs(api: Any) -> int:
    return sum(1 for name, _, _ in api.runner.invocations if name == "BlockIntegrationsFunction")
