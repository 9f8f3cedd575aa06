"""Making listings public and private: admin review, featuring, and refreshing a creator's cards.

Every change goes through `_commit`: read the listing (consistent), decide the new state,
plan the index (cards, scope counts, creator item) and write it with the version, the
listing (optimistic `seq`), the approval markers and the status counters in ONE
transaction. Postings are written before it and stale ones deleted after it
(stratus.db.agents_table.public_index.commit).
An approved graph version has the shared marker `APPROVED#<graph_id>/V#<version>`, which
makes it readable and runnable by everyone (stratus.store.access).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from stratus.clock import now_iso, utc_now
from stratus.db.agents_table import approvals, listings, profiles, public_index
from stratus.db.dynamo import TransactionCancelled, backoff
from stratus.errors import Conflict, NotFound, Unprocessable
from stratus.store import cache, index
from stratus.store.models import ReviewSubmissionRequest, StoreSubmission, SubmissionStatus
from stratus.store.views import to_submission

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


def _markers(approved: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """The approval marker of each graph version: the newest approval that uses it names it."""
    chosen: dict[int, dict[str, Any]] = {}
    for entry in sorted(approved.values(), key=lambda e: e["at"]):
        chosen[int(entry["agent_version"])] = {"id": entry["id"], "approved_at": _iso(entry["at"])}
    return chosen


def _creator_categories(owner_id: str, listing_id: str, public: dict[str, Any] | None) -> list[str]:
    lists = [c.get("categories", []) for c in public_index.creator_cards(owner_id) if c["listing_id"] != listing_id]
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


def _commit(
    owner_id: str,
    slug: str,
    number: int | None,
    decide: Callable[[dict, dict | None], Change],
    previous_username: str | None = None,
) -> dict[str, Any] | None:
    """Apply `decide` to version `number` of a listing and re-plan its public index, atomically."""
    for attempt in range(MAX_ATTEMPTS):
        listing = listings.get_listing(owner_id, slug)
        stored = listings.get_version(owner_id, slug, number) if number else None
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
                else listings.get_version(owner_id, slug, int(active_number))
            )
        public = public_fields(active, approved[active_number]["at"]) if active and active_number else None
        profile = profiles.get_profile(owner_id)
        if not profile:
            raise Conflict("The creator has no store profile.")
        new_sk = (
            public_index.card_sk(approved[active_number]["at"], listing["listing_id"])
            if public and active_number
            else None
        )
        plan = index.plan_listing(listing, public, new_sk, profile)
        seen_agents = int(profile.get("num_agents", 0))
        num_agents = seen_agents + int(bool(new_sk)) - int(bool(listing.get("card_sk")))
        old_creator = public_index.get_creator(previous_username or profile["username"], consistent=True)
        categories = _creator_categories(owner_id, listing["listing_id"], public) if num_agents else []
        creator_plan = index.plan_creator(old_creator, profile, num_agents, categories)

        listing_fields = {
            **plan.listing_fields,
            "public": public,
            "approved": approved or None,
            "active_version": int(active_number) if active_number else None,
            "active_version_id": public["store_listing_version_id"] if public else None,
            "has_approved_version": bool(approved),
            "updated_at": now_iso(),
        }
        if version is not None and change.approve is not None and listing.get("pending") == number:
            listing_fields["pending"] = None
        ops = plan.ops + creator_plan.ops + [listings.listing_op(listing, listing_fields)]
        if stored is not None and change.version_fields:
            ops += listings.version_ops(stored, change.version_fields)
        if bool(approved) != bool(approved_before):
            ops.append(listings.graph_guard_op(listing, bool(approved)))
        ops += approvals.marker_ops(listing, _markers(approved_before), _markers(approved))
        if num_agents != seen_agents or creator_plan.ops:
            ops.append(profiles.num_agents_op(profile, seen_agents, num_agents))
        try:
            public_index.commit(ops, [plan, creator_plan])
        except TransactionCancelled:
            backoff(attempt)  # someone changed the listing, the version or the profile: decide again
            continue
        cache.invalidate()
        return version
    raise Conflict("The listing changed while saving; try again.")


# --- operations -------------------------------------------------------------------------------
def locate(version_id: str) -> dict[str, Any]:
    pointer = listings.pointer(version_id)
    if not pointer:
        raise NotFound(f"Store listing version {version_id} not found.")
    return pointer


def _reviewed(pointer: dict[str, Any], decide: Callable[[dict, dict | None], Change]) -> StoreSubmission:
    version = _commit(pointer["owner_id"], pointer["slug"], int(pointer["version"]), decide)
    assert version is not None  # a commit on a version returns it
    return to_submission(
        version, listings.get_listing(pointer["owner_id"], pointer["slug"], consistent=False), admin=True
    )


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
            "reviewer_id": admin_id,
            "review_comments": request.comments,
            "internal_comments": request.internal_comments,
            "reviewed_at": now_iso(),
        }
        return Change(version_fields=fields, approve=request.is_approved)

    return _reviewed(pointer, decide)


def set_featured(version_id: str, is_featured: bool) -> StoreSubmission:
    """Admins feature a version (AutoGPT's isFeatured); it shows under `featured` while it is the active one."""
    pointer = locate(version_id)

    def decide(listing: dict[str, Any], version: dict[str, Any] | None) -> Change:
        assert version is not None
        return Change(version_fields={"is_featured": is_featured})

    return _reviewed(pointer, decide)


def refresh_creator(user_id: str, previous_username: str) -> None:
    """After a profile change: rewrite the creator item and every card that shows the creator."""
    for position, card in enumerate(public_index.creator_cards(user_id)):
        _commit(
            user_id,
            card["slug"],
            None,
            lambda listing, version: Change(),
            previous_username=previous_username if position == 0 else None,
        )
