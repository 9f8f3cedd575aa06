"""Store submissions: a listing per (owner, graph) with numbered versions, from the owner's own graphs.

Creating the first version writes, in one transaction: the graph guard (one listing per
graph), the listing (its key holds the slug, so a slug is unique per owner), the version
and its pointer (`SLV#<id>`, so a version id is one GetItem away). A new submission for a
listed graph adds a version and replaces a still-pending one, as AutoGPT does.
"""

from __future__ import annotations

import uuid
from typing import Any

from stratus.clock import now_iso
from stratus.db.agents_table import listings, profiles
from stratus.db.dynamo import ConditionFailed, TransactionCancelled, backoff
from stratus.errors import BadRequest, Conflict, NotFound
from stratus.graphs import service as graphs
from stratus.store.models import (
    MyAgent,
    MyAgentsResponse,
    StoreSubmission,
    StoreSubmissionEditRequest,
    StoreSubmissionRequest,
    StoreSubmissionsResponse,
    SubmissionStatus,
)
from stratus.store.publishing import APPROVED, locate
from stratus.store.views import pagination, to_submission

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


def _version(
    user_id: str, slug: str, listing_id: str, number: int, request: StoreSubmissionRequest, now: str
) -> dict[str, Any]:
    text = {k: getattr(request, k) for k in _TEXT_FIELDS}
    text["changes_summary"] = request.changes_summary or ("Initial Submission" if number == 1 else None)
    return {
        "store_listing_version_id": str(uuid.uuid4()),
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


def create_submission(user_id: str, request: StoreSubmissionRequest) -> StoreSubmission:
    if not profiles.get_profile(user_id):
        raise BadRequest(
            "Create your store profile first (POST /api/store/profile): listings are published under its username."
        )
    graph = graphs.get_graph(user_id, request.agent_id, request.agent_version)
    if graph.user_id != user_id:  # someone else's graph, even an approved one, is not yours to list
        raise NotFound(f"Graph {request.agent_id} version {request.agent_version} not found.")
    for attempt in range(MAX_ATTEMPTS):
        now = now_iso()
        guard = listings.graph_guard(user_id, request.agent_id)
        if guard is None:
            listing_id = str(uuid.uuid4())
            version = _version(user_id, request.slug, listing_id, 1, request, now)
            listing = {
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
            try:
                listings.create_listing(listing, version)
            except listings.SlugTaken as taken:
                raise Conflict(
                    f"The URL slug {request.slug!r} is already used by another of your agents; choose a different slug."
                ) from taken
            except TransactionCancelled:
                backoff(attempt)
                continue
            return to_submission(version, listing)
        current = listings.get_listing(user_id, guard["slug"])
        if current is None:
            continue
        number = int(current["latest_version"]) + 1
        version = _version(user_id, current["slug"], current["listing_id"], number, request, now)
        versions = [n for n in current.get("versions", []) if n != current.get("pending")] + [number]
        replaced = None
        if current.get("pending"):  # AutoGPT keeps one pending version: the new one replaces it
            replaced = listings.get_version(user_id, current["slug"], int(current["pending"]))
        try:
            listings.add_version(current, version, versions, replaced)
        except TransactionCancelled:
            backoff(attempt)
            continue
        return to_submission(version, current)
    raise Conflict("The listing changed while submitting; try again.")


def _own_version(user_id: str, version_id: str) -> dict[str, Any]:
    pointer = locate(version_id)
    if pointer["owner_id"] != user_id:
        raise NotFound(f"Store listing version {version_id} not found.")
    version = listings.get_version(user_id, pointer["slug"], int(pointer["version"]))
    if not version:
        raise NotFound(f"Store listing version {version_id} not found.")
    return version


def edit_submission(user_id: str, version_id: str, request: StoreSubmissionEditRequest) -> StoreSubmission:
    """Only a pending version can change (AutoGPT); an approved one gets a new submission instead."""
    version = _own_version(user_id, version_id)
    if version["status"] != PENDING:
        raise Conflict(
            f"Cannot edit a {version['status'].lower()} submission: only pending submissions can be "
            "edited; submit a new version instead."
        )
    try:
        updated = listings.edit_version(version, {k: getattr(request, k) for k in _TEXT_FIELDS})
    except ConditionFailed as failed:
        raise Conflict("The submission was reviewed meanwhile; it can no longer be edited.") from failed
    return to_submission(updated, listings.get_listing(user_id, version["slug"], consistent=False))


def delete_submission(user_id: str, version_id: str) -> bool:
    """Delete a version that is not approved; the listing goes with its last version."""
    for attempt in range(MAX_ATTEMPTS):
        version = _own_version(user_id, version_id)
        if version["status"] == APPROVED:
            raise Conflict("Cannot delete an approved submission: ask an admin to unpublish it first.")
        listing = listings.get_listing(user_id, version["slug"])
        if listing is None:
            raise NotFound(f"Store listing version {version_id} not found.")
        remaining = [n for n in listing.get("versions", []) if n != version["version"]]
        pending = None if listing.get("pending") == version["version"] else listing.get("pending")
        try:
            listings.delete_version(listing, version, remaining, pending)
        except TransactionCancelled:
            backoff(attempt)
            continue
        return True
    raise Conflict("The listing changed while deleting; try again.")


def list_submissions(user_id: str, page: int, page_size: int) -> StoreSubmissionsResponse:
    """The caller's versions, newest first (a creator's submissions are few: read whole, then paged)."""
    versions = listings.submissions_of(user_id)
    chosen = versions[(page - 1) * page_size : page * page_size]
    slugs = sorted({v["slug"] for v in chosen})
    found = {item["slug"]: item for item in listings.get_listings([(user_id, s) for s in slugs])}
    return StoreSubmissionsResponse(
        submissions=[to_submission(v, found.get(v["slug"])) for v in chosen],
        pagination=pagination(len(versions), page, page_size),
    )


def my_unpublished_agents(user_id: str, page: int, page_size: int) -> MyAgentsResponse:
    """The caller's graphs that have no approved store version (AutoGPT's my-unpublished-agents)."""
    published = listings.published_graph_ids(user_id)
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
