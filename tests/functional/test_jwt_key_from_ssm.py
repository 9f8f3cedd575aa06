"""In AWS the verify key comes from the SSM parameter the template names (Powertools parameters)."""

from __future__ import annotations

import pytest

from stratus.auth.jwt_tokens import issue_token, verify_token
from stratus.aws import client
from stratus.errors import Unauthorized

SSM_SECRET = "secret-stored-in-ssm-for-this-test-0123456789"


@pytest.fixture()
def ssm_key(aws, monkeypatch):
    client("ssm").put_parameter(Name="/stratus/jwt-verify-key", Value=SSM_SECRET, Type="SecureString")
    monkeypatch.delenv("JWT_VERIFY_KEY")
    monkeypatch.setenv("JWT_VERIFY_KEY_PARAM", "/stratus/jwt-verify-key")
    yield


def test_token_verified_with_the_key_from_ssm(ssm_key):
    assert verify_token(issue_token(SSM_SECRET, "ssm-user")).user_id == "ssm-user"
    with pytest.raises(Unauthorized):
        verify_token(issue_token("some-other-secret-that-is-long-enough-0123", "ssm-user"))
