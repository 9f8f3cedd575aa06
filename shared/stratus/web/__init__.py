"""FastAPI plumbing shared by the HTTP functions: app factory, errors, auth, Lambda entry."""


def _skip_pydantic_v1_probes() -> None:
    """FastAPI imports `pydantic.v1` (about 75 ms of cold start) to check whether each route's
    models are pydantic v1 models, which it refuses anyway. Stratus has none, so unless something
    already loaded pydantic.v1, those probes answer "no" without importing it."""
    import sys

    if "pydantic.v1" in sys.modules:
        return
    try:
        from fastapi import encoders
        from fastapi._compat import shared
    except ImportError:  # another FastAPI layout: keep its own probes
        return
    if hasattr(shared, "is_pydantic_v1_model_class"):
        shared.is_pydantic_v1_model_class = lambda cls: False
    if hasattr(shared, "is_pydantic_v1_model_instance"):
        shared.is_pydantic_v1_model_instance = lambda obj: False
    if hasattr(encoders, "is_pydantic_v1_model_instance"):
        encoders.is_pydantic_v1_model_instance = lambda obj: False


_skip_pydantic_v1_probes()  # before any router module declares its routes
