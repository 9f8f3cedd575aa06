"""Public store reads: agents (list, search, detail) and creators (list, search, detail).

Only the public index is read here (cards, creator items, the listing's `public` copy), and
those exist only while a version is approved: nothing unapproved can show. Answers are the
same for everyone and go through the short in-Lambda cache (stratus.store.cache).

DynamoDB requests per page: a listing page is a Query plus the scope's COUNT (2); a creator
filter adds the username lookup (3). A one-word search is a Query, a BatchGetItem of cards
and the COUNT; more words or filters add one BatchGetItem of counts and the membership tests.
"""

from __future__ import annotations

from typing import Any

from stratus.db.agents_table import listings, profiles, public_index
from stratus.db.agents_table.public_index import (
    ALL_SCOPE,
    BY_NAME,
    BY_NEWEST,
    BY_NUM_AGENTS,
    BY_RATING,
    BY_RUNS,
    CARD_PREFIX,
    CREATOR_PREFIX,
    CREATORS_LIST,
    FEATURED_SCOPE,
    category_scope,
    creator_scope,
    creator_word_list,
    word_list,
)
from stratus.errors import NotFound
from stratus.store import cache
from stratus.store.index import average
from stratus.store.models import (
    Creator,
    CreatorDetails,
    CreatorsResponse,
    StoreAgent,
    StoreAgentDetails,
    StoreAgentsResponse,
)
from stratus.store.profiles import user_id_for
from stratus.store.search import Page, fingerprint, intersect_page, sorted_page
from stratus.store.text import fold, query_terms, slugify
from stratus.store.views import pagination

AGENT_SORTS = {"updated_at": BY_NEWEST, "rating": BY_RATING, "runs": BY_RUNS, "name": BY_NAME}
CREATOR_SORTS = {None: BY_NEWEST, "agent_rating": BY_RATING, "agent_runs": BY_RUNS, "num_agents": BY_NUM_AGENTS}


def _agent(card: dict[str, Any]) -> StoreAgent:
    return StoreAgent(
        slug=card["slug"],
        agent_name=card["agent_name"],
        agent_image=card.get("agent_image", ""),
        creator=card["creator"],
        creator_avatar=card.get("creator_avatar", ""),
        sub_heading=card.get("sub_heading", ""),
        description=card.get("description", ""),
        runs=int(card.get("runs", 0)),
        rating=float(card.get("rating", 0)),
    )


def _empty(page: int, page_size: int) -> dict[str, Any]:
    return StoreAgentsResponse(agents=[], pagination=pagination(0, page, page_size)).model_dump(mode="json")


def list_agents(
    featured: bool = False,
    creator: str | None = None,
    category: str | None = None,
    search_query: str | None = None,
    sorted_by: str | None = None,
    page: int = 1,
    page_size: int = 20,
    cursor: str | None = None,
) -> dict[str, Any]:
    key = ("agents", featured, creator, category, search_query, sorted_by, page, page_size, cursor)
    return cache.get_or_load(
        key, lambda: _list_agents(featured, creator, category, search_query, sorted_by, page, page_size, cursor)
    )


def _list_agents(
    featured: bool,
    creator: str | None,
    category: str | None,
    search_query: str | None,
    sorted_by: str | None,
    page: int,
    page_size: int,
    cursor: str | None,
) -> dict[str, Any]:
    filters: list[str] = []
    if creator:
        owner = user_id_for(slugify(creator))
        if owner is None:
            return _empty(page, page_size)
        filters.append(creator_scope(owner))
    if category:
        if not fold(category):
            return _empty(page, page_size)
        filters.append(category_scope(fold(category)))
    if featured:
        filters.append(FEATURED_SCOPE)
    words = [word_list(t) for t in query_terms(search_query or "")]
    query_id = fingerprint("agents", featured, creator, category, words, sorted_by, page_size)
    result: Page
    if not words and len(filters) <= 1:
        sort = AGENT_SORTS[sorted_by or "updated_at"]
        result = sorted_page(filters[0] if filters else ALL_SCOPE, CARD_PREFIX, sort, page, page_size, cursor, query_id)
    else:  # search (sorted_by is ignored, as in AutoGPT) or combined filters: newest approval first
        result = intersect_page(
            words + filters, set(filters), ALL_SCOPE, CARD_PREFIX, page, page_size, cursor, query_id
        )
    response = StoreAgentsResponse(
        agents=[_agent(c) for c in result.items],
        pagination=pagination(result.total_items, result.current_page, page_size),
        next_cursor=result.next_cursor,
    )
    return response.model_dump(mode="json")


def get_agent(username: str, agent_name: str) -> dict[str, Any]:
    return cache.get_or_load(("agent", username.lower(), agent_name.lower()), lambda: _get_agent(username, agent_name))


def _get_agent(username: str, agent_name: str) -> dict[str, Any]:
    """Username guard (GetItem), then the listing and the profile (one BatchGetItem)."""
    not_found = NotFound(f"Agent {username}/{agent_name} not found.")
    owner = user_id_for(slugify(username))
    if owner is None:
        raise not_found
    listing, profile = listings.listing_with_profile(owner, slugify(agent_name))
    if not listing or not profile or not listing.get("public"):
        raise not_found
    public = listing["public"]
    approved = sorted((listing.get("approved") or {}).items(), key=lambda kv: int(kv[0]))
    graph_versions = sorted({int(entry["agent_version"]) for _, entry in approved})
    details = StoreAgentDetails(
        store_listing_version_id=public["store_listing_version_id"],
        slug=listing["slug"],
        agent_name=public["name"],
        agent_video=public.get("video_url") or "",
        agent_output_demo=public.get("agent_output_demo_url") or "",
        agent_image=public.get("image_urls", []),
        creator=profile["username"],
        creator_name=profile.get("name", ""),
        creator_avatar=profile.get("avatar_url") or "",
        sub_heading=public.get("sub_heading", ""),
        description=public.get("description", ""),
        instructions=public.get("instructions"),
        categories=public.get("categories", []),
        runs=int(listing.get("runs", 0)),
        rating=average(listing.get("rating_sum", 0), int(listing.get("rating_count", 0))),
        versions=[number for number, _ in approved],
        agentGraphVersions=[str(v) for v in graph_versions],
        agentGraphId=listing["graph_id"],
        last_updated=public["approved_at"],
        recommended_schedule_cron=public.get("recommended_schedule_cron"),
        active_version_id=public["store_listing_version_id"],
        has_approved_version=True,
    )
    return details.model_dump(mode="json")


# --- creators ----------------------------------------------------------------------------------
def _creator(item: dict[str, Any]) -> Creator:
    return Creator(
        name=item.get("name", ""),
        username=item["username"],
        description=item.get("description", ""),
        avatar_url=item.get("avatar_url", ""),
        num_agents=int(item.get("num_agents", 0)),
        agent_rating=float(item.get("agent_rating", 0)),
        agent_runs=int(item.get("agent_runs", 0)),
        is_featured=bool(item.get("is_featured")),
    )


def list_creators(
    featured: bool = False,
    search_query: str | None = None,
    sorted_by: str | None = None,
    page: int = 1,
    page_size: int = 20,
    cursor: str | None = None,
) -> dict[str, Any]:
    key = ("creators", featured, search_query, sorted_by, page, page_size, cursor)
    return cache.get_or_load(key, lambda: _list_creators(featured, search_query, sorted_by, page, page_size, cursor))


def _list_creators(
    featured: bool, search_query: str | None, sorted_by: str | None, page: int, page_size: int, cursor: str | None
) -> dict[str, Any]:
    words = [creator_word_list(t) for t in query_terms(search_query or "")]
    query_id = fingerprint("creators", featured, words, sorted_by, page_size)
    if words:
        result = intersect_page(words, set(), CREATORS_LIST, CREATOR_PREFIX, page, page_size, cursor, query_id)
    else:
        result = sorted_page(CREATORS_LIST, CREATOR_PREFIX, CREATOR_SORTS[sorted_by], page, page_size, cursor, query_id)
    items = [i for i in result.items if i.get("is_featured")] if featured else result.items
    response = CreatorsResponse(
        creators=[_creator(i) for i in items],
        pagination=pagination(result.total_items, result.current_page, page_size),
        next_cursor=result.next_cursor,
    )
    return response.model_dump(mode="json")


def get_creator(username: str) -> dict[str, Any]:
    return cache.get_or_load(("creator", username.lower()), lambda: _get_creator(username))


def _get_creator(username: str) -> dict[str, Any]:
    """The creators-list item (one GetItem) or, for a creator with no public agent, the profile."""
    name = slugify(username)
    item = public_index.get_creator(name)
    if item:
        return CreatorDetails(
            name=item.get("name", ""),
            username=item["username"],
            description=item.get("description", ""),
            links=item.get("links", []),
            avatar_url=item.get("avatar_url", ""),
            agent_rating=float(item.get("agent_rating", 0)),
            agent_runs=int(item.get("agent_runs", 0)),
            top_categories=item.get("top_categories", []),
        ).model_dump(mode="json")
    owner = user_id_for(name)
    profile = profiles.get_profile(owner, consistent=False) if owner else None
    if not profile:
        raise NotFound(f"Creator {username} not found.")
    return CreatorDetails(
        name=profile.get("name", ""),
        username=profile["username"],
        description=profile.get("description", ""),
        links=profile.get("links", []),
        avatar_url=profile.get("avatar_url") or "",
        agent_rating=average(profile.get("rating_sum", 0), int(profile.get("rating_count", 0))),
        agent_runs=int(profile.get("agent_runs", 0)),
        top_categories=[],
    ).model_dump(mode="json")
