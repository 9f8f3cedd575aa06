"""What the library needs to know about a store listing version (stratus.library.agents).

Imports only the table's repository, so the GraphsFunction (which adds created graphs to the
library) does not load the store's services.
"""

from __future__ import annotations

from dataclasses import dataclass

from stratus.db.agents_table import listings
from stratus.store.models import SubmissionStatus


@dataclass(frozen=True)
class StoreListingVersionInfo:
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
    pointer = listings.pointer(version_id)
    if not pointer:
        return None
    version, profile = listings.version_with_profile(pointer)
    if not version:
        return None
    profile = profile or {}
    images = version.get("image_urls") or []
    return StoreListingVersionInfo(
        store_listing_version_id=version_id,
        graph_id=version["agent_id"],
        graph_version=int(version["agent_version"]),
        status=version["status"],
        approved=version["status"] == SubmissionStatus.APPROVED.value,
        name=version["name"],
        description=version.get("description", ""),
        sub_heading=version.get("sub_heading", ""),
        image_url=images[0] if images else None,
        creator_username=profile.get("username"),
        creator_name=profile.get("name"),
        creator_image_url=profile.get("avatar_url"),
    )
