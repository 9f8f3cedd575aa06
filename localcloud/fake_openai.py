"""A deterministic OpenAI-compatible chat server on loopback: AI blocks run with no network.

    server = FakeOpenAI().start()      # server.url == "http://127.0.0.1:<port>/v1"
    ...                                # point the openai client (base_url) at server.url
    server.stop()

Endpoints: POST /v1/chat/completions (non-streaming, OpenAI's wire format: OpenAI and every
OpenAI-compatible provider), POST /v1/messages (Anthropic's Messages API, non-streaming, what
the `anthropic` SDK sends: point it at `server.root_url`) and GET /v1/models. The reply is a
pure function of the request:

* JSON mode — `response_format: {"type": "json_object"}`, or a system message that embeds a
  JSON object describing the expected keys (what the LLM blocks send): a JSON object with
  exactly those keys. The key `list` gets a JSON array of strings; `summary` and
  `final_summary` get a short summary of the user text; any other key gets
  "<key>: <first words of the user message>".
  A retry complaint (a user message starting "Your previous response") is not the task.
  If a system message asks for a JSON "array of objects", the object is wrapped: `[obj]`, or
  `{"results": [obj]}` when that message mentions "results".
* A request for a Python list (a system/user message mentioning "python list"): a Python list
  literal such as `['Alpha', 'Beta']`, as older AutoGPT list generators parse.
* Tool calls, when the request offers `tools` and the last message is the user's: each line
  `CALL_TOOL <name> <json arguments>` of that message whose tool is offered becomes a tool call,
  and each line `HANDOFF <node>` becomes a call of the offered `transfer_to_<node>` tool (in
  line order, duplicates once; the content is the usual echo). Lines naming tools that are not
  offered are ignored, so a handoff stops once its tool is no longer offered.
  A line `THEN` splits the directives into turns: the first turn's calls answer the user's
  message, the next turn's answer the tool results that follow (one turn per assistant reply
  with tool calls since that message), and once the turns are used up the tool results are
  answered as below (a SmartDecisionMaker that calls two tools in turn, then finishes).
  `parallel_tool_calls: false` keeps only the first call of a turn.
* After tool results (the last message is a `tool` message): "Tool results: <r1> | <r2>", the
  contents of the tool messages since the last assistant message.
* An XML request (`_xml_reply`): when a line of the prompt asks for output in tags ("Output
  the title inside <title></title> xml tags", "enclosed in <domains> XML tags", "Provide … within
  <x> tags"), or elements follow a line asking for a format ("… in the following
  format:\n\n<title>…</title>\n\n<body>…</body>", "Example:\n<images>…": the elements right
  after that line, list items such as "1) <kd>…</kd> — …" included, up to the first text
  between them), the reply holds one
  element per tag so named (tags nested in another named tag's example stay inside it). An
  element is the prompt's own example of it when the example has child elements (so
  `<stories><story>…</story></stories>` comes back with its `<story>` items), else the tag
  around the example's text, or "<tag> for <first words of the user message>" when the
  example is empty. Several named tags give several top-level elements, as a model following
  the prompt would write them.
* A true/false question (a message asking to "Respond with only 'true' or 'false'", as
  AIConditionBlock asks): "false" when the `Input value:` line is empty, false, no, 0 or none,
  else "true".
* Otherwise: "Echo: <last user message>".

List items come from a `<source_data>…</source_data>` section of the user message (split into
sentences / `--` parts), else from a `<focus>…</focus>` section ("<focus> 1", …), else
"Item 1".."Item 3".

`usage` counts words (prompt: all message contents; completion: the reply); `max_tokens`
truncates the reply to that many words with finish_reason "length".

Injected failures, for tests of retries and validation:

* model `fail-once` (or any model ending in `-fail-once`): HTTP 500 on the first request for
  that model, then normal replies; `fail-always`: HTTP 500 every time;
* model `bad-json-once`: the first JSON-mode reply is not JSON; `wrong-keys-once`: the first
  JSON-mode reply lacks the expected keys; `wrong-keys-always`: every JSON reply lacks them;
* header `X-Fake-Status: <code>`: reply with that HTTP error status;
* `server.fail_next(count, status=500)`: the next `count` requests fail with `status`.

Anthropic's Messages API gets the same replies: the request is read as the equivalent chat
request (`system` → a system message, `tool_use` blocks → the assistant's tool calls,
`tool_result` blocks → tool messages, `tools` → functions with their `input_schema`,
`tool_choice.disable_parallel_tool_use` → `parallel_tool_calls: false`) and the reply written
as a Message: a `text` block (when there is text), one `tool_use` block per tool call (ids
`toolu_…`, `input` the parsed arguments), `stop_reason` `tool_use` / `max_tokens` /
`end_turn`, `usage` `input_tokens` / `output_tokens`; errors as `{"type": "error", …}`.

`server.requests` records every request body as a chat request (for assertions; an Anthropic
request in its chat equivalent); `server.calls` records, for each, the API (`chat` or
`messages`), the API key it came with (Bearer token or `x-api-key`) and the body as sent.
`server.reset()` clears them and the failure state.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODELS = (
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4.1-2025-04-14",
    "fake-model",
    "fail-once",
    "fail-always",
    "bad-json-once",
    "wrong-keys-once",
    "wrong-keys-always",
)


def send_json(handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
    """One JSON response on a loopback fake's handler (the model and Replicate fakes)."""
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def _text(content: Any) -> str:
    """A message's content as text (string content or a list of text parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return "" if content is None else str(content)


def _words(text: str) -> int:
    return len(text.split())


def _expected_keys(messages: list[dict[str, Any]]) -> list[str] | None:
    """Keys of the first JSON object embedded in a system message, if any."""
    decoder = json.JSONDecoder()
    for message in messages:
        if message.get("role") != "system":
            continue
        text = _text(message.get("content"))
        for match in re.finditer(r"\{", text):
            try:
                obj, _ = decoder.raw_decode(text, match.start())
            except ValueError:
                continue
            if isinstance(obj, dict) and obj:
                return list(obj)
    return None


_CALL_TOOL = re.compile(r"^[ \t]*CALL_TOOL[ \t]+([A-Za-z0-9_-]+)[ \t]*(\{.*\})?[ \t]*$", re.M)
_HANDOFF = re.compile(r"^[ \t]*HANDOFF[ \t]+(\S+)[ \t]*$", re.M)
_THEN = re.compile(r"^[ \t]*THEN[ \t]*$", re.M)


def _offered_tools(body: dict[str, Any]) -> set[str]:
    return {
        tool["function"].get("name")
        for tool in body.get("tools") or []
        if isinstance(tool, dict) and isinstance(tool.get("function"), dict)
    }


def _directed_calls(text: str, offered: set[str]) -> list[tuple[str, str]]:
    """(tool name, JSON arguments) of the CALL_TOOL / HANDOFF lines whose tool is offered."""
    found: list[tuple[int, str, str]] = []
    for match in _CALL_TOOL.finditer(text):
        found.append((match.start(), match.group(1), match.group(2) or "{}"))
    for match in _HANDOFF.finditer(text):
        found.append((match.start(), "transfer_to_" + re.sub(r"[^A-Za-z0-9_-]", "_", match.group(1)), "{}"))
    calls: list[tuple[str, str]] = []
    for _, name, arguments in sorted(found):
        if name in offered and (name, arguments) not in calls:
            calls.append((name, arguments))
    return calls


def _turns(text: str) -> list[str]:
    """The directive text of each turn (split at `THEN` lines)."""
    return _THEN.split(text)


def _next_turn_calls(messages: list[dict[str, Any]], offered: set[str]) -> list[tuple[str, str]]:
    """After tool results: the calls of the next turn of the last user message with turns."""
    replies = 0
    for message in reversed(messages):
        role = message.get("role")
        if role == "assistant" and message.get("tool_calls"):
            replies += 1
        elif role == "user" and isinstance(message.get("content"), str) and _THEN.search(message["content"]):
            turns = _turns(message["content"])
            return _directed_calls(turns[replies], offered) if replies < len(turns) else []
    return []


def _tool_results_since_assistant(messages: list[dict[str, Any]]) -> list[str]:
    results: list[str] = []
    for message in reversed(messages):
        if message.get("role") != "tool":
            break
        results.insert(0, _text(message.get("content")))
    return results


def _section(text: str, tag: str) -> str | None:
    match = re.search(rf"<{tag}>(.*?)</{tag}>", text, re.S)
    return match.group(1).strip() if match else None


def _list_items(user_text: str) -> list[str]:
    source = _section(user_text, "source_data")
    if source:
        parts = [part.strip(" .") for part in re.split(r"\s*(?:--|\n|(?<=[.!?])\s)\s*", source)]
        items = [part for part in parts if part]
        if items:
            return items[:10]
    focus = _section(user_text, "focus")
    if focus:
        return [f"{focus} {number}" for number in range(1, 4)]
    return [f"Item {number}" for number in range(1, 4)]


def _true_or_false(user_text: str) -> str:
    """A true/false question (AIConditionBlock): "false" when its `Input value:` line is empty,
    `false`, `no`, `0` or `none`, else "true"."""
    match = re.search(r"Input value:(.*)", user_text)
    value = match.group(1).strip().lower() if match else ""
    return "false" if value in ("", "false", "no", "0", "none") else "true"


_TAG = re.compile(r"</?\s*([A-Za-z_][\w.-]*)\s*/?>")
_ASKS_OUTPUT = re.compile(r"\b(output|respond|return|provide|enclose[sd]?|wrap|format|example)\b", re.I)


def _element(text: str, tag: str) -> re.Match[str] | None:
    """The prompt's first complete `<tag>…</tag>` (innermost: a mention of `<tag>` earlier in a
    sentence is not its start)."""
    name = re.escape(tag)
    return re.search(rf"<\s*{name}\s*>((?:(?!<\s*{name}\s*>).)*?)</\s*{name}\s*>", text, re.S | re.I)


def _xml_tags(text: str) -> list[str]:
    """The tags a prompt asks the answer to be written in, in order (see the module doc)."""
    named: list[str] = []
    for line in text.splitlines():
        words = _TAG.sub(" ", line)
        if not _ASKS_OUTPUT.search(words):
            continue
        named += [m.group(1).lower() for m in _TAG.finditer(line)]
    for match in re.finditer(r"[^\n]*\b(?:output|format|example|respond|return|provide)\b[^\n]*\n", text, re.I):
        position = match.end()  # the elements that follow the line, one after the other
        # Each element may be a list item ("1) <kd>…</kd> — the difficulty"): marker and the rest
        # of its line go with it.
        item = r"\s*(?:(?:\d+[.)]|[-*•])[ \t]*)?<\s*([A-Za-z_][\w.-]*)\s*>(.*?)</\s*\1\s*>[^\n<]*"
        while following := re.match(item, text[position:], re.S):
            named.append(following.group(1).lower())
            position += following.end()
    tags = list(dict.fromkeys(named))
    examples = {tag: (_element(text, tag) or None) for tag in tags}
    nested = {
        inner
        for tag, example in examples.items()
        if example
        for inner in tags
        if inner != tag and re.search(rf"<\s*{re.escape(inner)}\s*>", example.group(1), re.I)
    }
    return [tag for tag in tags if tag not in nested]


def _xml_reply(text: str, user_text: str) -> str | None:
    tags = _xml_tags(text)
    if not tags:
        return None
    parts = []
    for tag in tags:
        example = _element(text, tag)
        content = example.group(1).strip() if example else ""
        if content and _TAG.search(content):
            parts.append(example.group(0).strip())  # type: ignore[union-attr]
            continue
        filler = content or f"{tag} for " + " ".join(_TAG.sub(" ", user_text).split()[:6])
        parts.append(f"<{tag}>{re.sub(r'[<>&]', ' ', filler).strip()}</{tag}>")
    return "\n".join(parts)


def _summary(user_text: str) -> str:
    fenced = re.search(r"```(.*?)```", user_text, re.S)
    body = (fenced.group(1) if fenced else user_text).split()
    return "Summary: " + " ".join(body[:12])


def _value_for(key: str, user_text: str) -> Any:
    if key == "list":
        return _list_items(user_text)
    if key in ("summary", "final_summary"):
        return _summary(user_text)
    return f"{key}: " + " ".join(user_text.split()[:8])


# --- Anthropic's Messages API, read and written as the chat API --------------------------------
def _chat_request(body: dict[str, Any]) -> dict[str, Any]:
    """The chat-completions request a Messages API request amounts to."""
    messages: list[dict[str, Any]] = []
    system = body.get("system")
    if system:
        messages.append({"role": "system", "content": _text(system)})
    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            continue
        role, content = message.get("role"), message.get("content")
        if not isinstance(content, list):
            messages.append({"role": role, "content": content})
            continue
        texts = [str(b.get("text", "")) for b in content if isinstance(b, dict) and b.get("type") == "text"]
        if role == "assistant":
            calls = [
                {
                    "id": b.get("id"),
                    "type": "function",
                    "function": {"name": b.get("name"), "arguments": json.dumps(b.get("input") or {})},
                }
                for b in content
                if isinstance(b, dict) and b.get("type") == "tool_use"
            ]
            messages.append(
                {"role": "assistant", "content": " ".join(texts) or None, **({"tool_calls": calls} if calls else {})}
            )
            continue
        for block in content:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                messages.append(
                    {"role": "tool", "tool_call_id": block.get("tool_use_id"), "content": _text(block.get("content"))}
                )
        if texts:
            messages.append({"role": role, "content": " ".join(texts)})
    chat: dict[str, Any] = {"model": body.get("model"), "messages": messages, "max_tokens": body.get("max_tokens")}
    tools = [
        {
            "type": "function",
            "function": {
                "name": t.get("name"),
                "description": t.get("description", ""),
                "parameters": t.get("input_schema"),
            },
        }
        for t in body.get("tools") or []
        if isinstance(t, dict)
    ]
    if tools:
        chat["tools"] = tools
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("disable_parallel_tool_use"):
        chat["parallel_tool_calls"] = False
    return chat


def _anthropic_message(reply: dict[str, Any]) -> dict[str, Any]:
    """A chat completion as Anthropic's Message."""
    choice = reply["choices"][0]
    message = choice["message"]
    content: list[dict[str, Any]] = []
    if message.get("content"):
        content.append({"type": "text", "text": message["content"]})
    for call in message.get("tool_calls") or []:
        content.append(
            {
                "type": "tool_use",
                "id": "toolu_" + str(call["id"]).removeprefix("call_"),
                "name": call["function"]["name"],
                "input": json.loads(call["function"]["arguments"] or "{}"),
            }
        )
    stop = {"tool_calls": "tool_use", "length": "max_tokens"}.get(choice["finish_reason"], "end_turn")
    return {
        "id": "msg_" + reply["id"].removeprefix("chatcmpl-"),
        "type": "message",
        "role": "assistant",
        "model": reply["model"],
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {
            "input_tokens": reply["usage"]["prompt_tokens"],
            "output_tokens": reply["usage"]["completion_tokens"],
        },
    }


class FakeOpenAI:
    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self._host, self._port = host, port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.calls: list[dict[str, Any]] = []
        self._seen_models: dict[str, int] = {}
        self._fail_queue: list[int] = []
        self._counter = 0

    # --- lifecycle -----------------------------------------------------------------
    @property
    def url(self) -> str:
        """The OpenAI-compatible base URL (`…/v1`)."""
        return self.root_url + "/v1"

    @property
    def root_url(self) -> str:
        """The server's root: the `anthropic` SDK's base URL (it adds `/v1/messages`)."""
        if self._server is None:
            raise RuntimeError("FakeOpenAI is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeOpenAI:
        if self._server is not None:
            return self
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

        self._server = ThreadingHTTPServer((self._host, self._port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # --- test controls -------------------------------------------------------------
    def fail_next(self, count: int = 1, status: int = 500) -> None:
        with self._lock:
            self._fail_queue.extend([status] * count)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.calls.clear()
            self._seen_models.clear()
            self._fail_queue.clear()

    # --- HTTP ----------------------------------------------------------------------
    def _send(self, handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        send_json(handler, status, body)

    def _error(self, handler: BaseHTTPRequestHandler, status: int, message: str, kind: str = "server_error") -> None:
        self._send(handler, status, {"error": {"message": message, "type": kind, "param": None, "code": None}})

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        path = handler.path.split("?", 1)[0].rstrip("/")
        if method == "GET" and path == "/v1/models":
            self._send(
                handler,
                200,
                {
                    "object": "list",
                    "data": [
                        {"id": model, "object": "model", "created": 0, "owned_by": "stratus-fake"} for model in MODELS
                    ],
                },
            )
            return
        if method != "POST" or path not in ("/v1/chat/completions", "/v1/messages"):
            self._error(handler, 404, f"No route {method} {path}", "invalid_request_error")
            return
        anthropic = path == "/v1/messages"
        length = int(handler.headers.get("Content-Length") or 0)
        try:
            body = json.loads(handler.rfile.read(length) or b"{}")
            if not isinstance(body, dict):
                raise ValueError("body must be an object")
        except ValueError as exc:
            self._reply_error(handler, anthropic, 400, f"Invalid JSON body: {exc}", "invalid_request_error")
            return
        authorization = handler.headers.get("Authorization") or ""
        api_key = handler.headers.get("x-api-key") or authorization.removeprefix("Bearer ").strip() or None
        with self._lock:
            self.calls.append({"api": "messages" if anthropic else "chat", "api_key": api_key, "body": body})
        chat = _chat_request(body) if anthropic else body
        status, reply = self._complete(chat, handler.headers.get("X-Fake-Status"))
        if status != 200:
            self._reply_error(handler, anthropic, status, reply["message"])
            return
        self._send(handler, 200, _anthropic_message(reply) if anthropic else reply)

    def _reply_error(
        self, handler: BaseHTTPRequestHandler, anthropic: bool, status: int, message: str, kind: str = "api_error"
    ) -> None:
        if anthropic:
            self._send(handler, status, {"type": "error", "error": {"type": kind, "message": message}})
        else:
            self._error(handler, status, message, "server_error" if kind == "api_error" else kind)

    # --- the model -----------------------------------------------------------------
    def _complete(self, body: dict[str, Any], forced_status: str | None) -> tuple[int, dict[str, Any]]:
        model = str(body.get("model") or "fake-model")
        messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
        with self._lock:
            self.requests.append(body)
            attempt = self._seen_models.get(model, 0)
            self._seen_models[model] = attempt + 1
            queued = self._fail_queue.pop(0) if self._fail_queue else None
            self._counter += 1
            serial = self._counter
        if forced_status and forced_status.isdigit() and int(forced_status) >= 400:
            return int(forced_status), {"message": f"Injected failure {forced_status} (X-Fake-Status)"}
        if queued is not None:
            return queued, {"message": f"Injected failure {queued} (fail_next)"}
        if model == "fail-always" or (attempt == 0 and (model == "fail-once" or model.endswith("-fail-once"))):
            return 500, {"message": f"Injected failure 500 for model {model}"}
        if not messages:
            return 400, {"message": "messages must be a non-empty list"}

        user_messages = [_text(m.get("content")) for m in messages if m.get("role") == "user"]
        last_user = user_messages[-1] if user_messages else ""
        all_text = "\n".join(_text(m.get("content")) for m in messages)
        response_format = body.get("response_format") or {}
        keys = _expected_keys(messages)
        json_mode = keys is not None or (
            isinstance(response_format, dict) and response_format.get("type") == "json_object"
        )
        tool_calls: list[dict[str, Any]] = []
        offered = _offered_tools(body)
        last_role = messages[-1].get("role")
        directed: list[tuple[str, str]] = []
        if offered and last_role == "user":
            directed = _directed_calls(_turns(last_user)[0], offered)
        elif offered and last_role == "tool":
            directed = _next_turn_calls(messages, offered)
        if body.get("parallel_tool_calls") is False:
            directed = directed[:1]
        tool_calls = [
            {"id": f"call_{serial:06d}_{index}", "type": "function", "function": {"name": name, "arguments": arguments}}
            for index, (name, arguments) in enumerate(directed)
        ]
        if last_role == "tool":
            content = "Tool results: " + " | ".join(_tool_results_since_assistant(messages))
        elif json_mode:
            # Answer the last real user turn, not a "Your previous response…" retry complaint.
            task = next(
                (text for text in reversed(user_messages) if not text.startswith("Your previous response")), last_user
            )
            keys = keys or ["response"]
            if model == "bad-json-once" and attempt == 0:
                content = "Sorry, I cannot produce JSON right now."
            elif model == "wrong-keys-always" or (model == "wrong-keys-once" and attempt == 0):
                content = json.dumps({"unexpected": "value"})
            else:
                obj = {key: _value_for(key, task) for key in keys}
                system_text = " ".join(_text(m.get("content")) for m in messages if m.get("role") == "system").lower()
                if "array of objects" in system_text:  # list_result: one object per "row"
                    content = json.dumps({"results": [obj]} if "results" in system_text else [obj])
                else:
                    content = json.dumps(obj)
        elif (xml := _xml_reply(all_text, last_user)) is not None:
            content = xml
        elif "python list" in all_text.lower():
            content = repr(_list_items(last_user))
        elif "respond with only 'true' or 'false'" in all_text.lower():
            content = _true_or_false(last_user)
        else:
            content = "Echo: " + last_user

        finish_reason = "stop"
        max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
        if isinstance(max_tokens, int) and max_tokens > 0 and _words(content) > max_tokens:
            content = " ".join(content.split()[:max_tokens])
            finish_reason = "length"
        prompt_tokens = sum(_words(_text(m.get("content"))) for m in messages)
        completion_tokens = _words(content)
        return 200, {
            "id": f"chatcmpl-fake-{serial:06d}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "system_fingerprint": "fp_stratus_fake",
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": content,
                        "refusal": None,
                        **({"tool_calls": tool_calls} if tool_calls else {}),
                    },
                    "logprobs": None,
                    "finish_reason": "tool_calls" if tool_calls else finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }


if __name__ == "__main__":  # python -m localcloud.fake_openai [port]
    import sys

    server = FakeOpenAI(port=int(sys.argv[1]) if len(sys.argv) > 1 else 8765).start()
    print(f"fake OpenAI at {server.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
