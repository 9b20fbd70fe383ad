"""The minimal ``/etc`` every VM sees instead of the host's.

The host's ``/etc`` holds secrets (``shadow``, ``gshadow``, SSH host keys, ``ssl/private``,
package-manager tokens in ``pip.conf`` / ``npmrc``), and runs execute as root, so binding
it read-only would hand them to any run. ``build_etc`` writes a small directory instead,
under ``data_dir/sysroot/etc``, rebuilt on every start:

- generated: ``passwd`` and ``group`` (root and nobody only), ``hosts``, ``hostname``,
  ``nsswitch.conf`` (files, then DNS for hosts);
- copied from the host when present, being public distribution data that programs the
  suite uses need: ``resolv.conf`` (its content, even when it is a symlink), the dynamic
  linker's cache and configuration, ``alternatives`` (the symlinks behind ``awk`` & co),
  ``ssl/certs`` and ``ssl/openssl.cnf`` and ``ca-certificates.conf`` (never
  ``ssl/private``), ``localtime``, ``os-release``, ``debian_version``, ``mime.types``,
  ``protocols``, ``services``, ``python3*`` (Debian's ``sitecustomize``), ``mtab``.

The sandbox binds this directory read-only at ``/etc``, and ``/sync`` reads of ``/etc/...``
are served from it too (see ``disks.py``), so both views agree.
"""

from __future__ import annotations

import shutil
from pathlib import Path

__all__ = ["COPIED", "build_etc", "etc_dir"]

# Host /etc entries copied into the VMs' /etc (files, directories or symlinks).
COPIED = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "alternatives",
    "ssl/certs",
    "ssl/openssl.cnf",
    "ca-certificates.conf",
    "localtime",
    "os-release",
    "debian_version",
    "mime.types",
    "protocols",
    "services",
    "mtab",
)

_GENERATED = {
    "passwd": "root:x:0:0:root:/root:/bin/bash\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
    "group": "root:x:0:\nnogroup:x:65534:\n",
    "hosts": "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
    "hostname": "arker-vm\n",
    "nsswitch.conf": "passwd: files\ngroup: files\nshadow: files\n"
    "hosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n",
}


def etc_dir(data_dir: Path) -> Path:
    """Where the VMs' ``/etc`` lives for the backend using ``data_dir``."""
    return data_dir / "sysroot" / "etc"


def _copy_entry(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_symlink():
        dst.symlink_to(src.readlink())
    elif src.is_dir():
        shutil.copytree(src, dst, symlinks=True)
    elif src.is_file():
        shutil.copyfile(src, dst)


def build_etc(data_dir: Path, host_etc: Path = Path("/etc")) -> Path:
    """(Re)build the minimal ``/etc`` for ``data_dir`` and return its path.

    Built next to the old one and swapped in, so a restart never shows a half-built view.

    Example: ``build_etc(Path("/srv/ref")) == Path("/srv/ref/sysroot/etc")``.
    """
    target = etc_dir(data_dir)
    staging = target.with_name("etc.new")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True, mode=0o755)
    for name, text in _GENERATED.items():
        (staging / name).write_text(text)
    resolv = host_etc / "resolv.conf"
    if resolv.is_file():  # follows a symlink: the content, not a link into the host
        (staging / "resolv.conf").write_bytes(resolv.read_bytes())
    for name in COPIED:
        src = host_etc / name
        if src.exists() or src.is_symlink():
            _copy_entry(src, staging / name)
    for src in sorted(host_etc.glob("python3*")):
        if src.is_dir() and not src.is_symlink():
            _copy_entry(src, staging / src.name)
    old = target.with_name("etc.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    return target
