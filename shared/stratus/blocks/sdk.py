"""The block SDK: what a block is, compatible with AutoGPT's block definitions.

A block is a class with a fixed UUID, pydantic Input/Output schemas, costs, and an async
generator `run` that yields `(output_name, value)` pairs. Every block except input/output
blocks has an implicit `error` output.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from enum import Enum
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from stratus.blocks.typeconv import ConversionError, convert_to_annotation

BlockOutput = AsyncIterator[tuple[str, Any]]


class BlockCategory(str, Enum):
    AI = "Block that leverages AI to perform a task."
    SOCIAL = "Block that interacts with social media platforms."
    TEXT = "Block that processes text data."
    SEARCH = "Block that searches or extracts information from the internet."
    BASIC = "Block that performs basic operations."
    INPUT = "Block that interacts with input of the graph."
    OUTPUT = "Block that interacts with output of the graph."
    LOGIC = "Programming logic to control the flow of your agent"
    COMMUNICATION = "Block that interacts with communication platforms."
    DEVELOPER_TOOLS = "Developer tools such as GitHub blocks."
    DATA = "Block that interacts with structured data."
    HARDWARE = "Block that interacts with hardware."
    AGENT = "Block that interacts with other agents."
    CRM = "Block that interacts with CRM services."
    SAFETY = "Block that provides AI safety mechanisms such as detecting harmful content"
    PRODUCTIVITY = "Block that helps with productivity"
    ISSUE_TRACKING = "Block that helps with issue tracking"
    MULTIMEDIA = "Block that interacts with multimedia content"
    MARKETING = "Block that helps with marketing"

    def to_dict(self) -> dict[str, str]:
        return {"category": self.name, "description": self.value}


class BlockType(str, Enum):
    STANDARD = "Standard"
    INPUT = "Input"
    OUTPUT = "Output"
    NOTE = "Note"
    AGENT = "Agent"
    AI = "AI"  # SmartDecisionMaker: yields pins of its own making (tool arguments), not checked


class BlockCostType(str, Enum):
    RUN = "run"  # per run
    BYTE = "byte"  # per byte of input
    SECOND = "second"  # per second of run time
    TOKEN = "token"  # per 1,000 model tokens (input + output): reserved before the run, settled after


class BlockCost(BaseModel):
    cost_amount: int
    cost_filter: dict[str, Any] = Field(default_factory=dict)
    cost_type: BlockCostType = BlockCostType.RUN


class InputLink(Protocol):
    """What a readiness hook sees of a link into the node (stratus.graphs.models.Link)."""

    source_id: str
    source_name: str
    sink_id: str
    sink_name: str
    is_static: bool


class BlockSchema(BaseModel):
    """Base of every Input and Output schema. Unknown fields are ignored, as in AutoGPT.

    Readiness (AutoGPT's `validate_exec`): a node execution is queued when
    `get_missing_links(received, links)` and then `get_missing_input(merged)` are both empty.
    Input schemas may override either classmethod (AutoGPT's SmartDecisionMaker does); a hook
    that raises fails that node execution with the message.
    """

    model_config = ConfigDict(extra="ignore", arbitrary_types_allowed=True)

    @classmethod
    def jsonschema(cls) -> dict[str, Any]:
        schema = cls.model_json_schema()
        schema.pop("title", None)
        return schema

    @classmethod
    def field_names(cls) -> set[str]:
        return set(cls.model_fields)

    @classmethod
    def required_fields(cls) -> set[str]:
        return {name for name, field in cls.model_fields.items() if field.is_required()}

    @classmethod
    def get_missing_links(cls, data: Mapping[str, Any], links: Sequence[InputLink]) -> set[str]:
        """The linked pins this execution still waits for. `data`: the values it received (pin
        names as linked, dynamic pins unmerged, static values filled in, no defaults); `links`:
        every link into the node, static ones included. Default: every linked pin needs a value
        (a default in input_default never satisfies a linked pin)."""
        return {link.sink_name for link in links} - set(data)

    @classmethod
    def get_missing_input(cls, data: Mapping[str, Any]) -> set[str]:
        """Required inputs without a value. `data`: input_default, then the received values,
        dynamic pins merged (what the block would run on)."""
        return cls.required_fields() - set(data)


class BlockSchemaOutput(BlockSchema):
    """Output schemas of standard blocks: the implicit `error` pin."""

    error: str = Field(default="", description="Error message if the block failed")


class BlockInputError(ValueError):
    """Inputs that do not fit the block's input schema: `errors` maps pin → message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{pin}: {message}" for pin, message in errors.items()))
        self.errors = errors


class Block:
    id: ClassVar[str]
    description: ClassVar[str] = ""
    categories: ClassVar[set[BlockCategory]] = {BlockCategory.BASIC}
    input_schema: ClassVar[type[BlockSchema]]
    output_schema: ClassVar[type[BlockSchema]]
    block_type: ClassVar[BlockType] = BlockType.STANDARD
    static_output: ClassVar[bool] = False
    costs: ClassVar[list[BlockCost]] = []
    # Which Lambda group runs it (functions/blocks/<group>/).
    group: ClassVar[str] = "core"
    # Cheap blocks run inside the orchestrator's advance step; blocks that wait on the
    # network or the clock get a Lambda invocation of their group each.
    runs_inline: ClassVar[bool] = True
    # Blocks that finish later, from elsewhere (the AgentExecutor: its child execution's
    # finalizer): the state machine waits on a task token instead of a running Lambda.
    waits_for_callback: ClassVar[bool] = False
    # (inputs, expected outputs) pairs; outputs are (name, value) in yield order.
    test_input: ClassVar[dict[str, Any] | list[dict[str, Any]]] = {}
    test_output: ClassVar[list[tuple[str, Any]] | tuple[str, Any]] = []
    # Methods replaced during the self-test, as AutoGPT's test_mock (name -> plain function;
    # an async method's mock is awaited): the parts that reach outside services or stores.
    test_mock: ClassVar[dict[str, Any]] = {}
    # The `credentials` run kwarg of the self-test (AutoGPT's test_credentials: an
    # APIKeyCredentials / OAuth2Credentials of stratus.blocks.credentials with a fake secret).
    test_credentials: ClassVar[Any] = None

    @property
    def name(self) -> str:
        return type(self).__name__

    async def run(self, input_data: Any, **kwargs: Any) -> BlockOutput:
        raise NotImplementedError
        yield  # pragma: no cover - makes this an async generator

    def token_limit(self, input_data: Any) -> int | None:
        """The most model tokens (prompt + completion, every call and retry) one run on these
        inputs may use, or None for blocks that call no model. A TOKEN cost reserves this much
        before the run; the run gets it as the `token_limit` kwarg and must stay within it."""
        return None

    # --- validation and execution -------------------------------------------------
    def convert_input(self, data: dict[str, Any], strict: bool = False) -> dict[str, Any]:
        """A node's input as AutoGPT's validate_exec prepares it before validation: each value
        not None and not exactly of its field's type converted by typeconv (a graph node's
        inputs, on every path: inline, block Lambda, sub-agent, graph inputs). A one-off run
        (the blocks API, a block's self-test) is validated as given, as in AutoGPT. `strict`: see
        typeconv.convert (a graph's inputs from the API)."""
        converted = {}
        for name, value in data.items():
            field = self.input_schema.model_fields.get(name)
            try:
                converted[name] = convert_to_annotation(value, field.annotation, strict) if field else value
            except ConversionError as exc:
                raise BlockInputError({name: str(exc)}) from exc
        return converted

    def validate_input(self, data: dict[str, Any]) -> BlockSchema:
        try:
            return self.input_schema.model_validate(data)
        except ValidationError as exc:
            errors: dict[str, str] = {}
            for error in exc.errors():
                pin = ".".join(str(part) for part in error.get("loc", ())) or "input"
                errors.setdefault(pin, error.get("msg", "invalid"))
            raise BlockInputError(errors) from exc

    async def execute(self, data: dict[str, Any], **kwargs: Any) -> BlockOutput:
        """Validate inputs, run, and check every yielded pin exists on the output schema."""
        inputs = self.validate_input(data)
        outputs = self.output_schema.field_names()
        async for name, value in self.run(inputs, **kwargs):
            if name not in outputs and name != "error" and self.block_type is not BlockType.AI:
                raise ValueError(f"Block {self.name} produced an unknown output pin {name!r}")
            yield name, value

    # --- description ----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "categories": [category.to_dict() for category in sorted(self.categories, key=lambda c: c.name)],
            "inputSchema": self.input_schema.jsonschema(),
            "outputSchema": self.output_schema.jsonschema(),
            "staticOutput": self.static_output,
            "uiType": self.block_type.value,
            "contributors": [],
            "costs": [cost.model_dump(mode="json") for cost in self.costs],
        }

    def node_pins(self, input_default: dict[str, Any]) -> tuple[set[str], set[str]]:
        """(input pins, output pins) a node of this block adds to its schemas' own: none,
        except for blocks whose pins depend on the node (the AgentExecutor's child graph)."""
        return set(), set()

    def has_error_pin(self) -> bool:
        return self.block_type not in (BlockType.INPUT, BlockType.OUTPUT)
