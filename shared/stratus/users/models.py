"""User-facing models (AutoGPT shapes): profiles, notification preferences, ledger transactions."""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, Field


class NotificationType(str, Enum):
    AGENT_RUN = "AGENT_RUN"
    ZERO_BALANCE = "ZERO_BALANCE"
    LOW_BALANCE = "LOW_BALANCE"
    BLOCK_EXECUTION_FAILED = "BLOCK_EXECUTION_FAILED"
    CONTINUOUS_AGENT_ERROR = "CONTINUOUS_AGENT_ERROR"
    DAILY_SUMMARY = "DAILY_SUMMARY"
    WEEKLY_SUMMARY = "WEEKLY_SUMMARY"
    MONTHLY_SUMMARY = "MONTHLY_SUMMARY"
    REFUND_REQUEST = "REFUND_REQUEST"
    REFUND_PROCESSED = "REFUND_PROCESSED"
    AGENT_APPROVED = "AGENT_APPROVED"
    AGENT_REJECTED = "AGENT_REJECTED"


DEFAULT_TIMEZONE = "not-set"


class User(BaseModel):
    id: str
    email: str | None = None
    name: str | None = None
    timezone: str
    created_at: str
    updated_at: str
    metadata: dict[str, Any] = Field(default_factory=dict)


class NotificationPreferenceUpdate(BaseModel):
    email: str | None = None
    preferences: dict[NotificationType, bool] = Field(default_factory=dict)
    daily_limit: int | None = Field(default=None, ge=0, le=1000)


class NotificationPreference(BaseModel):
    user_id: str
    email: str | None = None
    preferences: dict[NotificationType, bool]
    daily_limit: int
    emails_sent_today: int = 0
    last_reset_date: str | None = None


def default_preferences() -> dict[str, bool]:
    return {kind.value: True for kind in NotificationType}


class TransactionType(str, Enum):
    TOP_UP = "TOP_UP"
    USAGE = "USAGE"
    GRANT = "GRANT"
    REFUND = "REFUND"


class Transaction(BaseModel):
    """One ledger transaction (AutoGPT's shape); `amount` is signed: a USAGE is negative."""

    transaction_key: str
    transaction_time: str
    transaction_type: TransactionType
    amount: int
    running_balance: int
    description: str | None = None
    metadata: dict[str, Any] | None = None
