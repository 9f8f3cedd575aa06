"""Authentication: JWT bearer tokens and API keys. No framework imports here."""
