"""Round trips through the agents table's repository (stratus.db.agents_table) on moto:
what each item family writes it reads back, keys and conditions included."""

from __future__ import annotations

import pytest

from stratus.db.agents_table import approvals, library, listings, lists, presets, profiles, public_index, schedules
from stratus.db.agents_table.table import transact
from stratus.db.dynamo import ConditionFailed, TransactionCancelled

NOW = "2026-01-01T00:00:00+00:00"


def _profile(user_id: str, username: str, current: dict | None = None) -> dict:
    fields = {"name": user_id, "username": username, "description": "", "links": [], "avatar_url": None}
    profiles.save_profile(user_id, {**fields, "updated_at": NOW}, current, NOW)
    saved = profiles.get_profile(user_id)
    assert saved is not None
    return saved


def test_profiles_claim_and_free_usernames(aws):
    alice = _profile("alice", "wonder")
    assert (alice["user_id"], alice["username"], alice["created_at"]) == ("alice", "wonder", NOW)
    assert "avatar_url" not in alice and profiles.owner_of("wonder") == "alice"
    with pytest.raises(profiles.UsernameTaken):
        _profile("bob", "wonder")
    _profile("alice", "land", current=alice)
    assert (profiles.owner_of("wonder"), profiles.owner_of("land")) == (None, "alice")
    with pytest.raises(TransactionCancelled):  # `current` is stale: the username moved on
        _profile("alice", "again", current=alice)
    assert profiles.add_agent_run("alice")["agent_runs"] == 1 and profiles.add_agent_run("nobody") is None


def _version(number: int, status: str = "PENDING") -> dict:
    return {
        "store_listing_version_id": f"v{number}",
        "listing_id": "l1",
        "owner_id": "alice",
        "slug": "calc",
        "version": number,
        "agent_id": "g1",
        "agent_version": number,
        "status": status,
        "submitted_at": f"{NOW}{number}",
        "name": "Calc",
    }


def test_listings_versions_pointers_and_counts(aws):
    _profile("alice", "wonder")
    listing = {"listing_id": "l1", "owner_id": "alice", "graph_id": "g1", "slug": "calc", "created_at": NOW}
    listings.create_listing({**listing, "seq": 0, "versions": [1], "pending": 1}, _version(1))
    with pytest.raises(listings.SlugTaken):
        listings.create_listing({**listing, "graph_id": "g2"}, _version(9))
    assert listings.graph_guard("alice", "g1")["slug"] == "calc"
    assert listings.pointer("v1") == {
        "PK": "SLV#v1", "SK": "SLV", "owner_id": "alice", "slug": "calc", "version": 1, "listing_id": "l1"
    }  # fmt: skip
    version, profile = listings.version_with_profile(listings.pointer("v1"))
    assert version["name"] == "Calc" and profile["username"] == "wonder"
    stored = listings.get_listing("alice", "calc")
    listings.add_version(stored, _version(2), [2], replaced=listings.get_version("alice", "calc", 1))
    assert listings.pointer("v1") is None and listings.get_version("alice", "calc", 1) is None
    assert [v["version"] for v in listings.submissions_of("alice")] == [2]
    assert lists.counts([lists.status_list("PENDING"), listings.LISTINGS_LIST, "nothing"]) == {
        lists.status_list("PENDING"): 1, listings.LISTINGS_LIST: 1, "nothing": 0
    }  # fmt: skip
    edited = listings.edit_version(listings.get_version("alice", "calc", 2), {"name": "Calc 2", "video_url": None})
    assert edited["name"] == "Calc 2"
    with pytest.raises(ConditionFailed):  # the version is no longer in the status read
        listings.edit_version({**edited, "status": "APPROVED"}, {"name": "x"})
    assert listings.published_graph_ids("alice") == set()
    listings.delete_version(listings.get_listing("alice", "calc"), edited, remaining=[], pending=None)
    assert listings.get_listing("alice", "calc") is None and listings.graph_guard("alice", "g1") is None
    assert lists.count(listings.LISTINGS_LIST) == 0 and lists.count(lists.status_list("PENDING")) == 0


def test_approval_markers_and_the_public_index(aws):
    listing = {"listing_id": "l1", "owner_id": "alice", "graph_id": "g1", "slug": "calc"}
    marker = {"id": "v1", "approved_at": NOW}
    transact(approvals.marker_ops(listing, {}, {1: marker}))
    assert approvals.is_approved("g1", 1) and approvals.add_run("g1", 1)["runs"] == 1
    sk = public_index.card_sk(1_700_000_000_000, "l1")
    card = {"listing_id": "l1", "slug": "calc", "rating": 4.5, "rating_count": 2, "runs": 3}
    scopes = public_index.scopes_of("alice", True, ["math"])
    plan = public_index.plan_listing(listing, sk, card, scopes, ["calcul"], "calc")
    public_index.commit(plan.ops + approvals.marker_ops(listing, {1: marker}, {}), [plan])
    assert not approvals.is_approved("g1", 1) and approvals.add_run("g1", 1) is None
    assert lists.count(public_index.FEATURED_SCOPE) == 1 and lists.count(public_index.word_list("calcul")) == 1
    for sort in (public_index.BY_NEWEST, public_index.BY_RATING, public_index.BY_RUNS, public_index.BY_NAME):
        items, more = lists.read(public_index.category_scope("math"), public_index.CARD_PREFIX, sort, 10)
        assert [i["slug"] for i in items] == ["calc"] and more is None
    assert lists.members([public_index.word_list("calcul")], [sk]) == {(public_index.word_list("calcul"), sk)}
    assert [c["listing_id"] for c in public_index.creator_cards("alice")] == ["l1"]
    public_index.forward_card_runs({**listing, "card_sk": sk, "scopes": scopes}, 7)
    assert lists.items_at(public_index.ALL_SCOPE, [sk])[sk]["runs"] == 7
    unlisted = {**listing, **plan.listing_fields}
    plan = public_index.plan_listing(unlisted, None, None, [], [], "")
    public_index.commit(plan.ops, [plan])
    assert lists.items_at(public_index.ALL_SCOPE, [sk]) == {} and lists.count(public_index.ALL_SCOPE) == 0
    assert lists.members([public_index.word_list("calcul")], [sk]) == set()


def test_library_entries_presets_and_schedules(aws):
    entry_id = library.created_agent_id("alice", "g1")
    entry = {"id": entry_id, "user_id": "alice", "graph_id": "g1", "is_deleted": False, "updated_at": NOW}
    assert library.add_entry(entry) == entry and library.add_entry({**entry, "graph_id": "other"})["graph_id"] == "g1"
    library.update_entry("alice", entry_id, {"is_favorite": True}, NOW)
    library.soft_delete_entry("alice", entry_id, NOW)
    with pytest.raises(ConditionFailed):
        library.update_entry("alice", entry_id, {"is_favorite": False}, NOW)
    assert library.add_entry(entry)["is_deleted"] is False  # adding again revives it
    assert [e["is_favorite"] for e in library.entries_of("alice")] == [True] and library.entries_of("bob") == []
    library.remove_entry("alice", entry_id)
    assert library.get_entry("alice", entry_id) is None

    presets.add_preset({"id": "p1", "user_id": "alice", "name": "P", "is_deleted": False})
    assert presets.update_preset("alice", "p1", {"name": "Q"}, NOW)["name"] == "Q"
    presets.soft_delete_preset("alice", "p1", NOW)
    assert presets.get_preset("alice", "p1")["is_deleted"] and presets.get_preset("bob", "p1") is None
    assert [p["id"] for p in presets.presets_of("alice")] == ["p1"]

    schedules.add_schedule({"id": "s1", "user_id": "alice", "graph_id": "g1", "created_at": NOW, "run_count": 0})
    assert [s["id"] for s in schedules.schedules_of_graph("alice", "g1")] == ["s1"]
    assert schedules.schedules_of_graph("alice", "g2") == [] and schedules.schedules_of("bob") == []
    schedules.record_run("alice", "s1", "2026-01-01T00:01:00Z", {"last_error": "boom"}, NOW)
    schedules.record_run("alice", "s1", "2026-01-01T00:01:00Z", {"last_error": "again"}, NOW)  # a retry: no-op
    schedules.record_run("alice", "s1", "2026-01-01T00:02:00Z", {"last_execution_id": "e1", "last_error": None}, NOW)
    item = schedules.get_schedule("alice", "s1")
    assert (item["run_count"], item["last_execution_id"], "last_error" in item) == (2, "e1", False)
    schedules.remove_schedule("alice", "s1")
    assert schedules.schedules_of("alice") == []
