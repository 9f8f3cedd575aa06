"""API key material: format, salted hash, constant-time verify."""

import re

from stratus.auth.api_keys import generate_key, looks_like_key, lookup_digest, verify_key


def test_key_format_and_display_parts():
    key = generate_key()
    assert re.fullmatch(r"agpt_[A-Za-z0-9_-]{43}", key.plain_text)
    assert looks_like_key(key.plain_text)
    assert key.plain_text.startswith(key.head) and key.plain_text.endswith(key.tail)
    assert key.plain_text not in (key.hash, key.salt, key.lookup_digest)
    assert key.lookup_digest == lookup_digest(key.plain_text)


def test_hash_is_salted_per_key():
    first, second = generate_key(), generate_key()
    assert first.salt != second.salt and first.hash != second.hash


def test_verify_accepts_only_the_key_itself():
    key = generate_key()
    assert verify_key(key.plain_text, key.hash, key.salt)
    tampered = key.plain_text[:-1] + ("A" if key.plain_text[-1] != "A" else "B")
    assert not verify_key(tampered, key.hash, key.salt)
    assert not looks_like_key("agpt_short")
