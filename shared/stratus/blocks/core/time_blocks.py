"""Time blocks: current time/date/date-time (strftime or ISO 8601, per timezone) and a countdown."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from stratus.blocks.sdk import Block, BlockCategory, BlockOutput, BlockSchema, BlockSchemaOutput

# AutoGPT's fixed timezone choices (one per offset); graphs store one of these names.
TimezoneLiteral = Literal[
    "UTC",
    "Pacific/Honolulu",
    "America/Anchorage",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Caracas",
    "America/Sao_Paulo",
    "America/St_Johns",
    "Atlantic/South_Georgia",
    "Atlantic/Azores",
    "Europe/London",
    "Europe/Paris",
    "Europe/Athens",
    "Europe/Moscow",
    "Asia/Tehran",
    "Asia/Dubai",
    "Asia/Kabul",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Dhaka",
    "Asia/Yangon",
    "Asia/Bangkok",
    "Asia/Shanghai",
    "Australia/Eucla",
    "Asia/Tokyo",
    "Australia/Adelaide",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Noumea",
    "Pacific/Auckland",
    "Pacific/Chatham",
    "Pacific/Tongatapu",
    "Pacific/Kiritimati",
    "Etc/GMT-12",
    "Etc/GMT+12",
]


class _ZoneChoice(BaseModel):
    timezone: TimezoneLiteral = "UTC"
    # True: the user's profile timezone (when known) overrides `timezone`.
    use_user_timezone: bool = False


class TimeStrftimeFormat(_ZoneChoice):
    discriminator: Literal["strftime"]
    format: str = "%H:%M:%S"


class TimeISO8601Format(_ZoneChoice):
    discriminator: Literal["iso8601"]
    include_microseconds: bool = False


class DateStrftimeFormat(_ZoneChoice):
    discriminator: Literal["strftime"]
    format: str = "%Y-%m-%d"


class DateISO8601Format(_ZoneChoice):
    discriminator: Literal["iso8601"]


class StrftimeFormat(_ZoneChoice):
    discriminator: Literal["strftime"]
    format: str = "%Y-%m-%d %H:%M:%S"


class ISO8601Format(_ZoneChoice):
    discriminator: Literal["iso8601"]
    include_microseconds: bool = False


def _user_timezone(kwargs: dict[str, Any]) -> str | None:
    """The user's timezone from the executor: `user_timezone`, or an execution context carrying it."""
    if kwargs.get("user_timezone"):
        return kwargs["user_timezone"]
    context = kwargs.get("execution_context")
    if isinstance(context, dict):
        return context.get("user_timezone")
    return getattr(context, "user_timezone", None)


def _now(choice: _ZoneChoice, kwargs: dict[str, Any]) -> datetime:
    user_tz = _user_timezone(kwargs)
    name = user_tz if choice.use_user_timezone and user_tz else choice.timezone
    return datetime.now(tz=ZoneInfo(name))


def _iso(moment: datetime, include_microseconds: bool) -> str:
    return moment.isoformat() if include_microseconds else moment.isoformat(timespec="seconds")


class GetCurrentTimeBlock(Block):
    id = "a892b8d9-3e4e-4e9c-9c1e-75f8efcf1bfa"
    description = "This block outputs the current time."
    categories = {BlockCategory.TEXT}

    class Input(BlockSchema):
        trigger: str = Field(description="Trigger any data to output the current time")
        format_type: TimeStrftimeFormat | TimeISO8601Format = Field(
            default=TimeStrftimeFormat(discriminator="strftime"),
            discriminator="discriminator",
            description="Format type for time output (strftime with custom format or ISO 8601)",
        )

    class Output(BlockSchemaOutput):
        time: str = Field(description="Current time in the specified format (default: %H:%M:%S)")

    input_schema, output_schema = Input, Output
    test_input = [
        {"trigger": "Hello"},
        {"trigger": "Hello", "format_type": {"discriminator": "iso8601", "timezone": "UTC"}},
    ]
    # Clock-dependent: a `type` here means "an instance of" to the shared self-test.
    test_output = [("time", str), ("time", str)]

    async def run(self, input_data: Any, **kwargs: Any) -> BlockOutput:
        fmt = input_data.format_type
        moment = _now(fmt, kwargs)
        if isinstance(fmt, TimeISO8601Format):
            # ISO 8601 time: "T" then the time part with its offset, e.g. T14:03:09+00:00.
            yield "time", "T" + _iso(moment, fmt.include_microseconds).split("T", 1)[1]
        else:
            yield "time", moment.strftime(fmt.format)


class GetCurrentDateBlock(Block):
    id = "b29c1b50-5d0e-4d9f-8f9d-1b0e6fcbf0b1"
    description = "This block outputs the current date with an optional offset."
    categories = {BlockCategory.TEXT}

    class Input(BlockSchema):
        trigger: str = Field(description="Trigger any data to output the current date")
        offset: int | str = Field(default=0, title="Days Offset", description="Offset in days from the current date")
        format_type: DateStrftimeFormat | DateISO8601Format = Field(
            default=DateStrftimeFormat(discriminator="strftime"),
            discriminator="discriminator",
            description="Format type for date output (strftime with custom format or ISO 8601)",
        )

    class Output(BlockSchemaOutput):
        date: str = Field(description="Current date in the specified format (default: YYYY-MM-DD)")

    input_schema, output_schema = Input, Output
    test_input = [
        {"trigger": "Hello", "offset": "7"},
        {"trigger": "Hello", "offset": "0", "format_type": {"discriminator": "iso8601"}},
    ]
    test_output = [("date", str), ("date", str)]

    async def run(self, input_data: Any, **kwargs: Any) -> BlockOutput:
        try:
            offset = int(input_data.offset)
        except ValueError:
            offset = 0  # AutoGPT ignores an unreadable offset
        fmt = input_data.format_type
        # AutoGPT subtracts the offset: a positive offset means days ago.
        moment = _now(fmt, kwargs) - timedelta(days=offset)
        if isinstance(fmt, DateISO8601Format):
            yield "date", moment.date().isoformat()
        else:
            yield "date", moment.strftime(fmt.format)


class GetCurrentDateAndTimeBlock(Block):
    id = "716a67b3-6760-42e7-86dc-18645c6e00fc"
    description = "This block outputs the current date and time."
    categories = {BlockCategory.TEXT}

    class Input(BlockSchema):
        trigger: str = Field(description="Trigger any data to output the current date and time")
        format_type: StrftimeFormat | ISO8601Format = Field(
            default=StrftimeFormat(discriminator="strftime"),
            discriminator="discriminator",
            description="Format type for date and time output (strftime with custom format or ISO 8601/RFC 3339)",
        )

    class Output(BlockSchemaOutput):
        date_time: str = Field(
            description="Current date and time in the specified format (default: YYYY-MM-DD HH:MM:SS)"
        )

    input_schema, output_schema = Input, Output
    test_input = [
        {"trigger": "Hello"},
        {"trigger": "Hello", "format_type": {"discriminator": "iso8601", "timezone": "UTC"}},
    ]
    test_output = [("date_time", str), ("date_time", str)]

    async def run(self, input_data: Any, **kwargs: Any) -> BlockOutput:
        fmt = input_data.format_type
        moment = _now(fmt, kwargs)
        if isinstance(fmt, ISO8601Format):
            yield "date_time", _iso(moment, fmt.include_microseconds)
        else:
            yield "date_time", moment.strftime(fmt.format)


class CountdownTimerBlock(Block):
    runs_inline = False  # waits on the clock/network: its own Lambda invocation
    id = "d67a9c52-5e4e-11e2-bcfd-0800200c9a71"
    description = "This block triggers after a specified duration."
    categories = {BlockCategory.TEXT}

    class Input(BlockSchema):
        input_message: Any = Field(default="timer finished", description="Message to output after the timer finishes")
        seconds: int | str = Field(default=0, description="Duration in seconds")
        minutes: int | str = Field(default=0, description="Duration in minutes")
        hours: int | str = Field(default=0, description="Duration in hours")
        days: int | str = Field(default=0, description="Duration in days")
        repeat: int = Field(default=1, description="Number of times to repeat the timer")

    class Output(BlockSchemaOutput):
        output_message: Any = Field(description="Message after the timer finishes")

    input_schema, output_schema = Input, Output
    test_input = [
        {"seconds": 0},
        {"input_message": "Custom message", "repeat": 2},
    ]
    test_output = [
        ("output_message", "timer finished"),
        ("output_message", "Custom message"),
        ("output_message", "Custom message"),
    ]

    async def run(self, input_data: Any, **kwargs: Any) -> BlockOutput:
        try:
            total = (
                int(input_data.seconds)
                + int(input_data.minutes) * 60
                + int(input_data.hours) * 3600
                + int(input_data.days) * 86400
            )
        except ValueError as exc:
            yield "error", f"Invalid duration: {exc}"
            return
        for _ in range(input_data.repeat):
            if total > 0:
                await asyncio.sleep(total)
            yield "output_message", input_data.input_message
