"""The ai block group: AutoGPT's LLM blocks on any OpenAI-compatible endpoint."""
