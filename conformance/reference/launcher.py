"""Starting the reference backend as a child process (for the pytest plugin and tests)."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

from .keys import KEYS_ENV
from .lifeline import PARENT_ENV

__all__ = ["LaunchError", "ReferenceServer"]

_READY = "arker-reference listening on "


class LaunchError(RuntimeError):
    """The server did not come up (the message carries the tail of its log)."""


class ReferenceServer:
    """``python -m conformance.reference`` on 127.0.0.1 and a free port, in its own group.

    Example::

        with ReferenceServer(tmp_path / "data", api_keys={"k": "org-a"}) as server:
            httpx.get(server.base_url + "/")
    """

    def __init__(
        self,
        data_dir: Path,
        api_keys: dict[str, str] | None = None,
        faults: Iterable[str] = (),
        disabled: Iterable[str] = (),
        latency_ms: int = 0,
        sandbox: str = "auto",
        start_timeout_s: float = 30.0,
        extra_args: Iterable[str] = (),
        wrapper: Iterable[str] = (),
        options: Iterable[str] = (),
    ) -> None:
        self.data_dir = Path(data_dir)
        # None → one fixed key; {} → none, so the server generates one (printed to its log)
        self.api_keys = {"reference-key": "default"} if api_keys is None else dict(api_keys)
        self.faults = tuple(faults)
        self.disabled = tuple(disabled)
        self.latency_ms = latency_ms
        self.sandbox = sandbox
        self.start_timeout_s = start_timeout_s
        # more serve options, e.g. ("--page-cap", "3")
        self.extra_args = (*extra_args, *options)
        self.wrapper = tuple(wrapper)  # a command the server is started under
        self.port = 0
        self.base_url = ""
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}.server.log"

    def _argv(self) -> list[str]:
        # the keys travel in the environment (see _env), never on the command line
        argv = [
            *self.wrapper,
            sys.executable,
            "-m",
            "conformance.reference",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            "--sandbox",
            self.sandbox,
            "--latency-ms",
            str(self.latency_ms),
        ]
        for name in self.faults:
            argv += ["--fault", name]
        for name in self.disabled:
            argv += ["--disable", name]
        return [*argv, *self.extra_args]

    def _env(self) -> dict[str, str]:
        """The server's environment: ours, its keys (``KEYS_ENV``), its launcher's pid.

        Keys in argv would be readable by every local user (``ps``); a process's
        environment only by its owner and root.
        """
        keys = "\n".join(f"{key}={org}" for key, org in self.api_keys.items())
        return {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            PARENT_ENV: str(os.getpid()),
            KEYS_ENV: keys,
        }

    def start(self) -> ReferenceServer:
        """Start the server and wait (with a deadline) for its listening line."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self._argv(),
                stdout=subprocess.PIPE,
                stderr=log,
                start_new_session=True,
                env=self._env(),
            )
        line = self._read_ready_line()
        self.base_url = line.removeprefix(_READY).strip()
        self.port = int(self.base_url.rsplit(":", 1)[1])
        return self

    def _read_ready_line(self) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        deadline = time.monotonic() + self.start_timeout_s
        buffer = b""
        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stdout, selectors.EVENT_READ)
            while time.monotonic() < deadline:
                if selector.select(timeout=max(0.0, deadline - time.monotonic())):
                    chunk = os.read(self.proc.stdout.fileno(), 4096)
                    if not chunk:
                        break
                    buffer += chunk
                    for line in buffer.decode(errors="replace").splitlines():
                        if line.startswith(_READY):
                            return line
        self.kill()
        tail = self.log_path.read_text(errors="replace")[-2000:]
        raise LaunchError(f"reference server did not start; last output: {buffer!r}\n{tail}")

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 15.0) -> int | None:
        """Send ``sig`` and wait for the exit (SIGKILL after ``timeout_s``); the exit code."""
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        return proc.returncode

    def kill(self) -> int | None:
        """SIGKILL the server (a crash: no shutdown code runs)."""
        return self.stop(signal.SIGKILL)

    def restart(self, sig: int = signal.SIGTERM) -> ReferenceServer:
        """Stop (with ``sig``) and start again on the same data dir and port."""
        self.stop(sig)
        return self.start()

    def __enter__(self) -> ReferenceServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
