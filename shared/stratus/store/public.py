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

from stratus.db.store_keys import (
    ALL_SCOPE,
    CARD_PREFIX,
    CREATOR_PREFIX,
    CREATORS_PK,
    FEATURED_SCOPE,
    NAME_INDEX,
    NUM_AGENTS_INDEX,
    RATING_INDEX,
    RUNS_INDEX,
    category_scope,
    creator_key,
    creator_scope,
    creator_word_pk,
    listing_key,
    profile_key,
    word_pk,
)
from stratus.db.store_table import store_table
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
from stratus.store.search import Page, Sort, fingerprint, intersect_page, sorted_page
from stratus.store.submissions import pagination
from stratus.store.text import fold, query_terms, slugify

AGENT_SORTS = {
    "updated_at": Sort(None, True),
    "rating": Sort(RATING_INDEX, False),
    "runs": Sort(RUNS_INDEX, False),
    "name": Sort(NAME_INDEX, True),
}
CREATOR_SORTS = {
    None: Sort(None, True),
    "agent_rating": Sort(RATING_INDEX, False),
    "agent_runs": Sort(RUNS_INDEX, False),
    "num_agents": Sort(NUM_AGENTS_INDEX, False),
}


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
    table = store_table()
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
    words = [word_pk(t) for t in query_terms(search_query or "")]
    query_id = fingerprint("agents", featured, creator, category, words, sorted_by, page_size)
    result: Page
    if not words and len(filters) <= 1:
        sort = AGENT_SORTS[sorted_by or "updated_at"]
        result = sorted_page(
            table, filters[0] if filters else ALL_SCOPE, CARD_PREFIX, sort, page, page_size, cursor, query_id
        )
    else:  # search (sorted_by is ignored, as in AutoGPT) or combined filters: newest approval first
        result = intersect_page(
            table, words + filters, set(filters), ALL_SCOPE, CARD_PREFIX, page, page_size, cursor, query_id
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
    items = {i["SK"]: i for i in store_table().batch_get([listing_key(owner, slugify(agent_name)), profile_key(owner)])}
    listing = next((i for sk, i in items.items() if sk != "PROFILE"), None)
    profile = items.get("PROFILE")
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
    table = store_table()
    words = [creator_word_pk(t) for t in query_terms(search_query or "")]
    query_id = fingerprint("creators", featured, words, sorted_by, page_size)
    if words:
        result = intersect_page(table, words, set(), CREATORS_PK, CREATOR_PREFIX, page, page_size, cursor, query_id)
    else:
        result = sorted_page(
            table, CREATORS_PK, CREATOR_PREFIX, CREATOR_SORTS[sorted_by], page, page_size, cursor, query_id
        )
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
    table = store_table()
    name = slugify(username)
    item = table.get(creator_key(name))
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
    profile = table.get(profile_key(owner)) if owner else None
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
