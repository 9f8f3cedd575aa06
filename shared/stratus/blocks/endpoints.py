"""The base URL of each outside service an integration block calls: its public endpoint unless
the environment names another (`<NAME>_BASE_URL`: the local cloud and the tests point them at
their loopback fakes, localcloud.fakes; a deployment may point one at a proxy).

    JINA_SEARCH = ServiceEndpoint("jina_search", "https://s.jina.ai")
    url = JINA_SEARCH.url() + "/?q=..."

Every endpoint declared at import is in `ENDPOINTS` (docs/blocks.md lists them). The URL is
only an address: requests still go through the egress guard (stratus.net.egress), so a
loopback fake needs an EGRESS_ALLOW_LIST entry as any private address does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

ENDPOINTS: dict[str, ServiceEndpoint] = {}


@dataclass(frozen=True)
class ServiceEndpoint:
    name: str  # lowercase; the variable is `<NAME>_BASE_URL`
    default_url: str

    def __post_init__(self) -> None:
        ENDPOINTS.setdefault(self.name, self)

    @property
    def variable(self) -> str:
        return f"{self.name.upper()}_BASE_URL"

    def url(self) -> str:
        """The configured base URL without a trailing slash (the public one when unset)."""
        configured = os.environ.get(self.variable, "").strip()
        url = configured or self.default_url
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"{self.variable} must be an http(s) URL")
        return url.rstrip("/")
