"""MAG graph packages: read an uploaded graph (JSON or zip package) and build the export zip.

A package is MAG's export zip: `config.json` (the GraphConfig), `readme.md`,
`attachment/mcp.json` ({"mcpServers": {...}}) and `attachment/model.json` ({"models": [...]},
api keys blank). Pure: bytes in, models out; nothing is extracted to disk.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from pydantic import BaseModel, ValidationError

from stratus.errors import BadRequest, StratusError, Unprocessable
from stratus.mag.models import GraphConfig, McpServerConfig, ModelConfig
from stratus.payload_limits import check_structure

# An upload crosses API Gateway (10 MB) and Lambda (6 MB, base64) : a package is small text.
MAX_UPLOAD_BYTES = 4 * 1024 * 1024
MAX_MEMBERS = 200
MAX_MEMBER_BYTES = 2 * 1024 * 1024  # uncompressed size of one file we read
MAX_TOTAL_BYTES = 8 * 1024 * 1024  # uncompressed size of the whole archive, as declared
MAX_RATIO = 200  # uncompressed/compressed of one member: higher is a zip bomb

CONFIG = "config.json"
README = "readme.md"
MCP = "attachment/mcp.json"
MODELS = "attachment/model.json"


class PackageTooLarge(StratusError):
    status_code = 413


@dataclass
class GraphPackage:
    """What an upload holds: the graph and the servers and models it brings along."""

    config: GraphConfig
    mcp_servers: dict[str, McpServerConfig] = field(default_factory=dict)
    models: list[ModelConfig] = field(default_factory=list)


def _errors(exc: ValidationError) -> list[dict[str, Any]]:
    # Same shape as FastAPI's 422 detail, without the echoed input (it may hold secrets).
    return [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()]


def _invalid(where: str, exc: ValidationError) -> Unprocessable:
    return Unprocessable({"message": f"{where} is not valid.", "errors": _errors(exc)})


def parse_graph_config(data: Any, where: str = "The graph") -> GraphConfig:
    check_structure(data, "graph")
    try:
        return GraphConfig.model_validate(data)
    except ValidationError as exc:
        raise _invalid(where, exc) from exc


def parse_mcp_servers(data: Any, where: str = "mcpServers") -> dict[str, McpServerConfig]:
    """MAG's {"mcpServers": {name: config}} (or the inner mapping) as configs."""
    if isinstance(data, dict) and "mcpServers" in data:
        data = data["mcpServers"]
    check_structure(data, where)
    if not isinstance(data, dict):
        raise BadRequest(f"{where} must be an object of server name → config.")
    servers = {}
    for name, config in data.items():
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise BadRequest(f"{where}: a server name must be 1 to 100 characters.")
        try:
            servers[name] = McpServerConfig.model_validate(config)
        except ValidationError as exc:
            raise _invalid(f"{where} server {name!r}", exc) from exc
    return servers


def _parse_models(data: Any) -> list[ModelConfig]:
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, list):
        raise BadRequest(f'{MODELS} must be {{"models": [...]}}.')
    parsed = []
    for index, model in enumerate(models):
        try:
            parsed.append(ModelConfig.model_validate(model))
        except ValidationError as exc:
            raise _invalid(f"{MODELS} model {index}", exc) from exc
    return parsed


def _json(raw: bytes, where: str) -> Any:
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"{where} is not valid UTF-8 JSON: {exc}") from exc


def _safe_name(name: str) -> str:
    """The member's normalised path; refuses absolute paths and `..` (zip slip)."""
    if "\\" in name or name.startswith("/") or "\x00" in name:
        raise BadRequest(f"The package has an unsafe file path: {name!r}.")
    path = PurePosixPath(name)
    if any(part == ".." for part in path.parts) or (path.parts and ":" in path.parts[0]):
        raise BadRequest(f"The package has an unsafe file path: {name!r}.")
    return str(path)


def _members(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise PackageTooLarge(f"The package has {len(infos)} files; the limit is {MAX_MEMBERS}.")
    if sum(info.file_size for info in infos) > MAX_TOTAL_BYTES:
        raise PackageTooLarge(f"The package unpacks to more than {MAX_TOTAL_BYTES // (1024 * 1024)} MB.")
    files = {_safe_name(info.filename): info for info in infos if not info.is_dir()}
    # A zip made of a folder ("my_graph/config.json") is read from inside that folder.
    if CONFIG not in files:
        tops = {name.split("/", 1)[0] for name in files}
        if len(tops) == 1 and f"{next(iter(tops))}/{CONFIG}" in files:
            prefix = next(iter(tops)) + "/"
            files = {name[len(prefix) :]: info for name, info in files.items()}
    return files


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """The member's bytes, never more than the limits: the declared sizes may lie."""
    if info.file_size > MAX_MEMBER_BYTES:
        raise PackageTooLarge(f"{info.filename} is larger than {MAX_MEMBER_BYTES // (1024 * 1024)} MB.")
    if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
        raise PackageTooLarge(f"{info.filename} is compressed suspiciously well (a zip bomb?).")
    try:
        with archive.open(info) as member:
            data = member.read(MAX_MEMBER_BYTES + 1)
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError) as exc:
        raise BadRequest(f"{info.filename} cannot be read from the package: {exc}") from exc
    if len(data) > MAX_MEMBER_BYTES:
        raise PackageTooLarge(f"{info.filename} is larger than {MAX_MEMBER_BYTES // (1024 * 1024)} MB.")
    return data


def read_zip_package(payload: bytes) -> GraphPackage:
    if len(payload) > MAX_UPLOAD_BYTES:
        raise PackageTooLarge(f"The package is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(payload))
    except zipfile.BadZipFile as exc:
        raise BadRequest("The upload is not a valid zip package.") from exc
    with archive:
        files = _members(archive)
        if CONFIG not in files:
            raise BadRequest(f"The package has no {CONFIG}.")
        config_data = _json(_read(archive, files[CONFIG]), CONFIG)
        if isinstance(config_data, dict) and README in files and not config_data.get("readme"):
            config_data["readme"] = _read(archive, files[README]).decode("utf-8", errors="replace")
        config = parse_graph_config(config_data, CONFIG)
        servers = parse_mcp_servers(_json(_read(archive, files[MCP]), MCP), MCP) if MCP in files else {}
        models = _parse_models(_json(_read(archive, files[MODELS]), MODELS)) if MODELS in files else []
    return GraphPackage(config=config, mcp_servers=servers, models=models)


def read_upload(payload: bytes) -> GraphPackage:
    """A zip package (by its magic bytes) or a GraphConfig as JSON."""
    if not payload:
        raise BadRequest("The upload is empty: send a MAG graph as JSON or its zip package.")
    if payload[:4] == b"PK\x03\x04" or payload[:4] == b"PK\x05\x06":
        return read_zip_package(payload)
    if len(payload) > MAX_MEMBER_BYTES:
        raise PackageTooLarge(f"The graph is larger than {MAX_MEMBER_BYTES // (1024 * 1024)} MB.")
    return GraphPackage(config=parse_graph_config(_json(payload, "The graph")))


# --- export ------------------------------------------------------------------------------
def used_servers(configs: list[GraphConfig]) -> list[str]:
    return sorted({name for config in configs for node in config.nodes for name in node.mcp_servers})


def used_models(configs: list[GraphConfig]) -> list[str]:
    return sorted({node.model_name for config in configs for node in config.nodes if node.model_name})


def _dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True)


def blank_secrets(server: McpServerConfig) -> dict[str, Any]:
    """A server as MAG writes it, with env values (keys of stdio servers) blanked."""
    dumped = _dump(server)
    dumped["env"] = {key: "" for key in server.env}
    return dumped


def build_zip_package(config: GraphConfig, servers: dict[str, McpServerConfig], models: list[ModelConfig]) -> bytes:
    """MAG's export package; api keys and server env values are blanked."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def write(name: str, data: Any) -> None:
            archive.writestr(name, json.dumps(data, ensure_ascii=False, indent=2))

        write(CONFIG, _dump(config))
        archive.writestr(README, config.readme or f"# {config.name}\n\n{config.description}\n")
        write(MCP, {"mcpServers": {name: blank_secrets(server) for name, server in sorted(servers.items())}})
        write(MODELS, {"models": [{**_dump(model), "api_key": ""} for model in models]})
    return buffer.getvalue()
