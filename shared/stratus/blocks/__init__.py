"""Blocks: the SDK (`sdk`), dynamic pins, type conversion, the registry and the block groups."""
