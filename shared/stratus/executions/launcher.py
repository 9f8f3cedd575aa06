"""Start a graph execution: validate (by its flow), check credits, record it with its first node
executions, start the state machine."""

from __future__ import annotations

import json
import uuid
from typing import Any

from stratus.aws import client
from stratus.clock import now_iso
from stratus.config import StateMachineSettings, get_settings
from stratus.db import executions_table as table
from stratus.db.dynamo import TransactionCancelled
from stratus.engine.dataflow import EngineState
from stratus.engine.models import ExecutionStatus
from stratus.errors import BadRequest, InsufficientBalance
from stratus.executions import flows, idempotency, values
from stratus.executions.ids import idempotent_execution_id
from stratus.executions.models import GraphExecution
from stratus.executions.state import node_attributes
from stratus.graphs import service as graphs
from stratus.graphs.models import Graph
from stratus.graphs.schemas import coerce_inputs
from stratus.payload_limits import check_structure
from stratus.users import credits


def checked_credentials_inputs(
    user_id: str, schema: dict[str, Any], credentials_inputs: dict[str, Any] | None
) -> dict[str, dict[str, Any]]:
    """AutoGPT's execute-time `credentials_inputs` {graph credentials field: {id, provider, type,
    title}}, checked against the graph's credentials_input_schema and the user's stored
    credentials (another user's id is a 404). Nodes without credentials of their own use them."""
    from stratus.integrations.credentials import get_credentials  # only graphs with credentials need it

    fields = schema.get("properties") or {}
    checked: dict[str, dict[str, Any]] = {}
    for name, value in (credentials_inputs or {}).items():
        if name not in fields:
            raise BadRequest(
                f"Unknown credentials input {name!r}; this graph takes {sorted(fields) or 'no credentials'}."
            )
        if not isinstance(value, dict) or not isinstance(value.get("id"), str) or not value["id"]:
            raise BadRequest(f"Credentials input {name!r} needs {{id, provider, type, title}} of stored credentials.")
        providers = fields[name].get("credentials_provider") or []
        provider = value.get("provider") or (providers[0] if providers else "")
        if providers and provider not in providers:
            raise BadRequest(f"Credentials input {name!r} takes {providers} credentials, not {provider!r}.")
        stored = get_credentials(user_id, provider, value["id"])
        checked[name] = {"id": stored.id, "provider": stored.provider, "type": stored.type, "title": stored.title}
    return checked


def execution_from_item(item: dict[str, Any]) -> GraphExecution:
    return GraphExecution.model_validate({**item, "inputs": values.resolve_map(item.get("inputs") or {})})


def start_execution(
    user_id: str,
    graph_id: str,
    version: int | None,
    inputs: dict[str, Any],
    preset_id: str | None = None,
    idempotency_key: str | None = None,
    extra_meta: dict[str, Any] | None = None,
    credentials_inputs: dict[str, Any] | None = None,
    inherited_credentials: dict[str, Any] | None = None,
) -> GraphExecution:
    """`extra_meta`: more attributes for the META item (a sub-agent's parent and depth).
    `credentials_inputs`: AutoGPT's execute-time credentials (see checked_credentials_inputs).
    `inherited_credentials`: a sub-agent's parent's credentials_inputs; those this graph takes
    (same key) are its credentials_inputs, checked again as the user's own.
    `idempotency_key`: the same key and request give the first execution; another request is a 422."""
    check_structure(inputs, "inputs")  # before any recursive code or write sees them
    check_structure(credentials_inputs or {}, "credentials_inputs")
    request = (
        idempotency.graph_request(graph_id, version, inputs, credentials_inputs, preset_id) if idempotency_key else None
    )
    if request is not None and idempotency_key and (bound := idempotency.check(user_id, idempotency_key, request)):
        first = table.get_meta(bound)
        if first is not None:  # a retry: the first execution, even if it could not start now
            return execution_from_item(first)
    model = graphs.get_graph(user_id, graph_id, version)
    graph = Graph.model_validate(model.model_dump())
    inputs = coerce_inputs(graph, inputs)
    flow = flows.validate(model, graph, inputs)  # AutoGPT dataflow, or MAG levels (kind "mag")
    if inherited_credentials:
        taken = model.credentials_input_schema.get("properties") or {}
        inherited = {key: value for key, value in inherited_credentials.items() if key in taken}
        credentials_inputs = {**inherited, **(credentials_inputs or {})}
    credentials = (
        checked_credentials_inputs(user_id, model.credentials_input_schema, credentials_inputs)
        if credentials_inputs
        else {}
    )
    balance = credits.get_balance(user_id)
    if balance <= 0:
        raise InsufficientBalance(balance, 1)
    # The same Idempotency-Key always names the same execution: a retry finds it.
    graph_exec_id = idempotent_execution_id(user_id, idempotency_key) if idempotency_key else str(uuid.uuid4())
    created_at = now_iso()
    item = {
        "kind": "graph",
        "id": graph_exec_id,
        "user_id": user_id,
        "graph_id": graph_id,
        "graph_version": model.version,
        "status": ExecutionStatus.QUEUED.value,
        # Large inputs by reference; a fresh prefix, so a retry never rewrites the first start's objects.
        "inputs": values.store_fitting(inputs, f"{graph_exec_id}/inputs/{uuid.uuid4().hex}"),
        "outputs": {},
        "stats": {},
        "preset_id": preset_id,
        "created_at": created_at,
        **(extra_meta or {}),
        "credentials_inputs": credentials or None,  # ids only: the keys are resolved at run time
    }
    # The first node executions are written with the record (as AutoGPT does), so progress
    # shows at once; the state machine's Start step finds them and goes on from there.
    state = EngineState(graph_exec_id, graph, now=now_iso)
    flow.start(state, inputs)
    if request is not None and idempotency_key:
        idempotency.bind(user_id, idempotency_key, request, graph_exec_id)
        item["request_hashes"] = idempotency.request_hashes(request)
    first_nodes = [node_attributes(user_id, e) for e in state.take_changes()[0]]
    try:
        table.create_execution(item, first_nodes)
    except TransactionCancelled:
        existing = table.get_meta(graph_exec_id)
        if existing is None:
            raise
        if request is not None and idempotency_key:
            idempotency.check_execution(idempotency_key, existing, request)
        if existing["status"] == ExecutionStatus.QUEUED.value:
            # A retry after a crash between the record and the start: starting again is safe
            # (same name, same input), and an execution is never left QUEUED forever.
            _start_state_machine(graph_exec_id)
        return execution_from_item(existing)
    _start_state_machine(graph_exec_id)
    if model.user_id != user_id:  # another user's graph can only be a store agent
        from stratus.store.access import record_run

        record_run(graph_id, model.version)
    return GraphExecution.model_validate({**item, "inputs": inputs})


def _start_state_machine(graph_exec_id: str) -> None:
    state_machine_arn = get_settings(StateMachineSettings).graph_execution_state_machine_arn
    sfn = client("stepfunctions")
    try:
        sfn.start_execution(
            stateMachineArn=state_machine_arn, name=graph_exec_id, input=json.dumps({"graph_exec_id": graph_exec_id})
        )
    except sfn.exceptions.ExecutionAlreadyExists:
        pass  # the same name and input: a retry of a start that went through
