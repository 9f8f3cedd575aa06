"""Reading the public index: one sorted list, or the intersection of several lists.

A list is a partition whose items are keyed by card SK (a scope, a word's postings), see
stratus.db.agents_table.lists.
- One list with a sort order: a Query on the scope (base table or its GSI), Limit page+1.
- Several lists (words and filters): walk the rarest list (smallest COUNT) page by page and
  test each candidate's SK in the other lists with BatchGetItem; the cards of the matches
  come from the rarest list itself when it is a scope, else one BatchGetItem on ALL.
Pages are cut at an item, and the cursor names that item (plus a fingerprint of the query),
so a page never repeats or skips items that existed when it was read. Without a cursor,
`page` walks forward from the start (bounded by MAX_WALK items).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from stratus.db.agents_table import lists
from stratus.db.agents_table.lists import Sort
from stratus.errors import Unprocessable

MAX_WALK = 1000
MAX_CANDIDATES_PER_QUERY = 400


@dataclass
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None
    total_items: int
    current_page: int


def _bad_cursor(message: str = "Invalid cursor: pass next_cursor from the previous page unchanged.") -> Unprocessable:
    return Unprocessable([{"loc": ["query", "cursor"], "msg": message, "type": "value_error"}])


def fingerprint(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def encode_cursor(query_id: str, key: dict[str, Any], page: int) -> str:
    raw = json.dumps({"q": query_id, "k": key, "p": page}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, query_id: str) -> tuple[dict[str, Any], int]:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        key, page, owner = decoded["k"], int(decoded["p"]), decoded["q"]
    except (ValueError, KeyError, TypeError) as exc:
        raise _bad_cursor() from exc
    if owner != query_id or not isinstance(key, dict) or page < 2:
        raise _bad_cursor("This cursor belongs to another query: keep the same filters, sort and search.")
    return key, page


def _walk_limit(page: int, page_size: int) -> int:
    skip = (page - 1) * page_size
    if skip > MAX_WALK:
        raise Unprocessable(
            [
                {
                    "loc": ["query", "page"],
                    "type": "value_error",
                    "msg": f"pages beyond item {MAX_WALK} are reached with the cursor (next_cursor)",
                }
            ]
        )
    return skip


def sorted_page(
    list_id: str, prefix: str, sort: Sort, page: int, page_size: int, cursor: str | None, query_id: str
) -> Page:
    """One page of one list in a sort order: a Query (Limit page+1) and the list's COUNT."""
    start: dict | None = None
    if cursor:
        start, page = decode_cursor(cursor, query_id)
    elif page > 1:
        skip = _walk_limit(page, page_size)
        while skip > 0:
            skipped, more = lists.read(list_id, prefix, sort, skip, start)
            if not skipped:
                break
            skip -= len(skipped)
            start = lists.resume_key(skipped[-1], sort)
            if not more:
                break
    items, _ = lists.read(list_id, prefix, sort, page_size + 1, start)
    next_cursor = None
    if len(items) > page_size:
        items = items[:page_size]
        next_cursor = encode_cursor(query_id, lists.resume_key(items[-1], sort), page + 1)
    return Page(items=items, next_cursor=next_cursor, total_items=lists.count(list_id), current_page=page)


def intersect_page(
    list_ids: list[str],
    card_lists: set[str],
    card_list: str,
    prefix: str,
    page: int,
    page_size: int,
    cursor: str | None,
    query_id: str,
) -> Page:
    """Items in every list, in card-SK order; the cards come from `card_list` (or a card list)."""
    counts: dict[str, int] = {}
    if len(list_ids) > 1:
        # Counts only choose where to start (they are kept outside transactions): an empty list
        # still costs one Query rather than trusting a count that may lag.
        counts = lists.counts(list_ids)
    rarest = min(list_ids, key=lambda pk: (counts.get(pk, 0), pk not in card_lists))
    others = [pk for pk in list_ids if pk != rarest]

    after: str | None = None
    if cursor:
        key, page = decode_cursor(cursor, query_id)
        after = key.get("SK")
    wanted = page_size + 1 + (0 if cursor else _walk_limit(page, page_size))
    matched: list[dict[str, Any]] = []
    examined, batch = 0, min(wanted, MAX_CANDIDATES_PER_QUERY)
    while len(matched) < wanted:
        candidates, more = lists.read_after(rarest, prefix, after, batch)
        if not candidates:
            break
        examined += len(candidates)
        present = lists.members(others, [c["SK"] for c in candidates])
        for candidate in candidates:
            if all((pk, candidate["SK"]) in present for pk in others):
                matched.append(candidate)
                if len(matched) == wanted:
                    break
        after = candidates[-1]["SK"]
        if not more:
            break
        batch = min(batch * 2, MAX_CANDIDATES_PER_QUERY)
    skip = 0 if cursor else (page - 1) * page_size
    window = matched[skip:]
    has_more = len(window) > page_size
    window = window[:page_size]
    if rarest in card_lists:
        cards = window
    else:
        found = lists.items_at(card_list, [m["SK"] for m in window])
        cards = [found[m["SK"]] for m in window if m["SK"] in found]  # a posting without its card shows nothing
    next_cursor = encode_cursor(query_id, {"SK": window[-1]["SK"]}, page + 1) if has_more and window else None
    seen = skip + len(window)
    if not has_more:
        total = seen
    elif len(list_ids) == 1:
        total = lists.count(rarest)
    else:  # estimated from the rarest list's size and the share of its items that matched
        total = max(seen + 1, round(counts[rarest] * len(matched) / max(examined, 1)))
    return Page(items=cards, next_cursor=next_cursor, total_items=total, current_page=page)
