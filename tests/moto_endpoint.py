"""A real moto server on loopback for tests whose subprocesses call AWS (through AWS_ENDPOINT_URL)."""

from __future__ import annotations

import socket
import time

import pytest


@pytest.fixture(scope="module")
def moto_endpoint():
    """A real moto server on 127.0.0.1 and a free port, standing in for STS and S3."""
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as client:
            if client.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.stop()
