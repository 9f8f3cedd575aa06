"""Text folding for the store: search terms, sort names, slugs and usernames.

Folding is case- and accent-insensitive (Unicode NFKD, combining marks dropped, casefold).
Stemming is a few suffix rules applied the same way to indexed text and to queries, so
"summarizes", "summarized" and "summarizing" all meet at "summariz".
"""

from __future__ import annotations

import re
import unicodedata

MAX_TERMS = 300  # per listing: bounds the postings written on approval
MAX_QUERY_TERMS = 8
_NON_WORD = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> str:
    """Lower-case ASCII-ish words separated by single spaces ("Café-Bot!" -> "cafe bot")."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return _NON_WORD.sub(" ", stripped).strip()


def stem(word: str) -> str:
    if not word.isalpha():
        return word
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif word.endswith(("sses", "xes", "ches", "shes")):
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if len(word) > 5 and word.endswith("ing"):
        word = word[:-3]
    elif len(word) > 4 and word.endswith("ed"):
        word = word[:-2]
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    if len(word) > 4 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]  # running -> runn -> run
    return word


def terms(*texts: str, limit: int = MAX_TERMS) -> list[str]:
    """Distinct stems in order of first appearance (one-letter words are noise)."""
    seen: dict[str, None] = {}
    for text in texts:
        for word in fold(text).split():
            if len(word) < 2:
                continue
            seen.setdefault(stem(word), None)
            if len(seen) >= limit:
                return list(seen)
    return list(seen)


def query_terms(query: str) -> list[str]:
    return terms(query, limit=MAX_QUERY_TERMS)


def slugify(value: str) -> str:
    """AutoGPT keeps letters, digits and hyphens, lower-cased; accents are folded here."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return "".join(c for c in ascii_only if c.isascii() and (c.isalnum() or c == "-"))
