"""The public index: cards per scope, word postings and the creators list.

- card (one per scope): `STORE#SCOPE#<scope>` / `U#<inverted approval ms>#<listing_id>`;
  GSI1 rating, GSI2 runs, GSI3 name (each GSIxPK = the scope)
- word posting: `STORE#WORD#<term>` / the card's SK
- creator: `STORE#CREATORS` / `C#<username>`; GSI1 rating, GSI2 runs, GSI3 num_agents (GSIxPK = PK)
- creator word posting: `STORE#CWORD#<term>` / the creator's SK

Scopes: `ALL`, `FEATURED`, `CAT#<folded category>`, `CREATOR#<uid>`. Every scope and posting
list is a list (stratus.db.agents_table.lists) keyed by card SK. Postings are written outside
the approval transaction (a description can hold hundreds of words, a transaction at most 100
items); readers only trust a posting whose card exists, so a posting written early or deleted
late never shows anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stratus.db.agents_table.lists import Sort, add_count_op, add_counts
from stratus.db.agents_table.table import GSI1, GSI2, GSI3, Op, agents_table, transact
from stratus.db.dynamo import ConditionFailed, key_of

CARD_PREFIX = "U#"
CREATOR_PREFIX = "C#"
CREATORS_LIST = "STORE#CREATORS"

# Orders of a scope and of the creators list.
BY_NEWEST = Sort(None, True)  # card SKs invert the approval time; creators by username
BY_RATING = Sort(GSI1, False)
BY_RUNS = Sort(GSI2, False)
BY_NAME = Sort(GSI3, True)
BY_NUM_AGENTS = Sort(GSI3, False)

_MAX_MS = 9_999_999_999_999


def _scope(scope: str) -> str:
    return f"STORE#SCOPE#{scope}"


ALL_SCOPE = _scope("ALL")
FEATURED_SCOPE = _scope("FEATURED")


def category_scope(folded_category: str) -> str:
    return _scope(f"CAT#{folded_category}")


def creator_scope(user_id: str) -> str:
    return _scope(f"CREATOR#{user_id}")


def word_list(term: str) -> str:
    return f"STORE#WORD#{term}"


def creator_word_list(term: str) -> str:
    return f"STORE#CWORD#{term}"


def scopes_of(owner_id: str, is_featured: bool, folded_categories: list[str]) -> list[str]:
    scopes = [ALL_SCOPE, creator_scope(owner_id)]
    if is_featured:
        scopes.append(FEATURED_SCOPE)
    return scopes + [category_scope(c) for c in folded_categories]


def card_sk(approved_ms: int, listing_id: str) -> str:
    """Newest approval first when read forward: the inverted time sorts descending."""
    return f"{CARD_PREFIX}{_MAX_MS - approved_ms:013d}#{listing_id}"


def _rating_sort(average: float, count: int, tie: str) -> str:
    return f"{round(average * 1000):04d}#{count:010d}#{tie}"


def _runs_sort(runs: int, tie: str) -> str:
    return f"{runs:015d}#{tie}"


def _name_sort(folded_name: str, tie: str) -> str:
    # Folded names hold only [a-z0-9 ]; " #" sorts a name before its longer extensions.
    return f"{folded_name[:200]} #{tie}"


def card_item(scope: str, sk: str, card: dict[str, Any], folded_name: str) -> dict[str, Any]:
    """A card: what `card` shows (rating, rating_count, runs, listing_id...) under its scope's sort keys."""
    tie = card["listing_id"]
    return {
        **key_of(scope, sk),
        "GSI1PK": scope,
        "GSI1SK": _rating_sort(card["rating"], card["rating_count"], tie),
        "GSI2PK": scope,
        "GSI2SK": _runs_sort(card["runs"], tie),
        "GSI3PK": scope,
        "GSI3SK": _name_sort(folded_name, tie),
        **card,
    }


def _creator_key(username: str) -> dict[str, str]:
    return key_of(CREATORS_LIST, f"{CREATOR_PREFIX}{username}")


def creator_item(creator: dict[str, Any]) -> dict[str, Any]:
    """A creators-list item: what `creator` shows (username, agent_rating, agent_runs, num_agents...)."""
    username = creator["username"]
    return {
        **_creator_key(username),
        "GSI1PK": CREATORS_LIST,
        "GSI1SK": _rating_sort(creator["agent_rating"], creator["rating_count"], username),
        "GSI2PK": CREATORS_LIST,
        "GSI2SK": _runs_sort(creator["agent_runs"], username),
        "GSI3PK": CREATORS_LIST,
        "GSI3SK": f"{creator['num_agents']:06d}#{username}",
        **creator,
    }


@dataclass
class IndexPlan:
    """Transaction ops plus the postings written around the transaction."""

    ops: list[Op] = field(default_factory=list)
    posting_puts: list[dict[str, Any]] = field(default_factory=list)
    posting_deletes: list[dict[str, Any]] = field(default_factory=list)
    term_deltas: dict[str, int] = field(default_factory=dict)
    listing_fields: dict[str, Any] = field(default_factory=dict)


def _postings(
    plan: IndexPlan,
    list_of: Callable[[str], str],
    old_sk: str | None,
    old_terms: list[str],
    new_sk: str | None,
    new_terms: list[str],
    attributes: dict[str, Any],
) -> None:
    old = {list_of(t) for t in old_terms} if old_sk else set()
    new = {list_of(t) for t in new_terms} if new_sk else set()
    moved = old_sk != new_sk
    if new_sk:
        plan.posting_puts += [{**key_of(pk, new_sk), **attributes} for pk in sorted(new if moved else new - old)]
    if old_sk:
        plan.posting_deletes += [key_of(pk, old_sk) for pk in sorted(old if moved else old - new)]
    for pk in new - old:
        plan.term_deltas[pk] = plan.term_deltas.get(pk, 0) + 1
    for pk in old - new:
        plan.term_deltas[pk] = plan.term_deltas.get(pk, 0) - 1


def plan_listing(
    listing: dict[str, Any],
    new_sk: str | None,
    card: dict[str, Any] | None,
    scopes: list[str],
    terms: list[str],
    folded_name: str,
) -> IndexPlan:
    """Move the listing's cards and postings from what the listing item records to `card` in
    `scopes` at `new_sk` (None: unlist); `listing_fields` records the new state on the listing."""
    table = agents_table()
    plan = IndexPlan()
    old_sk: str | None = listing.get("card_sk")
    old_scopes: list[str] = listing.get("scopes", []) if old_sk else []
    new_scopes = scopes if card is not None and new_sk else []
    new_keys = {(scope, new_sk) for scope in new_scopes}
    if old_sk:
        plan.ops += [table.delete_op(key_of(s, old_sk)) for s in old_scopes if (s, old_sk) not in new_keys]
    if card is not None and new_sk:
        plan.ops += [table.put_op(card_item(scope, new_sk, card, folded_name)) for scope in new_scopes]
    for scope in set(old_scopes) | set(new_scopes):
        delta = (scope in new_scopes) - (scope in old_scopes)
        if delta:
            plan.ops.append(add_count_op(scope, delta))
    new_terms = terms if card is not None and new_sk else []
    _postings(
        plan, word_list, old_sk, listing.get("terms", []), new_sk, new_terms, {"listing_id": listing["listing_id"]}
    )
    plan.listing_fields = {"card_sk": new_sk, "scopes": new_scopes or None, "terms": new_terms or None}
    return plan


def plan_creator(old: dict[str, Any] | None, creator: dict[str, Any] | None) -> IndexPlan:
    """The creators-list item (`creator`, None while the creator has no public agent) and its words."""
    table = agents_table()
    plan = IndexPlan()
    new = creator_item(creator) if creator is not None else None
    if old and (not new or old["SK"] != new["SK"]):
        plan.ops.append(table.delete_op(key_of(old["PK"], old["SK"])))
    if new:
        plan.ops.append(table.put_op(new))
    delta = bool(new) - bool(old)
    if delta:
        plan.ops.append(add_count_op(CREATORS_LIST, delta))
    _postings(
        plan,
        creator_word_list,
        old["SK"] if old else None,
        (old or {}).get("terms", []),
        new["SK"] if new else None,
        (new or {}).get("terms", []),
        {"user_id": creator["user_id"]} if creator else {},
    )
    return plan


def commit(ops: list[Op], plans: list[IndexPlan]) -> None:
    """Postings first, then `ops` in one transaction (raises TransactionCancelled), then the
    stale postings and the word counts."""
    table = agents_table()
    table.batch_write(puts=[p for plan in plans for p in plan.posting_puts])
    transact(ops)
    table.batch_write(deletes=[d for plan in plans for d in plan.posting_deletes])
    deltas: dict[str, int] = {}
    for plan in plans:
        deltas.update(plan.term_deltas)
    add_counts(deltas)


# --- reads --------------------------------------------------------------------------------------
def get_creator(username: str, consistent: bool = False) -> dict[str, Any] | None:
    return agents_table().get(_creator_key(username), consistent=consistent)


def creator_cards(user_id: str) -> list[dict[str, Any]]:
    """The cards of every public agent of a creator (its CREATOR scope), consistent."""
    return agents_table().query_all(
        "PK = :pk AND begins_with(SK, :u)", {":pk": creator_scope(user_id), ":u": CARD_PREFIX}, consistent=True
    )


# --- aggregates copied onto cards and the creator item ---------------------------------------------
def card_rating_ops(listing: dict[str, Any], rating: float, rating_count: int) -> list[Op]:
    if not listing.get("card_sk"):
        return []
    return [
        agents_table().update_op(
            key_of(scope, listing["card_sk"]),
            "SET rating = :r, rating_count = :c, GSI1SK = :sort",
            values={
                ":r": rating,
                ":c": rating_count,
                ":sort": _rating_sort(rating, rating_count, listing["listing_id"]),
            },
            condition="attribute_exists(PK)",
        )
        for scope in listing.get("scopes", [])
    ]


def creator_rating_op(username: str, rating: float, rating_count: int) -> Op:
    return agents_table().update_op(
        _creator_key(username),
        "SET agent_rating = :r, rating_count = :c, GSI1SK = :sort",
        values={":r": rating, ":c": rating_count, ":sort": _rating_sort(rating, rating_count, username)},
        condition="attribute_exists(PK)",
    )


def _forward(key: dict[str, str], attribute: str, count: int, sort_key: str) -> None:
    """Move a copied run count forward only (`< :n`), so concurrent syncs never step back."""
    try:
        agents_table().update(
            key,
            f"SET {attribute} = :n, GSI2SK = :sort",
            values={":n": count, ":sort": sort_key},
            condition=f"attribute_exists(PK) AND (attribute_not_exists({attribute}) OR {attribute} < :n)",
        )
    except ConditionFailed:
        pass  # gone (unlisted) or already further ahead


def forward_card_runs(listing: dict[str, Any], runs: int) -> None:
    for scope in listing.get("scopes", []) if listing.get("card_sk") else []:
        _forward(key_of(scope, listing["card_sk"]), "runs", runs, _runs_sort(runs, listing["listing_id"]))


def forward_creator_runs(username: str, runs: int) -> None:
    _forward(_creator_key(username), "agent_runs", runs, _runs_sort(runs, username))
