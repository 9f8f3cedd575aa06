"""Admin views of the store: every listing with its versions (internal comments included).

Without a status: a Query on GSI3 `STORE#LISTINGS` (newest listing first), then one
BatchGetItem for the versions of the page's listings. With a status: a Query on the status
index of versions (`STORE#STATUS#<status>`, newest submission first), then the listings and
all their versions. Totals come from COUNT items kept in the same transactions.
"""

from __future__ import annotations

from typing import Any

from stratus.db.store_keys import ALL_LISTINGS, BY_STATUS, LISTINGS_PK, listing_key, status_pk, version_key
from stratus.db.store_table import store_table
from stratus.store.models import StoreListingsWithVersionsAdminViewResponse, StoreListingWithVersionsAdminView
from stratus.store.search import Sort, fingerprint, sorted_page
from stratus.store.submissions import pagination, to_submission


def admin_listings(
    status: str | None, page: int, page_size: int, cursor: str | None
) -> StoreListingsWithVersionsAdminViewResponse:
    table = store_table()
    query_id = fingerprint("admin-listings", status, page_size)
    if status:
        result = sorted_page(table, status_pk(status), "", Sort(BY_STATUS, False), page, page_size, cursor, query_id)
        owners = list(dict.fromkeys((v["owner_id"], v["slug"]) for v in result.items))
        listings = table.batch_get([listing_key(owner, slug) for owner, slug in owners])
        order = {pair: position for position, pair in enumerate(owners)}
        listings.sort(key=lambda item: order[(item["owner_id"], item["slug"])])
    else:
        result = sorted_page(table, LISTINGS_PK, "", Sort(ALL_LISTINGS, False), page, page_size, cursor, query_id)
        listings = result.items
    keys = [version_key(item["owner_id"], item["slug"], int(n)) for item in listings for n in item.get("versions", [])]
    versions: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for version in table.batch_get(keys):
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
