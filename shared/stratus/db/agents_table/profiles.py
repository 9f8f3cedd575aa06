"""Store profiles and their username guards.

| item | PK | SK |
|---|---|---|
| profile (num_agents, agent_runs, rating sums) | `STORE#USER#<uid>` | `PROFILE` |
| username guard (usernames are unique) | `USERNAME#<username>` | `USERNAME` |
"""

from __future__ import annotations

from typing import Any

from stratus.db.agents_table.table import Op, agents_table, transact
from stratus.db.dynamo import ConditionFailed, TransactionCancelled, key_of

PROFILE_SK = "PROFILE"


class UsernameTaken(Exception):
    """Another user holds the username's guard."""


def owner_pk(user_id: str) -> str:
    """The partition of everything a user publishes: profile, listings, versions, graph guards."""
    return f"STORE#USER#{user_id}"


def profile_key(user_id: str) -> dict[str, str]:
    return key_of(owner_pk(user_id), PROFILE_SK)


def _username_key(username: str) -> dict[str, str]:
    return key_of(f"USERNAME#{username}", "USERNAME")


def is_profile(item: dict[str, Any]) -> bool:
    """Tells the profile apart from a listing or version read in the same BatchGetItem."""
    return item["SK"] == PROFILE_SK


def get_profile(user_id: str, consistent: bool = True) -> dict[str, Any] | None:
    return agents_table().get(profile_key(user_id), consistent=consistent)


def owner_of(username: str) -> str | None:
    """The user id holding `username` (already folded), None when nobody does."""
    guard = agents_table().get(_username_key(username))
    return guard["user_id"] if guard else None


def save_profile(user_id: str, fields: dict[str, Any], current: dict[str, Any] | None, now: str) -> None:
    """Create or update the profile (`fields` None: removed); a new username claims its guard and frees
    the old one in the same transaction. Raises UsernameTaken, or TransactionCancelled when the profile
    is no longer `current`."""
    table = agents_table()
    names = {f"#{k}": k for k in fields}
    values: dict[str, Any] = {f":{k}": v for k, v in fields.items() if v is not None}
    assignments = [f"#{k} = :{k}" for k, v in fields.items() if v is not None]
    assignments += ["user_id = :me", "created_at = if_not_exists(created_at, :now)"]
    values.update({":me": user_id, ":now": now})
    removed = [f"#{k}" for k, v in fields.items() if v is None]
    expression = "SET " + ", ".join(assignments) + (" REMOVE " + ", ".join(removed) if removed else "")
    if current is None:
        condition = "attribute_not_exists(PK)"
    else:
        condition, values[":old"] = "#username = :old", current["username"]
        names["#username"] = "username"
    ops = [table.update_op(profile_key(user_id), expression, names=names, values=values, condition=condition)]
    claims = current is None or current["username"] != fields["username"]
    if claims:
        ops.append(
            table.put_op(
                {**_username_key(fields["username"]), "user_id": user_id, "created_at": now},
                condition="attribute_not_exists(PK) OR user_id = :me",
                values={":me": user_id},
            )
        )
        if current is not None:
            ops.append(
                table.delete_op(_username_key(current["username"]), condition="user_id = :me", values={":me": user_id})
            )
    try:
        transact(ops)
    except TransactionCancelled as cancelled:
        if claims and cancelled.codes[1] == "ConditionalCheckFailed":
            raise UsernameTaken(fields["username"]) from cancelled
        raise


def add_agent_run(user_id: str) -> dict[str, Any] | None:
    """ADD one run to the creator's exact count; None when there is no profile."""
    try:
        return agents_table().update(
            profile_key(user_id), "ADD agent_runs :one", values={":one": 1}, condition="attribute_exists(PK)"
        )
    except ConditionFailed:
        return None


def num_agents_op(profile: dict[str, Any], seen: int, num_agents: int) -> Op:
    """The creator's count of public agents, conditioned on the username the creator item uses."""
    condition = "#username = :username AND " + (
        "(attribute_not_exists(num_agents) OR num_agents = :seen)" if seen == 0 else "num_agents = :seen"
    )
    return agents_table().update_op(
        profile_key(profile["user_id"]),
        "SET num_agents = :n",
        names={"#username": "username"},
        values={":n": num_agents, ":seen": seen, ":username": profile["username"]},
        condition=condition,
    )


def rating_sums_op(profile: dict[str, Any], rating_sum: int, rating_count: int) -> Op:
    """The creator's rating sums, conditioned on the sums read (a concurrent review cancels)."""
    values: dict[str, Any] = {":ns": rating_sum, ":nc": rating_count}
    if "rating_count" not in profile:
        condition = "attribute_not_exists(rating_count)"
    else:
        condition = "rating_count = :pc AND rating_sum = :ps"
        values.update({":pc": profile["rating_count"], ":ps": profile["rating_sum"]})
    return agents_table().update_op(
        profile_key(profile["user_id"]),
        "SET rating_sum = :ns, rating_count = :nc",
        values=values,
        condition=condition,
    )
