"""Keys of the store in the StoreTable: profiles, listings, versions, reviews and the public index.

| item | PK | SK | index keys |
|---|---|---|---|
| profile | `STORE#USER#<uid>` | `PROFILE` | |
| username guard | `USERNAME#<username>` | `USERNAME` | |
| graph guard (one listing per graph) | `STORE#USER#<uid>` | `GRAPH#<graph_id>` | |
| listing (slug unique per owner by key) | `STORE#USER#<uid>` | `LISTING#<slug>` | GSI3 `STORE#LISTINGS` / `<created_at>#<listing_id>` |
| listing version | `STORE#USER#<uid>` | `LISTING#<slug>#V#<n:06d>` | GSI1 `STORE#SUBMISSIONS#<uid>` / `<submitted_at>#<id>`; GSI2 `STORE#STATUS#<status>` / same |
| version pointer | `SLV#<version_id>` | `SLV` | |
| review | `SLV#<version_id>` | `REVIEW#<user_id>` | |
| card (one per scope) | `STORE#SCOPE#<scope>` | `U#<inverted approval ms>#<listing_id>` | GSI1 rating, GSI2 runs, GSI3 name (GSIxPK = PK) |
| word posting | `STORE#WORD#<term>` | the card's SK | |
| creator | `STORE#CREATORS` | `C#<username>` | GSI1 rating, GSI2 runs, GSI3 num_agents (GSIxPK = PK) |
| creator word posting | `STORE#CWORD#<term>` | the creator's SK | |
| count (scope, word, creators, listings, status) | the list's PK | `COUNT` | |

Scopes: `ALL`, `FEATURED`, `CAT#<folded category>`, `CREATOR#<uid>`. A posting list and a scope
share the card SK, so intersecting them is a membership test on the same SK.
"""

from __future__ import annotations

from stratus.db.store_table import GSI1, GSI2, GSI3

COUNT_SK = "COUNT"
CARD_PREFIX = "U#"
CREATOR_PREFIX = "C#"
PROFILE_SK = "PROFILE"
GRAPH_PREFIX = "GRAPH#"
LISTING_PREFIX = "LISTING#"

BY_OWNER_SUBMISSIONS = GSI1
BY_STATUS = GSI2
ALL_LISTINGS = GSI3

# Sort orders of a scope (and of the creators list): (index or None for the base table, forward).
RATING_INDEX, RUNS_INDEX, NAME_INDEX = GSI1, GSI2, GSI3
NUM_AGENTS_INDEX = GSI3

_MAX_MS = 9_999_999_999_999


def user_pk(user_id: str) -> str:
    return f"STORE#USER#{user_id}"


def profile_key(user_id: str) -> dict[str, str]:
    return {"PK": user_pk(user_id), "SK": PROFILE_SK}


def username_key(username: str) -> dict[str, str]:
    return {"PK": f"USERNAME#{username}", "SK": "USERNAME"}


def graph_guard_key(user_id: str, graph_id: str) -> dict[str, str]:
    return {"PK": user_pk(user_id), "SK": f"{GRAPH_PREFIX}{graph_id}"}


def listing_key(user_id: str, slug: str) -> dict[str, str]:
    return {"PK": user_pk(user_id), "SK": f"{LISTING_PREFIX}{slug}"}


def version_key(user_id: str, slug: str, number: int) -> dict[str, str]:
    return {"PK": user_pk(user_id), "SK": f"{LISTING_PREFIX}{slug}#V#{number:06d}"}


def pointer_key(version_id: str) -> dict[str, str]:
    return {"PK": f"SLV#{version_id}", "SK": "SLV"}


def review_key(version_id: str, user_id: str) -> dict[str, str]:
    return {"PK": f"SLV#{version_id}", "SK": f"REVIEW#{user_id}"}


# --- index keys of listings and versions ----------------------------------------------------
LISTINGS_PK = "STORE#LISTINGS"


def listing_index_keys(created_at: str, listing_id: str) -> dict[str, str]:
    return {"GSI3PK": LISTINGS_PK, "GSI3SK": f"{created_at}#{listing_id}"}


def submissions_pk(user_id: str) -> str:
    return f"STORE#SUBMISSIONS#{user_id}"


def status_pk(status: str) -> str:
    return f"STORE#STATUS#{status}"


def version_index_keys(user_id: str, status: str, submitted_at: str, version_id: str) -> dict[str, str]:
    sort = f"{submitted_at}#{version_id}"
    return {"GSI1PK": submissions_pk(user_id), "GSI1SK": sort, "GSI2PK": status_pk(status), "GSI2SK": sort}


def count_key(list_pk: str) -> dict[str, str]:
    return {"PK": list_pk, "SK": COUNT_SK}


# --- the public index --------------------------------------------------------------------------
def scope_pk(scope: str) -> str:
    return f"STORE#SCOPE#{scope}"


ALL_SCOPE = scope_pk("ALL")
FEATURED_SCOPE = scope_pk("FEATURED")


def category_scope(folded_category: str) -> str:
    return scope_pk(f"CAT#{folded_category}")


def creator_scope(user_id: str) -> str:
    return scope_pk(f"CREATOR#{user_id}")


def word_pk(term: str) -> str:
    return f"STORE#WORD#{term}"


def creator_word_pk(term: str) -> str:
    return f"STORE#CWORD#{term}"


def card_sk(approved_ms: int, listing_id: str) -> str:
    """Newest approval first when read forward: the inverted time sorts descending."""
    return f"{CARD_PREFIX}{_MAX_MS - approved_ms:013d}#{listing_id}"


def rating_sort(average: float, count: int, tie: str) -> str:
    return f"{round(average * 1000):04d}#{count:010d}#{tie}"


def runs_sort(runs: int, tie: str) -> str:
    return f"{runs:015d}#{tie}"


def name_sort(folded_name: str, tie: str) -> str:
    # Folded names hold only [a-z0-9 ]; " #" sorts a name before its longer extensions.
    return f"{folded_name[:200]} #{tie}"


def card_index_keys(
    scope: str, average: float, count: int, runs: int, folded_name: str, listing_id: str
) -> dict[str, str]:
    return {
        "GSI1PK": scope,
        "GSI1SK": rating_sort(average, count, listing_id),
        "GSI2PK": scope,
        "GSI2SK": runs_sort(runs, listing_id),
        "GSI3PK": scope,
        "GSI3SK": name_sort(folded_name, listing_id),
    }


CREATORS_PK = "STORE#CREATORS"


def creator_key(username: str) -> dict[str, str]:
    return {"PK": CREATORS_PK, "SK": f"{CREATOR_PREFIX}{username}"}


def creator_index_keys(username: str, average: float, count: int, runs: int, num_agents: int) -> dict[str, str]:
    return {
        "GSI1PK": CREATORS_PK,
        "GSI1SK": rating_sort(average, count, username),
        "GSI2PK": CREATORS_PK,
        "GSI2SK": runs_sort(runs, username),
        "GSI3PK": CREATORS_PK,
        "GSI3SK": f"{num_agents:06d}#{username}",
    }
