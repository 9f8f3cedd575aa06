"""What the public index shows of a listing and a creator (stratus.db.agents_table.public_index lays it out).

A public listing has a card in each of its scopes (ALL, its creator, FEATURED when featured, each
category), words from its name, sub heading, description and categories, and a creators-list
item for its creator while the creator has a public agent. `publishing` plans and writes them.
"""

from __future__ import annotations

from typing import Any

from stratus.db.agents_table import public_index
from stratus.db.agents_table.public_index import IndexPlan
from stratus.store.text import fold, terms

TOP_CATEGORIES = 5


def average(total: float, count: int) -> float:
    return round(total / count, 3) if count else 0.0


def categories_of(public: dict[str, Any]) -> list[str]:
    seen: dict[str, None] = {}
    for category in public.get("categories", []):
        if folded := fold(category):
            seen.setdefault(folded, None)
    return list(seen)


def terms_of(public: dict[str, Any]) -> list[str]:
    return terms(
        public.get("name", ""),
        public.get("sub_heading", ""),
        public.get("description", ""),
        *public.get("categories", []),
    )


def card(listing: dict[str, Any], public: dict[str, Any], profile: dict[str, Any]) -> dict[str, Any]:
    """What a card shows: the approved version's face, the listing's counters and the creator."""
    count = int(listing.get("rating_count", 0))
    images = public.get("image_urls") or []
    return {
        "listing_id": listing["listing_id"],
        "owner_id": listing["owner_id"],
        "slug": listing["slug"],
        "agent_name": public["name"],
        "agent_image": images[0] if images else "",
        "creator": profile["username"],
        "creator_avatar": profile.get("avatar_url") or "",
        "sub_heading": public.get("sub_heading", ""),
        "description": public.get("description", ""),
        "categories": public.get("categories", []),
        "is_featured": bool(public.get("is_featured")),
        "runs": int(listing.get("runs", 0)),
        "rating": average(listing.get("rating_sum", 0), count),
        "rating_count": count,
        "updated_at": public["approved_at"],
        "store_listing_version_id": public["store_listing_version_id"],
        "graph_id": public["agent_id"],
        "graph_version": public["agent_version"],
    }


def plan_listing(
    listing: dict[str, Any], public: dict[str, Any] | None, new_sk: str | None, profile: dict[str, Any]
) -> IndexPlan:
    """Move the listing's cards from what the item records to `public` at `new_sk` (None: unlist)."""
    if public is None or new_sk is None:
        return public_index.plan_listing(listing, None, None, [], [], "")
    scopes = public_index.scopes_of(listing["owner_id"], bool(public.get("is_featured")), categories_of(public))
    return public_index.plan_listing(
        listing, new_sk, card(listing, public, profile), scopes, terms_of(public), fold(public["name"])
    )


def top_categories(category_lists: list[list[str]]) -> list[str]:
    counts: dict[str, int] = {}
    for categories in category_lists:
        for category in dict.fromkeys(categories):
            counts[category] = counts.get(category, 0) + 1
    return [c for c, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))][:TOP_CATEGORIES]


def creator(profile: dict[str, Any], num_agents: int, categories: list[str]) -> dict[str, Any]:
    """What the creators list shows of a creator."""
    count = int(profile.get("rating_count", 0))
    username = profile["username"]
    return {
        "user_id": profile["user_id"],
        "username": username,
        "name": profile.get("name", ""),
        "description": profile.get("description", ""),
        "avatar_url": profile.get("avatar_url") or "",
        "links": profile.get("links", []),
        "is_featured": bool(profile.get("is_featured")),
        "num_agents": num_agents,
        "agent_runs": int(profile.get("agent_runs", 0)),
        "agent_rating": average(profile.get("rating_sum", 0), count),
        "rating_count": count,
        "top_categories": categories,
        "terms": terms(username, profile.get("name", ""), profile.get("description", "")),
    }


def plan_creator(
    old: dict[str, Any] | None, profile: dict[str, Any], num_agents: int, categories: list[str]
) -> IndexPlan:
    """The creators-list item (exists while the creator has a public agent) and its words."""
    return public_index.plan_creator(old, creator(profile, num_agents, categories) if num_agents > 0 else None)
