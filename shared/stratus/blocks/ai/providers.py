"""The model table of the LLM blocks: AutoGPT's `LlmModel` values with their metadata.

Every model name AutoGPT's LLM blocks accept (its `LlmModel` enum, same member names and
values) with AutoGPT's numbers: provider, context window, max output tokens, display name,
provider and creator names, price tier (`ModelMetadata`); its per-call credits (`MODEL_COST`)
and, where AutoGPT has them, its per-token rates (`TOKEN_COST`, credits per 1,000,000 tokens
with its 1.5x margin). The provider decides the wire protocol and endpoint of a call
(stratus.blocks.ai.model_client.llm_call); the provider names are AutoGPT's `ProviderName`
values, the ones its credentials fields use (`anthropic_api_key_credentials`, …).

A model name that is not in the table (a custom OpenAI-compatible deployment's model) is
still accepted by the blocks and goes to the `openai` provider, as before; a provider-prefixed
name such as `anthropic/claude-sonnet-4-6` resolves to its table entry, as AutoGPT's
`LlmModel._missing_` does.

Stratus bills LLM runs per 1,000 tokens (a TOKEN cost, see docs/ai-blocks.md), so the blocks'
rate per model is `token_rate(model)`: the model's published output price in cents per 1,000
tokens (AutoGPT's TOKEN_COST output rate without its margin), rounded up; for a model AutoGPT
has no token rate for, its flat per-call MODEL_COST.
"""

from __future__ import annotations

import math
from enum import Enum
from typing import NamedTuple

# AutoGPT's ProviderName values of its LLM providers (LLMProviderName).
OPENAI = "openai"
ANTHROPIC = "anthropic"
OPEN_ROUTER = "open_router"
GROQ = "groq"
OLLAMA = "ollama"
LLAMA_API = "llama_api"
AIML_API = "aiml_api"
V0 = "v0"
LLM_PROVIDERS: tuple[str, ...] = (AIML_API, ANTHROPIC, GROQ, OLLAMA, OPENAI, OPEN_ROUTER, LLAMA_API, V0)
# The wire protocol of each provider's endpoint.
ANTHROPIC_MESSAGES, OPENAI_CHAT = "anthropic-messages", "openai-chat"
PROTOCOLS: dict[str, str] = {provider: OPENAI_CHAT for provider in LLM_PROVIDERS} | {ANTHROPIC: ANTHROPIC_MESSAGES}
# Each provider's public endpoint (AutoGPT's); every one is configurable (stratus.config.PlatformLlmSettings).
DEFAULT_BASE_URLS: dict[str, str] = {
    OPENAI: "https://api.openai.com/v1",
    ANTHROPIC: "https://api.anthropic.com",
    OPEN_ROUTER: "https://openrouter.ai/api/v1",
    GROQ: "https://api.groq.com/openai/v1",
    LLAMA_API: "https://api.llama.com/compat/v1/",
    AIML_API: "https://api.aimlapi.com/v2",
    V0: "https://api.v0.dev/v1",
    OLLAMA: "http://localhost:11434/v1",  # the OpenAI-compatible API of the default ollama_host
}
# Headers AutoGPT sends to these providers.
PROVIDER_HEADERS: dict[str, dict[str, str]] = {
    OPEN_ROUTER: {"HTTP-Referer": "https://agpt.co", "X-Title": "AutoGPT"},
    LLAMA_API: {"HTTP-Referer": "https://agpt.co", "X-Title": "AutoGPT"},
    AIML_API: {"X-Project": "AutoGPT", "X-Title": "AutoGPT"},
}
DEFAULT_OLLAMA_HOST = "localhost:11434"


class ModelMetadata(NamedTuple):
    provider: str
    context_window: int
    max_output_tokens: int | None
    display_name: str
    provider_name: str
    creator_name: str
    price_tier: int


class LlmModel(str, Enum):
    """AutoGPT's LlmModel: the model names its LLM blocks accept."""

    @classmethod
    def _missing_(cls, value: object) -> LlmModel | None:
        if isinstance(value, str) and "/" in value:  # "anthropic/claude-sonnet-4-6"
            try:
                return cls(value.split("/", 1)[1])
            except ValueError:
                return None
        return None

    # OpenAI
    O3_MINI = "o3-mini"
    O3 = "o3-2025-04-16"
    O1 = "o1"
    O1_MINI = "o1-mini"
    GPT5_2 = "gpt-5.2-2025-12-11"
    GPT5_1 = "gpt-5.1-2025-11-13"
    GPT5 = "gpt-5-2025-08-07"
    GPT5_MINI = "gpt-5-mini-2025-08-07"
    GPT5_NANO = "gpt-5-nano-2025-08-07"
    GPT5_CHAT = "gpt-5-chat-latest"
    GPT41 = "gpt-4.1-2025-04-14"
    GPT41_MINI = "gpt-4.1-mini-2025-04-14"
    GPT4O_MINI = "gpt-4o-mini"
    GPT4O = "gpt-4o"
    GPT4_TURBO = "gpt-4-turbo"
    # Anthropic
    CLAUDE_4_1_OPUS = "claude-opus-4-1-20250805"
    CLAUDE_4_OPUS = "claude-opus-4-20250514"
    CLAUDE_4_SONNET = "claude-sonnet-4-20250514"
    CLAUDE_4_5_OPUS = "claude-opus-4-5-20251101"
    CLAUDE_4_5_SONNET = "claude-sonnet-4-5-20250929"
    CLAUDE_4_5_HAIKU = "claude-haiku-4-5-20251001"
    CLAUDE_4_6_OPUS = "claude-opus-4-6"
    CLAUDE_4_7_OPUS = "claude-opus-4-7"
    CLAUDE_4_6_SONNET = "claude-sonnet-4-6"
    CLAUDE_3_HAIKU = "claude-3-haiku-20240307"
    # AI/ML API
    AIML_API_QWEN2_5_72B = "Qwen/Qwen2.5-72B-Instruct-Turbo"
    AIML_API_LLAMA3_1_70B = "nvidia/llama-3.1-nemotron-70b-instruct"
    AIML_API_LLAMA3_3_70B = "meta-llama/Llama-3.3-70B-Instruct-Turbo"
    AIML_API_META_LLAMA_3_1_70B = "meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo"
    AIML_API_LLAMA_3_2_3B = "meta-llama/Llama-3.2-3B-Instruct-Turbo"
    # Groq
    LLAMA3_3_70B = "llama-3.3-70b-versatile"
    LLAMA3_1_8B = "llama-3.1-8b-instant"
    # Ollama
    OLLAMA_LLAMA3_3 = "llama3.3"
    OLLAMA_LLAMA3_2 = "llama3.2"
    OLLAMA_LLAMA3_8B = "llama3"
    OLLAMA_LLAMA3_405B = "llama3.1:405b"
    OLLAMA_DOLPHIN = "dolphin-mistral:latest"
    # OpenRouter
    OPENAI_GPT_OSS_120B = "openai/gpt-oss-120b"
    OPENAI_GPT_OSS_20B = "openai/gpt-oss-20b"
    GEMINI_2_5_PRO_PREVIEW = "google/gemini-2.5-pro-preview-03-25"
    GEMINI_2_5_PRO = "google/gemini-2.5-pro"
    GEMINI_3_1_PRO_PREVIEW = "google/gemini-3.1-pro-preview"
    GEMINI_3_FLASH_PREVIEW = "google/gemini-3-flash-preview"
    GEMINI_2_5_FLASH = "google/gemini-2.5-flash"
    GEMINI_2_0_FLASH = "google/gemini-2.0-flash-001"
    GEMINI_3_1_FLASH_LITE_PREVIEW = "google/gemini-3.1-flash-lite-preview"
    GEMINI_2_5_FLASH_LITE_PREVIEW = "google/gemini-2.5-flash-lite-preview-06-17"
    GEMINI_2_0_FLASH_LITE = "google/gemini-2.0-flash-lite-001"
    MISTRAL_NEMO = "mistralai/mistral-nemo"
    MISTRAL_LARGE_3 = "mistralai/mistral-large-2512"
    MISTRAL_MEDIUM_3_1 = "mistralai/mistral-medium-3.1"
    MISTRAL_SMALL_3_2 = "mistralai/mistral-small-3.2-24b-instruct"
    CODESTRAL = "mistralai/codestral-2508"
    COHERE_COMMAND_R_08_2024 = "cohere/command-r-08-2024"
    COHERE_COMMAND_R_PLUS_08_2024 = "cohere/command-r-plus-08-2024"
    COHERE_COMMAND_A_03_2025 = "cohere/command-a-03-2025"
    COHERE_COMMAND_A_TRANSLATE_08_2025 = "cohere/command-a-translate-08-2025"
    COHERE_COMMAND_A_REASONING_08_2025 = "cohere/command-a-reasoning-08-2025"
    COHERE_COMMAND_A_VISION_07_2025 = "cohere/command-a-vision-07-2025"
    DEEPSEEK_CHAT = "deepseek/deepseek-chat"
    DEEPSEEK_R1_0528 = "deepseek/deepseek-r1-0528"
    PERPLEXITY_SONAR = "perplexity/sonar"
    PERPLEXITY_SONAR_PRO = "perplexity/sonar-pro"
    PERPLEXITY_SONAR_REASONING_PRO = "perplexity/sonar-reasoning-pro"
    PERPLEXITY_SONAR_DEEP_RESEARCH = "perplexity/sonar-deep-research"
    NOUSRESEARCH_HERMES_3_LLAMA_3_1_405B = "nousresearch/hermes-3-llama-3.1-405b"
    NOUSRESEARCH_HERMES_3_LLAMA_3_1_70B = "nousresearch/hermes-3-llama-3.1-70b"
    AMAZON_NOVA_LITE_V1 = "amazon/nova-lite-v1"
    AMAZON_NOVA_MICRO_V1 = "amazon/nova-micro-v1"
    AMAZON_NOVA_PRO_V1 = "amazon/nova-pro-v1"
    MICROSOFT_WIZARDLM_2_8X22B = "microsoft/wizardlm-2-8x22b"
    MICROSOFT_PHI_4 = "microsoft/phi-4"
    GRYPHE_MYTHOMAX_L2_13B = "gryphe/mythomax-l2-13b"
    META_LLAMA_4_SCOUT = "meta-llama/llama-4-scout"
    META_LLAMA_4_MAVERICK = "meta-llama/llama-4-maverick"
    GROK_3 = "x-ai/grok-3"
    GROK_4 = "x-ai/grok-4"
    GROK_4_FAST = "x-ai/grok-4-fast"
    GROK_4_1_FAST = "x-ai/grok-4.1-fast"
    GROK_4_20 = "x-ai/grok-4.20"
    GROK_4_20_MULTI_AGENT = "x-ai/grok-4.20-multi-agent"
    GROK_CODE_FAST_1 = "x-ai/grok-code-fast-1"
    KIMI_K2 = "moonshotai/kimi-k2"
    KIMI_K2_0905 = "moonshotai/kimi-k2-0905"
    KIMI_K2_5 = "moonshotai/kimi-k2.5"
    KIMI_K2_6 = "moonshotai/kimi-k2.6"
    KIMI_K2_THINKING = "moonshotai/kimi-k2-thinking"
    QWEN3_235B_A22B_THINKING = "qwen/qwen3-235b-a22b-thinking-2507"
    QWEN3_CODER = "qwen/qwen3-coder"
    ZAI_GLM_4_32B = "z-ai/glm-4-32b"
    ZAI_GLM_4_5 = "z-ai/glm-4.5"
    ZAI_GLM_4_5_AIR = "z-ai/glm-4.5-air"
    ZAI_GLM_4_5_AIR_FREE = "z-ai/glm-4.5-air:free"
    ZAI_GLM_4_5V = "z-ai/glm-4.5v"
    ZAI_GLM_4_6 = "z-ai/glm-4.6"
    ZAI_GLM_4_6V = "z-ai/glm-4.6v"
    ZAI_GLM_4_7 = "z-ai/glm-4.7"
    ZAI_GLM_4_7_FLASH = "z-ai/glm-4.7-flash"
    ZAI_GLM_5 = "z-ai/glm-5"
    ZAI_GLM_5_TURBO = "z-ai/glm-5-turbo"
    ZAI_GLM_5V_TURBO = "z-ai/glm-5v-turbo"
    # Llama API
    LLAMA_API_LLAMA_4_SCOUT = "Llama-4-Scout-17B-16E-Instruct-FP8"
    LLAMA_API_LLAMA4_MAVERICK = "Llama-4-Maverick-17B-128E-Instruct-FP8"
    LLAMA_API_LLAMA3_3_8B = "Llama-3.3-8B-Instruct"
    LLAMA_API_LLAMA3_3_70B = "Llama-3.3-70B-Instruct"
    # v0 by Vercel
    V0_1_5_MD = "v0-1.5-md"
    V0_1_5_LG = "v0-1.5-lg"
    V0_1_0_MD = "v0-1.0-md"

    @property
    def metadata(self) -> ModelMetadata:
        return MODEL_METADATA[self]

    @property
    def provider(self) -> str:
        return self.metadata.provider

    @property
    def context_window(self) -> int:
        return self.metadata.context_window

    @property
    def max_output_tokens(self) -> int | None:
        return self.metadata.max_output_tokens


M = LlmModel
_OR, _OAI, _AN = "OpenRouter", "OpenAI", "Anthropic"


def _openai(window: int, output: int, name: str, tier: int) -> ModelMetadata:
    return ModelMetadata(OPENAI, window, output, name, _OAI, _OAI, tier)


def _anthropic(output: int, name: str, tier: int) -> ModelMetadata:
    return ModelMetadata(ANTHROPIC, 200_000, output, name, _AN, _AN, tier)


def _router(window: int, output: int | None, name: str, creator: str, tier: int) -> ModelMetadata:
    return ModelMetadata(OPEN_ROUTER, window, output, name, _OR, creator, tier)


MODEL_METADATA: dict[LlmModel, ModelMetadata] = {
    M.O3: _openai(200_000, 100_000, "O3", 2),
    M.O3_MINI: _openai(200_000, 100_000, "O3 Mini", 1),
    M.O1: _openai(200_000, 100_000, "O1", 3),
    M.O1_MINI: _openai(128_000, 65_536, "O1 Mini", 2),
    M.GPT5_2: _openai(400_000, 128_000, "GPT-5.2", 3),
    M.GPT5_1: _openai(400_000, 128_000, "GPT-5.1", 2),
    M.GPT5: _openai(400_000, 128_000, "GPT-5", 1),
    M.GPT5_MINI: _openai(400_000, 128_000, "GPT-5 Mini", 1),
    M.GPT5_NANO: _openai(400_000, 128_000, "GPT-5 Nano", 1),
    M.GPT5_CHAT: _openai(400_000, 16_384, "GPT-5 Chat Latest", 2),
    M.GPT41: _openai(1_047_576, 32_768, "GPT-4.1", 1),
    M.GPT41_MINI: _openai(1_047_576, 32_768, "GPT-4.1 Mini", 1),
    M.GPT4O_MINI: _openai(128_000, 16_384, "GPT-4o Mini", 1),
    M.GPT4O: _openai(128_000, 16_384, "GPT-4o", 2),
    M.GPT4_TURBO: _openai(128_000, 4_096, "GPT-4 Turbo", 3),
    M.CLAUDE_4_1_OPUS: _anthropic(32_000, "Claude Opus 4.1", 3),
    M.CLAUDE_4_OPUS: _anthropic(32_000, "Claude Opus 4", 3),
    M.CLAUDE_4_SONNET: _anthropic(64_000, "Claude Sonnet 4", 2),
    M.CLAUDE_4_6_OPUS: _anthropic(128_000, "Claude Opus 4.6", 3),
    M.CLAUDE_4_7_OPUS: _anthropic(128_000, "Claude Opus 4.7", 3),
    M.CLAUDE_4_6_SONNET: _anthropic(64_000, "Claude Sonnet 4.6", 3),
    M.CLAUDE_4_5_OPUS: _anthropic(64_000, "Claude Opus 4.5", 3),
    M.CLAUDE_4_5_SONNET: _anthropic(64_000, "Claude Sonnet 4.5", 3),
    M.CLAUDE_4_5_HAIKU: _anthropic(64_000, "Claude Haiku 4.5", 2),
    M.CLAUDE_3_HAIKU: _anthropic(4_096, "Claude 3 Haiku", 1),
    M.AIML_API_QWEN2_5_72B: ModelMetadata(AIML_API, 32_000, 8_000, "Qwen 2.5 72B Instruct Turbo", "AI/ML", "Qwen", 1),
    M.AIML_API_LLAMA3_1_70B: ModelMetadata(
        AIML_API, 128_000, 40_000, "Llama 3.1 Nemotron 70B Instruct", "AI/ML", "Nvidia", 1
    ),
    M.AIML_API_LLAMA3_3_70B: ModelMetadata(AIML_API, 128_000, None, "Llama 3.3 70B Instruct Turbo", "AI/ML", "Meta", 1),
    M.AIML_API_META_LLAMA_3_1_70B: ModelMetadata(
        AIML_API, 131_000, 2_000, "Llama 3.1 70B Instruct Turbo", "AI/ML", "Meta", 1
    ),
    M.AIML_API_LLAMA_3_2_3B: ModelMetadata(AIML_API, 128_000, None, "Llama 3.2 3B Instruct Turbo", "AI/ML", "Meta", 1),
    M.LLAMA3_3_70B: ModelMetadata(GROQ, 128_000, 32_768, "Llama 3.3 70B Versatile", "Groq", "Meta", 1),
    M.LLAMA3_1_8B: ModelMetadata(GROQ, 128_000, 8_192, "Llama 3.1 8B Instant", "Groq", "Meta", 1),
    M.OLLAMA_LLAMA3_3: ModelMetadata(OLLAMA, 8_192, None, "Llama 3.3", "Ollama", "Meta", 1),
    M.OLLAMA_LLAMA3_2: ModelMetadata(OLLAMA, 8_192, None, "Llama 3.2", "Ollama", "Meta", 1),
    M.OLLAMA_LLAMA3_8B: ModelMetadata(OLLAMA, 8_192, None, "Llama 3", "Ollama", "Meta", 1),
    M.OLLAMA_LLAMA3_405B: ModelMetadata(OLLAMA, 8_192, None, "Llama 3.1 405B", "Ollama", "Meta", 1),
    M.OLLAMA_DOLPHIN: ModelMetadata(OLLAMA, 32_768, None, "Dolphin Mistral Latest", "Ollama", "Mistral AI", 1),
    M.GEMINI_2_5_PRO_PREVIEW: _router(1_048_576, 65_536, "Gemini 2.5 Pro Preview 03.25", "Google", 2),
    M.GEMINI_2_5_PRO: _router(1_048_576, 65_536, "Gemini 2.5 Pro", "Google", 2),
    M.GEMINI_3_1_PRO_PREVIEW: _router(1_048_576, 65_536, "Gemini 3.1 Pro Preview", "Google", 2),
    M.GEMINI_3_FLASH_PREVIEW: _router(1_048_576, 65_536, "Gemini 3 Flash Preview", "Google", 1),
    M.GEMINI_2_5_FLASH: _router(1_048_576, 65_535, "Gemini 2.5 Flash", "Google", 1),
    M.GEMINI_2_0_FLASH: _router(1_048_576, 8_192, "Gemini 2.0 Flash 001", "Google", 1),
    M.GEMINI_3_1_FLASH_LITE_PREVIEW: _router(1_048_576, 65_536, "Gemini 3.1 Flash Lite Preview", "Google", 1),
    M.GEMINI_2_5_FLASH_LITE_PREVIEW: _router(1_048_576, 65_535, "Gemini 2.5 Flash Lite Preview 06.17", "Google", 1),
    M.GEMINI_2_0_FLASH_LITE: _router(1_048_576, 8_192, "Gemini 2.0 Flash Lite 001", "Google", 1),
    M.MISTRAL_NEMO: _router(128_000, 4_096, "Mistral Nemo", "Mistral AI", 1),
    M.MISTRAL_LARGE_3: _router(262_144, None, "Mistral Large 3 2512", "Mistral AI", 2),
    M.MISTRAL_MEDIUM_3_1: _router(131_072, None, "Mistral Medium 3.1", "Mistral AI", 2),
    M.MISTRAL_SMALL_3_2: _router(131_072, 131_072, "Mistral Small 3.2 24B", "Mistral AI", 1),
    M.CODESTRAL: _router(256_000, None, "Codestral 2508", "Mistral AI", 1),
    M.COHERE_COMMAND_R_08_2024: _router(128_000, 4_096, "Command R 08.2024", "Cohere", 1),
    M.COHERE_COMMAND_R_PLUS_08_2024: _router(128_000, 4_096, "Command R Plus 08.2024", "Cohere", 2),
    M.COHERE_COMMAND_A_03_2025: _router(256_000, 8_192, "Command A 03.2025", "Cohere", 2),
    M.COHERE_COMMAND_A_TRANSLATE_08_2025: _router(128_000, 8_192, "Command A Translate 08.2025", "Cohere", 2),
    M.COHERE_COMMAND_A_REASONING_08_2025: _router(256_000, 32_768, "Command A Reasoning 08.2025", "Cohere", 3),
    M.COHERE_COMMAND_A_VISION_07_2025: _router(128_000, 8_192, "Command A Vision 07.2025", "Cohere", 2),
    M.DEEPSEEK_CHAT: _router(64_000, 2_048, "DeepSeek Chat", "DeepSeek", 1),
    M.DEEPSEEK_R1_0528: _router(163_840, 163_840, "DeepSeek R1 0528", "DeepSeek", 1),
    M.PERPLEXITY_SONAR: _router(127_000, 8_000, "Sonar", "Perplexity", 1),
    M.PERPLEXITY_SONAR_PRO: _router(200_000, 8_000, "Sonar Pro", "Perplexity", 2),
    M.PERPLEXITY_SONAR_REASONING_PRO: _router(128_000, 8_000, "Sonar Reasoning Pro", "Perplexity", 2),
    M.PERPLEXITY_SONAR_DEEP_RESEARCH: _router(128_000, 16_000, "Sonar Deep Research", "Perplexity", 3),
    M.NOUSRESEARCH_HERMES_3_LLAMA_3_1_405B: _router(131_000, 4_096, "Hermes 3 Llama 3.1 405B", "Nous Research", 1),
    M.NOUSRESEARCH_HERMES_3_LLAMA_3_1_70B: _router(12_288, 12_288, "Hermes 3 Llama 3.1 70B", "Nous Research", 1),
    M.OPENAI_GPT_OSS_120B: _router(131_072, 131_072, "GPT-OSS 120B", _OAI, 1),
    M.OPENAI_GPT_OSS_20B: _router(131_072, 32_768, "GPT-OSS 20B", _OAI, 1),
    M.AMAZON_NOVA_LITE_V1: _router(300_000, 5_120, "Nova Lite V1", "Amazon", 1),
    M.AMAZON_NOVA_MICRO_V1: _router(128_000, 5_120, "Nova Micro V1", "Amazon", 1),
    M.AMAZON_NOVA_PRO_V1: _router(300_000, 5_120, "Nova Pro V1", "Amazon", 1),
    M.MICROSOFT_WIZARDLM_2_8X22B: _router(65_536, 4_096, "WizardLM 2 8x22B", "Microsoft", 1),
    M.MICROSOFT_PHI_4: _router(16_384, 16_384, "Phi-4", "Microsoft", 1),
    M.GRYPHE_MYTHOMAX_L2_13B: _router(4_096, 4_096, "MythoMax L2 13B", "Gryphe", 1),
    M.META_LLAMA_4_SCOUT: _router(131_072, 131_072, "Llama 4 Scout", "Meta", 1),
    M.META_LLAMA_4_MAVERICK: _router(1_048_576, 1_000_000, "Llama 4 Maverick", "Meta", 1),
    M.GROK_3: _router(131_072, 131_072, "Grok 3", "xAI", 2),
    M.GROK_4: _router(256_000, 256_000, "Grok 4", "xAI", 3),
    M.GROK_4_FAST: _router(2_000_000, 30_000, "Grok 4 Fast", "xAI", 1),
    M.GROK_4_1_FAST: _router(2_000_000, 30_000, "Grok 4.1 Fast", "xAI", 1),
    M.GROK_4_20: _router(2_000_000, 100_000, "Grok 4.20", "xAI", 3),
    M.GROK_4_20_MULTI_AGENT: _router(2_000_000, 100_000, "Grok 4.20 Multi-Agent", "xAI", 3),
    M.GROK_CODE_FAST_1: _router(256_000, 10_000, "Grok Code Fast 1", "xAI", 1),
    M.KIMI_K2: _router(131_000, 131_000, "Kimi K2", "Moonshot AI", 1),
    M.KIMI_K2_0905: _router(262_144, 262_144, "Kimi K2 0905", "Moonshot AI", 1),
    M.KIMI_K2_5: _router(262_144, 262_144, "Kimi K2.5", "Moonshot AI", 1),
    M.KIMI_K2_6: _router(262_144, 262_144, "Kimi K2.6", "Moonshot AI", 2),
    M.KIMI_K2_THINKING: _router(262_144, 262_144, "Kimi K2 Thinking", "Moonshot AI", 2),
    M.QWEN3_235B_A22B_THINKING: _router(262_144, 262_144, "Qwen 3 235B A22B Thinking 2507", "Qwen", 1),
    M.QWEN3_CODER: _router(262_144, 262_144, "Qwen 3 Coder", "Qwen", 3),
    M.ZAI_GLM_4_32B: _router(128_000, 128_000, "GLM 4 32B", "Z.ai", 1),
    M.ZAI_GLM_4_5: _router(131_072, 98_304, "GLM 4.5", "Z.ai", 2),
    M.ZAI_GLM_4_5_AIR: _router(131_072, 98_304, "GLM 4.5 Air", "Z.ai", 1),
    M.ZAI_GLM_4_5_AIR_FREE: _router(131_072, 96_000, "GLM 4.5 Air (Free)", "Z.ai", 1),
    M.ZAI_GLM_4_5V: _router(65_536, 16_384, "GLM 4.5V", "Z.ai", 2),
    M.ZAI_GLM_4_6: _router(204_800, 204_800, "GLM 4.6", "Z.ai", 1),
    M.ZAI_GLM_4_6V: _router(131_072, 131_072, "GLM 4.6V", "Z.ai", 1),
    M.ZAI_GLM_4_7: _router(202_752, 65_535, "GLM 4.7", "Z.ai", 1),
    M.ZAI_GLM_4_7_FLASH: _router(202_752, 202_752, "GLM 4.7 Flash", "Z.ai", 1),
    M.ZAI_GLM_5: _router(80_000, 80_000, "GLM 5", "Z.ai", 2),
    M.ZAI_GLM_5_TURBO: _router(202_752, 131_072, "GLM 5 Turbo", "Z.ai", 3),
    M.ZAI_GLM_5V_TURBO: _router(202_752, 131_072, "GLM 5V Turbo", "Z.ai", 3),
    M.LLAMA_API_LLAMA_4_SCOUT: ModelMetadata(
        LLAMA_API, 128_000, 4_028, "Llama 4 Scout 17B 16E Instruct FP8", "Llama API", "Meta", 1
    ),
    M.LLAMA_API_LLAMA4_MAVERICK: ModelMetadata(
        LLAMA_API, 128_000, 4_028, "Llama 4 Maverick 17B 128E Instruct FP8", "Llama API", "Meta", 1
    ),
    M.LLAMA_API_LLAMA3_3_8B: ModelMetadata(LLAMA_API, 128_000, 4_028, "Llama 3.3 8B Instruct", "Llama API", "Meta", 1),
    M.LLAMA_API_LLAMA3_3_70B: ModelMetadata(
        LLAMA_API, 128_000, 4_028, "Llama 3.3 70B Instruct", "Llama API", "Meta", 1
    ),
    M.V0_1_5_MD: ModelMetadata(V0, 128_000, 64_000, "v0 1.5 MD", "V0", "V0", 1),
    M.V0_1_5_LG: ModelMetadata(V0, 512_000, 64_000, "v0 1.5 LG", "V0", "V0", 1),
    M.V0_1_0_MD: ModelMetadata(V0, 128_000, 64_000, "v0 1.0 MD", "V0", "V0", 1),
}

# AutoGPT's flat credits per LLM call (its MODEL_COST).
MODEL_COST: dict[LlmModel, int] = {
    M.O3: 4, M.O3_MINI: 2, M.O1: 16, M.O1_MINI: 4,
    M.GPT5_2: 6, M.GPT5_1: 5, M.GPT5: 2, M.GPT5_MINI: 1, M.GPT5_NANO: 1, M.GPT5_CHAT: 5,
    M.GPT41: 2, M.GPT41_MINI: 1, M.GPT4O_MINI: 1, M.GPT4O: 3, M.GPT4_TURBO: 10,
    M.CLAUDE_4_1_OPUS: 21, M.CLAUDE_4_OPUS: 21, M.CLAUDE_4_SONNET: 5, M.CLAUDE_4_6_OPUS: 14,
    M.CLAUDE_4_7_OPUS: 14, M.CLAUDE_4_6_SONNET: 9, M.CLAUDE_4_5_HAIKU: 4, M.CLAUDE_4_5_OPUS: 14,
    M.CLAUDE_4_5_SONNET: 9, M.CLAUDE_3_HAIKU: 1,
    M.AIML_API_QWEN2_5_72B: 1, M.AIML_API_LLAMA3_1_70B: 1, M.AIML_API_LLAMA3_3_70B: 1,
    M.AIML_API_META_LLAMA_3_1_70B: 1, M.AIML_API_LLAMA_3_2_3B: 1,
    M.LLAMA3_3_70B: 1, M.LLAMA3_1_8B: 1,
    M.OLLAMA_LLAMA3_3: 1, M.OLLAMA_LLAMA3_2: 1, M.OLLAMA_LLAMA3_8B: 1, M.OLLAMA_LLAMA3_405B: 1, M.OLLAMA_DOLPHIN: 1,
    M.OPENAI_GPT_OSS_120B: 1, M.OPENAI_GPT_OSS_20B: 1,
    M.GEMINI_2_5_PRO_PREVIEW: 4, M.GEMINI_2_5_PRO: 4, M.GEMINI_3_1_PRO_PREVIEW: 5, M.GEMINI_3_FLASH_PREVIEW: 2,
    M.GEMINI_2_5_FLASH: 1, M.GEMINI_2_0_FLASH: 1, M.GEMINI_3_1_FLASH_LITE_PREVIEW: 1,
    M.GEMINI_2_5_FLASH_LITE_PREVIEW: 1, M.GEMINI_2_0_FLASH_LITE: 1,
    M.MISTRAL_NEMO: 1, M.MISTRAL_LARGE_3: 2, M.MISTRAL_MEDIUM_3_1: 2, M.MISTRAL_SMALL_3_2: 1, M.CODESTRAL: 1,
    M.COHERE_COMMAND_R_08_2024: 1, M.COHERE_COMMAND_R_PLUS_08_2024: 3, M.COHERE_COMMAND_A_03_2025: 3,
    M.COHERE_COMMAND_A_TRANSLATE_08_2025: 3, M.COHERE_COMMAND_A_REASONING_08_2025: 6,
    M.COHERE_COMMAND_A_VISION_07_2025: 3,
    M.DEEPSEEK_CHAT: 2, M.DEEPSEEK_R1_0528: 1,
    M.PERPLEXITY_SONAR: 1, M.PERPLEXITY_SONAR_PRO: 5, M.PERPLEXITY_SONAR_REASONING_PRO: 5,
    M.PERPLEXITY_SONAR_DEEP_RESEARCH: 10,
    M.NOUSRESEARCH_HERMES_3_LLAMA_3_1_405B: 1, M.NOUSRESEARCH_HERMES_3_LLAMA_3_1_70B: 1,
    M.AMAZON_NOVA_LITE_V1: 1, M.AMAZON_NOVA_MICRO_V1: 1, M.AMAZON_NOVA_PRO_V1: 1,
    M.MICROSOFT_WIZARDLM_2_8X22B: 1, M.MICROSOFT_PHI_4: 1, M.GRYPHE_MYTHOMAX_L2_13B: 1,
    M.META_LLAMA_4_SCOUT: 1, M.META_LLAMA_4_MAVERICK: 1,
    M.LLAMA_API_LLAMA_4_SCOUT: 1, M.LLAMA_API_LLAMA4_MAVERICK: 1, M.LLAMA_API_LLAMA3_3_8B: 1,
    M.LLAMA_API_LLAMA3_3_70B: 1,
    M.GROK_3: 3, M.GROK_4: 9, M.GROK_4_FAST: 1, M.GROK_4_1_FAST: 1, M.GROK_4_20: 5, M.GROK_4_20_MULTI_AGENT: 5,
    M.GROK_CODE_FAST_1: 1,
    M.KIMI_K2: 1, M.KIMI_K2_0905: 1, M.KIMI_K2_5: 1, M.KIMI_K2_6: 2, M.KIMI_K2_THINKING: 2,
    M.QWEN3_235B_A22B_THINKING: 1, M.QWEN3_CODER: 9,
    M.ZAI_GLM_4_32B: 1, M.ZAI_GLM_4_5: 2, M.ZAI_GLM_4_5_AIR: 1, M.ZAI_GLM_4_5_AIR_FREE: 1, M.ZAI_GLM_4_5V: 2,
    M.ZAI_GLM_4_6: 1, M.ZAI_GLM_4_6V: 1, M.ZAI_GLM_4_7: 1, M.ZAI_GLM_4_7_FLASH: 1, M.ZAI_GLM_5: 2,
    M.ZAI_GLM_5_TURBO: 4, M.ZAI_GLM_5V_TURBO: 4,
    M.V0_1_5_MD: 1, M.V0_1_5_LG: 2, M.V0_1_0_MD: 1,
}  # fmt: skip

# AutoGPT's TOKEN_COST (input, output): credits per 1,000,000 tokens, 1.5x its providers' prices.
TOKEN_COST: dict[LlmModel, tuple[float, float]] = {
    M.CLAUDE_4_1_OPUS: (2250, 11250), M.CLAUDE_4_OPUS: (2250, 11250),
    M.CLAUDE_4_6_OPUS: (750, 3750), M.CLAUDE_4_5_OPUS: (750, 3750),
    M.CLAUDE_4_SONNET: (450, 2250), M.CLAUDE_4_6_SONNET: (450, 2250), M.CLAUDE_4_5_SONNET: (450, 2250),
    M.CLAUDE_4_5_HAIKU: (150, 750), M.CLAUDE_3_HAIKU: (38, 188),
    M.GPT5_2: (263, 2100), M.GPT5_1: (188, 1500), M.GPT5: (188, 1500), M.GPT5_MINI: (38, 300),
    M.GPT5_NANO: (8, 60), M.GPT5_CHAT: (188, 1500), M.GPT4O: (375, 1500), M.GPT4O_MINI: (23, 90),
    M.GPT41: (300, 1200), M.GPT41_MINI: (60, 240), M.GPT4_TURBO: (1500, 4500), M.O3: (300, 1200),
    M.O3_MINI: (165, 660), M.O1: (2250, 9000), M.O1_MINI: (165, 660),
    M.GEMINI_2_5_PRO: (188, 1500), M.GEMINI_2_5_PRO_PREVIEW: (188, 1500), M.GEMINI_2_5_FLASH: (45, 375),
    M.GEMINI_2_5_FLASH_LITE_PREVIEW: (15, 60), M.GEMINI_2_0_FLASH: (15, 60), M.GEMINI_2_0_FLASH_LITE: (11, 45),
    M.GEMINI_3_1_PRO_PREVIEW: (300, 1800), M.GEMINI_3_FLASH_PREVIEW: (75, 450),
    M.GEMINI_3_1_FLASH_LITE_PREVIEW: (38, 225),
    M.GROK_3: (450, 2250), M.GROK_4: (450, 2250), M.GROK_4_FAST: (30, 75), M.GROK_4_1_FAST: (30, 75),
    M.GROK_4_20: (300, 900), M.GROK_CODE_FAST_1: (30, 225),
    M.DEEPSEEK_CHAT: (21, 42), M.DEEPSEEK_R1_0528: (21, 42),
    M.MISTRAL_LARGE_3: (300, 900), M.MISTRAL_MEDIUM_3_1: (60, 300), M.MISTRAL_SMALL_3_2: (15, 45),
    M.MISTRAL_NEMO: (5, 5), M.CODESTRAL: (45, 135),
    M.COHERE_COMMAND_R_08_2024: (23, 90), M.COHERE_COMMAND_R_PLUS_08_2024: (375, 1500),
    M.COHERE_COMMAND_A_03_2025: (375, 1500),
    M.KIMI_K2: (90, 375), M.KIMI_K2_0905: (90, 375), M.KIMI_K2_5: (66, 300), M.KIMI_K2_6: (112, 698),
    M.KIMI_K2_THINKING: (90, 375),
    M.PERPLEXITY_SONAR: (150, 150), M.PERPLEXITY_SONAR_PRO: (450, 2250),
    M.PERPLEXITY_SONAR_REASONING_PRO: (300, 1200), M.PERPLEXITY_SONAR_DEEP_RESEARCH: (300, 1200),
    M.LLAMA3_3_70B: (89, 119), M.LLAMA3_1_8B: (8, 12), M.META_LLAMA_4_SCOUT: (17, 51),
    M.META_LLAMA_4_MAVERICK: (75, 116), M.OPENAI_GPT_OSS_120B: (23, 90), M.OPENAI_GPT_OSS_20B: (11, 45),
}  # fmt: skip
_TOKEN_COST_MARGIN = 1.5

DEFAULT_PROVIDER = OPENAI  # of a model name the table does not know

# Model names earlier AutoGPT versions offered and since retired (older exports still name them):
# provider, context window, max output tokens, as AutoGPT had them. Not in LlmModel (AutoGPT no
# longer accepts them); the blocks still route them to their provider.
LEGACY_MODELS: dict[str, tuple[str, int, int | None]] = {
    "o1-preview": (OPENAI, 128_000, 32_768),
    "gpt-3.5-turbo": (OPENAI, 16_385, 4_096),
    "claude-3-7-sonnet-20250219": (ANTHROPIC, 200_000, 8_192),
    "claude-3-7-sonnet-latest": (ANTHROPIC, 200_000, 8_192),
    "claude-3-5-sonnet-latest": (ANTHROPIC, 200_000, 8_192),
    "claude-3-5-haiku-latest": (ANTHROPIC, 200_000, 8_192),
    "claude-3-opus-latest": (ANTHROPIC, 200_000, 4_096),
    "gemma2-9b-it": (GROQ, 8_192, None),
    "llama3-70b-8192": (GROQ, 8_192, None),
    "llama3-8b-8192": (GROQ, 8_192, None),
    "mixtral-8x7b-32768": (GROQ, 32_768, None),
    "deepseek-r1-distill-llama-70b": (GROQ, 128_000, None),
    "google/gemini-flash-1.5": (OPEN_ROUTER, 1_000_000, 8_192),
    "x-ai/grok-beta": (OPEN_ROUTER, 131_072, 131_072),
    "eva-unit-01/eva-qwen-2.5-32b": (OPEN_ROUTER, 16_384, 4_096),
    "perplexity/llama-3.1-sonar-large-128k-online": (OPEN_ROUTER, 127_072, 127_072),
    "qwen/qwq-32b-preview": (OPEN_ROUTER, 32_768, 32_768),
}


class ModelLimits(NamedTuple):
    context_window: int
    max_output_tokens: int | None


def lookup(model: str | LlmModel | None) -> LlmModel | None:
    """The table's entry of a model name (provider-prefixed names included), else None."""
    if model is None:
        return None
    if isinstance(model, LlmModel):
        return model
    try:
        return LlmModel(model)
    except ValueError:
        return None


def provider_of(model: str | LlmModel | None) -> str:
    """The provider a model's calls go to: the table's (retired AutoGPT names included), a
    `claude-…` name's Anthropic, else `openai` (any OpenAI-compatible model)."""
    entry = lookup(model)
    if entry is not None:
        return entry.provider
    name = str(model or "")
    if name in LEGACY_MODELS:
        return LEGACY_MODELS[name][0]
    if name.startswith("claude-"):
        return ANTHROPIC
    return DEFAULT_PROVIDER


def limits(model: str | LlmModel | None) -> ModelLimits | None:
    """A model's context window and max output tokens (None: a model the table does not know)."""
    entry = lookup(model)
    if entry is not None:
        return ModelLimits(entry.context_window, entry.max_output_tokens)
    legacy = LEGACY_MODELS.get(str(model or ""))
    return ModelLimits(legacy[1], legacy[2]) if legacy else None


def api_model_name(model: str | LlmModel) -> str:
    """The name sent to the provider: the table's value (a prefixed alias resolves to it)."""
    entry = lookup(model)
    return entry.value if entry is not None else str(model)


def token_rate(model: LlmModel) -> int:
    """Stratus's TOKEN rate of a model: credits (cents) per 1,000 tokens (see the module doc)."""
    rates = TOKEN_COST.get(model)
    if rates is None:
        return MODEL_COST[model]
    return max(1, math.ceil(round(rates[1] / _TOKEN_COST_MARGIN / 1_000, 6)))


def discriminator_mapping() -> dict[str, str]:
    """AutoGPT's credentials discriminator_mapping of the LLM blocks: model value → provider."""
    return {model.value: model.provider for model in LlmModel}


def platform_rate(model: str) -> int | None:
    """Credits per 1,000 tokens of a platform-key run of `model` (None: not in the table, free)."""
    entry = lookup(model)
    return token_rate(entry) if entry is not None else None


for _model in LlmModel:  # the table is complete, as AutoGPT checks at import
    if _model not in MODEL_METADATA or _model not in MODEL_COST:
        raise ValueError(f"Missing metadata or cost for model {_model.value}")
