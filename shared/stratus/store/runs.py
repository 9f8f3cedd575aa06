"""Counting runs of store agents for the listing, its cards and its creator.

Each run of an approved version ADDs 1 to its marker (access.record_run), the listing and
the creator's profile: those counters are exact. The copies that sort listings (each card's
`runs` and runs GSI key, the creators-list item) are synced on every run up to 1,000 and
then whenever the count is a multiple of 10^(digits-3), so they lag by under 1% while a
popular agent costs a few extra writes per thousand runs, not per run. A sync only moves a
copy forward, so concurrent syncs never step back.
"""

from __future__ import annotations

from stratus.db.agents_table import listings, profiles, public_index

EXACT_UP_TO = 1000


def should_sync(count: int) -> bool:
    return count <= EXACT_UP_TO or count % 10 ** (len(str(count)) - 3) == 0


def listing_ran(owner_id: str, slug: str) -> None:
    listing = listings.add_run(owner_id, slug)
    if listing is None:
        return  # the listing was deleted meanwhile
    profile = profiles.add_agent_run(owner_id)
    if profile is None:
        return
    runs = int(listing["runs"])
    if should_sync(runs):
        public_index.forward_card_runs(listing, runs)
    agent_runs = int(profile["agent_runs"])
    if int(profile.get("num_agents", 0)) > 0 and should_sync(agent_runs):
        public_index.forward_creator_runs(profile["username"], agent_runs)
