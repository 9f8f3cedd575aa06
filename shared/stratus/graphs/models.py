"""AutoGPT's graph JSON (nodes, links, versions) as pydantic models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# A graph is AutoGPT's (no `kind` on its items) or a MAG graph (`kind: "mag"`), whose nodes are
# display copies of its agent nodes: `mag_config` is what runs, checked by stratus.mag.
MAG = "mag"
AUTOGPT = "autogpt"


def kind_of(item: dict[str, Any]) -> str:
    """The kind of a stored graph version item."""
    return item.get("kind") or AUTOGPT


class _Model(BaseModel):
    # Unknown fields of an AutoGPT export are ignored; inf/nan stay numbers in JSON output.
    model_config = ConfigDict(extra="ignore", ser_json_inf_nan="constants")


class Link(_Model):
    id: str = ""
    source_id: str
    sink_id: str
    source_name: str
    sink_name: str
    is_static: bool = False


class Node(_Model):
    id: str = ""
    block_id: str
    input_default: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)
    input_links: list[Link] = Field(default_factory=list)
    output_links: list[Link] = Field(default_factory=list)
    webhook_id: str | None = None


class Graph(_Model):
    """What clients send (create/update) and what an export holds."""

    id: str = ""
    version: int = 1
    is_active: bool = True
    name: str = Field(default="", max_length=500)
    description: str = Field(default="", max_length=20_000)
    instructions: str | None = None
    recommended_schedule_cron: str | None = None
    forked_from_id: str | None = None
    forked_from_version: int | None = None
    nodes: list[Node] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)
    # AutoGPT's export bundles the graphs its AgentExecutor nodes run (flattened); creating
    # the graph creates them too. Their own `sub_graphs` are ignored.
    sub_graphs: list[Graph] = Field(default_factory=list)


class CreateGraph(_Model):
    graph: Graph
    source: str | None = Field(default=None, pattern="^(builder|upload)$")


class SetActiveVersion(BaseModel):
    active_graph_version: int = Field(ge=1)


class GraphMeta(_Model):
    id: str
    version: int
    is_active: bool
    name: str
    description: str
    instructions: str | None = None
    recommended_schedule_cron: str | None = None
    forked_from_id: str | None = None
    forked_from_version: int | None = None
    user_id: str
    created_at: str
    updated_at: str | None = None


class GraphModel(GraphMeta):
    """A stored graph version as the API returns it."""

    nodes: list[Node]
    links: list[Link]
    # Filled by an export (for_export) and by a create that made bundled sub-graphs.
    sub_graphs: list[GraphModel] = Field(default_factory=list)
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    credentials_input_schema: dict[str, Any]


class MagGraphModel(GraphModel):
    """A stored MAG graph version (kind "mag"): its MAG config and the subgraph configs it runs.
    AutoGPT graphs are plain GraphModels, so their JSON is unchanged."""

    kind: str = MAG
    mag_config: dict[str, Any]
    mag_subgraphs: dict[str, dict[str, Any]] = Field(default_factory=dict)
