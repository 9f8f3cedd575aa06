"""User reviews of store agents: one per user per approved listing version, editable.

A review and every aggregate it moves are written in one transaction
(stratus.db.agents_table.reviews): the review item (conditioned on the score read), the
listing's rating sum/count (optimistic `seq`), the rating sort key of each of the listing's
cards, and the creator's sums on the profile and the creators-list item. A concurrent review
makes the transaction fail and we re-read.
"""

from __future__ import annotations

from stratus.clock import now_iso
from stratus.db.agents_table import listings, profiles, public_index, reviews
from stratus.db.agents_table.table import transact
from stratus.db.dynamo import TransactionCancelled, backoff
from stratus.errors import Conflict, NotFound
from stratus.store import cache
from stratus.store.index import average
from stratus.store.models import StoreReview, StoreReviewCreate
from stratus.store.profiles import user_id_for
from stratus.store.text import slugify

MAX_ATTEMPTS = 12


def create_review(user_id: str, username: str, agent_name: str, request: StoreReviewCreate) -> StoreReview:
    version_id = request.store_listing_version_id
    not_found = NotFound(
        f"Store listing version {version_id} of agent {username}/{agent_name} not found or not approved."
    )
    owner = user_id_for(slugify(username))
    slug = slugify(agent_name)
    pointer = listings.pointer(version_id)
    if owner is None or not pointer or pointer["owner_id"] != owner or pointer["slug"] != slug:
        raise not_found
    for attempt in range(MAX_ATTEMPTS):
        listing = listings.get_listing(owner, slug)
        if not listing or str(pointer["version"]) not in (listing.get("approved") or {}):
            raise not_found
        profile = profiles.get_profile(owner)
        if not profile:
            raise not_found
        old = reviews.get_review(version_id, user_id)
        old_score, added = (int(old["score"]), 0) if old else (0, 1)
        listing_sum = int(listing.get("rating_sum", 0)) - old_score + request.score
        listing_count = int(listing.get("rating_count", 0)) + added
        creator_sum = int(profile.get("rating_sum", 0)) - old_score + request.score
        creator_count = int(profile.get("rating_count", 0)) + added
        now = now_iso()
        review = {
            "user_id": user_id,
            "store_listing_version_id": version_id,
            "listing_id": listing["listing_id"],
            "score": request.score,
            "comments": request.comments,
            "created_at": old["created_at"] if old else now,
            "updated_at": now,
        }
        ops = [
            reviews.review_op(review, old),
            listings.rating_op(listing, listing_sum, listing_count),
            *public_index.card_rating_ops(listing, average(listing_sum, listing_count), listing_count),
            profiles.rating_sums_op(profile, creator_sum, creator_count),
        ]
        if int(profile.get("num_agents", 0)) > 0:
            creator_rating = average(creator_sum, creator_count)
            ops.append(public_index.creator_rating_op(profile["username"], creator_rating, creator_count))
        try:
            transact(ops)
        except TransactionCancelled:
            backoff(attempt)  # another review, a run sync or an approval moved something: read again
            continue
        cache.invalidate()
        return StoreReview(score=request.score, comments=request.comments)
    raise Conflict("The listing is being reviewed by many users right now; try again.")
