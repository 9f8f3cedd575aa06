"""The agents table: every item about agents that users publish, keep and run.

CloudFormation's `StoreTable` (env `STORE_TABLE`) holds the store (profiles, listings,
versions, reviews, the public index, approval markers), users' libraries, presets and
schedules. It keeps its logical id: the table is `DeletionPolicy: Retain`, so renaming it
would create a new, empty table and leave the data behind (docs/data-model.md).

This package is the table's only owner: one submodule per item family builds its keys,
items and transactions; services call these functions and never address the table.
"""
