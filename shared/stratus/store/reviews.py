"""User reviews of store agents: one per user per approved listing version, editable.

A review and every aggregate it moves are written in one transaction: the review item
(conditioned on the score we read), the listing's rating sum/count (optimistic `seq`), the
rating sort key of each of the listing's cards, and the creator's sums on the profile and
the creators-list item. A concurrent review makes the transaction fail and we re-read.
"""

from __future__ import annotations

from typing import Any

from stratus.clock import now_iso
from stratus.db.dynamo import TransactionCancelled
from stratus.db.store_keys import creator_key, listing_key, pointer_key, rating_sort, review_key
from stratus.db.store_table import store_table
from stratus.errors import Conflict, NotFound
from stratus.store import cache
from stratus.store.index import average
from stratus.store.models import StoreReview, StoreReviewCreate
from stratus.store.profiles import profile_item, user_id_for
from stratus.store.text import slugify
from stratus.store.writes import backoff

MAX_ATTEMPTS = 12


def _sums_condition(item: dict[str, Any], prefix: str) -> tuple[str, dict[str, Any]]:
    if "rating_count" not in item:
        return "attribute_not_exists(rating_count)", {}
    return (
        f"rating_count = :{prefix}c AND rating_sum = :{prefix}s",
        {f":{prefix}c": item["rating_count"], f":{prefix}s": item["rating_sum"]},
    )


def create_review(user_id: str, username: str, agent_name: str, request: StoreReviewCreate) -> StoreReview:
    not_found = NotFound(
        f"Store listing version {request.store_listing_version_id} of agent "
        f"{username}/{agent_name} not found or not approved."
    )
    owner = user_id_for(slugify(username))
    slug = slugify(agent_name)
    table = store_table()
    pointer = table.get(pointer_key(request.store_listing_version_id), consistent=True)
    if owner is None or not pointer or pointer["owner_id"] != owner or pointer["slug"] != slug:
        raise not_found
    key = review_key(request.store_listing_version_id, user_id)
    for attempt in range(MAX_ATTEMPTS):
        listing = table.get(listing_key(owner, slug), consistent=True)
        if not listing or str(pointer["version"]) not in (listing.get("approved") or {}):
            raise not_found
        profile = profile_item(owner)
        if not profile:
            raise not_found
        old = table.get(key, consistent=True)
        old_score, added = (int(old["score"]), 0) if old else (0, 1)
        listing_sum = int(listing.get("rating_sum", 0)) - old_score + request.score
        listing_count = int(listing.get("rating_count", 0)) + added
        creator_sum = int(profile.get("rating_sum", 0)) - old_score + request.score
        creator_count = int(profile.get("rating_count", 0)) + added
        now = now_iso()
        review = {
            **key,
            "user_id": user_id,
            "store_listing_version_id": request.store_listing_version_id,
            "listing_id": listing["listing_id"],
            "score": request.score,
            "comments": request.comments,
            "created_at": old["created_at"] if old else now,
            "updated_at": now,
        }
        if old:
            review_op = table.put_op(
                review,
                condition="score = :old AND updated_at = :at",
                values={":old": old_score, ":at": old["updated_at"]},
            )
        else:
            review_op = table.put_op(review, condition="attribute_not_exists(PK)")
        ops = [
            review_op,
            table.update_op(
                listing_key(owner, slug),
                "SET rating_sum = :s, rating_count = :c, seq = seq + :one",
                values={":s": listing_sum, ":c": listing_count, ":one": 1, ":seq": listing["seq"]},
                condition="seq = :seq",
            ),
        ]
        listing_rating = average(listing_sum, listing_count)
        if listing.get("card_sk"):
            for scope in listing.get("scopes", []):
                ops.append(
                    table.update_op(
                        {"PK": scope, "SK": listing["card_sk"]},
                        "SET rating = :r, rating_count = :c, GSI1SK = :sort",
                        values={
                            ":r": listing_rating,
                            ":c": listing_count,
                            ":sort": rating_sort(listing_rating, listing_count, listing["listing_id"]),
                        },
                        condition="attribute_exists(PK)",
                    )
                )
        condition, seen = _sums_condition(profile, "p")
        ops.append(
            table.update_op(
                {"PK": profile["PK"], "SK": profile["SK"]},
                "SET rating_sum = :ns, rating_count = :nc",
                values={":ns": creator_sum, ":nc": creator_count, **seen},
                condition=condition,
            )
        )
        if int(profile.get("num_agents", 0)) > 0:
            creator_rating = average(creator_sum, creator_count)
            ops.append(
                table.update_op(
                    creator_key(profile["username"]),
                    "SET agent_rating = :r, rating_count = :c, GSI1SK = :sort",
                    values={
                        ":r": creator_rating,
                        ":c": creator_count,
                        ":sort": rating_sort(creator_rating, creator_count, profile["username"]),
                    },
                    condition="attribute_exists(PK)",
                )
            )
        try:
            table.transact(ops)
        except TransactionCancelled:
            backoff(attempt)  # another review, a run sync or an approval moved something: read again
            continue
        cache.invalidate()
        return StoreReview(score=request.score, comments=request.comments)
    raise Conflict("The listing is being reviewed by many users right now; try again.")
