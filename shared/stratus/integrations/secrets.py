"""KMS envelope encryption for the secrets users store (API keys of providers and models).

`seal` asks KMS for a fresh AES-256 data key under the key named by CREDENTIALS_KEY_ID,
encrypts with AES-GCM and keeps only the KMS-encrypted copy of the data key next to the
ciphertext. `unseal` has KMS decrypt that copy (cached per container: a warm Lambda reading
the same item twice asks KMS once) and decrypts. `context` is bound into the ciphertext as
AES-GCM associated data, so a sealed value copied into another user's item does not open.
Secrets never reach a log or an exception message from here.
"""

from __future__ import annotations

import base64
import os
from typing import Any

from stratus.aws import client
from stratus.config import CredentialsKeySettings, get_settings

VERSION = 1
_NONCE_BYTES = 12  # AES-GCM's standard nonce size
_DATA_KEY_CACHE_SIZE = 256
_data_keys: dict[str, bytes] = {}  # encrypted data key (base64) → plaintext data key


class SecretUnreadable(Exception):
    """A sealed value that cannot be opened: tampered, or sealed for another context or key."""


def _key_id() -> str:
    return get_settings(CredentialsKeySettings).credentials_key_id


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _remember(encrypted_key: str, data_key: bytes) -> None:
    if len(_data_keys) >= _DATA_KEY_CACHE_SIZE:
        _data_keys.pop(next(iter(_data_keys)))  # oldest first: dicts keep insertion order
    _data_keys[encrypted_key] = data_key


def seal(plaintext: str, context: str = "") -> dict[str, Any]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # lazy: only secret paths need it

    response = client("kms").generate_data_key(KeyId=_key_id(), KeySpec="AES_256")
    data_key, encrypted_key = response["Plaintext"], _b64(response["CiphertextBlob"])
    nonce = os.urandom(_NONCE_BYTES)
    ciphertext = AESGCM(data_key).encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
    _remember(encrypted_key, data_key)
    return {"v": VERSION, "key": encrypted_key, "nonce": _b64(nonce), "ciphertext": _b64(ciphertext)}


def _data_key(encrypted_key: str) -> bytes:
    cached = _data_keys.get(encrypted_key)
    if cached is not None:
        return cached
    from botocore.exceptions import ClientError

    try:
        response = client("kms").decrypt(CiphertextBlob=base64.b64decode(encrypted_key), KeyId=_key_id())
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code in ("InvalidCiphertextException", "IncorrectKeyException", "NotFoundException"):
            raise SecretUnreadable(f"KMS cannot decrypt the data key ({code}).") from None
        raise
    _remember(encrypted_key, response["Plaintext"])
    return response["Plaintext"]


def unseal(sealed: dict[str, Any], context: str = "") -> str:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not isinstance(sealed, dict) or sealed.get("v") != VERSION:
        raise SecretUnreadable("Not a sealed secret of a known version.")
    try:
        encrypted_key = str(sealed["key"])
        nonce, ciphertext = base64.b64decode(sealed["nonce"]), base64.b64decode(sealed["ciphertext"])
    except (KeyError, ValueError, TypeError):
        raise SecretUnreadable("The sealed secret is malformed.") from None
    try:
        plaintext = AESGCM(_data_key(encrypted_key)).decrypt(nonce, ciphertext, context.encode("utf-8"))
    except (InvalidTag, ValueError):
        raise SecretUnreadable("The sealed secret failed authentication.") from None
    return plaintext.decode("utf-8")


def mask(secret: str) -> str:
    """What a response may show of a secret: its first 3 and last 4 characters when it is long
    enough that 7 characters leave it unguessable, else only that one is set."""
    if not secret:
        return ""
    if len(secret) < 20:
        return "****"
    return f"{secret[:3]}...{secret[-4:]}"


def clear_cache() -> None:
    """Forget the decrypted data keys (tests switch KMS accounts between cases)."""
    _data_keys.clear()
