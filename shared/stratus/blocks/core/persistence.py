"""AutoGPT's PersistInformationBlock / RetrieveInformationBlock: a per-user key-value store that
outlives the run.

A key is the user's, scoped like AutoGPT's `get_storage_key`: `within_agent` keys are
`agent#<graph_id>#<key>` (every run of this graph), `across_agents` keys `global#<key>` (every
graph of this user). The data lives in the users table (stratus.db.users_table, `KV#<key>`),
reached through the run's `kv_store` service (stratus.blocks.services.KeyValueStore): blocks do
not touch the database themselves.

As in AutoGPT, a stored value that is empty or falsy (None, 0, "", [], {}, False) reads back as
"nothing": Persist yields None for it, and Retrieve yields its `default_value`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from stratus.blocks.sdk import Block, BlockCategory, BlockOutput, BlockSchema, BlockSchemaOutput
from stratus.blocks.services import KV_STORE, KeyValueStore

StorageScope = Literal["within_agent", "across_agents"]

_SCOPE_DESCRIPTION = (
    "Scope of persistence: 'within_agent' — shared across all runs of this agent; "
    "'across_agents' — shared across all agents for this user"
)


def get_storage_key(key: str, scope: StorageScope, graph_id: str | None) -> str:
    """The user's key for `key` in `scope` (AutoGPT's scheme)."""
    if scope == "across_agents":
        return f"global#{key}"
    return f"agent#{graph_id}#{key}"


def _store(kwargs: dict[str, Any]) -> KeyValueStore:
    store = kwargs.get(KV_STORE)
    if store is None:
        raise RuntimeError("No key-value store in this run: persisted information needs a user.")
    return store


class PersistInformationBlock(Block):
    id = "1d055e55-a2b9-4547-8311-907d05b0304d"
    description = (
        "Saves a key-value pair that persists across multiple runs. Use to store state, counters, or memory "
        "that must survive between executions. Pair with RetrieveInformationBlock to read the value back in a "
        "later run. For temporary within-run value passing, use StoreValueBlock instead."
    )
    categories = {BlockCategory.DATA}

    class Input(BlockSchema):
        key: str = Field(description="Key to store the information under")
        value: Any = Field(description="Value to store")
        scope: StorageScope = Field(default="within_agent", description=_SCOPE_DESCRIPTION)

    class Output(BlockSchemaOutput):
        value: Any = Field(description="Value that was stored")

    input_schema, output_schema = Input, Output
    test_input = {"key": "user_preference", "value": {"theme": "dark", "language": "en"}, "scope": "within_agent"}
    test_output = [("value", {"theme": "dark", "language": "en"})]
    test_mock = {"_store_data": lambda *args, **kwargs: {"theme": "dark", "language": "en"}}

    async def run(self, input_data: Any, **kwargs: Any) -> BlockOutput:
        storage_key = get_storage_key(input_data.key, input_data.scope, kwargs.get("graph_id"))
        yield (
            "value",
            await self._store_data(
                kwargs, node_exec_id=kwargs.get("node_exec_id") or "", key=storage_key, data=input_data.value
            ),
        )

    async def _store_data(self, kwargs: dict[str, Any], node_exec_id: str, key: str, data: Any) -> Any:
        stored = _store(kwargs).put(key, data, node_exec_id)
        return stored if stored else None


class RetrieveInformationBlock(Block):
    id = "d8710fc9-6e29-481e-a7d5-165eb16f8471"
    description = (
        "Reads back a key-value pair previously saved by PersistInformationBlock. Returns data that persists "
        "across runs. Use with PersistInformationBlock to build durable memory, counters, or state. Does NOT "
        "retrieve values from StoreValueBlock (those are ephemeral, within-run only)."
    )
    categories = {BlockCategory.DATA}
    static_output = True

    class Input(BlockSchema):
        key: str = Field(description="Key to retrieve the information for")
        scope: StorageScope = Field(default="within_agent", description=_SCOPE_DESCRIPTION)
        default_value: Any = Field(default=None, description="Default value to return if key is not found")

    class Output(BlockSchemaOutput):
        value: Any = Field(description="Retrieved value or default value")

    input_schema, output_schema = Input, Output
    test_input = {
        "key": "user_preference",
        "scope": "within_agent",
        "default_value": {"theme": "light", "language": "en"},
    }
    test_output = [("value", {"theme": "light", "language": "en"})]
    test_mock = {"_retrieve_data": lambda *args, **kwargs: None}

    async def run(self, input_data: Any, **kwargs: Any) -> BlockOutput:
        storage_key = get_storage_key(input_data.key, input_data.scope, kwargs.get("graph_id"))
        stored = await self._retrieve_data(kwargs, key=storage_key)
        yield "value", stored if stored else input_data.default_value

    async def _retrieve_data(self, kwargs: dict[str, Any], key: str) -> Any:
        return _store(kwargs).get(key)
