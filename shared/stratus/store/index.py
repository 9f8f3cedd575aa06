"""The public index, planned (not written) from a listing's state: cards, scopes, postings, creator.

A public listing has one card per scope (ALL, CREATOR#uid, FEATURED, CAT#c); each card
carries the sort keys of its scope's GSIs, so a listing page is one Query. Words point at
the card SK (`STORE#WORD#<term>` / card SK), so every list shares one key space and
intersecting lists is a membership test. `publishing` writes the plans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stratus.db.dynamo import Table
from stratus.db.store_keys import (
    ALL_SCOPE,
    COUNT_SK,
    CREATORS_PK,
    FEATURED_SCOPE,
    card_index_keys,
    category_scope,
    count_key,
    creator_index_keys,
    creator_key,
    creator_scope,
    creator_word_pk,
    word_pk,
)
from stratus.store.text import fold, terms

TOP_CATEGORIES = 5


@dataclass
class IndexPlan:
    """Transaction ops plus the postings written around the transaction."""

    ops: list[dict[str, Any]] = field(default_factory=list)
    posting_puts: list[dict[str, Any]] = field(default_factory=list)
    posting_deletes: list[dict[str, Any]] = field(default_factory=list)
    term_deltas: dict[str, int] = field(default_factory=dict)
    listing_fields: dict[str, Any] = field(default_factory=dict)


def average(total: float, count: int) -> float:
    return round(total / count, 3) if count else 0.0


def categories_of(public: dict[str, Any]) -> list[str]:
    seen: dict[str, None] = {}
    for category in public.get("categories", []):
        if folded := fold(category):
            seen.setdefault(folded, None)
    return list(seen)


def scopes_of(owner_id: str, public: dict[str, Any]) -> list[str]:
    scopes = [ALL_SCOPE, creator_scope(owner_id)]
    if public.get("is_featured"):
        scopes.append(FEATURED_SCOPE)
    scopes += [category_scope(c) for c in categories_of(public)]
    return scopes


def terms_of(public: dict[str, Any]) -> list[str]:
    return terms(
        public.get("name", ""),
        public.get("sub_heading", ""),
        public.get("description", ""),
        *public.get("categories", []),
    )


def card(
    scope: str, sk: str, listing: dict[str, Any], public: dict[str, Any], profile: dict[str, Any]
) -> dict[str, Any]:
    count = int(listing.get("rating_count", 0))
    rating = average(listing.get("rating_sum", 0), count)
    runs = int(listing.get("runs", 0))
    images = public.get("image_urls") or []
    return {
        "PK": scope,
        "SK": sk,
        **card_index_keys(scope, rating, count, runs, fold(public["name"]), listing["listing_id"]),
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
        "runs": runs,
        "rating": rating,
        "rating_count": count,
        "updated_at": public["approved_at"],
        "store_listing_version_id": public["store_listing_version_id"],
        "graph_id": public["agent_id"],
        "graph_version": public["agent_version"],
    }


def _postings(
    plan: IndexPlan,
    pk_of,
    old_sk: str | None,
    old_terms: list[str],
    new_sk: str | None,
    new_terms: list[str],
    attributes: dict[str, Any],
) -> None:
    old = {pk_of(t) for t in old_terms} if old_sk else set()
    new = {pk_of(t) for t in new_terms} if new_sk else set()
    moved = old_sk != new_sk
    plan.posting_puts += [{"PK": pk, "SK": new_sk, **attributes} for pk in sorted(new if moved else new - old)]
    plan.posting_deletes += [{"PK": pk, "SK": old_sk} for pk in sorted(old if moved else old - new)]
    for pk in new - old:
        plan.term_deltas[pk] = plan.term_deltas.get(pk, 0) + 1
    for pk in old - new:
        plan.term_deltas[pk] = plan.term_deltas.get(pk, 0) - 1


def plan_listing(
    table: Table, listing: dict[str, Any], public: dict[str, Any] | None, new_sk: str | None, profile: dict[str, Any]
) -> IndexPlan:
    """Move the listing's cards from what the item records to `public` at `new_sk` (None: unlist)."""
    plan = IndexPlan()
    old_sk: str | None = listing.get("card_sk")
    old_scopes: list[str] = listing.get("scopes", []) if old_sk else []
    new_scopes = scopes_of(listing["owner_id"], public) if public and new_sk else []
    new_keys = {(scope, new_sk) for scope in new_scopes}
    for scope in old_scopes:
        if (scope, old_sk) not in new_keys:
            plan.ops.append(table.delete_op({"PK": scope, "SK": old_sk}))
    for scope in new_scopes:
        plan.ops.append(table.put_op(card(scope, new_sk, listing, public, profile)))  # type: ignore[arg-type]
    for scope in set(old_scopes) | set(new_scopes):
        delta = (scope in new_scopes) - (scope in old_scopes)
        if delta:
            plan.ops.append(table.update_op(count_key(scope), "ADD n :d", values={":d": delta}))
    new_terms = terms_of(public) if public and new_sk else []
    _postings(plan, word_pk, old_sk, listing.get("terms", []), new_sk, new_terms, {"listing_id": listing["listing_id"]})
    plan.listing_fields = {
        "card_sk": new_sk,
        "scopes": new_scopes or None,
        "terms": new_terms or None,
        "public": public,
    }
    return plan


def top_categories(category_lists: list[list[str]]) -> list[str]:
    counts: dict[str, int] = {}
    for categories in category_lists:
        for category in dict.fromkeys(categories):
            counts[category] = counts.get(category, 0) + 1
    return [c for c, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))][:TOP_CATEGORIES]


def creator_item(profile: dict[str, Any], num_agents: int, categories: list[str]) -> dict[str, Any]:
    count = int(profile.get("rating_count", 0))
    rating = average(profile.get("rating_sum", 0), count)
    runs = int(profile.get("agent_runs", 0))
    username = profile["username"]
    return {
        **creator_key(username),
        **creator_index_keys(username, rating, count, runs, num_agents),
        "user_id": profile["user_id"],
        "username": username,
        "name": profile.get("name", ""),
        "description": profile.get("description", ""),
        "avatar_url": profile.get("avatar_url") or "",
        "links": profile.get("links", []),
        "is_featured": bool(profile.get("is_featured")),
        "num_agents": num_agents,
        "agent_runs": runs,
        "agent_rating": rating,
        "rating_count": count,
        "top_categories": categories,
        "terms": terms(username, profile.get("name", ""), profile.get("description", "")),
    }


def plan_creator(
    table: Table, old: dict[str, Any] | None, profile: dict[str, Any], num_agents: int, categories: list[str]
) -> IndexPlan:
    """The creators-list item (exists while the creator has a public agent) and its words."""
    plan = IndexPlan()
    new = creator_item(profile, num_agents, categories) if num_agents > 0 else None
    if old and (not new or old["SK"] != new["SK"]):
        plan.ops.append(table.delete_op({"PK": old["PK"], "SK": old["SK"]}))
    if new:
        plan.ops.append(table.put_op(new))
    delta = bool(new) - bool(old)
    if delta:
        plan.ops.append(table.update_op({"PK": CREATORS_PK, "SK": COUNT_SK}, "ADD n :d", values={":d": delta}))
    _postings(
        plan,
        creator_word_pk,
        old["SK"] if old else None,
        (old or {}).get("terms", []),
        new["SK"] if new else None,
        (new or {}).get("terms", []),
        {"user_id": profile["user_id"]},
    )
    return plan
