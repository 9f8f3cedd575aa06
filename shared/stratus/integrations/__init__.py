"""A user's integration credentials and MAG model configs, their secrets sealed with KMS."""
