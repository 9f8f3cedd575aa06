"""JWT verification: HS256/RS256 from config, and every way a token must be refused."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from stratus.auth.jwt_tokens import issue_token, verify_token
from stratus.errors import Unauthorized
from tests.conftest import TEST_JWT_SECRET


@pytest.fixture()
def settings_env(monkeypatch):
    def configure(**env: str) -> None:
        for key, value in env.items():
            monkeypatch.setenv(key, value)

    yield configure


@pytest.fixture(scope="module")
def rsa_keys() -> tuple[bytes, str]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


def _claims(**overrides):
    now = int(time.time())
    return {"sub": "user-1", "aud": "authenticated", "exp": now + 60, "iat": now, **overrides}


def test_hs256_token_gives_user_email_and_role():
    token = issue_token(TEST_JWT_SECRET, "user-1", email="a@example.com", admin=True)
    claims = verify_token(token)
    assert (claims.user_id, claims.email, claims.is_admin) == ("user-1", "a@example.com", True)


def test_plain_user_is_not_admin():
    assert verify_token(issue_token(TEST_JWT_SECRET, "user-2")).is_admin is False


def test_rs256_token_verified_with_public_key(settings_env, rsa_keys):
    private_pem, public_pem = rsa_keys
    settings_env(JWT_ALGORITHM="RS256", JWT_VERIFY_KEY=public_pem)
    token = jwt.encode(_claims(sub="rsa-user"), private_pem, algorithm="RS256")
    assert verify_token(token).user_id == "rsa-user"


def test_algorithm_confusion_is_rejected(settings_env, rsa_keys):
    """An HS256 token signed with the RS256 public key must not pass as that key's signature."""
    _, public_pem = rsa_keys
    settings_env(JWT_ALGORITHM="RS256", JWT_VERIFY_KEY=public_pem)
    header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()).rstrip(b"=")
    payload = base64.urlsafe_b64encode(json.dumps(_claims()).encode()).rstrip(b"=")
    import hashlib
    import hmac

    signature = base64.urlsafe_b64encode(
        hmac.new(public_pem.encode(), header + b"." + payload, hashlib.sha256).digest()
    ).rstrip(b"=")
    forged = (header + b"." + payload + b"." + signature).decode()
    with pytest.raises(Unauthorized, match="algorithm"):
        verify_token(forged)


def test_alg_none_is_rejected():
    unsigned = jwt.encode(_claims(), key=None, algorithm="none")
    with pytest.raises(Unauthorized):
        verify_token(unsigned)


def test_expired_token_is_rejected():
    token = jwt.encode(_claims(exp=int(time.time()) - 10), TEST_JWT_SECRET, algorithm="HS256")
    with pytest.raises(Unauthorized, match="expired"):
        verify_token(token)


def test_wrong_audience_is_rejected():
    token = jwt.encode(_claims(aud="someone-else"), TEST_JWT_SECRET, algorithm="HS256")
    with pytest.raises(Unauthorized, match="audience"):
        verify_token(token)


def test_wrong_secret_is_rejected():
    token = jwt.encode(_claims(), "not-the-secret-but-long-enough-0123456789", algorithm="HS256")
    with pytest.raises(Unauthorized, match="Invalid token"):
        verify_token(token)


def test_missing_sub_is_rejected():
    claims = _claims()
    claims.pop("sub")
    with pytest.raises(Unauthorized, match="sub"):
        verify_token(jwt.encode(claims, TEST_JWT_SECRET, algorithm="HS256"))


def test_garbage_is_rejected():
    with pytest.raises(Unauthorized):
        verify_token("not.a.jwt")
