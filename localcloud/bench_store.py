"""Store search figures for `make bench`: items read per page at 1,000 vs 100,000 approved listings.

The index is written straight into moto (in-process, `mock_aws`) with BatchWriteItem, using
the repository's key builders (stratus.db.agents_table) and card shape (stratus.store.index), so the reads measured are
the real public read path (`stratus.store.public`). Listings carry words with fixed shares
(`alpha` in 10%, `beta` in 50%, independent), so both sizes hold the same mix. Building the
100,000-listing index takes the longest part (about a minute or two on a laptop; the whole
run stays under ~3 minutes). Target: the larger store reads ≤ 1.1× the items per page.

Run alone: `.venv/bin/python -m localcloud.bench_store`.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

SIZES = (1_000, 100_000)
PAGE_SIZE = 20
QUERIES = {
    "listing page, sorted by runs": {"sorted_by": "runs"},
    "listing page, newest first": {},
    "search 'alpha' (10%)": {"search_query": "alpha"},
    "search 'alpha beta' (5%)": {"search_query": "alpha beta"},
    "search 'beta' in category 'writing'": {"search_query": "beta", "category": "writing"},
}


class ReadCounter:
    """Items DynamoDB reads for us: Query ScannedCount, GetItem, and every BatchGetItem key asked."""

    def __init__(self) -> None:
        self.items = 0
        self.requests = 0

    def before(self, params: dict[str, Any], **kwargs: Any) -> None:
        self.requests += 1
        if "RequestItems" in params and "Keys" in next(iter(params["RequestItems"].values()), {}):
            self.items += sum(len(v["Keys"]) for v in params["RequestItems"].values())

    def after(self, event_name: str, parsed: dict[str, Any], **kwargs: Any) -> None:
        operation = event_name.split(".")[-1]
        if operation == "Query":
            self.items += int(parsed.get("ScannedCount", 0))
        elif operation == "GetItem":
            self.items += 1


def _environment() -> None:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "STORE_TABLE": "StoreTable",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }.items():
        os.environ[key] = value
    os.environ.pop("AWS_ENDPOINT_URL", None)


def build_index(listings: int) -> None:
    """`listings` approved listings: a card in ALL (and in CAT#writing for every 4th), postings, counts."""
    import boto3
    from botocore.config import Config

    from stratus.db.agents_table.lists import count_key
    from stratus.db.agents_table.public_index import ALL_SCOPE, card_item, card_sk, category_scope, word_list
    from stratus.db.agents_table.table import agents_table
    from stratus.db.dynamo import BATCH_WRITE_LIMIT, key_of, serialize
    from stratus.store.index import card
    from stratus.store.text import fold

    table = agents_table()
    # The bench's own writer skips botocore's parameter validation (it dominates at this volume).
    writer = boto3.client("dynamodb", config=Config(parameter_validation=False))

    def batch_write(table: Any, puts: list[dict[str, Any]]) -> None:
        requests = [{"PutRequest": {"Item": serialize(item)}} for item in puts]
        for start in range(0, len(requests), BATCH_WRITE_LIMIT):
            pending = {table.name: requests[start : start + BATCH_WRITE_LIMIT]}
            while pending:
                pending = writer.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}

    profile = {"username": "bench", "avatar_url": "https://img.example.com/bench.png"}
    writing = category_scope("writing")
    items: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    base_ms = 1_700_000_000_000
    for number in range(listings):
        listing_id = f"listing-{number:06d}"
        words = ["alpha"] * (number % 10 == 3) + ["beta"] * ((number // 10) % 2 == 0)
        categories = ["Writing"] if number % 4 == 0 else ["Other"]
        listing = {
            "listing_id": listing_id,
            "owner_id": "bench",
            "slug": f"agent-{number}",
            "runs": (number * 7919) % 100_000,
            "rating_sum": number % 5 + 1,
            "rating_count": 1,
        }
        public = {
            "name": f"Agent {number} " + " ".join(words),
            "sub_heading": "",
            "description": "",
            "categories": categories,
            "approved_at": "2026-01-01T00:00:00+00:00",
            "store_listing_version_id": f"slv-{number}",
            "agent_id": f"graph-{number}",
            "agent_version": 1,
        }
        sk = card_sk(base_ms + number, listing_id)
        scopes = [ALL_SCOPE] + [writing] * (number % 4 == 0)
        shown = card(listing, public, profile)
        items += [card_item(scope, sk, shown, fold(public["name"])) for scope in scopes]
        items += [{**key_of(word_list(word), sk), "listing_id": listing_id} for word in words]
        for pk in scopes + [word_list(w) for w in words]:
            counts[pk] = counts.get(pk, 0) + 1
        if len(items) >= 5000:
            batch_write(table, puts=items)
            items = []
    batch_write(table, puts=items + [{**count_key(pk), "n": n} for pk, n in counts.items()])


def _fast_moto_items() -> None:
    """moto re-sums an item's size on every attribute it sets (quadratic per item); our items are
    a few KB, far under 400 KB, so the bench skips that check to build 100,000 listings in time."""
    from moto.dynamodb.models import dynamo_type

    dynamo_type.LimitedSizeDict.__setitem__ = dict.__setitem__  # type: ignore[method-assign]


def measure(listings: int) -> tuple[dict[str, tuple[int, int, int]], float]:
    """{query: (items read, requests, results)} on a fresh moto account holding `listings` listings."""
    from moto import mock_aws

    from localcloud.lambda_runner import REPO_ROOT
    from localcloud.provision import create_tables
    from localcloud.stack import Stack
    from stratus.aws import client
    from stratus.store import public

    client.cache_clear()
    with mock_aws():
        dynamodb = client("dynamodb")
        create_tables(Stack(REPO_ROOT / "template.yaml"), dynamodb)
        started = time.monotonic()
        build_index(listings)
        build_seconds = time.monotonic() - started
        counter = ReadCounter()
        dynamodb.meta.events.register("before-parameter-build.dynamodb", counter.before)
        dynamodb.meta.events.register("after-call.dynamodb", counter.after)
        figures = {}
        for label, params in QUERIES.items():
            counter.items = counter.requests = 0
            page = public._list_agents(
                params.get("featured", False),
                None,
                params.get("category"),
                params.get("search_query"),
                params.get("sorted_by"),
                1,
                PAGE_SIZE,
                None,
            )
            figures[label] = (counter.items, counter.requests, len(page["agents"]))
    client.cache_clear()
    return figures, build_seconds


def main() -> int:
    _environment()
    from localcloud.lambda_runner import LAYER_DIR

    sys.path.insert(0, str(LAYER_DIR))
    _fast_moto_items()
    print(f"Store search: items read per page of {PAGE_SIZE} (Query ScannedCount + GetItem + BatchGetItem keys)")
    results = {}
    for size in SIZES:
        results[size], seconds = measure(size)
        print(f"  built {size:,} approved listings in {seconds:.1f} s")
    small, large = SIZES
    worst = 0.0
    for label in QUERIES:
        (items_small, requests_small, found_small), (items_large, requests_large, found_large) = (
            results[small][label],
            results[large][label],
        )
        ratio = items_large / items_small
        worst = max(worst, ratio)
        print(
            f"  {label}: {items_small} items / {requests_small} requests at {small:,} vs {items_large} items / "
            f"{requests_large} requests at {large:,} → {ratio:.2f}× (target ≤ 1.1×; {found_small}/{found_large} "
            "results)"
        )
    print(f"Store search worst ratio {worst:.2f}× ({'ok' if worst <= 1.1 else 'OVER TARGET'})")
    return 0 if worst <= 1.1 else 1


if __name__ == "__main__":
    sys.exit(main())
