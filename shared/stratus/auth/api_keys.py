"""API key material: generation, salted scrypt hashes and the lookup digest.

A key is `agpt_` + 43 url-safe characters (32 random bytes). It is shown once.
We store a salted scrypt hash for verification, head/tail for display, and a
SHA-256 digest that addresses the item (a GetItem, never a scan). The digest of
a 256-bit random secret reveals nothing usable; the scrypt hash is what proves it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

PREFIX = "agpt_"
HEAD_LENGTH = len(PREFIX) + 4
TAIL_LENGTH = 4
KEY_LENGTH = len(PREFIX) + 43
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


class APIKeyPermission(str, Enum):
    IDENTITY = "IDENTITY"
    EXECUTE_GRAPH = "EXECUTE_GRAPH"
    READ_GRAPH = "READ_GRAPH"
    WRITE_GRAPH = "WRITE_GRAPH"
    EXECUTE_BLOCK = "EXECUTE_BLOCK"
    READ_BLOCK = "READ_BLOCK"
    READ_STORE = "READ_STORE"
    WRITE_LIBRARY = "WRITE_LIBRARY"
    USE_TOOLS = "USE_TOOLS"
    MANAGE_INTEGRATIONS = "MANAGE_INTEGRATIONS"
    READ_INTEGRATIONS = "READ_INTEGRATIONS"
    DELETE_INTEGRATIONS = "DELETE_INTEGRATIONS"


class APIKeyStatus(str, Enum):
    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"
    SUSPENDED = "SUSPENDED"


@dataclass(frozen=True)
class GeneratedKey:
    plain_text: str
    lookup_digest: str
    hash: str
    salt: str
    head: str
    tail: str


def looks_like_key(raw_key: str) -> bool:
    return len(raw_key) == KEY_LENGTH and raw_key.startswith(PREFIX)


def lookup_digest(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def _scrypt(raw_key: str, salt: str) -> str:
    return hashlib.scrypt(raw_key.encode(), salt=bytes.fromhex(salt), **_SCRYPT).hex()


def generate_key() -> GeneratedKey:
    plain_text = PREFIX + secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    return GeneratedKey(
        plain_text=plain_text,
        lookup_digest=lookup_digest(plain_text),
        hash=_scrypt(plain_text, salt),
        salt=salt,
        head=plain_text[:HEAD_LENGTH],
        tail=plain_text[-TAIL_LENGTH:],
    )


@lru_cache(maxsize=256)
def verify_key(raw_key: str, stored_hash: str, salt: str) -> bool:
    """Constant-time check of a key against its stored scrypt hash.

    Cached per (key, hash, salt): the answer for the same triple never changes,
    and scrypt is deliberately slow. Revocation is read from the item each call.
    """
    return hmac.compare_digest(_scrypt(raw_key, salt), stored_hash)
