"""MAG graph packages: JSON and zip uploads, the export zip, and the refusals that keep an
upload from costing more than it should."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from stratus.errors import BadRequest, Unprocessable
from stratus.mag import packages
from stratus.mag.models import GraphConfig, McpServerConfig, ModelConfig

CONFIG = {
    "name": "research",
    "description": "Two agents",
    "nodes": [
        {
            "name": "searcher",
            "model_name": "gpt",
            "mcp_servers": ["search"],
            "input_nodes": ["start"],
            "output_nodes": ["writer"],
            "user_prompt": "Find {{start}}",
        },
        {"name": "writer", "model_name": "gpt", "input_nodes": ["searcher"], "output_nodes": ["end"]},
    ],
    "end_template": "{{writer}}",
}
SERVERS = {"search": {"transportType": "streamable_http", "url": "https://api.example.com/mcp"}}
MODELS = [{"name": "gpt", "base_url": "https://api.example.com/v1", "api_key": "", "model": "gpt-4o-mini"}]


def zip_of(files: dict[str, bytes | str], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def package_files(**overrides: bytes | str) -> dict[str, bytes | str]:
    return {
        "config.json": json.dumps(CONFIG),
        "readme.md": "# Research\n",
        "attachment/mcp.json": json.dumps({"mcpServers": SERVERS}),
        "attachment/model.json": json.dumps({"models": MODELS}),
        **overrides,
    }


def test_a_json_upload_is_a_graph_config_without_attachments():
    package = packages.read_upload(json.dumps(CONFIG).encode())
    assert package.config.name == "research" and [n.name for n in package.config.nodes] == ["searcher", "writer"]
    assert package.mcp_servers == {} and package.models == []


def test_a_zip_package_brings_its_readme_servers_and_models():
    package = packages.read_upload(zip_of(package_files()))
    assert package.config.readme == "# Research\n"
    assert package.mcp_servers["search"].url == "https://api.example.com/mcp"
    assert [m.model for m in package.models] == ["gpt-4o-mini"]


def test_a_zip_of_a_folder_is_read_from_inside_it():
    files = {f"research/{name}": data for name, data in package_files().items()}
    assert packages.read_upload(zip_of(files)).config.name == "research"


def test_export_round_trips_and_blanks_secrets():
    config = GraphConfig.model_validate({**CONFIG, "readme": "# Research\n"})
    servers = {
        "search": McpServerConfig.model_validate(SERVERS["search"]),
        "local": McpServerConfig(command="npx", args=["tool"], env={"TOKEN": "s3cr3t"}),
    }
    models = [ModelConfig.model_validate({**MODELS[0], "api_key": "sk-live-secret", "temperature": 0.2})]
    payload = packages.build_zip_package(config, servers, models)
    assert b"s3cr3t" not in payload and b"sk-live-secret" not in payload
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        assert sorted(archive.namelist()) == [
            "attachment/mcp.json",
            "attachment/model.json",
            "config.json",
            "readme.md",
        ]
        mcp = json.loads(archive.read("attachment/mcp.json"))
        assert mcp["mcpServers"]["search"]["transportType"] == "streamable_http"
        assert mcp["mcpServers"]["local"]["env"] == {"TOKEN": ""}
        assert json.loads(archive.read("attachment/model.json"))["models"][0]["api_key"] == ""
    again = packages.read_upload(payload)
    assert again.config == config
    assert again.models[0].temperature == 0.2 and again.models[0].api_key == ""
    assert set(again.mcp_servers) == {"search", "local"}


@pytest.mark.parametrize("name", ["../config.json", "/etc/passwd", "a/../../x", "..\\evil", "C:/x"])
def test_path_traversal_is_refused(name):
    with pytest.raises(BadRequest, match="unsafe file path"):
        packages.read_upload(zip_of(package_files(**{name: "x"})))


def test_a_zip_bomb_is_refused_before_it_is_inflated():
    padded = json.dumps(CONFIG) + " " * (packages.MAX_MEMBER_BYTES // 2)  # under the size limit, ~1000:1
    with pytest.raises(packages.PackageTooLarge, match="zip bomb") as raised:
        packages.read_upload(zip_of(package_files(**{"config.json": padded})))
    assert raised.value.status_code == 413


def test_an_oversized_member_is_refused():
    big = json.dumps({**CONFIG, "description": "x" * packages.MAX_MEMBER_BYTES})
    with pytest.raises(packages.PackageTooLarge, match="larger than"):
        packages.read_upload(zip_of(package_files(**{"config.json": big}), compression=zipfile.ZIP_STORED))


def test_declared_sizes_are_not_trusted():
    # A member whose header claims less than it holds still stops at the limit.
    data = bytearray(
        zip_of({"config.json": b"{" + b"x" * (packages.MAX_MEMBER_BYTES + 100)}, compression=zipfile.ZIP_STORED)
    )
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # uncompressed size fields
        at = data.find(signature) + offset
        data[at : at + 4] = (10).to_bytes(4, "little")
    with pytest.raises(BadRequest):  # zipfile notices the lie before we read past the limit
        packages.read_upload(bytes(data))


def test_limits_on_the_upload_and_the_member_count():
    with pytest.raises(packages.PackageTooLarge):
        packages.read_upload(b"PK\x03\x04" + b"\0" * packages.MAX_UPLOAD_BYTES)
    many = {f"attachment/{i}.txt": "x" for i in range(packages.MAX_MEMBERS + 1)}
    with pytest.raises(packages.PackageTooLarge, match="files"):
        packages.read_upload(zip_of(package_files(**many)))


@pytest.mark.parametrize(
    "payload, error, message",
    [
        (b"", BadRequest, "empty"),
        (b"not json", BadRequest, "not valid UTF-8 JSON"),
        (b"PK\x03\x04garbage", BadRequest, "not a valid zip"),
        (zip_of({"readme.md": "hi"}), BadRequest, "no config.json"),
        (zip_of(package_files(**{"attachment/mcp.json": "[]"})), BadRequest, "mcp.json"),
        (zip_of(package_files(**{"attachment/model.json": '{"models": [{"name": "x"}]}'})), Unprocessable, "model 0"),
        (json.dumps({**CONFIG, "name": "a/b"}).encode(), Unprocessable, "The graph is not valid"),
    ],
)
def test_bad_uploads_are_clear_4xx(payload, error, message):
    with pytest.raises(error) as raised:
        packages.read_upload(payload)
    assert 400 <= raised.value.status_code < 500
    assert message in json.dumps(raised.value.detail)
