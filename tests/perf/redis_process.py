"""A real ``redis-server`` of our own, on a free loopback port, for the fleet's tests and its
benchmark.

It keeps nothing (``--save "" --appendonly no``, its folder a temporary one) and is stopped
by :meth:`RedisProcess.stop`. No ``redis-server`` on PATH is :class:`FleetUnavailable` with
the sentence ``caselog install --redis`` prints (agent/app/fleet/redis_server.py): the tests
fail with it rather than skip.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

from agent.app.fleet.redis_server import find_redis_server

__all__ = ["RedisProcess"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisProcess:
    """``redis-server`` in its own process; a context manager. ``url(db)`` names a database."""

    def __init__(self, start_timeout: float = 20.0) -> None:
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self._dir: Path | None = None

    def start(self) -> RedisProcess:
        exe = find_redis_server()
        self._dir = Path(tempfile.mkdtemp(prefix="caselog-redis-"))
        for _ in range(5):  # a free port may be taken between the look and the bind
            self.port = _free_port()
            self.proc = subprocess.Popen(
                [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(self._dir), "--loglevel", "warning"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # never in the tree of what the tests measure or kill
            )  # fmt: skip
            if self._ready():
                return self
            self._end()
        self.stop()
        raise RuntimeError(f"redis-server ({exe}) did not start on a free port")

    def _ready(self) -> bool:
        deadline = time.monotonic() + self.start_timeout
        client = Redis(port=self.port, socket_connect_timeout=1)
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                return False
            try:
                if client.ping():
                    return True
            except RedisError:
                time.sleep(0.05)
        return False

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self, db: int = 0) -> Redis:
        return Redis.from_url(self.url(db))

    def _end(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> None:
        self._end()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> RedisProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
