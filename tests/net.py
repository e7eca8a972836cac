"""Loopback helpers shared by fixtures, peers and benchmarks (no pytest imports)."""

import socket
import subprocess
import time

import redis


def free_port() -> int:
    """A TCP port nothing listens on right now, on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis_server(binary: str, workdir, *extra: str) -> tuple[subprocess.Popen, str]:
    """A throwaway redis-server on a free loopback port (no persistence); returns (process, URL).

    ``extra`` arguments override the defaults (e.g. ``"--appendonly", "yes"``).
    Raises RuntimeError when it does not answer PING within 5 seconds.
    """
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir),
         *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(100):
        try:
            client.ping()
            return process, url
        except redis.ConnectionError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("redis-server did not start")


def write_json(handler, status: int, payload: dict) -> None:
    """Answer an ``http.server`` request with JSON (the local test peers share this)."""
    import json

    data = json.dumps(payload).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)
