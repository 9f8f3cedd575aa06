"""Admin views of the store: every listing with its versions (internal comments included).

Without a status: a Query on GSI3 `STORE#LISTINGS` (newest listing first), then one
BatchGetItem for the versions of the page's listings. With a status: a Query on the status
index of versions (`STORE#STATUS#<status>`, newest submission first), then the listings and
all their versions. Totals come from COUNT items kept in the same transactions.
"""

from __future__ import annotations

from typing import Any

from stratus.db.agents_table import listings as listing_items
from stratus.db.agents_table.lists import status_list
from stratus.store.models import StoreListingsWithVersionsAdminViewResponse, StoreListingWithVersionsAdminView
from stratus.store.search import fingerprint, sorted_page
from stratus.store.views import pagination, to_submission


def admin_listings(
    status: str | None, page: int, page_size: int, cursor: str | None
) -> StoreListingsWithVersionsAdminViewResponse:
    query_id = fingerprint("admin-listings", status, page_size)
    if status:
        result = sorted_page(
            status_list(status), "", listing_items.NEWEST_SUBMISSIONS, page, page_size, cursor, query_id
        )
        owners = list(dict.fromkeys((v["owner_id"], v["slug"]) for v in result.items))
        listings = listing_items.get_listings(owners)
        order = {pair: position for position, pair in enumerate(owners)}
        listings.sort(key=lambda item: order[(item["owner_id"], item["slug"])])
    else:
        result = sorted_page(
            listing_items.LISTINGS_LIST, "", listing_items.NEWEST_LISTINGS, page, page_size, cursor, query_id
        )
        listings = result.items
    versions: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for version in listing_items.versions_of(listings):
        versions.setdefault((version["owner_id"], version["slug"]), []).append(version)
    views = []
    for listing in listings:
        mine = sorted(versions.get((listing["owner_id"], listing["slug"]), []), key=lambda v: -int(v["version"]))
        shaped = [to_submission(v, listing, admin=True) for v in mine]
        views.append(
            StoreListingWithVersionsAdminView(
                listing_id=listing["listing_id"],
                graph_id=listing["graph_id"],
                slug=listing["slug"],
                owner_id=listing["owner_id"],
                active_listing_version_id=listing.get("active_version_id"),
                has_approved_version=bool(listing.get("has_approved_version")),
                latest_version=shaped[0] if shaped else None,
                versions=shaped,
            )
        )
    return StoreListingsWithVersionsAdminViewResponse(
        listings=views,
        pagination=pagination(result.total_items, result.current_page, page_size),
        next_cursor=result.next_cursor,
    )
