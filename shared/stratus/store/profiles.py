"""Store profiles: one per user, username unique through a `USERNAME#` guard item.

The profile item also holds the creator's aggregates (num_agents, agent_runs, rating sums):
it survives while the creator has no public agent, unlike the creators-list item.
"""

from __future__ import annotations

from typing import Any

from stratus.clock import now_iso
from stratus.db.dynamo import TransactionCancelled
from stratus.db.store_keys import profile_key, username_key
from stratus.db.store_table import store_table
from stratus.errors import Conflict, NotFound
from stratus.store import cache
from stratus.store.models import Profile, ProfileDetails
from stratus.store.writes import backoff

_PROFILE_FIELDS = ("name", "username", "description", "links", "avatar_url")


def profile_item(user_id: str, consistent: bool = True) -> dict[str, Any] | None:
    return store_table().get(profile_key(user_id), consistent=consistent)


def user_id_for(username: str) -> str | None:
    guard = store_table().get(username_key(username.lower()))
    return guard["user_id"] if guard else None


def details(item: dict[str, Any]) -> ProfileDetails:
    return ProfileDetails(
        name=item.get("name", ""),
        username=item["username"],
        description=item.get("description", ""),
        links=item.get("links", []),
        avatar_url=item.get("avatar_url"),
    )


def get_profile(user_id: str) -> ProfileDetails:
    item = profile_item(user_id)
    if not item:
        raise NotFound("User does not have a profile yet: create it with POST /api/store/profile.")
    return details(item)


def upsert_profile(user_id: str, request: Profile) -> ProfileDetails:
    """Create or update; a new username claims its guard and frees the old one atomically."""
    table = store_table()
    for attempt in range(6):
        current = profile_item(user_id)
        now = now_iso()
        fields = {
            "name": request.name,
            "username": request.username,
            "description": request.description,
            "links": request.links,
            "avatar_url": request.avatar_url,
            "updated_at": now,
        }
        names = {f"#{k}": k for k in fields}
        values: dict[str, Any] = {f":{k}": v for k, v in fields.items()}
        assignments = [f"#{k} = :{k}" for k in fields]
        assignments += ["user_id = :me", "created_at = if_not_exists(created_at, :updated_at)"]
        values[":me"] = user_id
        remove = ""
        if request.avatar_url is None:  # DynamoDB cannot store null through our serializer
            assignments.remove("#avatar_url = :avatar_url")
            values.pop(":avatar_url")
            remove = " REMOVE #avatar_url"
        if current is None:
            condition, extra = "attribute_not_exists(PK)", {}
        else:
            condition, extra = "#username = :old", {":old": current["username"]}
        ops = [
            table.update_op(
                profile_key(user_id),
                "SET " + ", ".join(assignments) + remove,
                names=names,
                values={**values, **extra},
                condition=condition,
            )
        ]
        claims = current is None or current["username"] != request.username
        if claims:
            ops.append(
                table.put_op(
                    {**username_key(request.username), "user_id": user_id, "created_at": now},
                    condition="attribute_not_exists(PK) OR user_id = :me",
                    values={":me": user_id},
                )
            )
            if current is not None:
                ops.append(
                    table.delete_op(
                        username_key(current["username"]), condition="user_id = :me", values={":me": user_id}
                    )
                )
        try:
            table.transact(ops)
        except TransactionCancelled as cancelled:
            if claims and cancelled.codes[1] == "ConditionalCheckFailed":
                raise Conflict(f"Username {request.username!r} is already taken.") from cancelled
            backoff(attempt)  # the profile changed under us: read it again
            continue
        break
    else:
        raise Conflict("The profile changed while saving; try again.")
    cache.invalidate()
    changed = current is None or any(current.get(k) != fields.get(k) for k in _PROFILE_FIELDS)
    if current is not None and changed and current.get("num_agents", 0) > 0:
        from stratus.store.publishing import refresh_creator  # lazy: publishing imports profiles

        refresh_creator(user_id, previous_username=current["username"])
    saved = profile_item(user_id)
    assert saved is not None
    return details(saved)
