"""Block outputs as JSON values, as AutoGPT stores them (SafeJson: FastAPI's jsonable_encoder).

Whatever a block yields is stored (DynamoDB, S3), routed to the next node, returned by the
blocks API and sent on the WebSocket as JSON. AutoGPT's encoding, without FastAPI:
dates, times and datetimes → ISO 8601 strings; timedelta → seconds; Decimal → int when
integral, else float; UUID, paths → str; enums → their value; pydantic models → their JSON
dump (by alias); dataclasses → dicts; sets, tuples, generators → lists; map keys → strings
(as json.dumps writes them). Where AutoGPT would lose the value we keep it: bytes that are
not UTF-8 become a base64 data URI (AutoGPT's media-file form) instead of the whole value's
repr; NaN and ±inf stay floats (the DynamoDB layer stores them).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import decimal
import enum
import json
import pathlib
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, SecretStr


def to_json_value(value: Any) -> Any:
    """`value` made of JSON types only (dict with str keys, list, str, int, float, bool, None)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        if isinstance(value, enum.Enum):  # str/int enums: their value
            return to_json_value(value.value)
        return value
    if isinstance(value, enum.Enum):
        return to_json_value(value.value)
    if isinstance(value, BaseModel):
        return to_json_value(value.model_dump(mode="json", by_alias=True))
    if isinstance(value, SecretStr):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_json_value(dataclasses.asdict(value))
    if isinstance(value, (datetime.date, datetime.time)):  # datetime is a date
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return int(value) if value.is_finite() and value.as_tuple().exponent >= 0 else float(value)  # type: ignore[operator]
    if isinstance(value, (uuid.UUID, pathlib.PurePath)):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        try:
            return raw.decode()
        except UnicodeDecodeError:
            return "data:application/octet-stream;base64," + base64.b64encode(raw).decode()
    if isinstance(value, Mapping):
        return {_key(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, Iterable):
        return [to_json_value(v) for v in value]
    try:
        return to_json_value(vars(value))
    except TypeError:
        return str(value)


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    encoded = to_json_value(key)
    if isinstance(encoded, str):
        return encoded
    if isinstance(encoded, float):
        return repr(encoded)
    return json.dumps(encoded) if isinstance(encoded, (bool, int)) or encoded is None else str(encoded)
