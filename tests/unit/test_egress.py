"""The outbound policy (stratus.net.egress): default-deny for non-public addresses."""

from __future__ import annotations

import asyncio
import ipaddress
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from stratus.net import egress
from tests.conftest import allowed_egress

REFUSED = [
    "127.0.0.1",
    "127.1.2.3",
    "::1",
    "0.0.0.0",
    "::",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",
    "169.254.170.2",
    "fe80::1",
    "fd00:ec2::254",
    "fc00::1",
    "100.64.0.1",
    "100.100.100.200",
    "224.0.0.1",
    "ff02::1",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.0.192",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "::169.254.169.254",
    "::127.0.0.1",
    "::ffff:0:a9fe:a9fe",
    "64:ff9b::a9fe:a9fe",
    "64:ff9b::7f00:1",
    "64:ff9b:1::a9fe:a9fe",
    "2002:a9fe:a9fe::1",
    "2002:7f00:1::1",
    "2002:0a00:0001::1",
    "2001::1",
]
PUBLIC = ["8.8.8.8", "93.184.216.34", "2606:4700::1111", "2001:4860:4860::8888", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_and_their_ipv6_spellings_are_refused(address: str) -> None:
    assert egress.blocked_reason(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert egress.blocked_reason(ipaddress.ip_address(address)) is None


def test_an_embedded_address_is_named() -> None:
    reason = egress.blocked_reason(ipaddress.ip_address("2002:a9fe:a9fe::1"))
    assert reason == "the 6to4 form of 169.254.169.254, a link-local or cloud metadata address"


def test_the_allow_list_opens_exactly_its_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(egress.ALLOW_LIST_ENV, "127.0.0.1:8001, 10.0.0.0/8, [::1]:9000")
    egress.check_address("127.0.0.1", ipaddress.ip_address("127.0.0.1"), 8001)
    egress.check_address("10.2.3.4", ipaddress.ip_address("10.2.3.4"), 443)
    egress.check_address("::1", ipaddress.ip_address("::1"), 9000)
    for host, port in (("127.0.0.1", 8002), ("::1", 9001), ("192.168.0.1", 80), ("169.254.169.254", 80)):
        with pytest.raises(egress.EgressRefused):
            egress.check_address(host, ipaddress.ip_address(host), port)
    monkeypatch.setenv(egress.ALLOW_LIST_ENV, "not-an-address")
    with pytest.raises(ValueError, match="EGRESS_ALLOW_LIST is malformed"):
        egress.allow_list()


def test_the_lambda_runtime_api_stays_refused_when_allow_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(egress.ALLOW_LIST_ENV, "127.0.0.1")
    monkeypatch.setenv("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")
    with pytest.raises(egress.EgressRefused, match="Lambda Runtime API"):
        egress.check_address("127.0.0.1", ipaddress.ip_address("127.0.0.1"), 9001)


def test_urls_stored_by_users_are_checked_but_unresolvable_names_are_kept() -> None:
    for url in ("http://169.254.169.254/v1", "http://[::ffff:127.0.0.1]:8000/", "http://0.0.0.0:80/", "ftp://x/"):
        with pytest.raises(egress.EgressRefused):
            egress.check_url_when_saved(url)
    egress.check_url_when_saved("https://no-such-host.invalid/v1")  # checked again on every use


class _Listener:
    """A loopback HTTP server that records every request it gets, and can redirect."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                listener.requests.append(self.path)
                if self.path.startswith("/redirect?"):
                    self.send_response(302)
                    self.send_header("location", self.path.split("?", 1)[1])
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                body = self.headers.get("host", "").encode()
                self.send_response(200)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture()
def listener() -> Iterator[_Listener]:
    server = _Listener()
    yield server
    server.server.shutdown()


def _get(url: str, follow: bool = True) -> httpx.Response:
    async def go() -> httpx.Response:
        async with egress.guarded_client(httpx, follow_redirects=follow) as client:
            return await client.get(url)

    return asyncio.run(go())


def test_the_guarded_client_refuses_loopback_and_nothing_arrives(listener: _Listener) -> None:
    port = listener.url.rsplit(":", 1)[1]
    for url in (
        listener.url,
        f"http://localhost:{port}/",
        f"http://[::ffff:127.0.0.1]:{port}/",
        f"http://0.0.0.0:{port}/",
        f"http://2130706433:{port}/",
    ):
        with pytest.raises(httpx.ConnectError) as caught:
            _get(url)
        assert egress.refusal(caught.value) is not None
    assert listener.requests == []


def test_every_redirect_hop_is_checked(listener: _Listener, monkeypatch: pytest.MonkeyPatch) -> None:
    with allowed_egress(listener.url):
        with pytest.raises(httpx.ConnectError) as caught:
            _get(f"{listener.url}/redirect?http://169.254.169.254/latest/meta-data/")
    assert "link-local or cloud metadata" in str(egress.refusal(caught.value))
    assert listener.requests == ["/redirect?http://169.254.169.254/latest/meta-data/"]


def test_the_connection_goes_to_the_checked_address(listener: _Listener, monkeypatch: pytest.MonkeyPatch) -> None:
    # One look-up, pinned: a second (rebinding) answer is never asked for; Host keeps the name.
    import socket

    port = int(listener.url.rsplit(":", 1)[1])
    looked_up: list[str] = []
    real = socket.getaddrinfo

    def resolve(host: str, *args: object, **kwargs: object) -> object:
        looked_up.append(host)
        return real("127.0.0.1" if host == "pinned.example" else host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with allowed_egress(listener.url):
        response = _get(f"http://pinned.example:{port}/")
    assert response.text == f"pinned.example:{port}" and looked_up.count("pinned.example") == 1
