"""API keys through the handler: shown once, hashed, permissions, statuses, cross-user."""

from __future__ import annotations

from stratus.db import users_table


def _create(api, user: str, permissions=("IDENTITY",), name="ci key"):
    status, body = api.request(
        "POST",
        "/api/api-keys",
        user=user,
        json_body={"name": name, "permissions": list(permissions), "description": "d"},
    )
    assert status == 200, body
    return body


def test_key_is_shown_once_and_only_a_salted_hash_is_stored(api):
    api.request("POST", "/api/auth/user", user="alice", email="alice@example.com")
    created = _create(api, "alice")
    plain = created["plain_text_key"]
    key = created["api_key"]
    assert plain.startswith("agpt_") and len(plain) == 48
    assert plain.startswith(key["prefix"]) and plain.endswith(key["postfix"])
    assert key["status"] == "ACTIVE" and key["permissions"] == ["IDENTITY"]
    status, listed = api.request("GET", "/api/api-keys", user="alice")
    assert status == 200 and [k["id"] for k in listed] == [key["id"]]
    assert "plain_text_key" not in listed[0] and "hash" not in listed[0]
    stored = users_table.api_keys_of("alice")[0]
    assert plain not in str(stored)
    assert stored["hash"] and stored["salt"]


def test_external_me_with_identity_permission(api):
    api.request("POST", "/api/auth/user", user="alice", email="alice@example.com")
    plain = _create(api, "alice")["plain_text_key"]
    status, me = api.request("GET", "/external-api/v1/me", headers={"x-api-key": plain})
    assert status == 200 and me["user_id"] == "alice" and me["user_email"] == "alice@example.com"
    status, key = api.request("GET", f"/api/api-keys/{_key_id(api, 'alice')}", user="alice")
    assert key["last_used_at"] is not None


def _key_id(api, user: str) -> str:
    return api.request("GET", "/api/api-keys", user=user)[1][0]["id"]


def test_external_api_401_and_403(api):
    api.request("POST", "/api/auth/user", user="alice")
    status, body = api.request("GET", "/external-api/v1/me")
    assert status == 401 and "X-API-Key" in body["detail"]
    status, _ = api.request("GET", "/external-api/v1/me", headers={"x-api-key": "agpt_" + "x" * 43})
    assert status == 401
    plain = _create(api, "alice", permissions=["READ_GRAPH"])["plain_text_key"]
    status, body = api.request("GET", "/external-api/v1/me", headers={"x-api-key": plain})
    assert status == 403 and "IDENTITY" in body["detail"]


def test_suspend_update_permissions_and_revoke(api):
    api.request("POST", "/api/auth/user", user="alice")
    created = _create(api, "alice", permissions=["READ_GRAPH"])
    key_id, plain = created["api_key"]["id"], created["plain_text_key"]
    status, key = api.request(
        "PUT",
        f"/api/api-keys/{key_id}/permissions",
        user="alice",
        json_body={"permissions": ["IDENTITY", "READ_GRAPH"]},
    )
    assert status == 200 and key["permissions"] == ["IDENTITY", "READ_GRAPH"]
    assert api.request("GET", "/external-api/v1/me", headers={"x-api-key": plain})[0] == 200
    status, key = api.request("POST", f"/api/api-keys/{key_id}/suspend", user="alice")
    assert status == 200 and key["status"] == "SUSPENDED"
    status, body = api.request("GET", "/external-api/v1/me", headers={"x-api-key": plain})
    assert status == 401 and "suspended" in body["detail"]
    status, key = api.request("DELETE", f"/api/api-keys/{key_id}", user="alice")
    assert status == 200 and key["status"] == "REVOKED" and key["revoked_at"]
    status, _ = api.request(
        "PUT", f"/api/api-keys/{key_id}/permissions", user="alice", json_body={"permissions": ["IDENTITY"]}
    )
    assert status == 409
    assert api.request("GET", "/external-api/v1/me", headers={"x-api-key": plain})[0] == 401


def test_bad_key_requests_are_422(api):
    api.request("POST", "/api/auth/user", user="alice")
    status, body = api.request("POST", "/api/api-keys", user="alice", json_body={"name": "k", "permissions": ["FLY"]})
    assert status == 422 and body["detail"][0]["loc"][:2] == ["body", "permissions"]
    status, _ = api.request("POST", "/api/api-keys", user="alice", json_body={"name": "k", "permissions": []})
    assert status == 422
    assert api.request("GET", "/api/api-keys", user="alice") == (200, [])


def test_user_b_can_never_read_or_change_user_a_keys_or_credits(api):
    api.request("POST", "/api/auth/user", user="alice")
    api.request("POST", "/api/auth/user", user="bob")
    alice_key = _create(api, "alice", permissions=["IDENTITY"])["api_key"]["id"]
    assert api.request("GET", "/api/api-keys", user="bob") == (200, [])
    for method, path, body in [
        ("GET", f"/api/api-keys/{alice_key}", None),
        ("DELETE", f"/api/api-keys/{alice_key}", None),
        ("POST", f"/api/api-keys/{alice_key}/suspend", None),
        ("PUT", f"/api/api-keys/{alice_key}/permissions", {"permissions": ["EXECUTE_GRAPH"]}),
    ]:
        status, _ = api.request(method, path, user="bob", json_body=body)
        assert status == 404, (method, path)
    status, key = api.request("GET", f"/api/api-keys/{alice_key}", user="alice")
    assert key["status"] == "ACTIVE" and key["permissions"] == ["IDENTITY"]
    # Credits: bob cannot grant himself or alice anything, and sees only his own ledger.
    status, _ = api.request(
        "POST", "/api/credits/admin/add_credits", user="bob", json_body={"user_id": "alice", "amount": 5}
    )
    assert status == 403
    status, history = api.request("GET", "/api/credits/transactions", user="bob")
    assert all(t["transaction_key"] == "signup-grant" for t in history["transactions"])
    assert api.request("GET", "/api/credits", user="alice") == (200, {"credits": 1000})
