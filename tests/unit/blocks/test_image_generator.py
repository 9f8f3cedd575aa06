"""AIImageGeneratorBlock against the loopback Replicate fake (localcloud.fake_replicate)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from localcloud.fake_replicate import FakeReplicate
from stratus.blocks.ai import image_generator
from stratus.blocks.ai.image_generator import AIImageGeneratorBlock, ImageGenModel, replicate_request
from stratus.blocks.testing import run_block, run_self_test
from stratus.executions.node_runner import llm_kwargs
from tests.conftest import allowed_egress


@pytest.fixture(scope="module")
def replicate() -> Iterator[FakeReplicate]:
    fake = FakeReplicate().start()
    with allowed_egress(fake.url):
        yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def _fast_polls(monkeypatch):
    monkeypatch.setattr(image_generator, "POLL_SECONDS", 0.01)


def _run(fake: FakeReplicate, inputs: dict, key: str | None = "r8-test") -> list:
    return run_block(AIImageGeneratorBlock(), inputs, llm_api_key=key, llm_base_url=fake.url)


def test_self_test_with_autogpts_mock():
    assert run_self_test(AIImageGeneratorBlock()) == [("image_url", "https://replicate.delivery/generated-image.webp")]


def test_ids_pins_and_costs():
    block = AIImageGeneratorBlock()
    assert block.id == "ed1ae7a0-b770-4089-b520-1f0005fad19a" and block.group == "ai" and not block.runs_inline
    assert block.input_schema.field_names() == {"credentials", "prompt", "model", "size", "style"}
    assert block.output_schema.field_names() == {"image_url", "error"}
    costs = {c.cost_filter["model"]: c.cost_amount for c in block.costs}
    assert costs == {"Stable Diffusion 3.5 Medium": 5, "Flux 1.1 Pro": 6, "Flux 1.1 Pro Ultra": 10, "Recraft v3": 7,
                     "Nano Banana Pro": 21, "Nano Banana 2": 21}  # fmt: skip
    assert all(c.cost_filter["credentials"] == {"id": None} for c in block.costs)  # platform key only


def test_a_prediction_is_created_and_polled_to_its_image_url(replicate):
    outputs = _run(
        replicate, {"prompt": "a red panda", "model": "Flux 1.1 Pro", "size": "wide", "style": "digital_illustration"}
    )
    assert len(outputs) == 1 and outputs[0][0] == "image_url"
    assert outputs[0][1].startswith("https://replicate.delivery/fake/") and outputs[0][1].endswith(".jpg")
    model, sent = replicate.requests[-1]
    assert model == "black-forest-labs/flux-1.1-pro"
    assert sent["prompt"] == "digital art of a red panda" and (sent["width"], sent["height"]) == (1440, 810)
    assert (
        _run(
            replicate,
            {"prompt": "a red panda", "model": "Flux 1.1 Pro", "size": "wide", "style": "digital_illustration"},
        )
        == outputs
    )


def test_model_inputs_as_autogpt_builds_them():
    assert replicate_request(ImageGenModel.RECRAFT, "cat", "tall", "realistic_image") == (
        "recraft-ai/recraft-v3",
        {"prompt": "cat", "size": "1024x1536", "style": "realistic_image"},
    )
    name, params = replicate_request(ImageGenModel.SD3_5, "cat", "square", "any")
    assert name == "stability-ai/stable-diffusion-3.5-medium" and params["prompt"] == "cat"
    assert replicate_request(ImageGenModel.NANO_BANANA_2, "cat", "portrait", "any")[1]["aspect_ratio"] == "3:4"


def test_failures_are_on_the_error_pin(replicate):
    assert _run(replicate, {"prompt": "FAIL please"}) == [
        ("error", "Failed to generate image: Prediction failed: The fake model failed")
    ]
    assert _run(replicate, {"prompt": "x"}, key=None) == [
        ("error", "Failed to generate image: No API key for Replicate: set the block's credentials.")
    ]
    assert _run(replicate, {"prompt": "x"}, key="")[0][0] == "error"


def test_replicate_runs_never_get_the_model_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-model")
    monkeypatch.setenv("REPLICATE_BASE_URL", "http://127.0.0.1:9/v1")
    assert llm_kwargs("u", None, "replicate") == {"llm_api_key": None, "llm_base_url": "http://127.0.0.1:9/v1"}
    monkeypatch.setenv("REPLICATE_API_KEY", "r8-platform")
    assert llm_kwargs("u", None, "replicate")["llm_api_key"] == "r8-platform"
    assert llm_kwargs("u", None)["llm_api_key"] == "sk-model"
