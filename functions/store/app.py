"""StoreFunction: /api/store/*, /external-api/v1/store/*. Thin: the router in
stratus.web.store_routes parses, calls the domain, shapes."""

from __future__ import annotations

from stratus.config import StoreSettings, require
from stratus.web.app import create_app, lambda_handler
from stratus.web.store_routes import router as store_router

require(StoreSettings)  # cold start: fails here, naming any missing or invalid variable

app = create_app("Stratus store")
app.include_router(store_router)

handler = lambda_handler(app)
