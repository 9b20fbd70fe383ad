"""Building the process that executes one run inside a VM.

``bwrap`` mode (the default when ``/usr/bin/bwrap`` exists and we may mount): the run
starts (``spawn.py``) in its VM's network namespace and in a private mount namespace
where the VM's overlay (upper over its frozen layers, see ``layers.py``) is mounted —
bubblewrap 0.8 has no ``--overlay`` — and bwrap binds that merged tree as ``/``, the
host's ``/usr`` and ``/lib*`` and the backend's minimal ``/etc`` (``sysroot.py``; never
the host's, which holds secrets) read-only on top, bound filesystems at their paths, a
fresh ``/proc`` and ``/dev``, new pid/ipc/uts namespaces, no capabilities, and
``--die-with-parent``: a run never outlives the backend, so after a crash every run that
was in flight is really dead and reads ``failed`` on restart. Without a namespace of its
VM (see ``netns.py``), a ``blocked`` network policy adds a private one.

``none`` mode runs a plain process group with the VM's upper layer as ``$HOME`` and the
starting directory. It is for machines without bubblewrap or privileges: there is no
isolation, absolute paths are the host's, and a file written by ``/sync`` at ``/tmp/a``
is *not* what ``cat /tmp/a`` reads. Only ``--sandbox none`` asks for it (``auto`` without
a usable sandbox refuses to start, ``preflight.py``), and the server warns on every start.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..common.hooks import Mount
from ..storage.layers import HOST_SYSTEM_DIRS, DiskLayout
from .preflight import sandbox_problem
from .spawn import Overlay

__all__ = ["CTL_DIR", "Invocation", "bwrap_usable", "invocation", "resolve_mode"]

CTL_DIR = "/run/arker"  # where a run's control directory appears inside the sandbox
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Invocation:
    """argv, environment and working directory of a run's process, and the VM's disk and
    network namespace it starts in (``spawn.py``)."""

    argv: list[str]
    env: dict[str, str]
    cwd: str
    ctl_in_sandbox: str
    home: str
    overlay: Overlay | None = None
    netns: str | None = None


def bwrap_usable() -> bool:
    """Whether bwrap, unshare and mount exist and we are root (needed for overlay mounts)."""
    tools = all(shutil.which(t) for t in ("bwrap", "unshare", "mount"))
    return tools and os.geteuid() == 0


def resolve_mode(requested: str) -> str:
    """``auto`` and ``bwrap`` → ``bwrap``, which must be usable (else RuntimeError saying
    what is missing: never a silent fall back); ``none`` only when asked for."""
    if requested == "none":
        return "none"
    problem = sandbox_problem()
    if problem is not None:
        raise RuntimeError(problem)
    return "bwrap"


def _overlay_options(layout: DiskLayout, workdir: Path) -> str:
    lower = ":".join(str(p) for p in layout.lowers)
    return f"lowerdir={lower},upperdir={layout.upper},workdir={workdir}"


def _bwrap_args(
    layout: DiskLayout, mounts: list[Mount], ctl: Path, etc: Path, net_blocked: bool
) -> list[str]:
    args = ["bwrap", "--bind", str(layout.merged), "/"]
    for name in HOST_SYSTEM_DIRS:
        host = etc if name == "etc" else Path("/") / name
        if host.is_dir() and not host.is_symlink():
            args += ["--ro-bind", str(host), f"/{name}"]
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/run"]
    args += ["--dir", CTL_DIR, "--bind", str(ctl), CTL_DIR]
    args += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    if net_blocked:
        args.append("--unshare-net")
    args += ["--hostname", f"vm-{layout.vm_id[-12:]}", "--cap-drop", "ALL", "--die-with-parent"]
    args += ["--clearenv", "--setenv", "PATH", PATH, "--setenv", "HOME", "/root"]
    args += ["--setenv", "LANG", "C.UTF-8", "--setenv", "ARKER_VM_ID", layout.vm_id]
    args += ["--chdir", "/root", "--", "/bin/bash", "--noprofile", "--norc", f"{CTL_DIR}/run.sh"]
    return args


def invocation(
    mode: str,
    layout: DiskLayout,
    mounts: list[Mount],
    ctl: Path,
    workdir: Path,
    *,
    etc: Path,
    net_blocked: bool,
    netns: str | None = None,
) -> Invocation:
    """How to start a run of ``layout``'s VM whose control files live in ``ctl``.

    ``workdir`` is the overlay work directory of this run alone: overlayfs empties it on
    mount, so concurrent runs of one VM must not share one (a copy-up would fail).

    ``etc`` is the minimal ``/etc`` built by ``sysroot.build_etc`` (bound read-only).

    ``netns``: the VM's network namespace (a path the run starts in), which
    then decides egress instead of ``net_blocked``.

    Example: ``inv = invocation("bwrap", layout, [], ctl, work, etc=etc, net_blocked=False)``.
    """
    if mode == "none":
        home = layout.upper / "root"
        home.mkdir(parents=True, exist_ok=True)
        env = {"PATH": PATH, "HOME": str(home), "LANG": "C.UTF-8", "ARKER_VM_ID": layout.vm_id}
        argv = ["/bin/bash", "--noprofile", "--norc", str(ctl / "run.sh")]
        return Invocation(argv, env, str(home), str(ctl), str(home))
    binds = tuple((str(mount.host_dir), mount.vm_path) for mount in mounts)
    overlay = Overlay(_overlay_options(layout, workdir), str(layout.merged), binds)
    argv = _bwrap_args(layout, mounts, ctl, etc, net_blocked and netns is None)
    return Invocation(argv, {"PATH": PATH}, "/", CTL_DIR, "/root", overlay, netns)
