"""The GraphsTable repository: every key and every read and write of the table (docs/data-model.md).

One partition per graph: its versions (`V#000001`, …) and `ACTIVE`, a copy of the active
version that the owner index lists. A user's MAG partition holds the names of their MAG graphs
and their MCP server registry. Services pass version items as attributes (`id`, `version`,
`user_id`, …); this module adds the keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from stratus.config import TablesSettings, get_settings
from stratus.db.dynamo import Table, TransactionCancelled, key_of

_BY_OWNER_INDEX = "ByOwner"
_ACTIVE_SK = "ACTIVE"
_VERSION_PREFIX = "V#"
_MAG_NAME_PREFIX = "NAME#"
_MCP_SERVERS_SK = "MCP_SERVERS"
_IF_NEW = "attribute_not_exists(PK)"
_CONDITION_FAILED = "ConditionalCheckFailed"

# A created graph is two writes: its version and its active copy.
WRITES_PER_GRAPH = 2

# (graph_id, version); version None is the graph's active version.
GraphRef = tuple[str, int | None]


class MagNameTaken(Exception):
    """The user already has a MAG graph of that name."""


@lru_cache(maxsize=1)
def _table() -> Table:
    return Table(get_settings(TablesSettings).graphs_table)


def _graph_pk(graph_id: str) -> str:
    return f"GRAPH#{graph_id}"


def _version_sk(version: int) -> str:
    return f"{_VERSION_PREFIX}{version:06d}"


def _key(ref: GraphRef) -> dict[str, str]:
    graph_id, version = ref
    return key_of(_graph_pk(graph_id), _ACTIVE_SK if version is None else _version_sk(version))


def _owner_pk(user_id: str) -> str:
    return f"USER#{user_id}#GRAPHS"


def _mag_pk(user_id: str) -> str:
    return f"USER#{user_id}#MAG"


def _mag_name_key(user_id: str, name: str) -> dict[str, str]:
    return key_of(_mag_pk(user_id), f"{_MAG_NAME_PREFIX}{name}")


def _mcp_servers_key(user_id: str) -> dict[str, str]:
    return key_of(_mag_pk(user_id), _MCP_SERVERS_SK)


def _version_item(version: dict[str, Any]) -> dict[str, Any]:
    return {**version, **_key((version["id"], int(version["version"])))}


def _active_item(version: dict[str, Any], latest_version: int) -> dict[str, Any]:
    return {
        **version,
        **_key((version["id"], None)),
        "latest_version": latest_version,
        "GSI1PK": _owner_pk(version["user_id"]),
        "GSI1SK": version["id"],
    }


# --- reads ------------------------------------------------------------------------------------
def get_active(graph_id: str) -> dict[str, Any] | None:
    """The graph's ACTIVE item: the active version's attributes and `latest_version`."""
    return _table().get(_key((graph_id, None)), consistent=True)


def get_version_item(graph_id: str, version: int, consistent: bool = True) -> dict[str, Any] | None:
    """A stored version (immutable once written, so an eventually consistent read is fine
    for a version known to exist)."""
    return _table().get(_key((graph_id, version)), consistent=consistent)


def get_items(refs: Iterable[GraphRef]) -> dict[GraphRef, dict[str, Any]]:
    """The items of these versions that exist, by ref, in BatchGetItem requests (consistent)."""
    unique = list(dict.fromkeys(refs))
    keys = [_key(ref) for ref in unique]
    ref_of = {(key["PK"], key["SK"]): ref for key, ref in zip(keys, unique)}
    return {ref_of[(item["PK"], item["SK"])]: item for item in _table().batch_get(keys, consistent=True)}


def owned_actives(user_id: str) -> list[dict[str, Any]]:
    """The ACTIVE items of the user's graphs (the owner index holds meta attributes, no body)."""
    return _table().query_all("GSI1PK = :owner", {":owner": _owner_pk(user_id)}, index=_BY_OWNER_INDEX)


def graph_items(graph_id: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The graph's ACTIVE item and its version items (oldest first), all pages, consistent."""
    items = _table().query_all("PK = :pk", {":pk": _graph_pk(graph_id)}, consistent=True)
    active = next((item for item in items if item["SK"] == _ACTIVE_SK), None)
    return active, [item for item in items if item["SK"].startswith(_VERSION_PREFIX)]


# --- writes -----------------------------------------------------------------------------------
def create_graphs(versions: list[dict[str, Any]], mag_name: str | None = None) -> None:
    """Version 1 of each graph and its active copy in one transaction, each only if new; with
    `mag_name`, also the first graph's name item (MagNameTaken when the user has that name)."""
    table = _table()
    operations = [
        op
        for version in versions
        for op in (
            table.put_op(_version_item(version), condition=_IF_NEW),
            table.put_op(_active_item(version, 1), condition=_IF_NEW),
        )
    ]
    if mag_name is not None:
        first = versions[0]
        name_item = {
            **_mag_name_key(first["user_id"], mag_name),
            "name": mag_name,
            "created_at": first["created_at"],
            "graph_id": first["id"],
        }
        operations.append(table.put_op(name_item, condition=_IF_NEW))
    try:
        table.transact(operations)
    except TransactionCancelled as cancelled:
        name_taken = len(cancelled.codes) == len(operations) and cancelled.codes[-1] == _CONDITION_FAILED
        if mag_name is not None and name_taken:
            raise MagNameTaken(mag_name) from cancelled
        raise


def save_version(version: dict[str, Any], seen_latest: int, activate: bool) -> None:
    """Put a new version and move the graph's pointer to it, only if the graph's latest version
    is still `seen_latest` and its owner the version's: `activate` makes it the active copy,
    otherwise only `latest_version` moves. Raises TransactionCancelled when either fails."""
    table = _table()
    values = {":latest": seen_latest, ":me": version["user_id"]}
    condition = "latest_version = :latest AND user_id = :me"
    if activate:
        pointer = table.put_op(_active_item(version, version["version"]), condition=condition, values=values)
    else:
        pointer = table.update_op(
            _key((version["id"], None)),
            "SET latest_version = :next",
            values={**values, ":next": version["version"]},
            condition=condition,
        )
    table.transact([table.put_op(_version_item(version), condition=_IF_NEW), pointer])


def activate_version(version: dict[str, Any], seen_latest: int) -> None:
    """Copy a stored version to ACTIVE, only if the graph's owner and latest version are
    unchanged. Raises ConditionFailed otherwise."""
    _table().put(
        _active_item(version, seen_latest),
        condition="user_id = :me AND latest_version = :latest",
        values={":me": version["user_id"], ":latest": seen_latest},
    )


def delete_graph(graph_id: str, mag_name: tuple[str, str] | None = None) -> int:
    """Delete every item of the graph; returns how many versions it had. `mag_name` (user_id,
    name) is freed first, if it still names this graph, so a half-done delete leaves no
    dangling name."""
    table = _table()
    if mag_name is not None:
        try:
            table.transact(
                [table.delete_op(_mag_name_key(*mag_name), condition="graph_id = :id", values={":id": graph_id})]
            )
        except TransactionCancelled:
            pass  # the name already points elsewhere (or nowhere)
    active, versions = graph_items(graph_id)
    # ACTIVE first, then the versions: a reader never finds an active graph without its version.
    for item in ([active] if active else []) + versions:
        table.delete(key_of(item["PK"], item["SK"]))
    return len(versions)


# --- MAG names and MCP servers -------------------------------------------------------------
def get_mag_graph_id(user_id: str, name: str) -> str | None:
    """The id of the user's MAG graph of that name, if any."""
    item = _table().get(_mag_name_key(user_id, name), consistent=True)
    return item["graph_id"] if item else None


def mag_names(user_id: str) -> list[dict[str, Any]]:
    """The user's MAG name items (name, graph_id, created_at), all pages, consistent."""
    return _table().query_all(
        "PK = :pk AND begins_with(SK, :prefix)",
        {":pk": _mag_pk(user_id), ":prefix": _MAG_NAME_PREFIX},
        consistent=True,
    )


def get_mcp_servers_item(user_id: str) -> dict[str, Any] | None:
    """The user's MCP server registry item (sealed_servers, names, revision, updated_at)."""
    return _table().get(_mcp_servers_key(user_id), consistent=True)


def put_mcp_servers_item(user_id: str, attributes: dict[str, Any], seen_revision: int) -> None:
    """Replace the registry, only if its revision is still `seen_revision` (0: no registry yet).
    Raises ConditionFailed otherwise."""
    _table().put(
        {**attributes, **_mcp_servers_key(user_id)},
        condition="attribute_not_exists(PK) OR revision = :seen",
        values={":seen": seen_revision},
    )
