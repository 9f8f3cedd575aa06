"""Counting runs of store agents for the listing, its cards and its creator.

Each run of an approved version ADDs 1 to its marker (access.record_run), the listing and
the creator's profile: those counters are exact. The copies that sort listings (each card's
`runs` and runs GSI key, the creators-list item) are synced on every run up to 1,000 and
then whenever the count is a multiple of 10^(digits-3), so they lag by under 1% while a
popular agent costs a few extra writes per thousand runs, not per run. A sync only moves a
copy forward (`runs < :n`), so concurrent syncs never step back.
"""

from __future__ import annotations

from stratus.db.dynamo import ConditionFailed
from stratus.db.store_keys import creator_key, listing_key, profile_key, runs_sort
from stratus.db.store_table import store_table

EXACT_UP_TO = 1000


def should_sync(count: int) -> bool:
    return count <= EXACT_UP_TO or count % 10 ** (len(str(count)) - 3) == 0


def _forward(key: dict[str, str], attribute: str, count: int, sort_key: str) -> None:
    try:
        store_table().update(
            key,
            f"SET {attribute} = :n, GSI2SK = :sort",
            values={":n": count, ":sort": sort_key},
            condition=f"attribute_exists(PK) AND (attribute_not_exists({attribute}) OR {attribute} < :n)",
        )
    except ConditionFailed:
        pass  # gone (unlisted) or already further ahead


def listing_ran(owner_id: str, slug: str) -> None:
    table = store_table()
    try:
        listing = table.update(
            listing_key(owner_id, slug), "ADD runs :one", values={":one": 1}, condition="attribute_exists(PK)"
        )
        profile = table.update(
            profile_key(owner_id), "ADD agent_runs :one", values={":one": 1}, condition="attribute_exists(PK)"
        )
    except ConditionFailed:
        return  # the listing was deleted meanwhile
    runs = int(listing["runs"])
    if listing.get("card_sk") and should_sync(runs):
        for scope in listing.get("scopes", []):
            _forward({"PK": scope, "SK": listing["card_sk"]}, "runs", runs, runs_sort(runs, listing["listing_id"]))
    agent_runs = int(profile["agent_runs"])
    if int(profile.get("num_agents", 0)) > 0 and should_sync(agent_runs):
        _forward(creator_key(profile["username"]), "agent_runs", agent_runs, runs_sort(agent_runs, profile["username"]))
