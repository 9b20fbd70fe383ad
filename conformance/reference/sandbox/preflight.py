"""Whether this host can sandbox runs, and if not, what to install or how to run.

The sandbox (``sandbox.py``) needs ``bwrap`` (Debian/Ubuntu package ``bubblewrap``),
``unshare`` and ``mount`` (``util-linux``, ``mount``), and root: each run mounts an
overlay of its VM's disk layers in a private mount namespace, which an unprivileged
user may not do (bubblewrap 0.8 has no overlay of its own). Without them the backend
refuses to start unless told ``--sandbox none``, and the embedded certification run
stops at once with this message (exit 2).
"""

from __future__ import annotations

import os
import shutil

__all__ = ["sandbox_problem"]

_TOOLS = (
    ("bwrap", "bubblewrap (bwrap): apt-get install bubblewrap (dnf install bubblewrap)"),
    ("unshare", "unshare: apt-get install util-linux"),
    ("mount", "mount: apt-get install mount"),
)
_ELSEWHERE = (
    "or certify a backend you run yourself: ARKER_API_KEY=KEY pytest --backend-url URL; "
    "`arker-conformance serve --sandbox none` runs the reference backend unsandboxed "
    "(no isolation: runs see the host's files) for local trials only"
)


def sandbox_problem() -> str | None:
    """What stops the reference backend from sandboxing runs here, or None.

    Example: ``problem = sandbox_problem(); if problem: raise SystemExit(problem)``.
    """
    missing = [hint for tool, hint in _TOOLS if shutil.which(tool) is None]
    if missing:
        return (
            "the reference backend cannot sandbox runs: not found on PATH: "
            + "; ".join(missing)
            + f". Install it, {_ELSEWHERE}"
        )
    if os.geteuid() != 0:
        return (
            "the reference backend cannot sandbox runs: it mounts an overlay of each VM's "
            f"disk per run, which needs root (running as uid {os.geteuid()}). Run as root "
            f"(e.g. in a container or a throwaway VM), {_ELSEWHERE}"
        )
    return None
