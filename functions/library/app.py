"""LibraryFunction: /api/library/*, /api/schedules*, /api/graphs/{id}/schedules. Thin: the
routers in stratus.web parse, call the domain, shape."""

from __future__ import annotations

from stratus.config import LibrarySettings, require
from stratus.web.app import create_app, lambda_handler
from stratus.web.library_routes import router as library_router
from stratus.web.schedules_routes import router as schedules_router

require(LibrarySettings)  # cold start: fails here, naming any missing or invalid variable

app = create_app("Stratus library")
app.include_router(library_router)
app.include_router(schedules_router)

handler = lambda_handler(app)
