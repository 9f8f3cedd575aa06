"""Store listings: a listing per (owner, graph), its numbered versions and their pointers.

- graph guard (one listing per graph): `STORE#USER#<uid>` / `GRAPH#<graph_id>`
- listing (slug unique per owner by key): `STORE#USER#<uid>` / `LISTING#<slug>`;
  GSI3 `STORE#LISTINGS` / `<created_at>#<listing_id>`
- listing version: `STORE#USER#<uid>` / `LISTING#<slug>#V#<n:06d>`;
  GSI1 `STORE#SUBMISSIONS#<uid>` / `<submitted_at>#<id>`, GSI2 `STORE#STATUS#<status>` / same
- version pointer: `SLV#<version_id>` / `SLV`
- counts (all listings, each status): the list's PK / `COUNT`

A listing item is optimistic (`seq`); a version's writes are conditioned on the status read.
"""

from __future__ import annotations

from typing import Any

from stratus.db.agents_table.lists import Sort, add_count_op, status_list
from stratus.db.agents_table.profiles import is_profile, owner_pk, profile_key
from stratus.db.agents_table.table import GSI1, GSI2, GSI3, Op, agents_table, set_or_remove, transact
from stratus.db.dynamo import ConditionFailed, TransactionCancelled, key_of

LISTINGS_LIST = "STORE#LISTINGS"
NEWEST_LISTINGS = Sort(GSI3, False)
NEWEST_SUBMISSIONS = Sort(GSI2, False)  # within a status list
_GRAPH_PREFIX = "GRAPH#"
_LISTING_PREFIX = "LISTING#"
_STATUS = {"#status": "status"}


class SlugTaken(Exception):
    """The owner already has a listing under this slug."""


def _graph_guard_key(user_id: str, graph_id: str) -> dict[str, str]:
    return key_of(owner_pk(user_id), f"{_GRAPH_PREFIX}{graph_id}")


def listing_key(user_id: str, slug: str) -> dict[str, str]:
    return key_of(owner_pk(user_id), f"{_LISTING_PREFIX}{slug}")


def version_key(user_id: str, slug: str, number: int) -> dict[str, str]:
    return key_of(owner_pk(user_id), f"{_LISTING_PREFIX}{slug}#V#{number:06d}")


def _pointer_key(version_id: str) -> dict[str, str]:
    return key_of(f"SLV#{version_id}", "SLV")


def _submissions_pk(user_id: str) -> str:
    return f"STORE#SUBMISSIONS#{user_id}"


# --- reads ------------------------------------------------------------------------------------
def pointer(version_id: str) -> dict[str, Any] | None:
    """Where a listing version lives: owner_id, slug, version, listing_id."""
    return agents_table().get(_pointer_key(version_id), consistent=True)


def graph_guard(user_id: str, graph_id: str) -> dict[str, Any] | None:
    return agents_table().get(_graph_guard_key(user_id, graph_id), consistent=True)


def get_listing(user_id: str, slug: str, consistent: bool = True) -> dict[str, Any] | None:
    return agents_table().get(listing_key(user_id, slug), consistent=consistent)


def get_version(user_id: str, slug: str, number: int) -> dict[str, Any] | None:
    return agents_table().get(version_key(user_id, slug, number), consistent=True)


def get_listings(pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """The listings of (owner, slug) pairs that exist, in no particular order."""
    return agents_table().batch_get([listing_key(owner, slug) for owner, slug in pairs]) if pairs else []


def versions_of(listings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every version each listing records, in no particular order."""
    keys = [version_key(item["owner_id"], item["slug"], int(n)) for item in listings for n in item.get("versions", [])]
    return agents_table().batch_get(keys) if keys else []


def submissions_of(user_id: str) -> list[dict[str, Any]]:
    """The owner's versions, newest submission first (all pages: a creator's submissions are few)."""
    return agents_table().query_all("GSI1PK = :pk", {":pk": _submissions_pk(user_id)}, index=GSI1, forward=False)


def published_graph_ids(user_id: str) -> set[str]:
    """The owner's graphs that have an approved store version."""
    guards = agents_table().query_all(
        "PK = :pk AND begins_with(SK, :graph)", {":pk": owner_pk(user_id), ":graph": _GRAPH_PREFIX}, consistent=True
    )
    return {g["SK"][len(_GRAPH_PREFIX) :] for g in guards if g.get("has_approved_version")}


def _with_profile(
    key: dict[str, str], user_id: str, consistent: bool
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    found = agents_table().batch_get([key, profile_key(user_id)], consistent=consistent)
    item = next((i for i in found if not is_profile(i)), None)
    return item, next((i for i in found if is_profile(i)), None)


def version_with_profile(location: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The version a pointer names and its owner's profile: one BatchGetItem."""
    key = version_key(location["owner_id"], location["slug"], int(location["version"]))
    return _with_profile(key, location["owner_id"], consistent=True)


def listing_with_profile(user_id: str, slug: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """A listing and its owner's profile: one BatchGetItem."""
    return _with_profile(listing_key(user_id, slug), user_id, consistent=False)


def add_run(user_id: str, slug: str) -> dict[str, Any] | None:
    """ADD one run to the listing's exact count; None when the listing is gone."""
    try:
        return agents_table().update(
            listing_key(user_id, slug), "ADD runs :one", values={":one": 1}, condition="attribute_exists(PK)"
        )
    except ConditionFailed:
        return None


# --- submissions ------------------------------------------------------------------------------
def version_item(version: dict[str, Any]) -> dict[str, Any]:
    """A new version's item: its attributes plus its keys and index keys (status PENDING lists it)."""
    sort = f"{version['submitted_at']}#{version['store_listing_version_id']}"
    return {
        **version_key(version["owner_id"], version["slug"], int(version["version"])),
        "GSI1PK": _submissions_pk(version["owner_id"]),
        "GSI1SK": sort,
        "GSI2PK": status_list(version["status"]),
        "GSI2SK": sort,
        **version,
    }


def _pointer_op(version: dict[str, Any]) -> Op:
    return agents_table().put_op(
        {
            **_pointer_key(version["store_listing_version_id"]),
            "owner_id": version["owner_id"],
            "slug": version["slug"],
            "version": version["version"],
            "listing_id": version["listing_id"],
        },
        condition="attribute_not_exists(PK)",
    )


def create_listing(listing: dict[str, Any], version: dict[str, Any]) -> None:
    """The graph guard, the listing, its first version and pointer, and the counts: one transaction.
    Raises SlugTaken, or TransactionCancelled when the graph got a listing meanwhile."""
    table = agents_table()
    owner, created_at = listing["owner_id"], listing["created_at"]
    ops = [
        table.put_op(
            {
                **_graph_guard_key(owner, listing["graph_id"]),
                "slug": listing["slug"],
                "listing_id": listing["listing_id"],
                "has_approved_version": False,
            },
            condition="attribute_not_exists(PK)",
        ),
        table.put_op(
            {
                **listing_key(owner, listing["slug"]),
                "GSI3PK": LISTINGS_LIST,
                "GSI3SK": f"{created_at}#{listing['listing_id']}",
                **listing,
            },
            condition="attribute_not_exists(PK)",
        ),
        table.put_op(version_item(version), condition="attribute_not_exists(PK)"),
        _pointer_op(version),
        add_count_op(status_list(version["status"]), 1),
        add_count_op(LISTINGS_LIST, 1),
    ]
    try:
        transact(ops)
    except TransactionCancelled as cancelled:
        if cancelled.codes[1] == "ConditionalCheckFailed":
            raise SlugTaken(listing["slug"]) from cancelled
        raise


def add_version(
    listing: dict[str, Any], version: dict[str, Any], versions: list[int], replaced: dict[str, Any] | None
) -> None:
    """A new pending version of a listing (optimistic `seq`), replacing the pending `replaced` if given."""
    table = agents_table()
    owner, slug, number = listing["owner_id"], listing["slug"], version["version"]
    ops = [
        table.update_op(
            listing_key(owner, slug),
            "SET latest_version = :n, versions = :versions, pending = :n, updated_at = :now, seq = seq + :one",
            values={
                ":n": number,
                ":versions": versions,
                ":now": version["submitted_at"],
                ":one": 1,
                ":seq": listing["seq"],
            },
            condition="seq = :seq",
        ),
        table.put_op(version_item(version), condition="attribute_not_exists(PK)"),
        _pointer_op(version),
    ]
    if replaced:
        ops += [
            table.delete_op(
                version_key(owner, slug, int(replaced["version"])),
                condition="#status = :pending",
                names=_STATUS,
                values={":pending": replaced["status"]},
            ),
            table.delete_op(_pointer_key(replaced["store_listing_version_id"])),
        ]
    else:
        ops.append(add_count_op(status_list(version["status"]), 1))
    transact(ops)


def edit_version(version: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """New text for a version still in the status read; raises ConditionFailed once it changed."""
    expression, names, values = set_or_remove(fields)
    values[":status"] = version["status"]
    return agents_table().update(
        version_key(version["owner_id"], version["slug"], int(version["version"])),
        expression,
        {**names, **_STATUS},
        values,
        condition="#status = :status",
    )


def delete_version(listing: dict[str, Any], version: dict[str, Any], remaining: list[int], pending: int | None) -> None:
    """Delete a version (still in the status read) and its pointer; the listing keeps `remaining`
    and `pending`, or goes (with its graph guard) when `remaining` is empty and nothing was approved."""
    table = agents_table()
    owner, slug = listing["owner_id"], listing["slug"]
    ops = [
        table.delete_op(
            version_key(owner, slug, int(version["version"])),
            condition="#status = :status",
            names=_STATUS,
            values={":status": version["status"]},
        ),
        table.delete_op(_pointer_key(version["store_listing_version_id"])),
        add_count_op(status_list(version["status"]), -1),
    ]
    if remaining or listing.get("approved"):
        ops.append(
            table.update_op(
                listing_key(owner, slug),
                "SET versions = :versions, seq = seq + :one"
                + (", pending = :pending" if pending else " REMOVE pending"),
                values={
                    ":versions": remaining,
                    ":one": 1,
                    ":seq": listing["seq"],
                    **({":pending": pending} if pending else {}),
                },
                condition="seq = :seq",
            )
        )
    else:
        ops += [
            table.delete_op(listing_key(owner, slug), condition="seq = :seq", values={":seq": listing["seq"]}),
            table.delete_op(_graph_guard_key(owner, listing["graph_id"])),
            add_count_op(LISTINGS_LIST, -1),
        ]
    transact(ops)


# --- publishing: ops of the one transaction that changes what is public -----------------------
def listing_op(listing: dict[str, Any], fields: dict[str, Any]) -> Op:
    """The listing's new fields, if its `seq` is still the one read (and `seq` moves on)."""
    expression, names, values = set_or_remove(fields, ["seq = if_not_exists(seq, :zero) + :one"])
    values.update({":zero": 0, ":one": 1})
    if "seq" in listing:
        values[":seq"] = listing["seq"]
    return agents_table().update_op(
        listing_key(listing["owner_id"], listing["slug"]),
        expression,
        names,
        values,
        "seq = :seq" if "seq" in listing else "attribute_not_exists(seq)",
    )


def version_ops(stored: dict[str, Any], fields: dict[str, Any]) -> list[Op]:
    """The version's new fields (only if its status is still the one read); a new status moves
    the version to its status list and both status counts."""
    old_status = stored["status"]
    new_status = fields.get("status", old_status)
    moved = new_status != old_status
    expression, names, values = set_or_remove({**fields, **({"GSI2PK": status_list(new_status)} if moved else {})})
    values[":old"] = old_status
    key = version_key(stored["owner_id"], stored["slug"], int(stored["version"]))
    ops = [agents_table().update_op(key, expression, {**names, **_STATUS}, values, "#status = :old")]
    if moved:
        ops += [add_count_op(status_list(old_status), -1), add_count_op(status_list(new_status), 1)]
    return ops


def graph_guard_op(listing: dict[str, Any], has_approved_version: bool) -> Op:
    return agents_table().update_op(
        _graph_guard_key(listing["owner_id"], listing["graph_id"]),
        "SET has_approved_version = :has",
        values={":has": has_approved_version},
        condition="attribute_exists(PK)",
    )


def rating_op(listing: dict[str, Any], rating_sum: int, rating_count: int) -> Op:
    """The listing's rating sums (optimistic `seq`)."""
    return agents_table().update_op(
        listing_key(listing["owner_id"], listing["slug"]),
        "SET rating_sum = :s, rating_count = :c, seq = seq + :one",
        values={":s": rating_sum, ":c": rating_count, ":one": 1, ":seq": listing["seq"]},
        condition="seq = :seq",
    )
