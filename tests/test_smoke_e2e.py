"""A first end-to-end check: the real server answers over a socket."""

import http.client

import pytest

pytestmark = pytest.mark.e2e


def test_put_then_get_round_trips(server_factory) -> None:  # type: ignore[no-untyped-def]
    server = server_factory()
    conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
    conn.request("PUT", "/object/a", body=b"\x00\xff", headers={"Content-Type": "image/png"})
    response = conn.getresponse()
    assert (response.status, response.read()) == (200, b'{"message": "success"}\n')
    conn.request("GET", "/object/a")
    response = conn.getresponse()
    assert response.status == 200
    assert response.getheader("Content-Type") == "image/png"
    assert response.read() == b"\x00\xff"
    conn.close()
    assert server.stop() == 0
