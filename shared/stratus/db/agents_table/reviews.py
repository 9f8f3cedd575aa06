"""Reviews of store listing versions: one per user per version.

| item | PK | SK |
|---|---|---|
| review | `SLV#<version_id>` | `REVIEW#<user_id>` |

A review shares its version pointer's partition. Its transaction also moves the aggregates:
ops from listings (sums), public_index (card and creator sort keys) and profiles (sums).
"""

from __future__ import annotations

from typing import Any

from stratus.db.agents_table.table import Op, agents_table
from stratus.db.dynamo import key_of


def _review_key(version_id: str, user_id: str) -> dict[str, str]:
    return key_of(f"SLV#{version_id}", f"REVIEW#{user_id}")


def get_review(version_id: str, user_id: str) -> dict[str, Any] | None:
    return agents_table().get(_review_key(version_id, user_id), consistent=True)


def review_op(review: dict[str, Any], old: dict[str, Any] | None) -> Op:
    """Put the review (`store_listing_version_id`, `user_id`, ...) if it is still `old` (None: new)."""
    item = {**_review_key(review["store_listing_version_id"], review["user_id"]), **review}
    if old is None:
        return agents_table().put_op(item, condition="attribute_not_exists(PK)")
    return agents_table().put_op(
        item,
        condition="score = :old AND updated_at = :at",
        values={":old": int(old["score"]), ":at": old["updated_at"]},
    )
