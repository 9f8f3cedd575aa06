"""Graph executions: records, node executions, stop, share, results."""
