"""What a node execution's run costs: the input costs are matched on, and the charges after
the run (stratus.executions.node_runner runs the block; the orchestrator charges before it).

Prepaid TOKEN costs: the caller charged the block's reservation before the run (the cost of
`block.token_limit(input)`, ledger key = the node execution id, or the blocks API's run key);
the run gets `token_limit` and caps every model call's max_tokens to stay within it, and
`settle_usage` then refunds the unused part (`<key>#settle`, REFUND) or, should the endpoint
have reported more than the bound, charges the excess up to what the balance holds. SECOND
costs are charged after the run once per node execution (`<node_exec_id>#usage`). The ledger
keys are stratus.db.users_table's (`settle_ledger_key`, `usage_ledger_key`).

Credentials resolution (AutoGPT's order), which per-model costs depend on: the execution's
`credentials_inputs` for the node's provider (given at execute), then the node's own
`credentials` input, then the platform's key of that provider (`effective_credentials`).
"""

from __future__ import annotations

from typing import Any

from stratus.blocks.costs import cost_after_run, matching_cost
from stratus.blocks.sdk import Block, BlockCostType
from stratus.errors import InsufficientBalance
from stratus.executions.models import RunContext
from stratus.graphs.schemas import block_credentials_fields
from stratus.observability import logger

_PARTIAL_CHARGE_ATTEMPTS = 3


def effective_credentials(run: RunContext, block: Block, run_input: dict[str, Any]) -> dict[str, Any] | None:
    """The credentials a node execution runs with, as AutoGPT resolves them: the execution's
    credentials_inputs for the node's (model's) provider, else the node's own `credentials`,
    each only when usable (the user's, of that provider: stratus.integrations.credentials.
    usable_credentials); None: the platform's key of the provider."""
    field = block_credentials_fields(block, run_input).get("credentials")
    candidates = [run.credentials_inputs.get(field.key) if field else None, run_input.get("credentials")]
    if not any(isinstance(c, dict) and c.get("id") for c in candidates):
        return None
    from stratus.integrations.credentials import usable_credentials  # only nodes with credentials need it

    for candidate in candidates:
        usable = usable_credentials(run.user_id, candidate, field.providers if field else [])
        if usable is not None:
            return usable
    return None


def cost_input(run: RunContext, block: Block, run_input: dict[str, Any]) -> dict[str, Any]:
    """The input costs are matched on: with the credentials the run actually used ({} for
    the platform key), so per-model costs can apply to platform-key runs only."""
    if "credentials" not in block.input_schema.model_fields:
        return run_input
    return {**run_input, "credentials": effective_credentials(run, block, run_input) or {}}


def charge_after_run(
    run: RunContext, node_exec_id: str, block: Block, data: dict[str, Any], seconds: float, tokens: int
) -> int:
    """Charge SECOND costs once per node execution (key `<node_exec_id>#usage`); TOKEN costs
    were reserved before the run and are settled instead (settle_usage). Returns the credits charged."""
    cost = matching_cost(block, data)
    if cost is not None and cost.cost_type is BlockCostType.TOKEN:
        return settle_usage(run, node_exec_id, block, data, tokens)
    amount = cost_after_run(block, data, seconds, tokens)
    if not amount:
        return 0
    from stratus.db.users_table import usage_ledger_key  # the users table only when something is due

    return _charge_what_it_holds(run, usage_ledger_key(node_exec_id), node_exec_id, block, amount, {"tokens": tokens})


def settle_usage(run: RunContext, key: str, block: Block, data: dict[str, Any], tokens: int) -> int:
    """Settle a prepaid TOKEN run against its reservation (ledger key `key`): refund what the
    usage did not need, or charge the excess up to the balance (`<key>#settle` either way, so a
    retried settle changes nothing). Returns the net change of the charge (negative: refunded)."""
    from stratus.db.users_table import settle_ledger_key
    from stratus.users import credits

    reservation = credits.get_transaction(run.user_id, key)
    reserved = -reservation.amount if reservation else 0
    due = cost_after_run(block, data, 0.0, tokens) - reserved
    details = {"tokens": tokens, "reserved": reserved}
    if due < 0:
        credits.record(
            run.user_id,
            credits.TransactionType.REFUND,
            -due,
            settle_ledger_key(key),
            description=f"Block {block.name} unused reservation",
            metadata=_metadata(run, key, block, details),
        )
        return due
    return _charge_what_it_holds(run, settle_ledger_key(key), key, block, due, details) if due else 0


def refund_reservation(run: RunContext, key: str, block: Block, data: dict[str, Any]) -> None:
    """A prepaid run that will not happen (its graph failed or stopped first) gets its reservation back."""
    cost = matching_cost(block, data)
    if cost is not None and cost.cost_type is BlockCostType.TOKEN:
        settle_usage(run, key, block, data, 0)


def _metadata(run: RunContext, node_exec_id: str, block: Block, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "graph_exec_id": run.graph_exec_id,
        "graph_id": run.graph_id,
        "node_exec_id": node_exec_id,
        "block_id": block.id,
        **extra,
    }


def _charge_what_it_holds(
    run: RunContext, key: str, node_exec_id: str, block: Block, amount: int, extra: dict[str, Any]
) -> int:
    """The work is done, so a short balance is charged what it holds (never below zero) and the
    rest recorded as `uncharged` in the ledger entry's metadata."""
    from stratus.users import credits  # the users table is needed only when something is due

    charged = amount
    for _ in range(_PARTIAL_CHARGE_ATTEMPTS):
        if charged <= 0:
            break
        try:
            credits.charge(
                run.user_id,
                charged,
                key,
                description=f"Block {block.name} usage",
                metadata=_metadata(run, node_exec_id, block, {**extra, "uncharged": amount - charged}),
            )
            return charged
        except InsufficientBalance as exc:
            charged = min(amount, exc.balance)
    logger.warning("Usage not charged: balance exhausted", extra={"node_exec_id": node_exec_id, "amount": amount})
    return 0
