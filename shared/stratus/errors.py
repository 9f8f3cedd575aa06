"""Domain errors. Each carries the HTTP status and AutoGPT-style `detail` it maps to."""

from __future__ import annotations

from typing import Any


class StratusError(Exception):
    status_code = 400

    def __init__(self, detail: Any):
        super().__init__(detail if isinstance(detail, str) else repr(detail))
        self.detail = detail


class BadRequest(StratusError):
    status_code = 400


class Unauthorized(StratusError):
    status_code = 401


class Forbidden(StratusError):
    status_code = 403


class NotFound(StratusError):
    status_code = 404


class Conflict(StratusError):
    status_code = 409


class Unprocessable(StratusError):
    status_code = 422


class InsufficientBalance(StratusError):
    status_code = 402

    def __init__(self, balance: int, amount: int):
        super().__init__(f"Insufficient balance: {balance} credits available, {amount} required.")
        self.balance = balance
        self.amount = amount
