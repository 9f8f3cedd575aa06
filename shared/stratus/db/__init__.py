"""Data access: one repository module per table, over a thin DynamoDB helper."""
