"""One source of 'now' so timestamps sort and compare the same everywhere."""

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def now_iso() -> str:
    # Fixed width (microseconds, +00:00) so ISO strings sort as times in DynamoDB keys.
    return utc_now().isoformat(timespec="microseconds")
