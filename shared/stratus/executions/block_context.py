"""What a node execution's block gets besides its inputs, and what its run costs afterwards.

One place for the orchestrator's inline runs and the block Lambdas (block_runner):

* `block_kwargs`: user_id, graph_exec_id, graph_id, node_exec_id, `record_usage` (a
  `UsageRecorder`), and for blocks with a `credentials` input the model endpoint:
  `llm_api_key` / `llm_base_url`.
* `run_block_node`: build those, run the block, settle its usage (TOKEN) or charge its
  after-run cost (SECOND) and return its outputs with its token stats.

Prepaid TOKEN costs: the caller charged the block's reservation before the run (the cost of
`block.token_limit(input)`, ledger key = the node execution id, or the blocks API's run key);
the run gets `token_limit` and caps every model call's max_tokens to stay within it, and
`settle_usage` then refunds the unused part (`<key>#settle`, REFUND) or, should the endpoint
have reported more than the bound, charges the excess up to what the balance holds.

Credentials resolution (AutoGPT's order): the node's own `credentials` input, then the
execution's `credentials_inputs` for that provider (given at execute), then the platform's
key (`OPENAI_API_KEY`, or the SSM SecureString named by `OPENAI_API_KEY_PARAM`), as AutoGPT
falls back to its system credentials.
The endpoint is `OPENAI_BASE_URL` (any OpenAI-compatible server). A credential that is not
the user's fails the node with a clear error; the Lambda itself succeeds.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from typing import Any

from stratus.blocks.costs import cost_after_run, matching_cost, prepaid_token_limit
from stratus.blocks.sdk import Block, BlockCostType
from stratus.engine.execute import run_node
from stratus.errors import InsufficientBalance, StratusError
from stratus.executions.block_services import block_services
from stratus.graphs.schemas import block_credentials_fields
from stratus.observability import logger

PLATFORM_KEY_ENV = "OPENAI_API_KEY"  # a key given directly (local runs, tests)...
PLATFORM_KEY_PARAM_ENV = "OPENAI_API_KEY_PARAM"  # ...wins over this SSM SecureString name (AWS)
PLATFORM_BASE_URL_ENV = "OPENAI_BASE_URL"
_PARTIAL_CHARGE_ATTEMPTS = 3


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


def effective_credentials(meta: dict[str, Any], block: Block, run_input: dict[str, Any]) -> dict[str, Any] | None:
    """The node's own `credentials`, else the execution's credentials_inputs for its provider."""
    own = run_input.get("credentials")
    if own:
        return own
    field = block_credentials_fields(block).get("credentials")
    assigned = (meta.get("credentials_inputs") or {}).get(field.key) if field else None
    return assigned or None


def platform_api_key() -> str | None:
    """The platform's own model key, or None when the deployment has none."""
    key = os.environ.get(PLATFORM_KEY_ENV)
    if key:
        return key
    name = os.environ.get(PLATFORM_KEY_PARAM_ENV)
    if not name:
        return None
    from aws_lambda_powertools.utilities import parameters  # lazy: SSM only in AWS-style config

    try:
        return parameters.get_parameter(name, decrypt=True, max_age=300) or None
    except parameters.exceptions.GetParameterError:
        logger.warning("No platform model key: the SSM parameter cannot be read", extra={"parameter": name})
        return None


def llm_kwargs(user_id: str, credentials: dict[str, Any] | None) -> dict[str, Any]:
    """The model endpoint of a block run: the user's stored key, else the platform's."""
    api_key = None
    if credentials:
        from stratus.integrations.credentials import resolve_api_key  # not every block group needs it

        try:
            api_key = resolve_api_key(user_id, credentials)
        except StratusError as exc:
            name = credentials.get("title") or credentials.get("id") if isinstance(credentials, dict) else None
            raise CredentialsUnavailable(f"Credentials {name!r} cannot be used: {exc.detail}") from exc
    return {"llm_api_key": api_key or platform_api_key(), "llm_base_url": os.environ.get(PLATFORM_BASE_URL_ENV) or None}


def block_kwargs(meta: dict[str, Any], node_exec_id: str, block: Block, run_input: dict[str, Any]) -> dict[str, Any]:
    """Every block's run kwargs. Raises CredentialsUnavailable for unusable credentials."""
    kwargs: dict[str, Any] = {
        "user_id": meta["user_id"],
        "graph_exec_id": meta.get("id"),
        "graph_id": meta.get("graph_id"),
        "node_exec_id": node_exec_id,
        "record_usage": UsageRecorder(),
        **block_services(meta["user_id"]),
    }
    if "credentials" in block.input_schema.model_fields:
        kwargs.update(llm_kwargs(meta["user_id"], effective_credentials(meta, block, run_input)))
    limit = prepaid_token_limit(block, cost_input(meta, block, run_input))
    if limit is not None:  # a prepaid run may not use more than its reservation covers
        kwargs["token_limit"] = limit
    return kwargs


def cost_input(meta: dict[str, Any], block: Block, run_input: dict[str, Any]) -> dict[str, Any]:
    """The input costs are matched on: with the credentials the run actually used ({} for
    the platform key), so per-model costs can apply to platform-key runs only."""
    if "credentials" not in block.input_schema.model_fields:
        return run_input
    return {**run_input, "credentials": effective_credentials(meta, block, run_input) or {}}


def charge_after_run(
    meta: dict[str, Any], node_exec_id: str, block: Block, data: dict[str, Any], seconds: float, tokens: int
) -> int:
    """Charge SECOND costs once per node execution (key `<node_exec_id>#usage`); TOKEN costs
    were reserved before the run and are settled instead (settle_usage). Returns the credits charged."""
    cost = matching_cost(block, data)
    if cost is not None and cost.cost_type is BlockCostType.TOKEN:
        return settle_usage(meta, node_exec_id, block, data, tokens)
    amount = cost_after_run(block, data, seconds, tokens)
    return (
        _charge_what_it_holds(meta, f"{node_exec_id}#usage", node_exec_id, block, amount, {"tokens": tokens})
        if amount
        else 0
    )


def settle_usage(meta: dict[str, Any], key: str, block: Block, data: dict[str, Any], tokens: int) -> int:
    """Settle a prepaid TOKEN run against its reservation (ledger key `key`): refund what the
    usage did not need, or charge the excess up to the balance (`<key>#settle` either way, so a
    retried settle changes nothing). Returns the net change of the charge (negative: refunded)."""
    from stratus.users import credits

    user_id = meta["user_id"]
    reservation = credits.get_transaction(user_id, key)
    reserved = -reservation.amount if reservation else 0
    due = cost_after_run(block, data, 0.0, tokens) - reserved
    details = {"tokens": tokens, "reserved": reserved}
    if due < 0:
        credits.record(
            user_id,
            credits.TransactionType.REFUND,
            -due,
            f"{key}#settle",
            description=f"Block {block.name} unused reservation",
            metadata=_metadata(meta, key, block, details),
        )
        return due
    return _charge_what_it_holds(meta, f"{key}#settle", key, block, due, details) if due else 0


def refund_reservation(meta: dict[str, Any], key: str, block: Block, data: dict[str, Any]) -> None:
    """A prepaid run that will not happen (its graph failed or stopped first) gets its reservation back."""
    cost = matching_cost(block, data)
    if cost is not None and cost.cost_type is BlockCostType.TOKEN:
        settle_usage(meta, key, block, data, 0)


def _metadata(meta: dict[str, Any], node_exec_id: str, block: Block, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "graph_exec_id": meta.get("id"),
        "graph_id": meta.get("graph_id"),
        "node_exec_id": node_exec_id,
        "block_id": block.id,
        **extra,
    }


def _charge_what_it_holds(
    meta: dict[str, Any], key: str, node_exec_id: str, block: Block, amount: int, extra: dict[str, Any]
) -> int:
    """The work is done, so a short balance is charged what it holds (never below zero) and the
    rest recorded as `uncharged` in the ledger entry's metadata."""
    from stratus.users import credits  # the users table is needed only when something is due

    user_id, charged = meta["user_id"], amount
    for _ in range(_PARTIAL_CHARGE_ATTEMPTS):
        if charged <= 0:
            break
        try:
            credits.charge(
                user_id,
                charged,
                key,
                description=f"Block {block.name} usage",
                metadata=_metadata(meta, node_exec_id, block, {**extra, "uncharged": amount - charged}),
            )
            return charged
        except InsufficientBalance as exc:
            charged = min(amount, exc.balance)
    logger.warning("Usage not charged: balance exhausted", extra={"node_exec_id": node_exec_id, "amount": amount})
    return 0


@dataclass
class NodeRun:
    outputs: list[tuple[str, Any]]
    failed: bool
    stats: dict[str, int] | None  # NodeExecutionStats fields, None without model calls


def run_block_node(meta: dict[str, Any], node_exec_id: str, block: Block, run_input: dict[str, Any]) -> NodeRun:
    """Run one node execution's block with its context; charge what it cost after the fact."""
    try:
        kwargs = block_kwargs(meta, node_exec_id, block, run_input)
    except CredentialsUnavailable as exc:
        return NodeRun([("error", str(exc))], True, None)
    started = time.monotonic()
    usage: UsageRecorder = kwargs["record_usage"]
    try:
        outputs, failed = asyncio.run(run_node(block, run_input, **kwargs))
    finally:  # a failed run settles too: its reservation is not kept beyond its usage
        charge_after_run(
            meta,
            node_exec_id,
            block,
            cost_input(meta, block, run_input),
            time.monotonic() - started,
            usage.total_tokens,
        )
    return NodeRun(outputs, failed, usage.stats())
