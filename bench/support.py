"""What the benchmarks share: free loopback ports, a redis-server of their own, spread."""

from __future__ import annotations

import shutil
import socket
import statistics
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def stop(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """Stop one process this benchmark started, by its pid: TERM, then KILL."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)


def start_redis(workdir: Path) -> tuple[subprocess.Popen, str]:
    """A redis-server of our own on a free loopback port, without persistence: ``(process, url)``.
    Never the shared Redis; the caller stops it with :func:`stop`."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (apt-get install -y redis-server)")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process=process)
    except BaseException:
        stop(process)
        raise
    return process, f"redis://127.0.0.1:{port}/0"


@contextmanager
def own_redis(workdir: Path):
    """:func:`start_redis` as a context: yields the URL, stops the server on the way out."""
    process, url = start_redis(workdir)
    try:
        yield url
    finally:
        stop(process)


def spread(values: list[float], fmt: str = "{:.2f}") -> str:
    """``median (min–max over n runs)``."""
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))} over {len(values)} runs)"
