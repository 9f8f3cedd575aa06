"""Users routes through the UsersFunction handler with API Gateway v2 events on moto."""

from __future__ import annotations

from urllib.parse import urlencode


def test_get_or_create_user_is_idempotent_and_grants_signup_credits(api):
    status, first = api.request("POST", "/api/auth/user", user="alice", email="Alice@Example.com")
    assert status == 200
    assert first["id"] == "alice" and first["email"] == "alice@example.com"
    status, again = api.request("POST", "/api/auth/user", user="alice", email="alice@example.com")
    assert status == 200 and again == first
    assert api.request("GET", "/api/credits", user="alice") == (200, {"credits": 1000})
    status, history = api.request("GET", "/api/credits/transactions", user="alice")
    assert [t["transaction_type"] for t in history["transactions"]] == ["GRANT"]
    assert history["transactions"][0]["running_balance"] == 1000


def test_missing_or_bad_token_is_401_with_detail(api):
    status, body = api.request("GET", "/api/credits")
    assert status == 401 and "Authorization" in body["detail"]
    status, body = api.request("GET", "/api/credits", headers={"authorization": "Bearer nope"})
    assert status == 401 and "Invalid token" in body["detail"]


def test_email_update_validates_and_enforces_uniqueness(api):
    api.request("POST", "/api/auth/user", user="alice", email="alice@example.com")
    api.request("POST", "/api/auth/user", user="bob", email="bob@example.com")
    status, body = api.request("POST", "/api/auth/user/email", user="bob", json_body="not-an-email")
    assert status == 422 and "Invalid email" in body["detail"]
    status, body = api.request("POST", "/api/auth/user/email", user="bob", json_body="ALICE@example.com")
    assert status == 409 and "already used" in body["detail"]
    status, body = api.request("POST", "/api/auth/user/email", user="bob", json_body={"email": "robert@example.com"})
    assert (status, body) == (200, {"email": "robert@example.com"})
    # bob's old address is free again, and the new one is taken.
    status, _ = api.request("POST", "/api/auth/user/email", user="alice", json_body="bob@example.com")
    assert status == 200
    status, _ = api.request("POST", "/api/auth/user/email", user="alice", json_body="robert@example.com")
    assert status == 409


def test_signup_with_an_email_already_taken_is_409_and_creates_nothing(api):
    api.request("POST", "/api/auth/user", user="alice", email="shared@example.com")
    status, body = api.request("POST", "/api/auth/user", user="mallory", email="shared@example.com")
    assert status == 409
    status, body = api.request("GET", "/api/auth/user/timezone", user="mallory")
    assert status == 404


def test_timezone_accepts_iana_names_only(api):
    api.request("POST", "/api/auth/user", user="alice")
    assert api.request("GET", "/api/auth/user/timezone", user="alice") == (200, {"timezone": "not-set"})
    status, body = api.request("POST", "/api/auth/user/timezone", user="alice", json_body={"timezone": "Mars/Olympus"})
    assert status == 422 and "IANA" in body["detail"]
    assert api.request("POST", "/api/auth/user/timezone", user="alice", json_body={"timezone": "Europe/Paris"}) == (
        200,
        {"timezone": "Europe/Paris"},
    )
    assert api.request("GET", "/api/auth/user/timezone", user="alice") == (200, {"timezone": "Europe/Paris"})


def test_preferences_merge_and_validate(api):
    api.request("POST", "/api/auth/user", user="alice", email="alice@example.com")
    status, prefs = api.request("GET", "/api/auth/user/preferences", user="alice")
    assert status == 200 and all(prefs["preferences"].values())
    status, prefs = api.request(
        "POST",
        "/api/auth/user/preferences",
        user="alice",
        json_body={"preferences": {"DAILY_SUMMARY": False}, "daily_limit": 10},
    )
    assert status == 200
    assert prefs["preferences"]["DAILY_SUMMARY"] is False and prefs["preferences"]["AGENT_RUN"] is True
    assert prefs["daily_limit"] == 10
    status, body = api.request(
        "POST", "/api/auth/user/preferences", user="alice", json_body={"preferences": {"NOT_A_TYPE": True}}
    )
    assert status == 422 and body["detail"][0]["loc"][:2] == ["body", "preferences"]


def test_malformed_json_and_wrong_types_are_422_with_the_field(api):
    api.request("POST", "/api/auth/user", user="alice")
    status, body = api.request("POST", "/api/auth/user/timezone", user="alice", raw_body=b"{not json")
    assert status == 422 and body["detail"][0]["type"] == "json_invalid"
    status, body = api.request("POST", "/api/auth/user/timezone", user="alice", json_body={"timezone": 5})
    assert status == 422 and body["detail"][0]["loc"] == ["body", "timezone"]
    # Nothing was lost: the stored value is unchanged.
    assert api.request("GET", "/api/auth/user/timezone", user="alice") == (200, {"timezone": "not-set"})


def test_admin_add_credits_requires_admin_and_an_existing_user(api):
    api.request("POST", "/api/auth/user", user="alice")
    body = {"user_id": "alice", "amount": 250, "comments": "thanks"}
    status, _ = api.request("POST", "/api/credits/admin/add_credits", user="alice", json_body=body)
    assert status == 403
    status, result = api.request("POST", "/api/credits/admin/add_credits", user="root", admin=True, json_body=body)
    assert status == 200 and result["new_balance"] == 1250
    status, _ = api.request(
        "POST", "/api/credits/admin/add_credits", user="root", admin=True, json_body={**body, "user_id": "ghost"}
    )
    assert status == 404
    status, _ = api.request(
        "POST", "/api/credits/admin/add_credits", user="root", admin=True, json_body={**body, "amount": -5}
    )
    assert status == 422
    status, history = api.request("GET", "/api/credits/transactions", user="alice", query="transaction_type=GRANT")
    assert [t["amount"] for t in history["transactions"]] == [250, 1000]


def test_transactions_are_paged_newest_first(api):
    from stratus.users import credits

    api.request("POST", "/api/auth/user", user="alice")
    for n in range(5):
        credits.charge("alice", 10, f"charge-{n}")
    seen = []
    cursor_query = "transaction_count_limit=2"
    while True:
        status, page = api.request("GET", "/api/credits/transactions", user="alice", query=cursor_query)
        assert status == 200
        seen.extend(t["transaction_key"] for t in page["transactions"])
        if not page["next_cursor"]:
            break
        cursor_query = urlencode({"transaction_count_limit": 2, "transaction_time": page["next_cursor"]})
    assert seen == [f"charge-{n}" for n in range(4, -1, -1)] + ["signup-grant"]


def test_openapi_document_is_served(api):
    status, doc = api.request("GET", "/api/openapi.json")
    assert status == 200 and "/api/api-keys/{key_id}/permissions" in doc["paths"]
