"""FastAPI plumbing shared by the HTTP functions: app factory, errors, auth, Lambda entry."""
