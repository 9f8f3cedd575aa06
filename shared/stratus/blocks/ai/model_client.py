"""The OpenAI-compatible client of every model call (LLM blocks, MAG agent nodes).

Its HTTP client is `stratus.net.egress`'s: a `base_url` on a non-public address is refused
(unless allow-listed) and every connection goes to the address that was checked.
"""

from __future__ import annotations

from typing import Any


def openai_client(**kwargs: Any) -> Any:
    """`openai.AsyncOpenAI(**kwargs)` over the egress-guarded HTTP client."""
    import httpx2
    import openai  # lazily: only the ai block group ships it

    from stratus.net.egress import guarded_client

    return openai.AsyncOpenAI(**kwargs, http_client=guarded_client(httpx2, client_class=openai.DefaultAsyncHttpxClient))
