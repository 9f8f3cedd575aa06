"""A user's library (agents, favorites, forks), presets and schedules."""
