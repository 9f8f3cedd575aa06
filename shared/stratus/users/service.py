"""Users: get-or-create from JWT claims, email, timezone and notification preferences."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from stratus.auth.jwt_tokens import Claims
from stratus.clock import now_iso
from stratus.config import SignupSettings, get_settings
from stratus.db import users_table
from stratus.db.dynamo import TransactionCancelled
from stratus.errors import Conflict, NotFound, Unprocessable
from stratus.users.credits import TransactionType, new_transaction
from stratus.users.models import (
    DEFAULT_TIMEZONE,
    NotificationPreference,
    NotificationPreferenceUpdate,
    User,
    default_preferences,
)

SIGNUP_GRANT_KEY = "signup-grant"
_CONDITION_FAILED = "ConditionalCheckFailed"


def _user_from_item(item: dict[str, Any]) -> User:
    return User.model_validate(item)


def normalize_email(address: str) -> str:
    """Validate an address (syntax only, no DNS) and return its normalized form."""
    from email_validator import EmailNotValidError, validate_email  # lazy: only email routes need it

    try:
        return validate_email(address, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise Unprocessable(f"Invalid email address: {exc}") from exc


def get_user(user_id: str) -> User:
    item = users_table.get_profile(user_id)
    if not item:
        raise NotFound("User not found: call POST /api/auth/user first.")
    return _user_from_item(item)


def get_or_create_user(claims: Claims) -> User:
    existing = users_table.get_profile(claims.user_id)
    if existing:
        return _user_from_item(existing)
    email = normalize_email(claims.email) if claims.email else None
    now = now_iso()
    profile = {
        "id": claims.user_id,
        "email": email,
        "name": claims.name,
        "timezone": DEFAULT_TIMEZONE,
        "preferences": default_preferences(),
        "daily_limit": 3,
        "created_at": now,
        "updated_at": now,
        "metadata": {},
    }
    grant = get_settings(SignupSettings).signup_credits
    grant_tx = (
        new_transaction(SIGNUP_GRANT_KEY, TransactionType.GRANT, grant, grant, "Sign-up grant") if grant > 0 else None
    )
    # One transaction: profile, email guard, balance and sign-up grant all land or none do.
    try:
        users_table.create_user(claims.user_id, profile, email, grant, grant_tx)
    except TransactionCancelled as cancelled:
        if cancelled.codes[0] == _CONDITION_FAILED:  # created concurrently by another request
            return get_user(claims.user_id)
        if email and cancelled.codes[1] == _CONDITION_FAILED:
            raise Conflict(f"The email address {email} is already used by another account.") from cancelled
        raise
    return _user_from_item(profile)


def update_email(user_id: str, address: str) -> str:
    email = normalize_email(address)
    user = get_user(user_id)
    if user.email == email:
        return email
    try:
        users_table.change_email(user_id, email, user.email, now_iso())
    except TransactionCancelled as cancelled:
        if cancelled.codes[0] == _CONDITION_FAILED:
            raise Conflict(f"The email address {email} is already used by another account.") from cancelled
        raise Conflict("Your profile changed while updating the email; try again.") from cancelled
    return email


def validate_timezone(name: str) -> str:
    if name == DEFAULT_TIMEZONE:
        return name
    if name not in _iana_names():
        raise Unprocessable(f"Unknown time zone {name!r}: use an IANA name such as 'Europe/Paris'.")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Unprocessable(f"Unknown time zone {name!r}.") from exc
    return name


@lru_cache(maxsize=1)
def _iana_names() -> frozenset[str]:
    return frozenset(available_timezones())


def get_timezone(user_id: str) -> str:
    return get_user(user_id).timezone


def set_timezone(user_id: str, name: str) -> str:
    name = validate_timezone(name)
    users_table.set_timezone(user_id, name, now_iso())
    return name


def _preferences_from_item(item: dict[str, Any]) -> NotificationPreference:
    stored = {**default_preferences(), **(item.get("preferences") or {})}
    return NotificationPreference(
        user_id=item["id"],
        email=item.get("email"),
        preferences=stored,
        daily_limit=int(item.get("daily_limit", 3)),
        emails_sent_today=int(item.get("emails_sent_today", 0)),
        last_reset_date=item.get("last_reset_date"),
    )


def get_preferences(user_id: str) -> NotificationPreference:
    item = users_table.get_profile(user_id)
    if not item:
        raise NotFound("User not found: call POST /api/auth/user first.")
    return _preferences_from_item(item)


def update_preferences(user_id: str, update: NotificationPreferenceUpdate) -> NotificationPreference:
    current = get_preferences(user_id)
    merged = {k.value if hasattr(k, "value") else k: v for k, v in current.preferences.items()}
    merged.update({k.value: v for k, v in update.preferences.items()})
    users_table.set_preferences(user_id, merged, update.daily_limit, now_iso())
    if update.email and update.email != current.email:
        update_email(user_id, update.email)
    return get_preferences(user_id)
