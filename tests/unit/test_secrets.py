"""KMS envelope encryption against moto's KMS: round trip, context binding, tampering, caching."""

from __future__ import annotations

import base64

import pytest

from stratus.integrations import secrets
from tests.conftest import recorded_calls


@pytest.fixture()
def kms_calls(aws):
    secrets.clear_cache()
    with recorded_calls("kms") as calls:
        yield calls
    secrets.clear_cache()


def test_round_trip_and_nothing_in_the_clear(kms_calls):
    sealed = secrets.seal("sk-live-0123456789abcdef", "USER#alice#CRED#1")
    assert set(sealed) == {"v", "key", "nonce", "ciphertext"} and sealed["v"] == 1
    assert "0123456789abcdef" not in str(sealed)
    assert secrets.unseal(sealed, "USER#alice#CRED#1") == "sk-live-0123456789abcdef"
    assert kms_calls == ["GenerateDataKey"]  # the data key sealed a moment ago is cached


def test_each_seal_has_its_own_data_key_and_nonce(aws):
    first, second = secrets.seal("same"), secrets.seal("same")
    assert first["key"] != second["key"] and first["nonce"] != second["nonce"]
    assert first["ciphertext"] != second["ciphertext"]


def test_a_cold_container_asks_kms_once_per_data_key(kms_calls):
    sealed = secrets.seal("sk-secret-value")
    secrets.clear_cache()
    kms_calls.clear()
    assert secrets.unseal(sealed) == "sk-secret-value"
    assert secrets.unseal(sealed) == "sk-secret-value"
    assert kms_calls == ["Decrypt"]


def _flip_last_byte(text: str) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[-1] ^= 1
    return base64.b64encode(bytes(raw)).decode()


def test_tampered_ciphertext_nonce_or_context_fails(aws):
    sealed = secrets.seal("sk-secret-value", "USER#alice#CRED#1")
    with pytest.raises(secrets.SecretUnreadable):
        secrets.unseal({**sealed, "ciphertext": _flip_last_byte(sealed["ciphertext"])}, "USER#alice#CRED#1")
    with pytest.raises(secrets.SecretUnreadable):
        secrets.unseal({**sealed, "nonce": _flip_last_byte(sealed["nonce"])}, "USER#alice#CRED#1")
    with pytest.raises(secrets.SecretUnreadable):  # copied into another user's item
        secrets.unseal(sealed, "USER#mallory#CRED#1")
    with pytest.raises(secrets.SecretUnreadable):
        secrets.unseal({**sealed, "v": 2}, "USER#alice#CRED#1")


def test_tampered_data_key_is_refused_by_kms(aws):
    sealed = secrets.seal("sk-secret-value")
    secrets.clear_cache()
    with pytest.raises(secrets.SecretUnreadable):
        secrets.unseal({**sealed, "key": _flip_last_byte(sealed["key"])})


def test_mask_shows_little_and_nothing_of_short_keys():
    assert secrets.mask("") == ""
    assert secrets.mask("short-key") == "****"
    assert secrets.mask("sk-proj-0123456789abcdefWXYZ") == "sk-...WXYZ"
