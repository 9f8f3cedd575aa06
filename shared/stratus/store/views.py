"""Store items shaped as AutoGPT's responses: submissions and pagination."""

from __future__ import annotations

import math
from typing import Any

from stratus.store.index import average
from stratus.store.models import Pagination, StoreSubmission


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
