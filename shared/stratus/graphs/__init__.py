"""Graphs: AutoGPT's graph JSON, validation, schemas and versioned storage."""
