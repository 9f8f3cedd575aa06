"""Every block's own test_input/test_output pairs, and the registry's promises."""

from __future__ import annotations

import uuid

import pytest

from stratus.blocks.registry import all_blocks
from stratus.blocks.sdk import BlockType
from stratus.blocks.testing import run_self_test

BLOCKS = sorted(all_blocks().values(), key=lambda block: block.name)
# Core and integration blocks run their AutoGPT self-test as AutoGPT does (test_mock in place of
# the service calls, test_credentials as the credentials kwarg); the AI blocks are tested against
# the loopback model server in tests/unit/blocks. Each integration block also runs against its
# loopback fake through the block function (tests/functional).
SELF_TESTED = [block for block in BLOCKS if block.group in ("core", "integrations")]


def _matches(expected, actual) -> bool:
    # A `type` in test_output means "any value of this type" (clock-dependent outputs).
    if isinstance(expected, type):
        return isinstance(actual, expected)
    return expected == actual


@pytest.mark.parametrize("block", SELF_TESTED, ids=lambda block: block.name)
def test_block_self_test(block):
    expected = block.test_output if isinstance(block.test_output, list) else [block.test_output]
    produced = run_self_test(block)  # with the block's test_mock in place, as AutoGPT runs it
    assert len(produced) == len(expected), (produced, expected)
    for (name, value), (want_name, want_value) in zip(produced, expected):
        assert name == want_name and _matches(want_value, value), ((name, value), (want_name, want_value))


def test_at_least_35_core_blocks_with_unique_uuid_ids():
    assert len(BLOCKS) >= 35
    for block in BLOCKS:
        assert str(uuid.UUID(block.id)) == block.id


def test_error_pin_on_every_block_except_input_output():
    for block in BLOCKS:
        has_error = "error" in block.output_schema.field_names()
        assert has_error == (block.block_type not in (BlockType.INPUT, BlockType.OUTPUT)), block.name


def test_definitions_are_serializable():
    import json

    for block in BLOCKS:
        definition = json.loads(json.dumps(block.to_dict()))
        assert definition["id"] == block.id and "properties" in definition["inputSchema"]
