"""Users, their settings, the credits ledger and API keys."""
