"""Every LLM provider through the product: graphs whose AITextGenerator runs a Claude, an
OpenRouter and a Groq model (AutoGPT's model table picks the provider) run in real executions
(the graph-execution ASL on moto, the block in BlockAiFunction) against the loopback model
server over HTTP: Anthropic's Messages API for Claude, the OpenAI-compatible API for the others,
with the user's stored key of that provider or the platform's key of that provider. The
graph's credentials_input_schema is AutoGPT's (one input per provider, its field names and
discriminator values), and execute takes the export's own names."""

from __future__ import annotations

from typing import Any

import pytest

from stratus.blocks.ai.providers import LLM_PROVIDERS
from tests.functional.test_state_machine import _wait, sfn_api  # noqa: F401 - the fixture
from tests.graph_dicts import agent_node_dict

TEXT_GENERATOR = "1f292d4a-41a4-4977-9684-7c8d560b9f91"
AGENT_INPUT = "c0a8e994-ebf1-4a9c-a4d8-89d09c86741b"
AGENT_OUTPUT = "363ae599-353e-4804-937e-b2ee3cef3da4"
CLAUDE = "claude-sonnet-4-5-20250929"
OPEN_ROUTER_MODEL = "meta-llama/llama-4-scout"
GROQ_MODEL = "llama-3.3-70b-versatile"
MODELS = {"anthropic": CLAUDE, "open_router": OPEN_ROUTER_MODEL, "groq": GROQ_MODEL}


def platform_key(provider: str) -> str:
    return f"platform-{provider}-key"


@pytest.fixture()
def api(sfn_api, model_server, monkeypatch):  # noqa: F811
    model_server.reset()
    for provider in LLM_PROVIDERS:  # every provider at the loopback server, each with its own platform key
        base = model_server.root_url if provider == "anthropic" else model_server.url
        monkeypatch.setenv(f"{provider.upper()}_BASE_URL", base)
        monkeypatch.setenv(f"{provider.upper()}_API_KEY", platform_key(provider))
    sfn_api.request("POST", "/api/auth/user", user="alice")
    return sfn_api


def graph(*models: str) -> dict[str, Any]:
    """Our own small graph: a topic input, one AITextGenerator per model, an output each."""
    nodes: list[dict[str, Any]] = [{"id": "topic", "block_id": AGENT_INPUT, "input_default": {"name": "topic"}}]
    links = []
    for index, model in enumerate(models):
        nodes.append(
            {
                "id": f"writer{index}",
                "block_id": TEXT_GENERATOR,
                "input_default": {"model": model, "prompt": "Write about {{topic}}", "sys_prompt": "Be brief."},
            }
        )
        nodes.append({"id": f"out{index}", "block_id": AGENT_OUTPUT, "input_default": {"name": f"text{index}"}})
        links.append(
            {
                "source_id": "topic",
                "source_name": "result",
                "sink_id": f"writer{index}",
                "sink_name": "prompt_values_#_topic",
            }
        )
        links.append(
            {"source_id": f"writer{index}", "source_name": "response", "sink_id": f"out{index}", "sink_name": "value"}
        )
    return {"name": "Writers", "description": "One writer per model.", "nodes": nodes, "links": links}


def upload(api, body: dict[str, Any]) -> dict[str, Any]:
    status, created = api.request("POST", "/api/graphs", user="alice", json_body={"graph": body})
    assert status == 200, created
    return created


def run(api, created: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    status, execution = api.request(
        "POST", f"/api/graphs/{created['id']}/execute/{created['version']}", user="alice", json_body=body
    )
    assert status == 200, execution
    assert _wait(execution["id"], 60)["status"] == "SUCCEEDED"
    status, result = api.request("GET", f"/api/graphs/{created['id']}/executions/{execution['id']}", user="alice")
    assert status == 200
    return result


def store_key(api, provider: str, key: str) -> dict[str, Any]:
    status, stored = api.request(
        "POST", f"/api/integrations/{provider}/credentials", user="alice", json_body={"api_key": key, "title": provider}
    )
    assert status in (200, 201), stored
    return {"id": stored["id"], "provider": provider, "type": "api_key", "title": stored["title"]}


@pytest.mark.parametrize("provider", sorted(MODELS))
def test_a_text_generator_of_each_provider_runs_on_the_platform_key_of_that_provider(api, model_server, provider):
    result = run(api, upload(api, graph(MODELS[provider])), {"inputs": {"topic": "clouds"}})
    assert result["status"] == "COMPLETED", result
    assert result["outputs"]["text0"] == ["Echo: Write about clouds"]
    [call] = model_server.calls
    assert call["api"] == ("messages" if provider == "anthropic" else "chat")
    assert call["api_key"] == platform_key(provider)
    assert call["body"]["model"] == MODELS[provider]
    if provider == "anthropic":  # the Messages API's own shape: the system prompt apart, max_tokens set
        assert call["body"]["system"][0]["text"] == "Be brief."
        assert call["body"]["messages"] == [{"role": "user", "content": "Write about clouds"}]
        assert call["body"]["max_tokens"] > 0
    else:
        assert [m["role"] for m in call["body"]["messages"]] == ["system", "user"]
    assert result["stats"]["cost"] >= 1  # the platform's key: charged by the model's TOKEN rate


@pytest.mark.parametrize("provider", sorted(MODELS))
def test_a_text_generator_of_each_provider_runs_with_the_users_key_of_that_provider(api, model_server, provider):
    credentials = store_key(api, provider, f"sk-alice-{provider}")
    body = graph(MODELS[provider])
    body["nodes"][1]["input_default"]["credentials"] = credentials
    result = run(api, upload(api, body), {"inputs": {"topic": "rain"}})
    assert result["status"] == "COMPLETED", result
    assert result["outputs"]["text0"] == ["Echo: Write about rain"]
    assert [call["api_key"] for call in model_server.calls] == [f"sk-alice-{provider}"]
    assert result["stats"]["cost"] == 0  # the user's own key: the provider bills them


def test_the_credentials_input_schema_has_one_input_per_provider_as_autogpt(api):
    created = upload(api, graph(CLAUDE, OPEN_ROUTER_MODEL, GROQ_MODEL, "claude-haiku-4-5-20251001", "gpt-4o"))
    schema = created["credentials_input_schema"]
    assert schema["type"] == "object" and schema["required"] == []
    assert set(schema["properties"]) == {
        "anthropic_api_key_credentials",
        "open_router_api_key_credentials",
        "groq_api_key_credentials",
        "openai_api_key_credentials",
    }
    anthropic = schema["properties"]["anthropic_api_key_credentials"]
    assert anthropic["credentials_provider"] == ["anthropic"] and anthropic["credentials_types"] == ["api_key"]
    assert anthropic["type"] == "object" and anthropic["required"] == ["id", "provider", "type"]
    assert anthropic["properties"]["provider"] == {"title": "Provider", "type": "string", "const": "anthropic"}
    assert anthropic["properties"]["type"] == {"title": "Type", "type": "string", "const": "api_key"}
    assert anthropic["properties"]["title"]["default"] is None
    # The two Claude nodes share one input; their models are its discriminator values.
    assert anthropic["discriminator"] == "model"
    assert anthropic["discriminator_values"] == [CLAUDE, "claude-haiku-4-5-20251001"]
    assert anthropic["discriminator_mapping"][GROQ_MODEL] == "groq"
    assert schema["properties"]["groq_api_key_credentials"]["discriminator_values"] == [GROQ_MODEL]


def test_execute_takes_the_exports_own_credentials_names_and_each_key_goes_to_its_provider(api, model_server):
    """`anthropic_api_key_credentials` and `groq_api_key_credentials` at execute: the Claude
    node gets the Anthropic key, the Groq node the Groq key, the OpenAI node (no input given)
    the platform's OpenAI key."""
    created = upload(api, graph(CLAUDE, GROQ_MODEL, "gpt-4o-mini"))
    anthropic, groq = store_key(api, "anthropic", "sk-ant-alice"), store_key(api, "groq", "gsk-alice")
    result = run(
        api,
        created,
        {
            "inputs": {"topic": "snow"},
            "credentials_inputs": {"anthropic_api_key_credentials": anthropic, "groq_api_key_credentials": groq},
        },
    )
    assert result["status"] == "COMPLETED", result
    sent = {call["body"]["model"]: (call["api"], call["api_key"]) for call in model_server.calls}
    assert sent == {
        CLAUDE: ("messages", "sk-ant-alice"),
        GROQ_MODEL: ("chat", "gsk-alice"),
        "gpt-4o-mini": ("chat", platform_key("openai")),
    }


def test_a_key_of_another_provider_is_refused_at_execute_and_never_sent(api, model_server):
    created = upload(api, graph(CLAUDE))
    openai = store_key(api, "openai", "sk-openai-alice")
    status, error = api.request(
        "POST",
        f"/api/graphs/{created['id']}/execute/1",
        user="alice",
        json_body={"inputs": {"topic": "x"}, "credentials_inputs": {"anthropic_api_key_credentials": openai}},
    )
    assert status == 400 and "anthropic" in error["detail"]
    # On the node itself, another provider's key counts as none: the platform's Anthropic key runs it.
    body = graph(CLAUDE)
    body["nodes"][1]["input_default"]["credentials"] = openai
    result = run(api, upload(api, body), {"inputs": {"topic": "fog"}})
    assert result["status"] == "COMPLETED", result
    assert [call["api_key"] for call in model_server.calls] == [platform_key("anthropic")]


def test_an_exports_credentials_reference_the_user_does_not_have_runs_on_the_platform_key(api, model_server):
    """An export naming its author's credentials, or AutoGPT's system credentials ("Use Credits
    for Anthropic"), imports and runs unchanged on the platform's key of the provider."""
    body = graph(CLAUDE, OPEN_ROUTER_MODEL)
    body["nodes"][1]["input_default"]["credentials"] = {
        "id": "5d1b3f1e-0000-4000-8000-00000000abcd",
        "provider": "anthropic",
        "type": "api_key",
        "title": "Author's Anthropic key",
    }
    body["nodes"][3]["input_default"]["credentials"] = {
        "id": "b5a0e27d-0c98-4df3-a4b9-10193e1f3c40",
        "provider": "open_router",
        "type": "api_key",
        "title": "Use Credits for Open Router",
    }
    result = run(api, upload(api, body), {"inputs": {"topic": "wind"}})
    assert result["status"] == "COMPLETED", result
    assert sorted(call["api_key"] for call in model_server.calls) == sorted(
        [platform_key("anthropic"), platform_key("open_router")]
    )
    assert result["stats"]["cost"] >= 2  # both were the platform's runs: charged


def test_without_a_platform_key_of_the_provider_the_node_fails_clearly(api, model_server, monkeypatch):
    monkeypatch.delenv("GROQ_API_KEY")
    result = run(api, upload(api, graph(GROQ_MODEL)), {"inputs": {"topic": "hail"}})
    [writer] = [n for n in result["node_executions"] if n["block_id"] == TEXT_GENERATOR]
    assert writer["status"] == "FAILED"
    assert "No API key for the LLM provider 'groq'" in writer["output_data"]["error"][0]
    assert model_server.calls == []


def parent_of(child: dict[str, Any], name: str = "Parent") -> dict[str, Any]:
    """Our own small graph without an LLM node: topic → AgentExecutor(child) → text0."""
    agent = agent_node_dict(child)
    return {
        "name": name,
        "nodes": [
            {"id": "topic", "block_id": AGENT_INPUT, "input_default": {"name": "topic"}},
            agent,
            {"id": "out", "block_id": AGENT_OUTPUT, "input_default": {"name": "text0"}},
        ],
        "links": [
            {"source_id": "topic", "source_name": "result", "sink_id": "agent", "sink_name": "topic"},
            {"source_id": "agent", "source_name": "text0", "sink_id": "out", "sink_name": "value"},
        ],
    }


def test_the_credentials_input_schema_has_the_inputs_of_the_sub_agents_nodes(api):
    """AutoGPT aggregates over `[self] + self.sub_graphs`: a graph whose only Claude node is in
    a sub-agent (two levels down) takes an Anthropic key, with that node's model."""
    child = upload(api, graph(CLAUDE))
    parent = upload(api, parent_of(child))
    grandparent = upload(api, parent_of(parent, "Grandparent"))
    for created in (parent, grandparent):
        assert set(created["credentials_input_schema"]["properties"]) == {"anthropic_api_key_credentials"}
        anthropic = created["credentials_input_schema"]["properties"]["anthropic_api_key_credentials"]
        assert anthropic["discriminator_values"] == [CLAUDE]
        status, read = api.request("GET", f"/api/graphs/{created['id']}", user="alice")
        assert status == 200 and read["credentials_input_schema"] == created["credentials_input_schema"]
    # A graph without AgentExecutor nodes has only its own.
    assert set(upload(api, graph(GROQ_MODEL))["credentials_input_schema"]["properties"]) == {"groq_api_key_credentials"}


def test_the_users_key_given_at_execute_reaches_the_llm_node_of_a_sub_agent(api, model_server):
    child = upload(api, graph(CLAUDE))
    parent = upload(api, parent_of(child))
    anthropic = store_key(api, "anthropic", "sk-ant-alice-sub")
    result = run(
        api, parent, {"inputs": {"topic": "fog"}, "credentials_inputs": {"anthropic_api_key_credentials": anthropic}}
    )
    assert result["status"] == "COMPLETED", result
    assert result["outputs"]["text0"] == ["Echo: Write about fog"]
    [call] = model_server.calls
    assert (call["api"], call["api_key"], call["body"]["model"]) == ("messages", "sk-ant-alice-sub", CLAUDE)


def test_a_sub_agent_never_runs_with_another_users_credentials_given_at_execute(api, model_server):
    child = upload(api, graph(CLAUDE))
    parent = upload(api, parent_of(child))
    api.request("POST", "/api/auth/user", user="mallory")
    status, stored = api.request(
        "POST",
        "/api/integrations/anthropic/credentials",
        user="mallory",
        json_body={"api_key": "sk-ant-mallory", "title": "m"},
    )
    assert status in (200, 201), stored
    theirs = {"id": stored["id"], "provider": "anthropic", "type": "api_key", "title": "m"}
    status, body = api.request(
        "POST",
        f"/api/graphs/{parent['id']}/execute/{parent['version']}",
        user="alice",
        json_body={"inputs": {"topic": "x"}, "credentials_inputs": {"anthropic_api_key_credentials": theirs}},
    )
    assert status == 404, body
    assert model_server.calls == []


def test_the_credentials_input_schema_of_a_graph_that_runs_itself_reads_each_version_once(api):
    """Version 2 runs version 2 (itself) and version 1 (a Groq writer): the aggregation ends,
    with each version's fields once."""
    first = upload(api, graph(GROQ_MODEL))
    itself = {**first, "version": 2}
    body = parent_of(itself, "Ouroboros")
    body["nodes"].append({**parent_of(first)["nodes"][1], "id": "agent_v1"})
    body["nodes"].append(graph(CLAUDE)["nodes"][1])
    status, updated = api.request("PUT", f"/api/graphs/{first['id']}", user="alice", json_body=body)
    assert status == 200 and updated["version"] == 2, updated
    properties = updated["credentials_input_schema"]["properties"]
    assert set(properties) == {"anthropic_api_key_credentials", "groq_api_key_credentials"}
    assert properties["anthropic_api_key_credentials"]["discriminator_values"] == [CLAUDE]
    assert properties["groq_api_key_credentials"]["discriminator_values"] == [GROQ_MODEL]
