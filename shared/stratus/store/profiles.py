"""Store profiles: one per user, username unique through a `USERNAME#` guard item.

The profile item also holds the creator's aggregates (num_agents, agent_runs, rating sums):
it survives while the creator has no public agent, unlike the creators-list item.
"""

from __future__ import annotations

from typing import Any

from stratus.clock import now_iso
from stratus.db.agents_table import profiles
from stratus.db.dynamo import TransactionCancelled, backoff
from stratus.errors import Conflict, NotFound
from stratus.store import cache
from stratus.store.models import Profile, ProfileDetails
from stratus.store.publishing import refresh_creator

_PROFILE_FIELDS = ("name", "username", "description", "links", "avatar_url")


def user_id_for(username: str) -> str | None:
    return profiles.owner_of(username.lower())


def details(item: dict[str, Any]) -> ProfileDetails:
    return ProfileDetails(
        name=item.get("name", ""),
        username=item["username"],
        description=item.get("description", ""),
        links=item.get("links", []),
        avatar_url=item.get("avatar_url"),
    )


def get_profile(user_id: str) -> ProfileDetails:
    item = profiles.get_profile(user_id)
    if not item:
        raise NotFound("User does not have a profile yet: create it with POST /api/store/profile.")
    return details(item)


def upsert_profile(user_id: str, request: Profile) -> ProfileDetails:
    """Create or update; a new username claims its guard and frees the old one atomically."""
    for attempt in range(6):
        current = profiles.get_profile(user_id)
        now = now_iso()
        fields = {
            "name": request.name,
            "username": request.username,
            "description": request.description,
            "links": request.links,
            "avatar_url": request.avatar_url,
            "updated_at": now,
        }
        try:
            profiles.save_profile(user_id, fields, current, now)
        except profiles.UsernameTaken as taken:
            raise Conflict(f"Username {request.username!r} is already taken.") from taken
        except TransactionCancelled:
            backoff(attempt)  # the profile changed under us: read it again
            continue
        break
    else:
        raise Conflict("The profile changed while saving; try again.")
    cache.invalidate()
    changed = current is None or any(current.get(k) != fields.get(k) for k in _PROFILE_FIELDS)
    if current is not None and changed and current.get("num_agents", 0) > 0:
        refresh_creator(user_id, previous_username=current["username"])
    saved = profiles.get_profile(user_id)
    assert saved is not None
    return details(saved)
