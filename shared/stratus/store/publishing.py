"""Making listings public and private: admin review, featuring, and refreshing a creator's cards.

Every change goes through `_commit`: read the listing (consistent), decide the new state,
plan the index (cards, scope counts, creator item) and write it with the version, the
listing (optimistic `seq`), the approval markers and the status counters in ONE
transaction. Postings are written before it and stale ones deleted after it (see writes.py).
An approved graph version has the shared marker `APPROVED#<graph_id>/V#<version>`, which
makes it readable and runnable by everyone (stratus.store.access).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from stratus.clock import now_iso, utc_now
from stratus.db.dynamo import Table, TransactionCancelled
from stratus.db.store_keys import (
    COUNT_SK,
    card_sk,
    creator_key,
    creator_scope,
    graph_guard_key,
    listing_key,
    pointer_key,
    status_pk,
    version_key,
)
from stratus.db.store_table import approved_key, store_table
from stratus.errors import Conflict, NotFound, Unprocessable
from stratus.store import cache, index
from stratus.store.models import ReviewSubmissionRequest, StoreSubmission, SubmissionStatus
from stratus.store.profiles import profile_item
from stratus.store.writes import add_counts, backoff, batch_write

MAX_ATTEMPTS = 6
APPROVED = SubmissionStatus.APPROVED.value


@dataclass
class Change:
    """What a decision does to one version (None: only re-plan the index)."""

    version_fields: dict[str, Any] = field(default_factory=dict)
    approve: bool | None = None  # True: approve now; False: withdraw approval; None: unchanged


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="microseconds")


def public_fields(version: dict[str, Any], approved_ms: int) -> dict[str, Any]:
    """The public face of an approved version, kept on the listing for the detail view."""
    return {
        "store_listing_version_id": version["store_listing_version_id"],
        "version": version["version"],
        "agent_id": version["agent_id"],
        "agent_version": version["agent_version"],
        "name": version["name"],
        "sub_heading": version.get("sub_heading", ""),
        "description": version.get("description", ""),
        "instructions": version.get("instructions"),
        "image_urls": version.get("image_urls", []),
        "video_url": version.get("video_url"),
        "agent_output_demo_url": version.get("agent_output_demo_url"),
        "categories": version.get("categories", []),
        "recommended_schedule_cron": version.get("recommended_schedule_cron"),
        "is_featured": bool(version.get("is_featured")),
        "approved_at": _iso(approved_ms),
    }


def update_expression(
    set_fields: dict[str, Any], extra_set: list[str] | None = None
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """SET the non-None fields, REMOVE the None ones (our serializer drops nulls)."""
    names, values, sets, removes = {}, {}, list(extra_set or []), []
    for position, (name, value) in enumerate(set_fields.items()):
        names[f"#f{position}"] = name
        if value is None:
            removes.append(f"#f{position}")
        else:
            values[f":f{position}"] = value
            sets.append(f"#f{position} = :f{position}")
    expression = ("SET " + ", ".join(sets)) if sets else ""
    if removes:
        expression += " REMOVE " + ", ".join(removes)
    return expression.strip(), names, values


def _marker_ops(
    table: Table, listing: dict[str, Any], before: dict[str, Any], after: dict[str, Any]
) -> list[dict[str, Any]]:
    """Put markers for graph versions newly approved, delete those no approved version uses."""

    def by_graph_version(approved: dict[str, Any]) -> dict[int, dict[str, Any]]:
        chosen: dict[int, dict[str, Any]] = {}
        for entry in sorted(approved.values(), key=lambda e: e["at"]):
            chosen[int(entry["agent_version"])] = entry  # the newest approval names the marker
        return chosen

    old, new = by_graph_version(before), by_graph_version(after)
    ops = []
    for graph_version, entry in new.items():
        if graph_version in old and old[graph_version]["id"] == entry["id"]:
            continue
        expression, names, values = update_expression(
            {
                "graph_id": listing["graph_id"],
                "graph_version": graph_version,
                "owner_id": listing["owner_id"],
                "slug": listing["slug"],
                "listing_id": listing["listing_id"],
                "store_listing_version_id": entry["id"],
                "approved_at": _iso(entry["at"]),
            }
        )
        ops.append(table.update_op(approved_key(listing["graph_id"], graph_version), expression, names, values))
    for graph_version in old.keys() - new.keys():
        ops.append(table.delete_op(approved_key(listing["graph_id"], graph_version)))
    return ops


def _creator_categories(table: Table, owner_id: str, listing_id: str, public: dict[str, Any] | None) -> list[str]:
    lists, start = [], None
    while True:
        cards, start = table.query(
            "PK = :pk AND begins_with(SK, :u)",
            {":pk": creator_scope(owner_id), ":u": "U#"},
            start_key=start,
            consistent=True,
        )
        lists += [c.get("categories", []) for c in cards if c["listing_id"] != listing_id]
        if not start:
            break
    if public:
        lists.append(public.get("categories", []))
    return index.top_categories(lists)


def _approvals_after(
    approved_before: dict[str, Any], number: int | None, version: dict[str, Any] | None, change: Change
) -> dict[str, Any]:
    """The listing's approved versions after `change`: {number: {at (ms), id, agent_version}}."""
    approved = dict(approved_before)
    if version is not None and change.approve is True:
        approved[str(number)] = {
            "at": int(utc_now().timestamp() * 1000),
            "id": version["store_listing_version_id"],
            "agent_version": version["agent_version"],
        }
    elif change.approve is False:
        approved.pop(str(number), None)
    return approved


def _listing_op(table: Table, listing: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    expression, names, values = update_expression(fields, ["seq = if_not_exists(seq, :zero) + :one"])
    values.update({":zero": 0, ":one": 1})
    if "seq" in listing:
        values[":seq"] = listing["seq"]
    return table.update_op(
        listing_key(listing["owner_id"], listing["slug"]),
        expression,
        names,
        values,
        "seq = :seq" if "seq" in listing else "attribute_not_exists(seq)",
    )


def _version_ops(table: Table, stored: dict[str, Any], fields: dict[str, Any]) -> list[dict[str, Any]]:
    """The version's new fields (only if its status is still the one we read) and the status counters."""
    expression, names, values = update_expression(fields)
    values[":old"] = old_status = stored["status"]
    names["#status"] = "status"
    ops = [table.update_op({"PK": stored["PK"], "SK": stored["SK"]}, expression, names, values, "#status = :old")]
    new_status = fields.get("status", old_status)
    if new_status != old_status:
        ops += [
            table.update_op({"PK": status_pk(old_status), "SK": COUNT_SK}, "ADD n :d", values={":d": -1}),
            table.update_op({"PK": status_pk(new_status), "SK": COUNT_SK}, "ADD n :d", values={":d": 1}),
        ]
    return ops


def _num_agents_op(table: Table, profile: dict[str, Any], seen: int, num_agents: int) -> dict[str, Any]:
    """The creator's count of public agents, conditioned on the username the creator item uses."""
    condition = "#username = :username AND " + (
        "(attribute_not_exists(num_agents) OR num_agents = :seen)" if seen == 0 else "num_agents = :seen"
    )
    return table.update_op(
        {"PK": profile["PK"], "SK": profile["SK"]},
        "SET num_agents = :n",
        names={"#username": "username"},
        values={":n": num_agents, ":seen": seen, ":username": profile["username"]},
        condition=condition,
    )


def _commit(
    owner_id: str,
    slug: str,
    number: int | None,
    decide: Callable[[dict, dict | None], Change],
    previous_username: str | None = None,
) -> dict[str, Any] | None:
    """Apply `decide` to version `number` of a listing and re-plan its public index, atomically."""
    table = store_table()
    for attempt in range(MAX_ATTEMPTS):
        listing = table.get(listing_key(owner_id, slug), consistent=True)
        stored = table.get(version_key(owner_id, slug, number), consistent=True) if number else None
        if not listing or (number and not stored):
            raise NotFound("Store listing version not found.")
        change = decide(listing, stored)
        version = {**stored, **change.version_fields} if stored is not None else None
        approved_before: dict[str, Any] = listing.get("approved") or {}
        approved = _approvals_after(approved_before, number, version, change)
        active_number = max(approved, key=lambda n: approved[n]["at"]) if approved else None
        active = None
        if active_number is not None:
            active = (
                version
                if version is not None and int(active_number) == number
                else table.get(version_key(owner_id, slug, int(active_number)), consistent=True)
            )
        public = public_fields(active, approved[active_number]["at"]) if active and active_number else None
        profile = profile_item(owner_id)
        if not profile:
            raise Conflict("The creator has no store profile.")
        new_sk = card_sk(approved[active_number]["at"], listing["listing_id"]) if public and active_number else None
        plan = index.plan_listing(table, listing, public, new_sk, profile)
        seen_agents = int(profile.get("num_agents", 0))
        num_agents = seen_agents + int(bool(new_sk)) - int(bool(listing.get("card_sk")))
        old_creator = table.get(creator_key(previous_username or profile["username"]), consistent=True)
        categories = _creator_categories(table, owner_id, listing["listing_id"], public) if num_agents else []
        creator_plan = index.plan_creator(table, old_creator, profile, num_agents, categories)

        listing_fields = {
            **plan.listing_fields,
            "approved": approved or None,
            "active_version": int(active_number) if active_number else None,
            "active_version_id": public["store_listing_version_id"] if public else None,
            "has_approved_version": bool(approved),
            "updated_at": now_iso(),
        }
        if version is not None and change.approve is not None and listing.get("pending") == number:
            listing_fields["pending"] = None
        ops = plan.ops + creator_plan.ops + [_listing_op(table, listing, listing_fields)]
        if stored is not None and change.version_fields:
            ops += _version_ops(table, stored, change.version_fields)
        if bool(approved) != bool(approved_before):
            ops.append(
                table.update_op(
                    graph_guard_key(owner_id, listing["graph_id"]),
                    "SET has_approved_version = :has",
                    values={":has": bool(approved)},
                    condition="attribute_exists(PK)",
                )
            )
        ops += _marker_ops(table, listing, approved_before, approved)
        if num_agents != seen_agents or creator_plan.ops:
            ops.append(_num_agents_op(table, profile, seen_agents, num_agents))
        batch_write(table, puts=plan.posting_puts + creator_plan.posting_puts)
        try:
            table.transact(ops)
        except TransactionCancelled:
            backoff(attempt)  # someone changed the listing, the version or the profile: decide again
            continue
        batch_write(table, deletes=plan.posting_deletes + creator_plan.posting_deletes)
        add_counts(table, {**plan.term_deltas, **creator_plan.term_deltas}, COUNT_SK)
        cache.invalidate()
        return version
    raise Conflict("The listing changed while saving; try again.")


# --- operations -------------------------------------------------------------------------------
def locate(version_id: str) -> dict[str, Any]:
    pointer = store_table().get(pointer_key(version_id), consistent=True)
    if not pointer:
        raise NotFound(f"Store listing version {version_id} not found.")
    return pointer


def review_submission(admin_id: str, version_id: str, request: ReviewSubmissionRequest) -> StoreSubmission:
    """Approve (public, marker, index) or reject (private again if it was approved)."""
    if request.store_listing_version_id not in (None, version_id):
        raise Unprocessable(
            [
                {
                    "loc": ["body", "store_listing_version_id"],
                    "type": "value_error",
                    "msg": "must match the store_listing_version_id in the path",
                }
            ]
        )
    pointer = locate(version_id)
    status = APPROVED if request.is_approved else SubmissionStatus.REJECTED.value

    def decide(listing: dict[str, Any], version: dict[str, Any] | None) -> Change:
        fields = {
            "status": status,
            "GSI2PK": status_pk(status),
            "reviewer_id": admin_id,
            "review_comments": request.comments,
            "internal_comments": request.internal_comments,
            "reviewed_at": now_iso(),
        }
        return Change(version_fields=fields, approve=request.is_approved)

    version = _commit(pointer["owner_id"], pointer["slug"], int(pointer["version"]), decide)
    from stratus.store.submissions import to_submission  # lazy: submissions imports publishing

    return to_submission(version, store_table().get(listing_key(pointer["owner_id"], pointer["slug"])), admin=True)


def set_featured(version_id: str, is_featured: bool) -> StoreSubmission:
    """Admins feature a version (AutoGPT's isFeatured); it shows under `featured` while it is the active one."""
    pointer = locate(version_id)

    def decide(listing: dict[str, Any], version: dict[str, Any] | None) -> Change:
        assert version is not None
        return Change(version_fields={"is_featured": is_featured})

    version = _commit(pointer["owner_id"], pointer["slug"], int(pointer["version"]), decide)
    from stratus.store.submissions import to_submission

    return to_submission(version, store_table().get(listing_key(pointer["owner_id"], pointer["slug"])), admin=True)


def refresh_creator(user_id: str, previous_username: str) -> None:
    """After a profile change: rewrite the creator item and every card that shows the creator."""
    table = store_table()
    cards, start = [], None
    while True:
        page, start = table.query(
            "PK = :pk AND begins_with(SK, :u)",
            {":pk": creator_scope(user_id), ":u": "U#"},
            start_key=start,
            consistent=True,
        )
        cards += page
        if not start:
            break
    for position, card in enumerate(cards):
        _commit(
            user_id,
            card["slug"],
            None,
            lambda listing, version: Change(),
            previous_username=previous_username if position == 0 else None,
        )
