"""Text, web-request and XML blocks: AutoGPT behaviour plus the sandbox/SSRF/bomb guards."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from stratus.blocks.core import web
from stratus.blocks.core.text import (
    CombineTextsBlock,
    ExtractTextInformationBlock,
    FillTextTemplateBlock,
    MatchTextPatternBlock,
    TextReplaceBlock,
    TextSplitBlock,
)
from stratus.blocks.core.web import SendWebRequestBlock
from stratus.blocks.core.xml import XMLParserBlock
from stratus.blocks.dynamic_pins import merge_execution_input
from stratus.blocks.registry import all_blocks
from stratus.blocks.sdk import BlockInputError
from stratus.blocks.testing import run_block, run_node_block
from tests.conftest import allowed_egress


def test_ids_and_pins_match_autogpt() -> None:
    expected = {
        "3060088f-6ed9-4928-9ba7-9c92823a7ccd": ("MatchTextPatternBlock", {"positive", "negative"}),
        "3146e4fe-2cdd-4f29-bd12-0c9d5bb4deb0": (
            "ExtractTextInformationBlock",
            {"positive", "negative", "matched_results", "matched_count"},
        ),
        "db7d8f02-2f44-4c55-ab7a-eae0941f0c30": ("FillTextTemplateBlock", {"output"}),
        "e30a4d42-7b7d-4e6a-b36e-1f9b8e3b7d85": ("CombineTextsBlock", {"output"}),
        "d5ea33c8-a575-477a-b42f-2fe3be5055ec": ("TextSplitBlock", {"texts"}),
        "7e7c87ab-3469-4bcc-9abe-67705091b713": ("TextReplaceBlock", {"output"}),
        "6595ae1f-b924-42cb-9a41-551a0611c4b4": ("SendWebRequestBlock", {"response", "client_error", "server_error"}),
        "286380af-9529-4b55-8be0-1d7c854abdb5": ("XMLParserBlock", {"parsed_xml"}),
    }
    blocks = all_blocks()
    for block_id, (name, outputs) in expected.items():
        assert blocks[block_id].name == name
        assert blocks[block_id].output_schema.field_names() == outputs | {"error"}
    assert SendWebRequestBlock.Input.field_names() == {"url", "method", "headers", "json_format", "body"}
    assert MatchTextPatternBlock.Input.field_names() == {"text", "match", "data", "case_sensitive", "dot_all"}
    assert SendWebRequestBlock.costs == []


# --- text ----------------------------------------------------------------------------------
def test_match_text_pattern_paths() -> None:
    block = MatchTextPatternBlock()
    assert run_block(block, {"text": "Hello", "match": "^h", "data": 1, "case_sensitive": False}) == [("positive", 1)]
    assert run_block(block, {"text": "Hello", "match": "^h", "data": 1}) == [("negative", 1)]
    # Falsy data forwards the text; non-string text is matched as JSON.
    assert run_block(block, {"text": {"k": "v"}, "match": '"k": "v"', "data": ""}) == [("positive", {"k": "v"})]
    assert run_block(block, {"text": "a\nb", "match": "a.b", "data": "x", "dot_all": False}) == [("negative", "x")]
    [(name, message)] = run_block(block, {"text": "abc", "match": "(", "data": "x"})
    assert name == "error" and "Invalid regex" in message


def test_extract_text_information_paths() -> None:
    block = ExtractTextInformationBlock()
    assert run_block(block, {"text": "id=42; id=7", "pattern": r"id=(\d+)", "group": 1, "find_all": True}) == [
        ("positive", "42"),
        ("positive", "7"),
        ("matched_results", ["42", "7"]),
        ("matched_count", 2),
    ]
    assert run_block(block, {"text": "nothing here", "pattern": r"\d+"}) == [
        ("negative", "nothing here"),
        ("matched_results", []),
        ("matched_count", 0),
    ]
    # A bad pattern is "no match", as in AutoGPT.
    assert run_block(block, {"text": "abc", "pattern": "("}) == [
        ("negative", "abc"),
        ("matched_results", []),
        ("matched_count", 0),
    ]


def test_fill_text_template_renders_and_keeps_html_by_default() -> None:
    block = FillTextTemplateBlock()
    assert run_block(
        block, {"values": {"n": 3.14159, "tag": "<b>"}, "format": "{{ n | format('%.2f') }} {{ tag }}"}
    ) == [("output", "3.14 <b>")]
    assert run_block(block, {"values": {"tag": "<b>"}, "format": "{{ tag }}", "escape_html": True}) == [
        ("output", "&lt;b&gt;")
    ]
    assert run_block(block, {"values": {}, "format": "[{{ missing }}]"}) == [("output", "[]")]


def test_fill_text_template_with_dynamic_value_pins() -> None:
    merged = merge_execution_input(
        {"values_#_name": "Ada", "values_#_lang": "Python", "format": "{{ name }} writes {{ lang }}"}
    )
    assert merged["values"] == {"name": "Ada", "lang": "Python"}
    assert run_block(FillTextTemplateBlock(), merged) == [("output", "Ada writes Python")]


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ().__class__.__base__.__subclasses__() }}",
        "{{ x.__init__.__globals__ }}",
        "{{ self.__init__.__globals__ }}",
        "{{ 9 ** 99999 }}",
        "{{ 'a' * 10000000 }}",
        "{{ range(100000000) | list | length }}",
        "{% for %}",
    ],
)
def test_fill_text_template_sandbox_fails_safely(template: str) -> None:
    [(name, message)] = run_block(FillTextTemplateBlock(), {"values": {"x": 1}, "format": template})
    assert name == "error"
    assert message.startswith("Template error:")
    assert "<class" not in message


@pytest.mark.parametrize("template", ["[{{ ''.__class__ }}]", "[{{ self._TemplateReference__context }}]"])
def test_fill_text_template_unsafe_attribute_renders_nothing(template: str) -> None:
    # The sandbox turns a lone unsafe attribute into an undefined value: nothing leaks.
    assert run_block(FillTextTemplateBlock(), {"values": {}, "format": template}) == [("output", "[]")]


def test_combine_split_replace() -> None:
    assert run_block(CombineTextsBlock(), {"input": ["a", "b", "c"], "delimiter": "-"}) == [("output", "a-b-c")]
    assert run_node_block(CombineTextsBlock(), {"input": '["x", "y"]'}) == [("output", "xy")]
    split = TextSplitBlock()
    assert run_block(split, {"text": " a | b |c ", "delimiter": "|"}) == [("texts", ["a", "b", "c"])]
    assert run_block(split, {"text": " a | b ", "delimiter": "|", "strip": False}) == [("texts", [" a ", " b "])]
    assert run_block(split, {"text": "", "delimiter": ","}) == [("texts", [])]
    assert run_block(split, {"text": "no delimiter", "delimiter": ","}) == [("texts", ["no delimiter"])]
    assert run_block(split, {"text": "abc", "delimiter": ""})[0][0] == "error"
    replace = TextReplaceBlock()
    assert run_block(replace, {"text": "a-b-a", "old": "a", "new": "z"}) == [("output", "z-b-z")]
    assert run_block(replace, {"text": "abc", "old": "x", "new": "z"}) == [("output", "abc")]
    with pytest.raises(BlockInputError):
        run_block(replace, {"text": "abc", "old": "x"})


# --- web -------------------------------------------------------------------------------------
class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass

    def _send(self, status: int, body: bytes, content_type: str, length: bool = True) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _reply(self) -> None:
        size = int(self.headers.get("Content-Length") or 0)
        received = self.rfile.read(size).decode() if size else ""
        path = self.path
        if path == "/echo":
            payload = {
                "method": self.command,
                "body": received,
                "host": self.headers.get("Host"),
                "content_type": self.headers.get("Content-Type"),
                "x": self.headers.get("X-Test"),
            }
            self._send(200, json.dumps(payload).encode(), "application/json")
        elif path == "/text":
            self._send(200, "héllo".encode(), "text/plain; charset=utf-8")
        elif path == "/not-found":
            self._send(404, b'{"detail": "nope"}', "application/json")
        elif path == "/boom":
            self._send(503, b"down", "text/plain")
        elif path == "/odd-charset":
            self._send(200, b"plain", "text/plain; charset=no-such-codec")
        elif path == "/no-content":
            self._send(204, b"", "application/json")
        elif path == "/big":
            self._send(200, b"x" * 5000, "text/plain")
        elif path == "/big-unsized":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Connection", "close")
            self.end_headers()
            for _ in range(50):
                self.wfile.write(b"y" * 100)
            self.close_connection = True
        elif path == "/slow":
            time.sleep(1.5)
            self._send(200, b"late", "text/plain")
        elif path.startswith("/redirect-to?"):
            self.send_response(302)
            self.send_header("Location", path.split("?", 1)[1])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/loop":
            self.send_response(307)
            self.send_header("Location", "/loop")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._send(500, b"unknown path", "text/plain")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _reply


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # The client hanging up early (size cap, timeout) is expected here, not worth a trace.
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    with allowed_egress(url):  # as the local cloud allows its own fakes
        yield url
    httpd.shutdown()
    httpd.server_close()


def _request(**inputs: Any) -> list[tuple[str, Any]]:
    return run_block(SendWebRequestBlock(), inputs)


def test_json_request_and_response(server: str) -> None:
    [(name, value)] = _request(url=f"{server}/echo", method="POST", body={"a": 1}, headers={"X-Test": "yes"})
    assert name == "response"
    assert json.loads(value["body"]) == {"a": 1}
    assert value["content_type"] == "application/json"
    assert value["x"] == "yes"
    assert value["host"] == server.removeprefix("http://")
    # A JSON string body is parsed and sent as JSON.
    [(_, value)] = _request(url=f"{server}/echo", body='{"b": [1, 2]}')
    assert json.loads(value["body"]) == {"b": [1, 2]}


def test_form_and_plain_text_bodies(server: str) -> None:
    [(_, value)] = _request(url=f"{server}/echo", body={"k": "v w"}, json_format=False)
    assert value["body"] == "k=v+w" and value["content_type"] == "application/x-www-form-urlencoded"
    [(_, value)] = _request(url=f"{server}/echo", method="PUT", body="not json at all")
    assert value == {**value, "method": "PUT", "body": "not json at all"}


def test_text_response_and_empty_json(server: str) -> None:
    assert _request(url=f"{server}/text", method="GET") == [("response", "héllo")]
    assert _request(url=f"{server}/no-content", method="GET") == [("response", None)]
    assert _request(url=f"{server}/odd-charset", method="GET") == [("response", "plain")]


def test_status_buckets(server: str) -> None:
    assert _request(url=f"{server}/not-found", method="GET") == [("client_error", {"detail": "nope"})]
    assert _request(url=f"{server}/boom", method="GET") == [("server_error", "down")]


def test_redirect_followed_and_post_becomes_get(server: str) -> None:
    [(name, value)] = _request(url=f"{server}/redirect-to?/echo", method="POST", body={"a": 1})
    assert name == "response" and value["method"] == "GET" and value["body"] == ""
    [(name, message)] = _request(url=f"{server}/loop", method="GET")
    assert name == "error" and "Too many redirects" in message


def test_redirect_to_metadata_is_refused(server: str) -> None:
    [(name, message)] = _request(url=f"{server}/redirect-to?http://169.254.169.254/latest/", method="GET")
    assert name == "error" and "link-local or cloud metadata" in message


def test_response_size_cap(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web, "MAX_RESPONSE_BYTES", 1000)
    for path in ("/big", "/big-unsized"):
        [(name, message)] = _request(url=f"{server}{path}", method="GET")
        assert name == "error" and "Response too large" in message
    monkeypatch.setattr(web, "MAX_RESPONSE_BYTES", 10_000)
    assert _request(url=f"{server}/big", method="GET") == [("response", "x" * 5000)]


def test_read_timeout(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web, "READ_TIMEOUT", 0.3)
    started = time.monotonic()
    [(name, message)] = _request(url=f"{server}/slow", method="GET")
    assert name == "error" and "timed out" in message
    assert time.monotonic() - started < 1.4


def test_total_timeout(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web, "TOTAL_TIMEOUT", 0.3)
    [(name, message)] = _request(url=f"{server}/slow", method="GET")
    assert name == "error" and "timed out" in message


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("network used")

    monkeypatch.setattr(socket, "getaddrinfo", forbidden)
    monkeypatch.setattr(socket.socket, "connect", forbidden)
    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", forbidden)


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://169.254.169.254/", "link-local or cloud metadata"),
        ("http://169.254.169.254/latest/meta-data/iam/security-credentials/", "link-local or cloud metadata"),
        ("http://169.254.170.2/v2/credentials", "link-local or cloud metadata"),
        ("http://[fd00:ec2::254]/latest/", "link-local or cloud metadata"),
        ("http://[::ffff:169.254.169.254]/", "link-local or cloud metadata"),
        ("http://[fe80::1]/", "link-local or cloud metadata"),
        ("http://metadata.google.internal/computeMetadata/v1/", "cloud metadata endpoints"),
        ("http://METADATA.google.internal./", "cloud metadata endpoints"),
        ("file:///etc/passwd", "only http and https"),
        ("ftp://example.com/x", "only http and https"),
        ("gopher://127.0.0.1:6379/_INFO", "only http and https"),
        ("example.com/no-scheme", "only http and https"),
    ],
)
def test_refused_without_network(url: str, reason: str, no_network: None) -> None:
    [(name, message)] = _request(url=url, method="GET")
    assert name == "error" and reason in message


def test_host_name_resolving_to_metadata_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        assert host == "rebind.example"
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port)),
        ]

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("connected")

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", forbidden)
    [(name, message)] = _request(url="http://rebind.example/", method="GET")
    assert name == "error" and "(169.254.169.254): a link-local" in message


def test_connection_is_pinned_to_the_checked_address(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The name resolves (once) to loopback; the request goes to that address with the
    # original Host header, so a second, different DNS answer could not redirect it.
    port = int(server.rsplit(":", 1)[1])
    calls: list[str] = []
    real = socket.getaddrinfo

    def fake_getaddrinfo(host: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(host)
        return real("127.0.0.1" if host == "pinned.example" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    [(name, value)] = _request(url=f"http://pinned.example:{port}/echo", method="GET")
    assert name == "response" and value["host"] == f"pinned.example:{port}"
    assert calls.count("pinned.example") == 1


def test_lambda_runtime_api_is_refused(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Refused even though the server's address is allow-listed.
    host_port = server.removeprefix("http://")
    monkeypatch.setenv("AWS_LAMBDA_RUNTIME_API", host_port)
    [(name, message)] = _request(url=f"{server}/echo", method="GET")
    assert name == "error" and "Lambda Runtime API" in message
    monkeypatch.setenv("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:1")
    assert _request(url=f"{server}/text", method="GET") == [("response", "héllo")]


def test_connection_refused_is_an_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with allowed_egress(f"http://127.0.0.1:{port}"):
        [(name, message)] = _request(url=f"http://127.0.0.1:{port}/", method="GET")
    assert name == "error" and message.startswith("Request error: ConnectError")


def test_bad_header_value_is_an_error(server: str) -> None:
    [(name, message)] = _request(url=f"{server}/echo", headers={"X-Test": "€"})
    assert name == "error" and message.startswith("Request error: UnicodeEncodeError")


# --- xml -------------------------------------------------------------------------------------
def _xml(text: str) -> list[tuple[str, Any]]:
    return run_block(XMLParserBlock(), {"input_xml": text})


def test_xml_shapes_like_gravitasml() -> None:
    assert _xml("<tag1><tag2>content</tag2></tag1>") == [("parsed_xml", {"tag1": {"tag2": "content"}})]
    assert _xml("<tag><a>value</a><b>value</b></tag>") == [("parsed_xml", {"tag": {"a": "value", "b": "value"}})]
    assert _xml("<tag><a>1</a><a>2</a></tag>") == [("parsed_xml", {"tag": [{"a": "1"}, {"a": "2"}]})]
    assert _xml("<Root>\n  <Item>  spaced text  </Item>\n</Root>") == [
        ("parsed_xml", {"root": {"item": "spaced text"}})
    ]
    assert _xml('<r xmlns:x="urn:x"><x:a k="v">1 &amp; 2</x:a><empty/></r>') == [
        ("parsed_xml", {"r": {"a": "1 & 2", "empty": ""}})
    ]
    nested = "<tag><a><t>pass</t><t>fail</t></a><b>value</b><c><t><n>1</n></t></c></tag>"
    assert _xml(nested) == [
        ("parsed_xml", {"tag": {"a": [{"t": "pass"}, {"t": "fail"}], "b": "value", "c": {"t": {"n": "1"}}}})
    ]


def test_xml_a_bare_ampersand_is_text_as_gravitasml_reads_it() -> None:
    # Models write "Q&A" inside the tags they are asked for; references still resolve.
    assert _xml("<answer><title>Q&A for R&D teams</title><n>1 &amp; 2 &#38; 3</n></answer>") == [
        ("parsed_xml", {"answer": {"title": "Q&A for R&D teams", "n": "1 & 2 & 3"}})
    ]


@pytest.mark.parametrize("text", ["", "   ", "<a><b></a>", "<a>1</a><b>2</b>", "not xml", "<a>"])
def test_xml_syntax_errors(text: str) -> None:
    [(name, _message)] = _xml(text)
    assert name == "error"


def test_xml_bombs_and_external_entities_fail_safely() -> None:
    billion_laughs = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        "<lolz>&lol3;</lolz>"
    )
    external = '<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><foo>&xxe;</foo>'
    external_dtd = '<?xml version="1.0"?><!DOCTYPE foo SYSTEM "http://169.254.169.254/x.dtd"><foo/>'
    for text in (billion_laughs, external, external_dtd):
        [(name, message)] = _xml(text)
        assert name == "error" and message.startswith("Unsafe XML refused")
        assert "root:" not in message


def test_xml_size_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    from stratus.blocks.core import xml as xml_module

    monkeypatch.setattr(xml_module, "MAX_XML_SIZE", 20)
    [(name, message)] = _xml("<a>" + "x" * 50 + "</a>")
    assert name == "error" and "too large" in message
