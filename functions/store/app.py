"""StoreFunction: /api/store/*, /api/library/*, /api/schedules*, /api/graphs/{id}/schedules,
/external-api/v1/store/*. Thin: the routers in stratus.web parse, call the domain, shape."""

from __future__ import annotations

from stratus.web.app import create_app, lambda_handler
from stratus.web.library_routes import router as library_router
from stratus.web.schedules_routes import router as schedules_router
from stratus.web.store_routes import router as store_router

app = create_app("Stratus store")
app.include_router(store_router)
app.include_router(library_router)
app.include_router(schedules_router)

handler = lambda_handler(app)
