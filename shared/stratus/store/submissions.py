"""Store submissions: a listing per (owner, graph) with numbered versions, from the owner's own graphs.

Creating the first version writes, in one transaction: the graph guard (one listing per
graph), the listing (its key holds the slug, so a slug is unique per owner), the version
and its pointer (`SLV#<id>`, so a version id is one GetItem away). A new submission for a
listed graph adds a version and replaces a still-pending one, as AutoGPT does.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import Any

from stratus.clock import now_iso
from stratus.db.dynamo import TransactionCancelled
from stratus.db.store_keys import (
    BY_OWNER_SUBMISSIONS,
    GRAPH_PREFIX,
    LISTINGS_PK,
    count_key,
    graph_guard_key,
    listing_index_keys,
    listing_key,
    pointer_key,
    profile_key,
    status_pk,
    submissions_pk,
    user_pk,
    version_index_keys,
    version_key,
)
from stratus.db.store_table import store_table
from stratus.errors import BadRequest, Conflict, NotFound
from stratus.graphs import service as graphs
from stratus.store.index import average
from stratus.store.models import (
    MyAgent,
    MyAgentsResponse,
    Pagination,
    StoreSubmission,
    StoreSubmissionEditRequest,
    StoreSubmissionRequest,
    StoreSubmissionsResponse,
    SubmissionStatus,
)
from stratus.store.profiles import profile_item
from stratus.store.publishing import APPROVED, locate
from stratus.store.writes import backoff

PENDING = SubmissionStatus.PENDING.value
MAX_ATTEMPTS = 5
_TEXT_FIELDS = (
    "name",
    "sub_heading",
    "video_url",
    "agent_output_demo_url",
    "image_urls",
    "description",
    "instructions",
    "categories",
    "changes_summary",
    "recommended_schedule_cron",
)


def pagination(total: int, page: int, page_size: int) -> Pagination:
    return Pagination(
        total_items=total,
        total_pages=math.ceil(total / page_size) if total else 0,
        current_page=page,
        page_size=page_size,
    )


def to_submission(version: dict[str, Any], listing: dict[str, Any] | None, admin: bool = False) -> StoreSubmission:
    """A version as AutoGPT's StoreSubmission; internal comments only for admins."""
    listing = listing or {}
    return StoreSubmission(
        listing_id=version["listing_id"],
        agent_id=version["agent_id"],
        agent_version=version["agent_version"],
        name=version["name"],
        sub_heading=version.get("sub_heading", ""),
        slug=version["slug"],
        description=version.get("description", ""),
        instructions=version.get("instructions"),
        image_urls=version.get("image_urls", []),
        date_submitted=version["submitted_at"],
        status=version["status"],
        runs=int(listing.get("runs", 0)),
        rating=average(listing.get("rating_sum", 0), int(listing.get("rating_count", 0))),
        store_listing_version_id=version["store_listing_version_id"],
        version=version["version"],
        reviewer_id=version.get("reviewer_id"),
        review_comments=version.get("review_comments"),
        internal_comments=version.get("internal_comments") if admin else None,
        reviewed_at=version.get("reviewed_at"),
        changes_summary=version.get("changes_summary"),
        video_url=version.get("video_url"),
        agent_output_demo_url=version.get("agent_output_demo_url"),
        categories=version.get("categories", []),
        recommended_schedule_cron=version.get("recommended_schedule_cron"),
    )


def _version_item(
    user_id: str, slug: str, listing_id: str, number: int, request: StoreSubmissionRequest, now: str
) -> dict[str, Any]:
    version_id = str(uuid.uuid4())
    text = {k: getattr(request, k) for k in _TEXT_FIELDS}
    text["changes_summary"] = request.changes_summary or ("Initial Submission" if number == 1 else None)
    return {
        **version_key(user_id, slug, number),
        **version_index_keys(user_id, PENDING, now, version_id),
        "store_listing_version_id": version_id,
        "listing_id": listing_id,
        "owner_id": user_id,
        "slug": slug,
        "version": number,
        "agent_id": request.agent_id,
        "agent_version": request.agent_version,
        "status": PENDING,
        "submitted_at": now,
        "is_featured": False,
        **text,
    }


def _pointer(version: dict[str, Any]) -> dict[str, Any]:
    return {
        **pointer_key(version["store_listing_version_id"]),
        "owner_id": version["owner_id"],
        "slug": version["slug"],
        "version": version["version"],
        "listing_id": version["listing_id"],
    }


def _count(delta: int, pk: str) -> dict[str, Any]:
    return store_table().update_op(count_key(pk), "ADD n :d", values={":d": delta})


def create_submission(user_id: str, request: StoreSubmissionRequest) -> StoreSubmission:
    if not profile_item(user_id):
        raise BadRequest(
            "Create your store profile first (POST /api/store/profile): listings are published under its username."
        )
    graph = graphs.get_graph(user_id, request.agent_id, request.agent_version)
    if graph.user_id != user_id:  # someone else's graph, even an approved one, is not yours to list
        raise NotFound(f"Graph {request.agent_id} version {request.agent_version} not found.")
    table = store_table()
    for attempt in range(MAX_ATTEMPTS):
        now = now_iso()
        guard = table.get(graph_guard_key(user_id, request.agent_id), consistent=True)
        if guard is None:
            listing_id = str(uuid.uuid4())
            version = _version_item(user_id, request.slug, listing_id, 1, request, now)
            listing = {
                **listing_key(user_id, request.slug),
                **listing_index_keys(now, listing_id),
                "listing_id": listing_id,
                "owner_id": user_id,
                "graph_id": request.agent_id,
                "slug": request.slug,
                "created_at": now,
                "updated_at": now,
                "latest_version": 1,
                "versions": [1],
                "pending": 1,
                "runs": 0,
                "rating_sum": 0,
                "rating_count": 0,
                "seq": 0,
                "has_approved_version": False,
            }
            ops = [
                table.put_op(
                    {
                        **graph_guard_key(user_id, request.agent_id),
                        "slug": request.slug,
                        "listing_id": listing_id,
                        "has_approved_version": False,
                    },
                    condition="attribute_not_exists(PK)",
                ),
                table.put_op(listing, condition="attribute_not_exists(PK)"),
                table.put_op(version, condition="attribute_not_exists(PK)"),
                table.put_op(_pointer(version), condition="attribute_not_exists(PK)"),
                _count(1, status_pk(PENDING)),
                _count(1, LISTINGS_PK),
            ]
            try:
                table.transact(ops)
            except TransactionCancelled as cancelled:
                if cancelled.codes[1] == "ConditionalCheckFailed":
                    raise Conflict(
                        f"The URL slug {request.slug!r} is already used by another of your agents; "
                        "choose a different slug."
                    ) from cancelled
                backoff(attempt)
                continue
            return to_submission(version, listing)
        listing = table.get(listing_key(user_id, guard["slug"]), consistent=True)
        if listing is None:
            continue
        number = int(listing["latest_version"]) + 1
        version = _version_item(user_id, listing["slug"], listing["listing_id"], number, request, now)
        versions = [n for n in listing.get("versions", []) if n != listing.get("pending")] + [number]
        ops = [
            table.update_op(
                listing_key(user_id, listing["slug"]),
                "SET latest_version = :n, versions = :versions, pending = :n, updated_at = :now, seq = seq + :one",
                values={":n": number, ":versions": versions, ":now": now, ":one": 1, ":seq": listing["seq"]},
                condition="seq = :seq",
            ),
            table.put_op(version, condition="attribute_not_exists(PK)"),
            table.put_op(_pointer(version), condition="attribute_not_exists(PK)"),
        ]
        replaced = None
        if listing.get("pending"):  # AutoGPT keeps one pending version: the new one replaces it
            replaced = table.get(version_key(user_id, listing["slug"], int(listing["pending"])), consistent=True)
        if replaced:
            ops += [
                table.delete_op(
                    version_key(user_id, listing["slug"], int(listing["pending"])),
                    condition="#status = :pending",
                    names={"#status": "status"},
                    values={":pending": PENDING},
                ),
                table.delete_op(pointer_key(replaced["store_listing_version_id"])),
            ]
        else:
            ops.append(_count(1, status_pk(PENDING)))
        try:
            table.transact(ops)
        except TransactionCancelled:
            backoff(attempt)
            continue
        return to_submission(version, listing)
    raise Conflict("The listing changed while submitting; try again.")


def _own_version(user_id: str, version_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    pointer = locate(version_id)
    if pointer["owner_id"] != user_id:
        raise NotFound(f"Store listing version {version_id} not found.")
    version = store_table().get(version_key(user_id, pointer["slug"], int(pointer["version"])), consistent=True)
    if not version:
        raise NotFound(f"Store listing version {version_id} not found.")
    return pointer, version


def edit_submission(user_id: str, version_id: str, request: StoreSubmissionEditRequest) -> StoreSubmission:
    """Only a pending version can change (AutoGPT); an approved one gets a new submission instead."""
    _, version = _own_version(user_id, version_id)
    if version["status"] != PENDING:
        raise Conflict(
            f"Cannot edit a {version['status'].lower()} submission: only pending submissions can be "
            "edited; submit a new version instead."
        )
    fields = {k: getattr(request, k) for k in _TEXT_FIELDS}
    from stratus.store.publishing import update_expression

    expression, names, values = update_expression(fields)
    names["#status"] = "status"
    values[":pending"] = PENDING
    from stratus.db.dynamo import ConditionFailed

    try:
        updated = store_table().update(
            version_key(user_id, version["slug"], version["version"]),
            expression,
            names,
            values,
            condition="#status = :pending",
        )
    except ConditionFailed as failed:
        raise Conflict("The submission was reviewed meanwhile; it can no longer be edited.") from failed
    return to_submission(updated, store_table().get(listing_key(user_id, version["slug"])))


def delete_submission(user_id: str, version_id: str) -> bool:
    """Delete a version that is not approved; the listing goes with its last version."""
    table = store_table()
    for attempt in range(MAX_ATTEMPTS):
        _, version = _own_version(user_id, version_id)
        if version["status"] == APPROVED:
            raise Conflict("Cannot delete an approved submission: ask an admin to unpublish it first.")
        listing = table.get(listing_key(user_id, version["slug"]), consistent=True)
        if listing is None:
            raise NotFound(f"Store listing version {version_id} not found.")
        remaining = [n for n in listing.get("versions", []) if n != version["version"]]
        ops = [
            table.delete_op(
                version_key(user_id, version["slug"], version["version"]),
                condition="#status = :status",
                names={"#status": "status"},
                values={":status": version["status"]},
            ),
            table.delete_op(pointer_key(version_id)),
            _count(-1, status_pk(version["status"])),
        ]
        if remaining or listing.get("approved"):
            pending = None if listing.get("pending") == version["version"] else listing.get("pending")
            ops.append(
                table.update_op(
                    listing_key(user_id, version["slug"]),
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
                table.delete_op(
                    listing_key(user_id, version["slug"]), condition="seq = :seq", values={":seq": listing["seq"]}
                ),
                table.delete_op(graph_guard_key(user_id, listing["graph_id"])),
                _count(-1, LISTINGS_PK),
            ]
        try:
            table.transact(ops)
        except TransactionCancelled:
            backoff(attempt)
            continue
        return True
    raise Conflict("The listing changed while deleting; try again.")


def list_submissions(user_id: str, page: int, page_size: int) -> StoreSubmissionsResponse:
    """The caller's versions, newest first (a creator's submissions are few: read whole, then paged)."""
    table = store_table()
    versions, start = [], None
    while True:
        items, start = table.query(
            "GSI1PK = :pk", {":pk": submissions_pk(user_id)}, index=BY_OWNER_SUBMISSIONS, forward=False, start_key=start
        )
        versions += items
        if not start:
            break
    chosen = versions[(page - 1) * page_size : page * page_size]
    slugs = sorted({v["slug"] for v in chosen})
    listings = (
        {item["slug"]: item for item in table.batch_get([listing_key(user_id, s) for s in slugs])} if slugs else {}
    )
    return StoreSubmissionsResponse(
        submissions=[to_submission(v, listings.get(v["slug"])) for v in chosen],
        pagination=pagination(len(versions), page, page_size),
    )


def my_unpublished_agents(user_id: str, page: int, page_size: int) -> MyAgentsResponse:
    """The caller's graphs that have no approved store version (AutoGPT's my-unpublished-agents)."""
    table = store_table()
    published, start = set(), None
    while True:
        guards, start = table.query(
            "PK = :pk AND begins_with(SK, :graph)",
            {":pk": user_pk(user_id), ":graph": GRAPH_PREFIX},
            start_key=start,
            consistent=True,
        )
        published |= {g["SK"][len(GRAPH_PREFIX) :] for g in guards if g.get("has_approved_version")}
        if not start:
            break
    agents = [
        MyAgent(
            agent_id=g.id,
            agent_version=g.version,
            agent_name=g.name,
            description=g.description,
            last_edited=g.updated_at or g.created_at,
            recommended_schedule_cron=g.recommended_schedule_cron,
        )
        for g in graphs.list_graphs(user_id)
        if g.id not in published
    ]
    return MyAgentsResponse(
        agents=agents[(page - 1) * page_size : page * page_size], pagination=pagination(len(agents), page, page_size)
    )


# --- for the library ----------------------------------------------------------------------------
@dataclass(frozen=True)
class StoreListingVersionInfo:
    """What other modules (the library) need to know about a store listing version."""

    store_listing_version_id: str
    graph_id: str
    graph_version: int
    status: str
    approved: bool
    name: str
    description: str
    sub_heading: str
    image_url: str | None
    creator_username: str | None
    creator_name: str | None
    creator_image_url: str | None


def store_listing_version(version_id: str) -> StoreListingVersionInfo | None:
    """One GetItem (pointer) and one BatchGetItem (version, creator profile); None if unknown."""
    table = store_table()
    pointer = table.get(pointer_key(version_id), consistent=True)
    if not pointer:
        return None
    found = {
        item["SK"]: item
        for item in table.batch_get(
            [
                version_key(pointer["owner_id"], pointer["slug"], int(pointer["version"])),
                profile_key(pointer["owner_id"]),
            ],
            consistent=True,
        )
    }
    version = next((item for sk, item in found.items() if sk != "PROFILE"), None)
    profile = found.get("PROFILE") or {}
    if not version:
        return None
    images = version.get("image_urls") or []
    return StoreListingVersionInfo(
        store_listing_version_id=version_id,
        graph_id=version["agent_id"],
        graph_version=int(version["agent_version"]),
        status=version["status"],
        approved=version["status"] == APPROVED,
        name=version["name"],
        description=version.get("description", ""),
        sub_heading=version.get("sub_heading", ""),
        image_url=images[0] if images else None,
        creator_username=profile.get("username"),
        creator_name=profile.get("name"),
        creator_image_url=profile.get("avatar_url"),
    )
