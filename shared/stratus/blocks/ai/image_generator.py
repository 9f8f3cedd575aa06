"""AutoGPT's AIImageGeneratorBlock (ai_image_generator_block.py) on Replicate's HTTP API.

Same id, pins, models, sizes and styles; the model's prediction is created with
`POST <base>/models/<owner>/<name>/predictions` and polled until it ends (what the `replicate`
client's `run` does), through the egress-guarded HTTP client. The key is the node's Replicate
credentials, else the platform's (`REPLICATE_API_KEY`); the base URL is `REPLICATE_BASE_URL`
(stratus.config.ReplicateSettings; the local cloud and tests point it at localcloud.fake_replicate).
Costs per image as AutoGPT's, on the platform key only.
"""

from __future__ import annotations

import asyncio
from enum import Enum
from typing import Any

from pydantic import Field

from stratus.blocks.sdk import Block, BlockCategory, BlockCost, BlockOutput, BlockSchema

POLL_SECONDS, POLL_LIMIT = 0.5, 600  # up to five minutes per image


class ImageSize(str, Enum):
    SQUARE = "square"
    LANDSCAPE = "landscape"
    PORTRAIT = "portrait"
    WIDE = "wide"
    TALL = "tall"


SIZE_TO_RATIO = {"square": "1:1", "landscape": "4:3", "portrait": "3:4", "wide": "16:9", "tall": "9:16"}
SIZE_TO_FLUX_DIMENSIONS = {
    "square": (1024, 1024),
    "landscape": (1365, 1024),
    "portrait": (1024, 1365),
    "wide": (1440, 810),
    "tall": (810, 1440),
}
SIZE_TO_RECRAFT_DIMENSIONS = {
    "square": "1024x1024",
    "landscape": "1365x1024",
    "portrait": "1024x1365",
    "wide": "1536x1024",
    "tall": "1024x1536",
}


class ImageStyle(str, Enum):
    ANY = "any"
    REALISTIC = "realistic_image"
    REALISTIC_BW = "realistic_image/b_and_w"
    REALISTIC_HDR = "realistic_image/hdr"
    REALISTIC_NATURAL = "realistic_image/natural_light"
    REALISTIC_STUDIO = "realistic_image/studio_portrait"
    REALISTIC_ENTERPRISE = "realistic_image/enterprise"
    REALISTIC_HARD_FLASH = "realistic_image/hard_flash"
    REALISTIC_MOTION_BLUR = "realistic_image/motion_blur"
    DIGITAL_ART = "digital_illustration"
    PIXEL_ART = "digital_illustration/pixel_art"
    HAND_DRAWN = "digital_illustration/hand_drawn"
    GRAIN = "digital_illustration/grain"
    SKETCH = "digital_illustration/infantile_sketch"
    POSTER = "digital_illustration/2d_art_poster"
    POSTER_2 = "digital_illustration/2d_art_poster_2"
    HANDMADE_3D = "digital_illustration/handmade_3d"
    HAND_DRAWN_OUTLINE = "digital_illustration/hand_drawn_outline"
    ENGRAVING_COLOR = "digital_illustration/engraving_color"


STYLE_PREFIX = {
    "realistic_image": "photorealistic",
    "realistic_image/b_and_w": "black and white photograph",
    "realistic_image/hdr": "HDR photograph",
    "realistic_image/natural_light": "natural light photograph",
    "realistic_image/studio_portrait": "studio portrait photograph",
    "realistic_image/enterprise": "enterprise photograph",
    "realistic_image/hard_flash": "hard flash photograph",
    "realistic_image/motion_blur": "motion blur photograph",
    "digital_illustration": "digital art",
    "digital_illustration/pixel_art": "pixel art",
    "digital_illustration/hand_drawn": "hand drawn illustration",
    "digital_illustration/grain": "grainy digital illustration",
    "digital_illustration/infantile_sketch": "sketchy illustration",
    "digital_illustration/2d_art_poster": "2D art poster",
    "digital_illustration/2d_art_poster_2": "alternate 2D art poster",
    "digital_illustration/handmade_3d": "handmade 3D illustration",
    "digital_illustration/hand_drawn_outline": "hand drawn outline illustration",
    "digital_illustration/engraving_color": "color engraving illustration",
}


class ImageGenModel(str, Enum):
    FLUX = "Flux 1.1 Pro"
    FLUX_ULTRA = "Flux 1.1 Pro Ultra"
    RECRAFT = "Recraft v3"
    SD3_5 = "Stable Diffusion 3.5 Medium"
    NANO_BANANA_PRO = "Nano Banana Pro"
    NANO_BANANA_2 = "Nano Banana 2"


# AutoGPT's prices per image, charged only to runs on the platform's key.
_MODEL_COSTS = {"SD3_5": 5, "FLUX": 6, "FLUX_ULTRA": 10, "RECRAFT": 7, "NANO_BANANA_PRO": 21, "NANO_BANANA_2": 21}


def replicate_request(model: ImageGenModel, prompt: str, size: str, style: str) -> tuple[str, dict[str, Any]]:
    """(Replicate model name, its input) for one image, as AutoGPT builds them."""
    if model is not ImageGenModel.RECRAFT:
        prefix = f"{STYLE_PREFIX[style]} of" if style in STYLE_PREFIX else ""
        prompt = f"{prefix} {prompt}".strip()
    if model is ImageGenModel.SD3_5:
        return "stability-ai/stable-diffusion-3.5-medium", {
            "prompt": prompt,
            "aspect_ratio": SIZE_TO_RATIO[size],
            "output_format": "webp",
            "output_quality": 90,
            "steps": 40,
            "cfg_scale": 7.0,
        }
    if model in (ImageGenModel.FLUX, ImageGenModel.FLUX_ULTRA):
        width, height = SIZE_TO_FLUX_DIMENSIONS[size]
        name = "black-forest-labs/flux-1.1-pro" + ("-ultra" if model is ImageGenModel.FLUX_ULTRA else "")
        return name, {
            "prompt": prompt,
            "width": width,
            "height": height,
            "aspect_ratio": SIZE_TO_RATIO[size],
            "output_format": "jpg",
            "output_quality": 90,
        }
    if model is ImageGenModel.RECRAFT:
        return "recraft-ai/recraft-v3", {"prompt": prompt, "size": SIZE_TO_RECRAFT_DIMENSIONS[size], "style": style}
    name = "google/nano-banana-pro" if model is ImageGenModel.NANO_BANANA_PRO else "google/nano-banana-2"
    return name, {
        "prompt": prompt,
        "aspect_ratio": SIZE_TO_RATIO[size],
        "resolution": "2K",
        "output_format": "jpg",
        "safety_filter_level": "block_only_high",
    }


def _first_url(output: Any) -> str | None:
    if isinstance(output, list):
        output = output[0] if output else None
    return output if isinstance(output, str) and output else None


class AIImageGeneratorBlock(Block):
    id = "ed1ae7a0-b770-4089-b520-1f0005fad19a"
    description = "Generate images using various AI models through a unified interface"
    categories = {BlockCategory.AI}
    group = "ai"
    runs_inline = False
    costs = [
        BlockCost(cost_amount=amount, cost_filter={"model": ImageGenModel[name].value, "credentials": {"id": None}})
        for name, amount in _MODEL_COSTS.items()
    ]

    class Input(BlockSchema):
        credentials: dict[str, Any] = Field(
            default_factory=dict,
            description="Enter your Replicate API key to access the image generation API. You can obtain an API "
            "key from https://replicate.com/account/api-tokens.",
            json_schema_extra={"credentials_provider": ["replicate"], "credentials_types": ["api_key"]},
        )
        prompt: str = Field(title="Prompt", description="Text prompt for image generation")
        model: ImageGenModel = Field(
            default=ImageGenModel.SD3_5, title="Model", description="The AI model to use for image generation"
        )
        size: ImageSize = Field(
            default=ImageSize.SQUARE, title="Image Format", description="Format of the generated image"
        )
        style: ImageStyle = Field(
            default=ImageStyle.ANY, title="Image Style", description="Visual style for the generated image"
        )

    class Output(BlockSchema):
        image_url: str = Field(description="URL of the generated image")
        error: str = Field(default="", description="Error message if generation failed")

    input_schema, output_schema = Input, Output
    test_input = {
        "prompt": "An octopus using a laptop in a snowy forest with 'AutoGPT' clearly visible on the screen",
        "model": "Recraft v3",
        "size": "square",
        "style": "realistic_image",
    }
    test_output = [("image_url", "https://replicate.delivery/generated-image.webp")]
    test_mock = {"_run_client": lambda *args, **kwargs: "https://replicate.delivery/generated-image.webp"}

    async def run(self, input_data: Any, **kwargs: Any) -> BlockOutput:
        model_name, params = replicate_request(
            input_data.model, input_data.prompt, input_data.size.value, input_data.style.value
        )
        try:
            url = await self._run_client(kwargs, model_name, params)
        except Exception as exc:  # AutoGPT reports the message only
            yield "error", f"Failed to generate image: {exc}"
            return
        if url:
            yield "image_url", url
        else:
            yield "error", "Image generation returned an empty result."

    async def _run_client(self, kwargs: dict[str, Any], model_name: str, params: dict[str, Any]) -> str | None:
        import httpx

        from stratus.net.egress import guarded_client

        api_key, base_url = kwargs.get("llm_api_key"), (kwargs.get("llm_base_url") or "").rstrip("/")
        if not api_key:
            raise RuntimeError("No API key for Replicate: set the block's credentials.")
        headers = {"Authorization": f"Bearer {api_key}"}
        async with guarded_client(httpx, timeout=httpx.Timeout(60.0, connect=10.0)) as client:
            reply = await client.post(
                f"{base_url}/models/{model_name}/predictions", json={"input": params}, headers=headers
            )
            for _ in range(POLL_LIMIT):
                if reply.status_code >= 400:
                    raise RuntimeError(f"Replicate answered {reply.status_code}: {reply.text[:300]}")
                prediction = reply.json()
                status = prediction.get("status")
                if status == "succeeded":
                    return _first_url(prediction.get("output"))
                if status in ("failed", "canceled"):
                    raise RuntimeError(f"Prediction {status}: {prediction.get('error')}")
                await asyncio.sleep(POLL_SECONDS)
                reply = await client.get(f"{base_url}/predictions/{prediction['id']}", headers=headers)
        raise RuntimeError("The prediction did not finish in time.")
