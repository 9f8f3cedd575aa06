"""Where a running local cloud can be found: `<state dir>/cloud.json` while it runs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

INFO_FILE = "cloud.json"


def write(state_dir: Path, info: dict[str, Any]) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / INFO_FILE).write_text(json.dumps({**info, "pid": os.getpid()}))


def clear(state_dir: Path) -> None:
    (state_dir / INFO_FILE).unlink(missing_ok=True)


def find(state_dir: Path) -> dict[str, Any] | None:
    """The running cloud's endpoints, or None when no live cloud owns this state dir."""
    path = state_dir / INFO_FILE
    if not path.exists():
        return None
    info = json.loads(path.read_text())
    try:
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError):
        return None
    return info
