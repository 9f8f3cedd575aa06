"""The store through the StoreFunction (and GraphsFunction for graphs) on moto: profiles,
submissions, admin review, public listings and search, reviews, runs, caching, external API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from localcloud.apigw import http_event
from stratus.db.agents_table.approvals import approval_key
from stratus.db.agents_table.public_index import ALL_SCOPE, word_list
from stratus.db.agents_table.table import agents_table
from stratus.executions import launcher
from stratus.store import cache
from stratus.store.text import terms

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.invalidate()  # the in-Lambda cache lives in this process across moto accounts
    yield
    cache.invalidate()


@pytest.fixture()
def store(api, monkeypatch):
    monkeypatch.setattr(launcher, "_start_state_machine", lambda graph_exec_id: None)
    return api


# --- helpers -------------------------------------------------------------------------------------
def ok(result: tuple[int, Any], status: int = 200) -> Any:
    assert result[0] == status, result
    return result[1]


def create_graph(api, user: str, name: str = "Calculator") -> dict:
    graph = {**json.loads((EXAMPLES / "calculator.json").read_text()), "name": name}
    return ok(api.request("POST", "/api/graphs", user=user, json_body={"graph": graph}))


def profile(api, user: str, username: str | None = None, **changes) -> dict:
    body = {
        "name": user.title(),
        "username": username or user,
        "description": f"{user} builds agents",
        "links": ["https://example.com/" + user],
        "avatar_url": f"https://img.example.com/{user}.png",
        **changes,
    }
    return ok(api.request("POST", "/api/store/profile", user=user, json_body=body))


def submit(api, user: str, graph: dict, slug: str, version: int = 1, **changes) -> dict:
    body = {
        "agent_id": graph["id"],
        "agent_version": version,
        "slug": slug,
        "name": f"{slug} agent",
        "sub_heading": f"The {slug} helper",
        "description": f"{slug} does useful things",
        "image_urls": [f"https://img.example.com/{slug}.png"],
        "categories": ["Productivity"],
        **changes,
    }
    return ok(api.request("POST", "/api/store/submissions", user=user, json_body=body))


def review(
    api, version_id: str, approve: bool = True, comments: str = "Looks good", internal: str | None = "checked the graph"
) -> dict:
    return ok(
        api.request(
            "POST",
            f"/api/store/admin/submissions/{version_id}/review",
            user="root",
            admin=True,
            json_body={"is_approved": approve, "comments": comments, "internal_comments": internal},
        )
    )


def publish(api, user: str, slug: str, graph: dict | None = None, **changes) -> tuple[dict, dict]:
    graph = graph or create_graph(api, user, name=changes.get("name", slug))
    submission = submit(api, user, graph, slug, **changes)
    review(api, submission["store_listing_version_id"])
    return graph, submission


def agents(api, query: str = "") -> dict:
    cache.invalidate()
    return ok(api.request("GET", "/api/store/agents", query=query))


def slugs(api, query: str = "") -> list[str]:
    return [a["slug"] for a in agents(api, query)["agents"]]


def raw(api, method: str, path: str, query: str = "", headers: dict | None = None) -> dict:
    """The whole Lambda response (headers included), as the gateway would get it."""
    route_key, function, params = api.router.match(method, path)
    event = http_event(
        method, path, route_key, {"content-type": "application/json", **(headers or {})}, query, b"", params
    )
    result = api.runner.invoke(function, event)
    assert not result.errored, result.payload
    return result.payload


# --- profiles ------------------------------------------------------------------------------------
def test_profile_create_read_update_and_unique_username(store):
    api = store
    assert api.request("GET", "/api/store/profile", user="alice")[0] == 404
    created = profile(api, "alice", username="Alice-Ça")
    assert created == {
        "name": "Alice",
        "username": "alice-ca",
        "description": "alice builds agents",
        "links": ["https://example.com/alice"],
        "avatar_url": "https://img.example.com/alice.png",
    }
    assert ok(api.request("GET", "/api/store/profile", user="alice")) == created
    # Another user cannot take the username (nor edit Alice's profile: a profile is the caller's own).
    status, body = api.request(
        "POST", "/api/store/profile", user="bob", json_body={"name": "Bob", "username": "ALICE-CA"}
    )
    assert status == 409 and "taken" in body["detail"]
    assert ok(api.request("GET", "/api/store/profile", user="alice")) == created
    assert api.request("GET", "/api/store/profile", user="bob")[0] == 404
    # Renaming frees the old username for someone else.
    renamed = profile(api, "alice", username="alice2", avatar_url=None)
    assert renamed["username"] == "alice2" and renamed["avatar_url"] is None
    assert profile(api, "bob", username="alice-ca")["username"] == "alice-ca"
    assert ok(api.request("GET", "/api/store/creators/alice2"))["name"] == "Alice"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "", "username": "ok"}, "name"),
        ({"name": "A", "username": "!!!"}, "username"),
        ({"name": "A", "username": "ok", "avatar_url": "javascript:alert(1)"}, "avatar_url"),
        ({"name": "A", "username": "ok", "links": ["ftp://x.org"]}, "links"),
        ({"name": "A"}, "username"),
    ],
)
def test_profile_bad_input_is_422_naming_the_field(store, body, field):
    status, error = store.request("POST", "/api/store/profile", user="alice", json_body=body)
    assert status == 422 and field in error["detail"][0]["loc"], error
    assert store.request("GET", "/api/store/profile", user="alice")[0] == 404  # nothing half-saved


def test_store_routes_need_a_user(store):
    assert store.request("GET", "/api/store/profile")[0] == 401
    assert store.request("GET", "/api/store/submissions")[0] == 401
    assert store.request("POST", "/api/store/submissions", json_body={})[0] == 401


# --- submissions ---------------------------------------------------------------------------------
def test_submit_only_your_own_graph_version(store):
    api = store
    graph = create_graph(api, "alice")
    status, body = api.request(
        "POST",
        "/api/store/submissions",
        user="alice",
        json_body={"agent_id": graph["id"], "agent_version": 1, "slug": "calc", "name": "Calc", "sub_heading": "adds"},
    )
    assert status == 400 and "profile" in body["detail"]  # a listing needs a username to live under
    profile(api, "alice")
    profile(api, "bob")
    # Someone else's graph is not found, even once it is approved (readable is not yours to list).
    status, _ = api.request(
        "POST",
        "/api/store/submissions",
        user="bob",
        json_body={"agent_id": graph["id"], "agent_version": 1, "slug": "mine", "name": "Mine", "sub_heading": ""},
    )
    assert status == 404
    publish(api, "alice", "calc", graph=graph)
    status, _ = api.request(
        "POST",
        "/api/store/submissions",
        user="bob",
        json_body={"agent_id": graph["id"], "agent_version": 1, "slug": "mine", "name": "Mine", "sub_heading": ""},
    )
    assert status == 404
    status, _ = api.request(
        "POST",
        "/api/store/submissions",
        user="alice",
        json_body={"agent_id": graph["id"], "agent_version": 9, "slug": "calc", "name": "Calc", "sub_heading": ""},
    )
    assert status == 404


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"agent_version": 0}, "agent_version"),
        ({"slug": "!!!"}, "slug"),
        ({"name": ""}, "name"),
        ({"image_urls": ["ftp://files/x.png"]}, "image_urls"),
        ({"video_url": "not a url"}, "video_url"),
        ({"categories": [f"c{i}" for i in range(11)]}, "categories"),
        ({"recommended_schedule_cron": "every day"}, "recommended_schedule_cron"),
        ({"agent_id": ""}, "agent_id"),
    ],
)
def test_submission_bad_input_is_422(store, changes, field):
    api = store
    profile(api, "alice")
    graph = create_graph(api, "alice")
    body = {
        "agent_id": graph["id"],
        "agent_version": 1,
        "slug": "calc",
        "name": "Calc",
        "sub_heading": "adds",
        **changes,
    }
    status, error = api.request("POST", "/api/store/submissions", user="alice", json_body=body)
    assert status == 422 and field in error["detail"][0]["loc"], error
    assert ok(api.request("GET", "/api/store/submissions", user="alice"))["submissions"] == []


def test_listing_per_graph_slug_per_owner_and_versions(store):
    api = store
    profile(api, "alice")
    profile(api, "bob")
    first = create_graph(api, "alice")
    first_sub = submit(api, "alice", first, "Calc Tool", recommended_schedule_cron="0 9 * * 1")
    assert first_sub["slug"] == "calctool" and first_sub["status"] == "PENDING" and first_sub["version"] == 1
    assert first_sub["changes_summary"] == "Initial Submission"
    assert first_sub["recommended_schedule_cron"] == "0 9 * * 1"
    # The same slug for another of Alice's graphs is a conflict; for Bob it is fine.
    second = create_graph(api, "alice", name="Other")
    status, body = api.request(
        "POST",
        "/api/store/submissions",
        user="alice",
        json_body={
            "agent_id": second["id"],
            "agent_version": 1,
            "slug": "calctool",
            "name": "Other",
            "sub_heading": "",
        },
    )
    assert status == 409 and "slug" in body["detail"]
    bob_graph = create_graph(api, "bob")
    assert submit(api, "bob", bob_graph, "calctool")["slug"] == "calctool"
    # A new submission for the same graph is a new version of the listing; it replaces a pending one.
    ok(api.request("PUT", f"/api/graphs/{first['id']}", user="alice", json_body={**first, "name": "Calc v2"}))
    replacement = submit(api, "alice", first, "ignored-slug", version=2, changes_summary="v2")
    assert (replacement["listing_id"], replacement["slug"], replacement["version"]) == (
        first_sub["listing_id"],
        "calctool",
        2,
    )
    mine = ok(api.request("GET", "/api/store/submissions", user="alice"))
    assert [s["store_listing_version_id"] for s in mine["submissions"]] == [replacement["store_listing_version_id"]]
    assert mine["pagination"] == {"total_items": 1, "total_pages": 1, "current_page": 1, "page_size": 20}
    # Approved versions stay; the next submission adds version 3 next to it.
    review(api, replacement["store_listing_version_id"])
    third = submit(api, "alice", first, "x", version=1, changes_summary="back to v1")
    assert third["version"] == 3
    statuses = [
        (s["version"], s["status"])
        for s in ok(api.request("GET", "/api/store/submissions", user="alice"))["submissions"]
    ]
    assert statuses == [(3, "PENDING"), (2, "APPROVED")]


def test_edit_and_delete_are_the_owners_and_only_while_not_approved(store):
    api = store
    profile(api, "alice")
    profile(api, "bob")
    graph = create_graph(api, "alice")
    sub = submit(api, "alice", graph, "calc")
    version_id = sub["store_listing_version_id"]
    edit = {"name": "Calc Pro", "sub_heading": "adds fast", "description": "Better", "categories": ["Math"]}
    assert api.request("PUT", f"/api/store/submissions/{version_id}", user="bob", json_body=edit)[0] == 404
    assert api.request("DELETE", f"/api/store/submissions/{version_id}", user="bob")[0] == 404
    status, error = api.request(
        "PUT", f"/api/store/submissions/{version_id}", user="alice", json_body={**edit, "name": ""}
    )
    assert status == 422 and "name" in error["detail"][0]["loc"]
    edited = ok(api.request("PUT", f"/api/store/submissions/{version_id}", user="alice", json_body=edit))
    assert (edited["name"], edited["description"], edited["categories"]) == ("Calc Pro", "Better", ["Math"])
    review(api, version_id)
    status, body = api.request("PUT", f"/api/store/submissions/{version_id}", user="alice", json_body=edit)
    assert status == 409 and "pending" in body["detail"]
    status, body = api.request("DELETE", f"/api/store/submissions/{version_id}", user="alice")
    assert status == 409 and "approved" in body["detail"]
    assert slugs(api) == ["calc"]
    # Rejected: deletable; the listing goes with its last version and the slug is free again.
    review(api, version_id, approve=False)
    assert ok(api.request("DELETE", f"/api/store/submissions/{version_id}", user="alice")) is True
    assert api.request("DELETE", f"/api/store/submissions/{version_id}", user="alice")[0] == 404
    assert ok(api.request("GET", "/api/store/submissions", user="alice"))["submissions"] == []
    assert submit(api, "alice", create_graph(api, "alice"), "calc")["version"] == 1


def test_my_unpublished_agents(store):
    api = store
    profile(api, "alice")
    published = create_graph(api, "alice", name="Published")
    pending = create_graph(api, "alice", name="Pending")
    create_graph(api, "bob", name="Not mine")
    publish(api, "alice", "pub", graph=published)
    submit(api, "alice", pending, "pend")
    mine = ok(api.request("GET", "/api/store/my-unpublished-agents", user="alice"))
    assert [a["agent_name"] for a in mine["agents"]] == ["Pending"]
    assert mine["agents"][0]["agent_id"] == pending["id"] and mine["agents"][0]["agent_version"] == 1
    assert mine["pagination"]["total_items"] == 1


# --- admin review ----------------------------------------------------------------------------------
def test_admin_routes_are_admin_only_and_internal_comments_stay_internal(store):
    api = store
    profile(api, "alice")
    sub = submit(api, "alice", create_graph(api, "alice"), "calc")
    version_id = sub["store_listing_version_id"]
    assert api.request("GET", "/api/store/admin/listings", user="alice")[0] == 403
    body = {"is_approved": True, "comments": "ok", "internal_comments": "x"}
    assert (
        api.request("POST", f"/api/store/admin/submissions/{version_id}/review", user="alice", json_body=body)[0] == 403
    )
    assert (
        api.request(
            "POST", f"/api/store/admin/submissions/{version_id}/featured", user="alice", json_body={"is_featured": True}
        )[0]
        == 403
    )
    assert (
        api.request("POST", "/api/store/admin/submissions/nope/review", user="root", admin=True, json_body=body)[0]
        == 404
    )
    status, error = api.request(
        "POST",
        f"/api/store/admin/submissions/{version_id}/review",
        user="root",
        admin=True,
        json_body={"comments": "ok"},
    )
    assert status == 422 and "is_approved" in error["detail"][0]["loc"]
    status, error = api.request(
        "POST",
        f"/api/store/admin/submissions/{version_id}/review",
        user="root",
        admin=True,
        json_body={**body, "store_listing_version_id": "other"},
    )
    assert status == 422
    reviewed = review(api, version_id, comments="Nice", internal="creator seems new")
    assert reviewed["status"] == "APPROVED" and reviewed["internal_comments"] == "creator seems new"
    assert reviewed["reviewer_id"] == "root" and reviewed["review_comments"] == "Nice"
    [own] = ok(api.request("GET", "/api/store/submissions", user="alice"))["submissions"]
    assert own["review_comments"] == "Nice" and own["internal_comments"] is None
    listings = ok(api.request("GET", "/api/store/admin/listings", user="root", admin=True))
    [listing] = listings["listings"]
    assert listing["slug"] == "calc" and listing["has_approved_version"]
    assert listing["active_listing_version_id"] == version_id
    assert listing["latest_version"]["internal_comments"] == "creator seems new"
    assert listings["pagination"]["total_items"] == 1
    pending = ok(api.request("GET", "/api/store/admin/listings", user="root", admin=True, query="status=PENDING"))
    assert pending["listings"] == [] and pending["pagination"]["total_items"] == 0
    approved = ok(api.request("GET", "/api/store/admin/listings", user="root", admin=True, query="status=APPROVED"))
    assert [item["slug"] for item in approved["listings"]] == ["calc"]
    assert api.request("GET", "/api/store/admin/listings", user="root", admin=True, query="status=NOPE")[0] == 422


def test_nothing_unapproved_leaks_and_approval_opens_read_and_run(store):
    api = store
    for user in ("alice", "bob"):
        ok(api.request("POST", "/api/auth/user", user=user))
        profile(api, user)
    graph = create_graph(api, "alice", name="Secret Sauce")
    sub = submit(api, "alice", graph, "sauce", description="secret sauce recipe")
    version_id = sub["store_listing_version_id"]

    def hidden() -> None:
        assert api.request("GET", f"/api/graphs/{graph['id']}/versions/1", user="bob")[0] == 404
        assert api.request("POST", f"/api/graphs/{graph['id']}/execute/1", user="bob", json_body={})[0] == 404
        assert slugs(api) == [] and slugs(api, "search_query=sauce") == []
        assert slugs(api, "creator=alice") == [] and slugs(api, "category=productivity") == []
        assert api.request("GET", "/api/store/agents/alice/sauce")[0] == 404
        assert ok(api.request("GET", "/api/store/creators"))["creators"] == []
        assert (
            api.request(
                "POST",
                "/api/store/agents/alice/sauce/review",
                user="bob",
                json_body={"store_listing_version_id": version_id, "score": 5},
            )[0]
            == 404
        )

    hidden()
    review(api, version_id, approve=False, comments="needs work")  # rejected: still private
    hidden()
    review(api, version_id)
    readable = ok(api.request("GET", f"/api/graphs/{graph['id']}/versions/1", user="bob"))
    assert readable["id"] == graph["id"] and readable["user_id"] == ""  # the export view
    assert api.request("GET", f"/api/graphs/{graph['id']}/versions/2", user="bob")[0] == 404
    execution = ok(
        api.request("POST", f"/api/graphs/{graph['id']}/execute/1", user="bob", json_body={"inputs": {"a": 1, "b": 2}})
    )
    assert execution["graph_id"] == graph["id"]
    assert agents_table().get(approval_key(graph["id"], 1))["runs"] == 1
    cache.invalidate()
    detail = ok(api.request("GET", "/api/store/agents/alice/sauce"))
    assert detail["runs"] == 1 and agents(api)["agents"][0]["runs"] == 1
    assert ok(api.request("GET", "/api/store/creators/alice"))["agent_runs"] == 1
    # Unpublishing closes it again; nothing stays in listings, search or creators.
    review(api, version_id, approve=False, comments="withdrawn")
    hidden()
    assert agents_table().get(approval_key(graph["id"], 1)) is None


# --- public listings and search --------------------------------------------------------------------
def test_sorts_filters_and_stable_cursor_pages(store):
    api = store
    profile(api, "alice")
    profile(api, "bob")
    publish(api, "alice", "zeta", name="Zeta Writer", categories=["Writing"])
    publish(api, "alice", "alpha", name="Alpha Mailer", categories=["Email", "Writing"])
    publish(api, "bob", "mid", name="Mid Researcher", categories=["Research"])
    assert slugs(api) == ["mid", "alpha", "zeta"]  # newest approval first
    assert slugs(api, "sorted_by=updated_at") == ["mid", "alpha", "zeta"]
    assert slugs(api, "sorted_by=name") == ["alpha", "mid", "zeta"]
    assert slugs(api, "creator=alice") == ["alpha", "zeta"]
    assert slugs(api, "creator=ALICE&sorted_by=name") == ["alpha", "zeta"]
    assert slugs(api, "creator=nobody") == []
    assert slugs(api, "category=writing") == ["alpha", "zeta"]
    assert slugs(api, "category=WRITING&creator=alice") == ["alpha", "zeta"]
    assert slugs(api, "category=research&creator=alice") == []
    # Featured (admin-set, Stratus route) adds the FEATURED scope.
    mid_id = next(s for s in ok(api.request("GET", "/api/store/submissions", user="bob"))["submissions"])
    ok(
        api.request(
            "POST",
            f"/api/store/admin/submissions/{mid_id['store_listing_version_id']}/featured",
            user="root",
            admin=True,
            json_body={"is_featured": True},
        )
    )
    assert slugs(api, "featured=true") == ["mid"]
    # Cursor pages: every item exactly once, in order, and the pagination block agrees.
    first = agents(api, "page_size=2&sorted_by=name")
    assert [a["slug"] for a in first["agents"]] == ["alpha", "mid"] and first["next_cursor"]
    assert first["pagination"] == {"total_items": 3, "total_pages": 2, "current_page": 1, "page_size": 2}
    publish(api, "bob", "aaa", name="Aaa First")  # a new item before the cursor does not shift the next page
    second = agents(api, f"page_size=2&sorted_by=name&cursor={first['next_cursor']}")
    assert [a["slug"] for a in second["agents"]] == ["zeta"] and second["next_cursor"] is None
    assert second["pagination"]["current_page"] == 2
    assert slugs(api, "page_size=2&page=2&sorted_by=name") == ["mid", "zeta"]  # page walk without a cursor
    # A cursor only continues its own query.
    status, error = api.request("GET", "/api/store/agents", query=f"page_size=2&cursor={first['next_cursor']}")
    assert status == 422 and "cursor" in error["detail"][0]["loc"]
    assert api.request("GET", "/api/store/agents", query="cursor=garbage!!")[0] == 422


@pytest.mark.parametrize(
    "query, field",
    [
        ("page=0", "page"),
        ("page_size=0", "page_size"),
        ("page_size=101", "page_size"),
        ("sorted_by=popularity", "sorted_by"),
        ("page=60&page_size=20", "page"),
    ],
)
def test_listing_bad_query_is_422(store, query, field):
    status, error = store.request("GET", "/api/store/agents", query=query)
    assert status == 422 and field in error["detail"][0]["loc"], error


def test_search_is_word_based_case_accent_insensitive_stemmed_and_intersecting(store):
    api = store
    profile(api, "alice")
    profile(api, "bob")
    publish(api, "alice", "cafe", name="Café Finder", description="Finds coffee shops near you", categories=["Travel"])
    publish(
        api,
        "alice",
        "summary",
        name="Email Summarizer",
        description="Summarizes long emails every morning",
        categories=["Email"],
    )
    publish(
        api,
        "bob",
        "digest",
        name="News Digest",
        description="Summarizing the daily news into emails",
        categories=["News"],
    )
    assert slugs(api, "search_query=CAFE") == ["cafe"]
    assert slugs(api, "search_query=caf%C3%A9") == ["cafe"]
    assert slugs(api, "search_query=coffee%20shop") == ["cafe"]
    assert slugs(api, "search_query=summarized") == ["digest", "summary"]
    assert slugs(api, "search_query=email%20summary") == ["summary"]  # "summary" is not "summariz"
    assert slugs(api, "search_query=summarize%20emails") == ["digest", "summary"]
    assert slugs(api, "search_query=summarize%20emails%20news") == ["digest"]
    assert slugs(api, "search_query=summarize&creator=alice") == ["summary"]
    assert slugs(api, "search_query=summarize&category=news") == ["digest"]
    assert slugs(api, "search_query=email&sorted_by=name") == ["digest", "summary"]  # sort ignored in search
    assert slugs(api, "search_query=travel") == ["cafe"]  # categories are indexed words too
    assert slugs(api, "search_query=nothing%20matches") == []
    paged = agents(api, "search_query=summarizing&page_size=1")
    assert [a["slug"] for a in paged["agents"]] == ["digest"] and paged["next_cursor"]
    rest = agents(api, f"search_query=summarizing&page_size=1&cursor={paged['next_cursor']}")
    assert [a["slug"] for a in rest["agents"]] == ["summary"] and rest["next_cursor"] is None
    # Unpublishing removes the words: the postings and their counts go too.
    cafe_version = next(
        s for s in ok(api.request("GET", "/api/store/submissions", user="alice"))["submissions"] if s["slug"] == "cafe"
    )
    review(api, cafe_version["store_listing_version_id"], approve=False)
    assert slugs(api, "search_query=coffee") == []
    postings, _ = agents_table().query("PK = :pk", {":pk": word_list(terms("coffee")[0])})
    assert [p["SK"] for p in postings] == ["COUNT"] and postings[0]["n"] == 0


def test_a_new_version_replaces_the_public_one_and_unapproving_falls_back(store):
    api = store
    profile(api, "alice")
    graph, first = publish(api, "alice", "tool", name="Old Name", description="legacy words")
    ok(api.request("PUT", f"/api/graphs/{graph['id']}", user="alice", json_body={**graph, "name": "v2"}))
    second = submit(api, "alice", graph, "tool", version=2, name="New Name", description="fresh words")
    assert ok(api.request("GET", "/api/store/agents/alice/tool"))["agent_name"] == "Old Name"  # pending: unseen
    review(api, second["store_listing_version_id"])
    cache.invalidate()
    detail = ok(api.request("GET", "/api/store/agents/alice/tool"))
    assert detail["agent_name"] == "New Name" and detail["versions"] == ["1", "2"]
    assert (
        detail["agentGraphVersions"] == ["1", "2"]
        and detail["store_listing_version_id"] == second["store_listing_version_id"]
    )
    assert slugs(api, "search_query=fresh") == ["tool"] and slugs(api, "search_query=legacy") == []
    assert slugs(api) == ["tool"]  # one card per listing, not per version
    for version in (1, 2):  # both approved graph versions stay readable
        assert api.request("GET", f"/api/graphs/{graph['id']}/versions/{version}", user="bob")[0] == 200
    review(api, second["store_listing_version_id"], approve=False)
    cache.invalidate()
    assert ok(api.request("GET", "/api/store/agents/alice/tool"))["agent_name"] == "Old Name"
    assert slugs(api, "search_query=legacy") == ["tool"] and slugs(api, "search_query=fresh") == []
    assert api.request("GET", f"/api/graphs/{graph['id']}/versions/2", user="bob")[0] == 404
    assert api.request("GET", f"/api/graphs/{graph['id']}/versions/1", user="bob")[0] == 200


def test_runs_and_rating_sorts(store):
    api = store
    for user in ("alice", "bob", "carol"):
        ok(api.request("POST", "/api/auth/user", user=user))
        profile(api, user)
    graph_a, sub_a = publish(api, "alice", "popular")
    _, sub_b = publish(api, "alice", "liked")
    for _ in range(2):
        ok(
            api.request(
                "POST", f"/api/graphs/{graph_a['id']}/execute/1", user="bob", json_body={"inputs": {"a": 1, "b": 2}}
            )
        )
    ok(
        api.request(
            "POST", f"/api/graphs/{graph_a['id']}/execute/1", user="alice", json_body={"inputs": {"a": 1, "b": 2}}
        )
    )  # the owner's own runs are not store runs
    assert slugs(api, "sorted_by=runs") == ["popular", "liked"]
    assert [a["runs"] for a in agents(api, "sorted_by=runs")["agents"]] == [2, 0]
    for user, score in (("bob", 5), ("carol", 4)):
        ok(
            api.request(
                "POST",
                "/api/store/agents/alice/liked/review",
                user=user,
                json_body={"store_listing_version_id": sub_b["store_listing_version_id"], "score": score},
            )
        )
    ok(
        api.request(
            "POST",
            "/api/store/agents/alice/popular/review",
            user="bob",
            json_body={"store_listing_version_id": sub_a["store_listing_version_id"], "score": 2},
        )
    )
    rated = agents(api, "sorted_by=rating")["agents"]
    assert [(a["slug"], a["rating"]) for a in rated] == [("liked", 4.5), ("popular", 2.0)]
    creator = ok(api.request("GET", "/api/store/creators/alice"))
    assert creator["agent_runs"] == 2 and creator["agent_rating"] == pytest.approx(11 / 3, abs=1e-3)


# --- reviews ------------------------------------------------------------------------------------------
def test_reviews_one_per_user_per_version_editable_and_consistent(store):
    api = store
    profile(api, "alice")
    profile(api, "bob")
    graph, sub = publish(api, "alice", "calc")
    version_id = sub["store_listing_version_id"]
    path = "/api/store/agents/alice/calc/review"
    for score in (0, 6):
        status, error = api.request(
            "POST", path, user="bob", json_body={"store_listing_version_id": version_id, "score": score}
        )
        assert status == 422 and "score" in error["detail"][0]["loc"]
    assert api.request("POST", path, user="bob", json_body={"score": 3})[0] == 422
    assert api.request("POST", path, user="bob", json_body={"store_listing_version_id": "nope", "score": 3})[0] == 404
    assert (
        api.request(
            "POST",
            "/api/store/agents/bob/calc/review",
            user="bob",
            json_body={"store_listing_version_id": version_id, "score": 3},
        )[0]
        == 404
    )
    _, other = publish(api, "bob", "other")  # a version of another listing is not this agent's
    assert (
        api.request(
            "POST",
            path,
            user="bob",
            json_body={"store_listing_version_id": other["store_listing_version_id"], "score": 3},
        )[0]
        == 404
    )
    pending = submit(api, "alice", graph, "calc", changes_summary="again")  # pending: not reviewable
    assert (
        api.request(
            "POST",
            path,
            user="bob",
            json_body={"store_listing_version_id": pending["store_listing_version_id"], "score": 3},
        )[0]
        == 404
    )
    assert ok(
        api.request(
            "POST", path, user="bob", json_body={"store_listing_version_id": version_id, "score": 2, "comments": "meh"}
        )
    ) == {"score": 2, "comments": "meh"}
    ok(api.request("POST", path, user="bob", json_body={"store_listing_version_id": version_id, "score": 4}))
    ok(api.request("POST", path, user="root", json_body={"store_listing_version_id": version_id, "score": 5}))
    cache.invalidate()
    assert ok(api.request("GET", "/api/store/agents/alice/calc"))["rating"] == 4.5  # (4 + 5) / 2: edit, not add
    from stratus.db.agents_table.listings import listing_key
    from stratus.db.agents_table.profiles import profile_key

    listing = agents_table().get(listing_key("alice", "calc"))
    assert (listing["rating_sum"], listing["rating_count"]) == (9, 2)
    owner = agents_table().get(profile_key("alice"))
    assert (owner["rating_sum"], owner["rating_count"]) == (9, 2)
    cards, _ = agents_table().query("PK = :pk", {":pk": ALL_SCOPE})
    assert [c["rating"] for c in cards if c.get("slug") == "calc"] == [4.5]


# --- creators -------------------------------------------------------------------------------------------
def test_creators_list_search_details_and_profile_changes_follow(store):
    api = store
    profile(api, "alice", name="Alice Liddell", description="Wonderland automations")
    profile(api, "bob", name="Bob Builder", description="Can we fix it")
    profile(api, "carol")  # no public agent: not listed, still has details
    publish(api, "alice", "one", categories=["Writing", "Email"])
    publish(api, "alice", "two", categories=["Writing"])
    publish(api, "bob", "three", categories=["Research"])
    listed = ok(api.request("GET", "/api/store/creators"))
    assert [c["username"] for c in listed["creators"]] == ["alice", "bob"]
    assert listed["pagination"]["total_items"] == 2
    assert [c["num_agents"] for c in listed["creators"]] == [2, 1]
    cache.invalidate()
    by_agents = ok(api.request("GET", "/api/store/creators", query="sorted_by=num_agents"))["creators"]
    assert [c["username"] for c in by_agents] == ["alice", "bob"]
    assert [
        c["username"]
        for c in ok(api.request("GET", "/api/store/creators", query="search_query=wonderland"))["creators"]
    ] == ["alice"]
    assert api.request("GET", "/api/store/creators", query="sorted_by=fame")[0] == 422
    details = ok(api.request("GET", "/api/store/creators/alice"))
    assert details["top_categories"] == ["Writing", "Email"] and details["name"] == "Alice Liddell"
    assert details["links"] == ["https://example.com/alice"]
    assert ok(api.request("GET", "/api/store/creators/carol"))["top_categories"] == []
    assert api.request("GET", "/api/store/creators/nobody")[0] == 404
    # A new username and avatar reach the creator item and every card at once.
    profile(api, "alice", username="wonder", name="Alice L.", avatar_url="https://img.example.com/new.png")
    cards = agents(api, "creator=wonder")["agents"]
    assert {(c["creator"], c["creator_avatar"]) for c in cards} == {("wonder", "https://img.example.com/new.png")}
    assert api.request("GET", "/api/store/agents/alice/one")[0] == 404
    assert ok(api.request("GET", "/api/store/agents/wonder/one"))["creator_name"] == "Alice L."
    assert api.request("GET", "/api/store/creators/alice")[0] == 404
    assert [c["username"] for c in ok(api.request("GET", "/api/store/creators"))["creators"]] == ["bob", "wonder"]


# --- caching and request budgets ------------------------------------------------------------------
def test_public_reads_are_cached_and_approval_invalidates(store, dynamodb_calls):
    api = store
    profile(api, "alice")
    publish(api, "alice", "first")
    response = raw(api, "GET", "/api/store/agents")
    assert response["headers"]["cache-control"] == "public, max-age=60"
    assert raw(api, "GET", "/api/store/agents/alice/first")["headers"]["cache-control"] == "public, max-age=60"
    assert raw(api, "GET", "/api/store/creators")["headers"]["cache-control"] == "public, max-age=60"
    dynamodb_calls.clear()
    assert [a["slug"] for a in ok(api.request("GET", "/api/store/agents"))["agents"]] == ["first"]
    assert dynamodb_calls == []  # served from the in-Lambda cache
    publish(api, "alice", "second")  # approval in this container clears it
    assert [a["slug"] for a in ok(api.request("GET", "/api/store/agents"))["agents"]] == ["second", "first"]
    assert "cache-control" not in {k.lower() for k in raw(api, "GET", "/api/store/agents/alice/none")["headers"]}


def test_a_listing_page_is_at_most_three_dynamodb_requests(store, dynamodb_calls):
    api = store
    profile(api, "alice")
    for index in range(5):
        publish(api, "alice", f"agent{index}", categories=["Writing"])
    for query, budget in (
        ("", 2),
        ("sorted_by=runs", 2),
        ("sorted_by=rating&page_size=2", 2),
        ("sorted_by=name", 2),
        ("category=writing", 2),
        ("creator=alice&sorted_by=name", 3),
        ("search_query=agent0", 3),
    ):
        cache.invalidate()
        dynamodb_calls.clear()
        body = ok(api.request("GET", "/api/store/agents", query=query))
        assert body["agents"], query
        assert len(dynamodb_calls) <= budget, (query, dynamodb_calls)
        assert "Scan" not in dynamodb_calls
    cache.invalidate()
    dynamodb_calls.clear()
    ok(api.request("GET", "/api/store/agents/alice/agent1"))
    assert dynamodb_calls == ["GetItem", "BatchGetItem"]


# --- external API -----------------------------------------------------------------------------------
def test_external_store_routes_need_a_read_store_key(store):
    api = store
    ok(api.request("POST", "/api/auth/user", user="alice"))
    profile(api, "alice")
    publish(api, "alice", "calc")

    def key(permissions: list[str]) -> str:
        return ok(
            api.request("POST", "/api/api-keys", user="alice", json_body={"name": "k", "permissions": permissions})
        )["plain_text_key"]

    reader, other = key(["READ_STORE"]), key(["READ_GRAPH"])
    for path in ("/external-api/v1/store/agents", "/external-api/v1/store/creators"):
        assert api.request("GET", path)[0] == 401
        assert api.request("GET", path, headers={"x-api-key": other})[0] == 403
    found = ok(
        api.request("GET", "/external-api/v1/store/agents", headers={"x-api-key": reader}, query="search_query=calc")
    )
    assert [a["slug"] for a in found["agents"]] == ["calc"]
    creators = ok(api.request("GET", "/external-api/v1/store/creators", headers={"x-api-key": reader}))
    assert [c["username"] for c in creators["creators"]] == ["alice"]


# --- the whole flow ------------------------------------------------------------------------------------
def test_publish_review_search_read_and_run_for_two_users_and_an_admin(store):
    api = store
    for user in ("alice", "bob"):
        ok(api.request("POST", "/api/auth/user", user=user))
    profile(api, "alice", name="Alice")
    profile(api, "bob", name="Bob")
    alice_graph = create_graph(api, "alice", name="Invoice Parser")
    bob_graph = create_graph(api, "bob", name="Meeting Notes")
    alice_sub = submit(
        api,
        "alice",
        alice_graph,
        "invoice-parser",
        name="Invoice Parser",
        description="Extracts totals from invoices",
        categories=["Finance"],
    )
    bob_sub = submit(
        api,
        "bob",
        bob_graph,
        "meeting-notes",
        name="Meeting Notes",
        description="Turns meeting transcripts into notes",
        categories=["Productivity"],
    )
    pending = ok(api.request("GET", "/api/store/admin/listings", user="root", admin=True, query="status=PENDING"))
    assert {item["slug"] for item in pending["listings"]} == {"invoice-parser", "meeting-notes"}
    review(api, alice_sub["store_listing_version_id"])
    review(
        api,
        bob_sub["store_listing_version_id"],
        approve=False,
        comments="Add a description of the outputs",
        internal="low effort",
    )
    [bob_view] = ok(api.request("GET", "/api/store/submissions", user="bob"))["submissions"]
    assert bob_view["status"] == "REJECTED" and bob_view["internal_comments"] is None
    found = agents(api, "search_query=invoice%20totals")
    assert [a["slug"] for a in found["agents"]] == ["invoice-parser"] and found["agents"][0]["creator"] == "alice"
    assert slugs(api, "search_query=meeting") == []
    detail = ok(api.request("GET", "/api/store/agents/alice/invoice-parser"))
    graph = ok(
        api.request(
            "GET", f"/api/graphs/{detail['agentGraphId']}/versions/{detail['agentGraphVersions'][-1]}", user="bob"
        )
    )
    run = ok(
        api.request(
            "POST",
            f"/api/graphs/{graph['id']}/execute/{graph['version']}",
            user="bob",
            json_body={"inputs": {"a": 2, "b": 3}},
        )
    )
    assert run["status"] in ("QUEUED", "RUNNING")
    ok(
        api.request(
            "POST",
            "/api/store/agents/alice/invoice-parser/review",
            user="bob",
            json_body={
                "store_listing_version_id": detail["store_listing_version_id"],
                "score": 5,
                "comments": "Saved me hours",
            },
        )
    )
    cache.invalidate()
    final = ok(api.request("GET", "/api/store/agents/alice/invoice-parser"))
    assert (final["runs"], final["rating"]) == (1, 5.0)
    # Alice cannot see or change Bob's private things.
    assert api.request("GET", f"/api/graphs/{bob_graph['id']}/versions/1", user="alice")[0] == 404
    assert (
        api.request("DELETE", f"/api/store/submissions/{bob_sub['store_listing_version_id']}", user="alice")[0] == 404
    )


# --- races and counters ----------------------------------------------------------------------------------
def test_concurrent_reviews_keep_every_aggregate_exact(store):
    from concurrent.futures import ThreadPoolExecutor

    from stratus.db.agents_table.listings import listing_key
    from stratus.db.agents_table.profiles import profile_key
    from stratus.store.models import StoreReviewCreate
    from stratus.store.reviews import create_review

    api = store
    profile(api, "alice")
    _, sub = publish(api, "alice", "calc", categories=["Math"])
    scores = {f"user{i}": i % 5 + 1 for i in range(12)}

    def rate(user: str) -> None:
        create_review(
            user,
            "alice",
            "calc",
            StoreReviewCreate(store_listing_version_id=sub["store_listing_version_id"], score=scores[user]),
        )

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(rate, scores))
    total, count = sum(scores.values()), len(scores)
    listing = agents_table().get(listing_key("alice", "calc"))
    assert (listing["rating_sum"], listing["rating_count"]) == (total, count)
    owner = agents_table().get(profile_key("alice"))
    assert (owner["rating_sum"], owner["rating_count"]) == (total, count)
    for scope in listing["scopes"]:
        card = agents_table().get({"PK": scope, "SK": listing["card_sk"]})
        assert card["rating"] == round(total / count, 3) and card["rating_count"] == count


def test_concurrent_username_claims_have_one_winner(store):
    from concurrent.futures import ThreadPoolExecutor

    users = [f"user{i}" for i in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(
            pool.map(
                lambda user: store.request(
                    "POST", "/api/store/profile", user=user, json_body={"name": user, "username": "taken"}
                )[0],
                users,
            )
        )
    assert sorted(statuses) == [200] + [409] * 7


def test_runs_copies_sync_exactly_then_sparsely_and_never_go_back(store):
    from stratus.db.agents_table.listings import listing_key
    from stratus.db.agents_table.public_index import forward_card_runs
    from stratus.store.runs import should_sync

    assert all(should_sync(n) for n in (1, 999, 1000)) and not should_sync(1001)
    assert should_sync(1230) and not should_sync(1234) and should_sync(123_000) and not should_sync(123_400)
    profile(store, "alice")
    publish(store, "alice", "calc")
    listing = agents_table().get(listing_key("alice", "calc"))
    key = {"PK": ALL_SCOPE, "SK": listing["card_sk"]}
    forward_card_runs(listing, 7)
    forward_card_runs(listing, 5)  # a late, older sync loses
    assert agents_table().get(key)["runs"] == 7


def test_the_library_reads_a_listing_version(store):
    from stratus.store.listing_versions import store_listing_version

    profile(store, "alice", name="Alice A")
    graph = create_graph(store, "alice")
    sub = submit(store, "alice", graph, "calc")
    info = store_listing_version(sub["store_listing_version_id"])
    assert (info.graph_id, info.graph_version, info.approved, info.status) == (graph["id"], 1, False, "PENDING")
    assert (info.creator_username, info.creator_name, info.name) == ("alice", "Alice A", "calc agent")
    review(store, sub["store_listing_version_id"])
    assert store_listing_version(sub["store_listing_version_id"]).approved
    assert store_listing_version("missing") is None
