"""The local cloud's KMS keys outlive a restart, like its tables and buckets.

moto keeps key material in memory, makes it up at random and cannot import it, and its
ciphertexts name the key id: after a restart every stored credential would be unreadable.
The local cloud runs moto in-process, so the material of each template key (its "local key")
is written to the state directory and put back into moto's KMS backend, under the same key id,
before provisioning looks for the alias. The file holds key material: it lives in the state
directory with the snapshot, which is local development data only.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from localcloud.stack import ACCOUNT_ID, REGION

KEYS_FILE = "kms-keys.json"


def _backend() -> Any:
    from moto.kms.models import kms_backends

    return kms_backends[ACCOUNT_ID][REGION]


def restore(state_dir: Path) -> int:
    """Re-create the saved keys (same id, same material, same aliases). Returns how many."""
    source = state_dir / KEYS_FILE
    if not source.exists():
        return 0
    backend = _backend()
    saved = json.loads(source.read_text())
    for key_id, entry in saved.items():
        if key_id in backend.keys:
            continue
        key = backend.create_key(
            policy=None,
            key_usage="ENCRYPT_DECRYPT",
            key_spec="SYMMETRIC_DEFAULT",
            description=entry.get("description", ""),
            tags=None,
        )
        del backend.keys[key.id]
        key.id = key_id
        key.arn = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/{key_id}"
        key.key_material = base64.b64decode(entry["material"])
        backend.keys[key_id] = key
        for alias in entry["aliases"]:
            backend.create_alias(key_id, alias)
    return len(saved)


def save(state_dir: Path, aliases: list[str]) -> None:
    """Write the material of the keys behind `aliases` (the template's keys), atomically."""
    backend = _backend()
    keys: dict[str, Any] = {}
    for alias in aliases:
        key_id = backend.get_key_id_from_alias(alias)
        if key_id:
            key = backend.keys[key_id]
            keys[key_id] = {
                "aliases": sorted(key.aliases),
                "description": key.description,
                "material": base64.b64encode(key.key_material).decode(),
            }
    target = state_dir / KEYS_FILE
    if target.exists() and json.loads(target.read_text()) == keys:
        return
    state_dir.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".tmp")
    temporary.write_text(json.dumps(keys))
    os.chmod(temporary, 0o600)
    os.replace(temporary, target)
