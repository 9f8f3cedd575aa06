"""Settings: the environment each function needs, validated once, at cold start.

Every variable is a field of a small piece (`TablesSettings`, `JwtSettings`, …); each function
declares what it needs as one class composed of pieces (`GraphsSettings`, …) and validates it
with `require(GraphsSettings)` when its app.py is imported. A missing, empty or invalid
variable fails the cold start with a `SettingsError` naming it, not the first request that
happens to read it. Shared code reads its piece with `get_settings(TablesSettings)`: the
function's validated instance when it includes that piece, else the piece read on its own.

docs/configuration.md lists every variable; tests/unit/test_config.py checks that each
template function's class is satisfied by the environment the template gives that function.
Only pydantic (which every function loads anyway) is imported here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

# A required value: set and not blank.
Required = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class SettingsError(ValueError):
    """The environment does not satisfy a settings class; the message names each variable."""


class EnvSettings(BaseModel):
    """Fields are read from the environment variables named by their aliases. An optional
    variable set to an empty string counts as unset (its default applies)."""

    # Schemas are built on first use: a function builds its own class only, not all of them.
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=False, defer_build=True)

    @classmethod
    def variables(cls) -> dict[str, bool]:
        """Every variable of this class: name -> required."""
        return {field.alias or name: field.is_required() for name, field in cls.model_fields.items()}

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        environ = os.environ if environ is None else environ
        values: dict[str, str] = {}
        for name, required in cls.variables().items():
            value = environ.get(name)
            if value is None or (not required and not value.strip()):
                continue
            values[name] = value
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            raise SettingsError(_describe(cls, exc)) from None


def _describe(cls: type[EnvSettings], exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        name = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing":
            problems.append(f"{name} is not set")
        elif error["type"] == "string_too_short":
            problems.append(f"{name} is empty")
        elif not name or message.startswith(name):  # the message names the variables itself
            problems.append(message)
        else:  # values are not echoed: some are secrets
            problems.append(f"{name} is invalid: {message}")
    return f"{cls.__name__}: " + "; ".join(problems)


# --- pieces ------------------------------------------------------------------------------
class TablesSettings(EnvSettings):
    users_table: Required = Field(alias="USERS_TABLE")
    graphs_table: Required = Field(alias="GRAPHS_TABLE")
    executions_table: Required = Field(alias="EXECUTIONS_TABLE")
    store_table: Required = Field(alias="STORE_TABLE")


class ValuesBucketSettings(EnvSettings):
    values_bucket: Required = Field(alias="VALUES_BUCKET")


class CredentialsKeySettings(EnvSettings):
    credentials_key_id: Required = Field(alias="CREDENTIALS_KEY_ID")


class EgressSettings(EnvSettings):
    egress_allow_list: str = Field(default="", alias="EGRESS_ALLOW_LIST")
    # Set by the Lambda runtime itself (host:port of its Runtime API), never by a template.
    aws_lambda_runtime_api: str | None = Field(default=None, alias="AWS_LAMBDA_RUNTIME_API")

    @field_validator("egress_allow_list")
    @classmethod
    def _parses(cls, value: str) -> str:
        if value.strip():
            from stratus.net.allow_list import parse_allow_list  # stdlib only; not loaded when empty

            parse_allow_list(value)  # ValueError naming the entry
        return value


class JwtSettings(EnvSettings):
    jwt_algorithm: Literal["HS256", "RS256"] = Field(default="HS256", alias="JWT_ALGORITHM")
    jwt_audience: str = Field(default="authenticated", alias="JWT_AUDIENCE")
    # A verify key given directly (local runs, tests) wins over the SSM parameter name.
    jwt_verify_key: str | None = Field(default=None, alias="JWT_VERIFY_KEY")
    jwt_verify_key_param: str | None = Field(default=None, alias="JWT_VERIFY_KEY_PARAM")

    @model_validator(mode="after")
    def _has_a_key(self) -> JwtSettings:
        if not self.jwt_verify_key and not self.jwt_verify_key_param:
            raise ValueError("JWT_VERIFY_KEY_PARAM (or JWT_VERIFY_KEY) is not set")
        return self


class SignupSettings(EnvSettings):
    signup_credits: int = Field(alias="SIGNUP_CREDITS", ge=0)


class StateMachineSettings(EnvSettings):
    graph_execution_state_machine_arn: Required = Field(alias="GRAPH_EXECUTION_STATE_MACHINE_ARN")


class BlockCoreFunctionSettings(EnvSettings):
    block_function_core_arn: Required = Field(alias="BLOCK_FUNCTION_CORE_ARN")


class BlockAiFunctionSettings(EnvSettings):
    block_function_ai_arn: Required = Field(alias="BLOCK_FUNCTION_AI_ARN")


class BlockIntegrationsFunctionSettings(EnvSettings):
    block_function_integrations_arn: Required = Field(alias="BLOCK_FUNCTION_INTEGRATIONS_ARN")


class SchedulerSettings(EnvSettings):
    schedule_group: Required = Field(alias="SCHEDULE_GROUP")
    scheduled_run_function_arn: Required = Field(alias="SCHEDULED_RUN_FUNCTION_ARN")
    scheduler_role_arn: Required = Field(alias="SCHEDULER_ROLE_ARN")


class PlatformLlmSettings(EnvSettings):
    """The platform's model endpoints and keys, one set per LLM provider (AutoGPT's provider
    names: stratus.blocks.ai.providers). Per provider `<P>_BASE_URL` (unset: the provider's
    public endpoint), `<P>_API_KEY` (a key given directly: local runs, tests; wins) and
    `<P>_API_KEY_PARAM` (the SSM SecureString holding it: AWS). Without a key, AI blocks that
    have no credentials of their own for that provider fail with "No API key" (a deployment
    may choose that)."""

    openai_base_url: str | None = Field(default=None, alias="OPENAI_BASE_URL")
    openai_api_key: str | None = Field(default=None, alias="OPENAI_API_KEY")
    openai_api_key_param: str | None = Field(default=None, alias="OPENAI_API_KEY_PARAM")
    anthropic_base_url: str | None = Field(default=None, alias="ANTHROPIC_BASE_URL")
    anthropic_api_key: str | None = Field(default=None, alias="ANTHROPIC_API_KEY")
    anthropic_api_key_param: str | None = Field(default=None, alias="ANTHROPIC_API_KEY_PARAM")
    open_router_base_url: str | None = Field(default=None, alias="OPEN_ROUTER_BASE_URL")
    open_router_api_key: str | None = Field(default=None, alias="OPEN_ROUTER_API_KEY")
    open_router_api_key_param: str | None = Field(default=None, alias="OPEN_ROUTER_API_KEY_PARAM")
    groq_base_url: str | None = Field(default=None, alias="GROQ_BASE_URL")
    groq_api_key: str | None = Field(default=None, alias="GROQ_API_KEY")
    groq_api_key_param: str | None = Field(default=None, alias="GROQ_API_KEY_PARAM")
    llama_api_base_url: str | None = Field(default=None, alias="LLAMA_API_BASE_URL")
    llama_api_api_key: str | None = Field(default=None, alias="LLAMA_API_API_KEY")
    llama_api_api_key_param: str | None = Field(default=None, alias="LLAMA_API_API_KEY_PARAM")
    aiml_api_base_url: str | None = Field(default=None, alias="AIML_API_BASE_URL")
    aiml_api_api_key: str | None = Field(default=None, alias="AIML_API_API_KEY")
    aiml_api_api_key_param: str | None = Field(default=None, alias="AIML_API_API_KEY_PARAM")
    v0_base_url: str | None = Field(default=None, alias="V0_BASE_URL")
    v0_api_key: str | None = Field(default=None, alias="V0_API_KEY")
    v0_api_key_param: str | None = Field(default=None, alias="V0_API_KEY_PARAM")
    # Ollama: the endpoint of the default `ollama_host` (a node's own ollama_host wins); no key needed.
    ollama_base_url: str | None = Field(default=None, alias="OLLAMA_BASE_URL")
    ollama_api_key: str | None = Field(default=None, alias="OLLAMA_API_KEY")
    ollama_api_key_param: str | None = Field(default=None, alias="OLLAMA_API_KEY_PARAM")

    def base_url(self, provider: str) -> str | None:
        """The configured endpoint of a provider (None: its public default)."""
        return getattr(self, f"{provider}_base_url", None)

    def api_key(self, provider: str) -> str | None:
        """The platform key of a provider given directly (not the SSM parameter)."""
        return getattr(self, f"{provider}_api_key", None)

    def api_key_param(self, provider: str) -> str | None:
        """The SSM SecureString name of a provider's platform key."""
        return getattr(self, f"{provider}_api_key_param", None)


class ExecutionLimitsSettings(EnvSettings):
    # A graph execution fails once it would run more node executions than this (loops).
    max_node_runs_per_execution: int = Field(default=10_000, alias="MAX_NODE_RUNS_PER_EXECUTION", ge=1)


class ReplicateSettings(EnvSettings):
    """Replicate's API (AIImageGeneratorBlock): its base URL, and the platform's key for runs
    without credentials of their own (none by default: such runs fail with "No API key")."""

    replicate_base_url: str = Field(default="https://api.replicate.com/v1", alias="REPLICATE_BASE_URL")
    replicate_api_key: str | None = Field(default=None, alias="REPLICATE_API_KEY")


class IntegrationKeysSettings(EnvSettings):
    """The platform's keys of integration providers (Jina, Google Maps, E2B, …: AutoGPT's
    "Use Credits for …" system credentials), for integration blocks run without credentials of
    their own: the SSM SecureString `<PLATFORM_KEYS_PARAM_PREFIX><provider>` (unset or missing:
    no platform key, such runs fail naming the provider), or `<PROVIDER>_API_KEY` given directly
    (local runs and tests; wins)."""

    platform_keys_param_prefix: str | None = Field(default=None, alias="PLATFORM_KEYS_PARAM_PREFIX")

    @staticmethod
    def direct_key(provider: str) -> str | None:
        # Read on demand, not declared: the provider table is open (any block's provider).
        return os.environ.get(f"{provider.upper()}_API_KEY", "").strip() or None


class WebSocketSettings(EnvSettings):
    connections_table: Required = Field(alias="CONNECTIONS_TABLE")
    websocket_management_endpoint: Required = Field(alias="WEBSOCKET_MANAGEMENT_ENDPOINT")


# --- the functions (template.yaml, websocket.yaml) ---------------------------------------
class CommonSettings(TablesSettings, ValuesBucketSettings, CredentialsKeySettings, EgressSettings):
    """What template.yaml's Globals give every function of the main stack."""


class UsersSettings(CommonSettings, JwtSettings, SignupSettings):
    """UsersFunction."""


class GraphsSettings(
    CommonSettings, JwtSettings, StateMachineSettings, BlockAiFunctionSettings, BlockIntegrationsFunctionSettings
):
    """GraphsFunction: graphs, executions, the blocks API (one-off AI and integration blocks in their functions)."""


class OrchestratorSettings(
    CommonSettings,
    StateMachineSettings,
    BlockCoreFunctionSettings,
    BlockAiFunctionSettings,
    BlockIntegrationsFunctionSettings,
    ExecutionLimitsSettings,
):
    """OrchestratorFunction."""


class BlockCoreSettings(CommonSettings, StateMachineSettings):
    """BlockCoreFunction (the AgentExecutor starts sub-agent executions)."""


class BlockAiSettings(CommonSettings, PlatformLlmSettings, ReplicateSettings):
    """BlockAiFunction."""


class BlockIntegrationsSettings(CommonSettings, IntegrationKeysSettings):
    """BlockIntegrationsFunction."""


class StoreSettings(CommonSettings, JwtSettings):
    """StoreFunction."""


class LibrarySettings(CommonSettings, JwtSettings, StateMachineSettings, SchedulerSettings):
    """LibraryFunction: library, presets, schedules (EventBridge Scheduler)."""


class ScheduledRunSettings(CommonSettings, StateMachineSettings):
    """ScheduledRunFunction."""


class WebSocketFunctionSettings(WebSocketSettings, JwtSettings):
    """WsConnectFunction, WsDisconnectFunction, WsMessagesFunction (functions/ws)."""


class NotifierSettings(WebSocketSettings, ValuesBucketSettings):
    """NotifierFunction."""


# --- access ------------------------------------------------------------------------------
_required: EnvSettings | None = None  # the function's own settings (`require`)
_pieces: dict[type[EnvSettings], EnvSettings] = {}


def require[S: EnvSettings](cls: type[S]) -> S:
    """Validate a function's settings at cold start (its app.py, at import); raises
    SettingsError naming every missing, empty or invalid variable."""
    global _required
    settings = cls.from_env()
    _required = settings
    return settings


def get_settings[S: EnvSettings](cls: type[S]) -> S:
    """A piece of the settings, read once per container."""
    if isinstance(_required, cls):
        return _required
    found = _pieces.get(cls)
    if found is None:
        found = _pieces[cls] = cls.from_env()
    return found  # type: ignore[return-value]


def reset_settings() -> None:
    """Forget what was read (tests and the local cloud, after changing the environment)."""
    global _required
    _required = None
    _pieces.clear()
