"""Run one node execution's block with what it gets besides its inputs, then charge its run.

One place for the orchestrator's inline runs, the block Lambdas (block_runner) and one-off
block runs (direct_run):

* `block_kwargs`: user_id, graph_exec_id, graph_id, graph_version, node_id, node_exec_id,
  the services of stratus.blocks.services, `record_usage` (a `UsageRecorder`), and for
  blocks with a `credentials` input: AI blocks the key of the node's provider (`llm_api_key` /
  `llm_provider`; Replicate: `llm_base_url` too), other blocks `credentials` (an
  APIKeyCredentials / OAuth2Credentials of stratus.blocks.credentials, or None); a prepaid
  run's `token_limit`.
* `run_node`: the block's yields, and whether it failed.
* `run_block_node`: build those, run the block, settle its usage (TOKEN) or charge its
  after-run cost (SECOND) (stratus.executions.billing) and return its outputs with its token stats.

Credentials resolution (AutoGPT's order, stratus.executions.billing.effective_credentials):
the provider is the node's model's (AutoGPT's model table); the execution's
`credentials_inputs` for that provider (given at execute), else the node's own `credentials`
when they are the user's credentials of that provider, else the platform's key of that
provider (`<P>_API_KEY`, or the SSM SecureString named by `<P>_API_KEY_PARAM`), as AutoGPT
falls back to its system credentials. Credentials that are not the user's (an imported
graph's reference to its author's account, AutoGPT's system credentials) count as none. A
stored key is sent to its own provider only. Expired credentials fail the node with a clear
error; the Lambda itself succeeds.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from stratus.blocks.costs import prepaid_token_limit
from stratus.blocks.jsonable import to_json_value
from stratus.blocks.sdk import Block
from stratus.config import PlatformLlmSettings, get_settings
from stratus.errors import StratusError
from stratus.executions.billing import charge_after_run, cost_input, effective_credentials
from stratus.executions.block_services import block_services
from stratus.executions.models import RunContext
from stratus.observability import logger


class CredentialsUnavailable(ValueError):
    """The node's credentials cannot be used (missing, or another user's)."""


class UsageRecorder:
    """`record_usage(prompt_tokens, completion_tokens)`: one node execution's model usage."""

    def __init__(self) -> None:
        self.input_tokens = self.output_tokens = self.calls = 0

    def __call__(self, prompt_tokens: int, completion_tokens: int) -> None:
        self.input_tokens += max(int(prompt_tokens or 0), 0)
        self.output_tokens += max(int(completion_tokens or 0), 0)
        self.calls += 1

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def stats(self) -> dict[str, int] | None:
        """The node's `stats` (NodeExecutionStats), or None when no model was called."""
        if not self.calls:
            return None
        return {
            "input_token_count": self.input_tokens,
            "output_token_count": self.output_tokens,
            "llm_call_count": self.calls,
        }


def platform_api_key(provider: str = "openai") -> str | None:
    """The platform's own key of a model provider (`<P>_API_KEY`, else the SSM SecureString
    named by `<P>_API_KEY_PARAM`), or None when the deployment has none for it."""
    platform = get_settings(PlatformLlmSettings)
    direct = platform.api_key(provider)
    if direct:
        return direct
    name = platform.api_key_param(provider)
    if not name:
        return None
    from aws_lambda_powertools.utilities import parameters  # lazy: SSM only in AWS-style config

    try:
        return parameters.get_parameter(name, decrypt=True, max_age=300) or None
    except parameters.exceptions.GetParameterError:
        logger.warning(
            "No platform model key: the SSM parameter cannot be read", extra={"parameter": name, "provider": provider}
        )
        return None


def llm_kwargs(user_id: str, credentials: dict[str, Any] | None, provider: str = "openai") -> dict[str, Any]:
    """The key of a block run: the user's stored key (`credentials`, already known usable for
    `provider`: stratus.executions.billing.effective_credentials), else the platform's key of
    that provider. LLM providers' endpoints are the model client's (their configured base URL,
    or a node's own ollama_host); Replicate gets its base URL and its own platform key."""
    api_key = None
    if credentials:
        from stratus.integrations.credentials import resolve_api_key  # not every block group needs it

        try:
            api_key = resolve_api_key(user_id, credentials)
        except StratusError as exc:
            name = credentials.get("title") or credentials.get("id") if isinstance(credentials, dict) else None
            raise CredentialsUnavailable(f"Credentials {name!r} cannot be used: {exc.detail}") from exc
    if provider == "replicate":
        from stratus.config import ReplicateSettings

        replicate = get_settings(ReplicateSettings)
        return {"llm_api_key": api_key or replicate.replicate_api_key, "llm_base_url": replicate.replicate_base_url}
    return {"llm_api_key": api_key or platform_api_key(provider), "llm_provider": provider}


def platform_integration_key(provider: str) -> str | None:
    """The platform's key of an integration provider (stratus.config.IntegrationKeysSettings), or None."""
    from stratus.config import IntegrationKeysSettings

    direct = IntegrationKeysSettings.direct_key(provider)
    if direct:
        return direct
    prefix = get_settings(IntegrationKeysSettings).platform_keys_param_prefix
    if not prefix:
        return None
    from aws_lambda_powertools.utilities import parameters  # lazy: SSM only in AWS-style config

    try:
        return parameters.get_parameter(f"{prefix}{provider}", decrypt=True, max_age=300) or None
    except parameters.exceptions.GetParameterError:
        return None  # no platform key for this provider (a missing parameter is not an error)


def integration_credentials(user_id: str, credentials: dict[str, Any] | None, provider: str, field: Any) -> Any:
    """An integration block's `credentials` kwarg (stratus.blocks.credentials): the user's stored
    credentials opened (OAuth2: refreshed when due, and holding every scope the block needs), else
    the platform's key of the provider as AutoGPT's system credentials, else None."""
    from stratus.blocks.credentials import APIKeyCredentials, OAuth2Credentials
    from stratus.integrations.credentials import SYSTEM_CREDENTIALS, resolve_block_credentials

    if credentials:
        name = credentials.get("title") or credentials.get("id")
        try:
            resolved = resolve_block_credentials(user_id, credentials)
        except StratusError as exc:
            raise CredentialsUnavailable(f"Credentials {name!r} cannot be used: {exc.detail}") from exc
        missing = sorted(set(field.scopes if field else ()) - set(getattr(resolved, "scopes", ()) or ()))
        if isinstance(resolved, OAuth2Credentials) and missing:
            raise CredentialsUnavailable(
                f"Credentials {name!r} lack the scopes this block needs: {', '.join(missing)}; "
                "sign in again to grant them."
            )
        return resolved
    key = platform_integration_key(provider)
    if not key:
        return None
    system_id = next((cid for cid, p in SYSTEM_CREDENTIALS.items() if p == provider), f"platform-{provider}")
    return APIKeyCredentials(id=system_id, provider=provider, title=f"Use Credits for {provider}", api_key=key)


def block_kwargs(
    run: RunContext, node_exec_id: str, block: Block, run_input: dict[str, Any], node_id: str | None = None
) -> dict[str, Any]:
    """Every block's run kwargs. Raises CredentialsUnavailable for unusable credentials."""
    kwargs: dict[str, Any] = {
        "user_id": run.user_id,
        "graph_exec_id": run.graph_exec_id,
        "graph_id": run.graph_id,
        "graph_version": run.graph_version,
        "node_id": node_id,
        "node_exec_id": node_exec_id,
        "record_usage": UsageRecorder(),
        **block_services(run.user_id, run.graph_id, run.graph_version, node_id),
    }
    if "credentials" in block.input_schema.model_fields:
        from stratus.graphs.schemas import block_credentials_fields

        field = block_credentials_fields(block, run_input).get("credentials")  # narrowed by the node's model
        provider = field.providers[0] if field and len(field.providers) == 1 else "openai"
        credentials = effective_credentials(run, block, run_input)
        if block.group == "ai":
            kwargs.update(llm_kwargs(run.user_id, credentials, provider))
        else:
            kwargs["credentials"] = integration_credentials(run.user_id, credentials, provider, field)
    limit = prepaid_token_limit(block, cost_input(run, block, run_input))
    if limit is not None:  # a prepaid run may not use more than its reservation covers
        kwargs["token_limit"] = limit
    return kwargs


async def run_node(block: Block, input_data: dict[str, Any], **context: Any) -> tuple[list[tuple[str, Any]], bool]:
    """(yields, failed); every value as JSON (stratus.blocks.jsonable, AutoGPT's SafeJson). A
    block that raises fails with its message on the `error` pin, after whatever it yielded
    before raising (AutoGPT routes both)."""
    outputs: list[tuple[str, Any]] = []
    try:
        async for name, value in block.execute(block.convert_input(input_data), **context):
            outputs.append((name, to_json_value(value)))  # stored, routed and sent as JSON
    except Exception as exc:  # the node fails; the graph goes on
        message = str(exc) or type(exc).__name__
        outputs.append(("error", message))
        return outputs, True
    return outputs, any(name == "error" for name, _ in outputs)


@dataclass
class NodeRun:
    outputs: list[tuple[str, Any]]
    failed: bool
    stats: dict[str, int] | None  # NodeExecutionStats fields, None without model calls


def run_block_node(
    run: RunContext, node_exec_id: str, block: Block, run_input: dict[str, Any], node_id: str | None = None
) -> NodeRun:
    """Run one node execution's block with its context; charge what it cost after the fact."""
    try:
        kwargs = block_kwargs(run, node_exec_id, block, run_input, node_id)
    except CredentialsUnavailable as exc:
        return NodeRun([("error", str(exc))], True, None)
    started = time.monotonic()
    usage: UsageRecorder = kwargs["record_usage"]
    try:
        outputs, failed = asyncio.run(run_node(block, run_input, **kwargs))
    finally:  # a failed run settles too: its reservation is not kept beyond its usage
        charge_after_run(
            run,
            node_exec_id,
            block,
            cost_input(run, block, run_input),
            time.monotonic() - started,
            usage.total_tokens,
        )
    return NodeRun(outputs, failed, usage.stats())
