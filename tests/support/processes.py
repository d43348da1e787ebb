"""Processes the multi-process and fault tests start — and stop, each by its own pid: a Redis
server of their own on a free loopback port, a TCP proxy to switch between two of them, and
gunicorn serving the project.

Nothing here touches the shared Redis on 6379: every server is ``/usr/bin/redis-server`` on a port
the kernel just handed out, with its files in a temporary directory.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
REDIS_SERVER = "/usr/bin/redis-server"


def free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.closing(socket.socket()) as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def redis_available() -> bool:
    return os.access(REDIS_SERVER, os.X_OK)


class RedisServer:
    """A private ``redis-server``: ``start()``, ``stop()``, ``freeze()``/``thaw()`` (SIGSTOP/SIGCONT),
    ``save()`` a snapshot and ``start(from_snapshot=…)`` to restore one. Persistence is off unless
    a snapshot is asked for."""

    def __init__(self, directory: Path, port: int | None = None):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None
        self._dbfilename = "dump.rdb"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, from_snapshot: Path | None = None) -> "RedisServer":
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
                "--appendonly", "no", "--save", "", "--protected-mode", "no", "--loglevel", "warning"]
        if from_snapshot is not None:
            shutil.copyfile(from_snapshot, self.directory / "restore.rdb")
            self._dbfilename = "restore.rdb"
        else:
            self._dbfilename = "dump.rdb"
            with contextlib.suppress(FileNotFoundError):
                (self.directory / "dump.rdb").unlink()
        args += ["--dbfilename", self._dbfilename]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)
        deadline = time.monotonic() + 10
        while self.command("PING") != "PONG":  # loaded its snapshot
            if time.monotonic() > deadline:
                raise TimeoutError("redis did not answer PING")
            time.sleep(0.02)
        return self

    def command(self, *args: str) -> str:
        """One command through redis-cli-free RESP; the first line of the answer (``+``/``-``/``:`` stripped)."""
        payload = f"*{len(args)}\r\n" + "".join(f"${len(a.encode())}\r\n{a}\r\n" for a in args)
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as s:
                s.sendall(payload.encode())
                data = b""
                while b"\r\n" not in data:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
        except OSError:
            return ""
        line = data.split(b"\r\n", 1)[0].decode()
        return line[1:] if line[:1] in "+-:" else line

    def save(self, name: str = "snapshot.rdb") -> Path:
        """A snapshot of what this server holds now, copied to ``name``."""
        assert self.command("SAVE") == "OK"
        target = self.directory / name
        shutil.copyfile(self.directory / self._dbfilename, target)
        return target

    def freeze(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGCONT)  # a frozen server cannot handle SIGTERM
            process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


class SwitchableProxy:
    """A TCP proxy on a free port forwarding to one backend port; :meth:`switch` sends *new*
    connections to another backend, and with ``cut=True`` also closes the ones already open."""

    def __init__(self, backend_port: int):
        self.port = free_port()
        self.backend_port = backend_port
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.1)
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def switch(self, backend_port: int, *, cut: bool = False) -> None:
        self.backend_port = backend_port
        if cut:
            with self._lock:
                pairs, self._pairs = self._pairs, []
            for a, b in pairs:
                for s in (a, b):
                    with contextlib.suppress(OSError):
                        s.shutdown(socket.SHUT_RDWR)
                        s.close()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except (socket.timeout, OSError):
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.backend_port), timeout=1.0)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        try:
            while not self._stopping.is_set():
                ready, _, _ = select.select([a, b], [], [], 0.1)
                for source in ready:
                    data = source.recv(65536)
                    if not data:
                        return
                    (b if source is a else a).sendall(data)
        except OSError:
            return
        finally:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.close()

    def stop(self) -> None:
        self._stopping.set()
        self._listener.close()
        self.switch(self.backend_port, cut=True)
        self._thread.join(2)


class Gunicorn:
    """``gunicorn`` serving the project (through :mod:`tests.support.probe_wsgi`, which names the
    worker that answered in ``X-Test-Worker``) with ``workers`` sync workers on a free port."""

    def __init__(self, env: dict[str, str], workers: int = 2, log_path: Path | None = None):
        self.port = free_port()
        self.workers = workers
        self.env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
        self.env.pop("DJANGO_SETTINGS_MODULE", None)
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> "Gunicorn":
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "tests.support.probe_wsgi:application", "--chdir", str(ROOT),
             "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers), "--worker-class", "sync",
             "--timeout", "30", "--graceful-timeout", "2", "--log-level", "warning"],
            cwd=ROOT, env={**self.env, "DJANGO_SETTINGS_MODULE": "config.settings"}, stdout=log, stderr=log,
        )
        wait_for_port(self.port, timeout)
        return self

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()  # the master stops its workers
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
