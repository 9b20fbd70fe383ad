"""Copy-on-write VM disks as stacks of overlay layers.

A VM's disk is one writable *upper* directory over a list of frozen, shared, read-only
*lower* layers (top first). Forking freezes the parent's upper into a new lower layer
(a rename, O(1) whatever the disk size) and gives both parent and child a fresh upper
over the same stack, so the child sees the parent's files and later writes never cross.
A VM with runs in flight cannot have its upper frozen (a live overlay mount writes into
it), so such a fork copies the upper instead (cost = bytes written since the last fork).
Layers no VM references any more are removed when a VM is deleted.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .db import Database
from .flatten import merge_layers, needs_flattening
from .trash import remove_tree, sweep

__all__ = ["DDL", "DiskLayout", "LayerStore"]

log = logging.getLogger("arker.reference")

DDL = """
CREATE TABLE IF NOT EXISTS vm_disks (
    vm_id  TEXT PRIMARY KEY,
    upper  TEXT NOT NULL,
    lowers TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class DiskLayout:
    """Host directories of one VM's disk: ``upper`` over ``lowers`` (top first)."""

    vm_id: str
    upper: Path
    lowers: tuple[Path, ...]
    merged: Path


class LayerStore:
    """Creates, forks and deletes layered disks under ``root`` (``data_dir/disks``)."""

    def __init__(self, db: Database, root: Path) -> None:
        self.db = db
        self.root = root
        # Held while an upper is frozen and while a host-side write lands in an upper, so
        # a write never ends up in a layer that was frozen under it.
        self.lock = threading.RLock()
        for sub in ("layers", "uppers", "merged", "staging", "flattening"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        _make_base(root / "base")
        for leftover in (root / "staging").iterdir():  # writes cut short by a crash
            leftover.unlink(missing_ok=True)
        sweep(root / "trash")  # deletes cut short by a crash or an error
        sweep(root / "flattening")  # merges cut short
        db.ensure_schema(DDL)

    def layout(self, vm_id: str) -> DiskLayout | None:
        """The layout of ``vm_id``'s disk, or None if it has none."""
        row = self.db.one("SELECT upper, lowers FROM vm_disks WHERE vm_id = ?", (vm_id,))
        if row is None:
            return None
        named = tuple(self.root / "layers" / name for name in json.loads(row["lowers"]))
        return DiskLayout(
            vm_id=vm_id,
            upper=self.root / "uppers" / row["upper"],
            lowers=(*named, self.root / "base"),
            merged=self.root / "merged" / vm_id,
        )

    def create(self, vm_id: str, lowers: list[str] | None = None) -> None:
        """Give ``vm_id`` a fresh upper over ``lowers`` (layer names, top first)."""
        upper = self._new_dir("uppers", vm_id)
        (self.root / "merged" / vm_id).mkdir(parents=True, exist_ok=True)
        self.db.execute(
            "INSERT OR REPLACE INTO vm_disks (vm_id, upper, lowers) VALUES (?, ?, ?)",
            (vm_id, upper, json.dumps(lowers or [])),
        )

    def fork(
        self, parent_id: str, child_id: str, *, parent_busy: Callable[[], bool], share: bool
    ) -> None:
        """Give ``child_id`` a copy-on-write copy of ``parent_id``'s disk.

        ``parent_busy`` is asked under the lock (a run admitted later sees the new layout);
        a busy parent's upper is copied after the lock is released. ``share`` (the
        ``fork-shares-disk`` fault) makes the child use the parent's upper. Call it from a
        worker thread: the copy may take a while.
        """
        copy_from: Path | None = None
        flat = self._flatten(parent_id)  # outside the lock: it copies frozen layers
        with self.lock, self.db.transaction():
            row = self.db.one("SELECT upper, lowers FROM vm_disks WHERE vm_id = ?", (parent_id,))
            if row is None:
                self.create(child_id)
                return
            lowers: list[str] = json.loads(row["lowers"])
            if flat is not None and flat[0] == lowers:
                os.rename(self.root / "flattening" / flat[1], self.root / "layers" / flat[1])
                lowers = [flat[1]]
                if not parent_busy():  # a live mount of the parent still uses the old ones
                    self.db.execute(
                        "UPDATE vm_disks SET lowers = ? WHERE vm_id = ?",
                        (json.dumps(lowers), parent_id),
                    )
            upper_dir = self.root / "uppers" / row["upper"]
            if share:
                self.db.execute(
                    "INSERT OR REPLACE INTO vm_disks (vm_id, upper, lowers) VALUES (?, ?, ?)",
                    (child_id, row["upper"], row["lowers"]),
                )
                (self.root / "merged" / child_id).mkdir(parents=True, exist_ok=True)
                return
            if not any(upper_dir.iterdir()):
                self.create(child_id, lowers)
            elif parent_busy():
                self.create(child_id, lowers)
                copy_from = upper_dir
            else:
                layer = self._freeze(row["upper"])
                self.create(parent_id, [layer, *lowers])
                self.create(child_id, [layer, *lowers])
        if copy_from is not None:
            child = self.layout(child_id)
            assert child is not None
            _copy_tree(copy_from, child.upper)

    def _flatten(self, vm_id: str) -> tuple[list[str], str] | None:
        """The VM's named layers and one new layer merging them, when a fork would make its
        stack too long to mount (``flatten.py``); None otherwise or when it cannot."""
        row = self.db.one("SELECT lowers FROM vm_disks WHERE vm_id = ?", (vm_id,))
        named: list[str] = json.loads(row["lowers"]) if row is not None else []
        stack = [*(self.root / "layers" / n for n in named), self.root / "base"]
        if len(named) < 2 or not needs_flattening(stack, len(str(self.root))):
            return None
        # Built outside layers/ (a delete meanwhile would take it for unreferenced) and
        # moved in by the fork, under the lock.
        name = self._new_dir("flattening", "l")
        scratch = self.root / "merged" / f"flatten-{name}"
        scratch.mkdir()
        try:
            merged = merge_layers(stack, self.root / "flattening" / name, scratch)
        finally:
            scratch.rmdir()
        if not merged:
            remove_tree(self.root / "flattening" / name)
            return None
        return named, name

    def _freeze(self, upper: str) -> str:
        name = self._new_dir("layers", "l")
        (self.root / "layers" / name).rmdir()
        os.rename(self.root / "uppers" / upper, self.root / "layers" / name)
        return name

    def delete(self, vm_id: str) -> None:
        """Drop ``vm_id``'s upper and every layer no remaining VM references."""
        trash = self.root / "trash"
        trash.mkdir(exist_ok=True)
        with self.db.transaction():
            row = self.db.one("SELECT upper FROM vm_disks WHERE vm_id = ?", (vm_id,))
            self.db.execute("DELETE FROM vm_disks WHERE vm_id = ?", (vm_id,))
            rows = self.db.query("SELECT upper, lowers FROM vm_disks")
            used = {name for r in rows for name in json.loads(r["lowers"])}
            doomed = [layer for layer in (self.root / "layers").iterdir() if layer.name not in used]
            if row is not None and row["upper"] not in {r["upper"] for r in rows}:
                doomed.append(self.root / "uppers" / row["upper"])
            doomed.append(self.root / "merged" / vm_id)
            moved = []
            for path in doomed:
                if path.exists():
                    target = trash / f"{path.name}-{secrets.token_hex(4)}"
                    os.rename(path, target)
                    moved.append(target)
        for path in moved:
            try:
                remove_tree(path)
            except OSError as exc:  # left in the trash: the next start sweeps it
                log.warning("could not remove %s: %s", path, exc)

    def staging_dir(self) -> Path:
        """Where host-side writes are staged before landing in an upper (same filesystem)."""
        return self.root / "staging"

    def _new_dir(self, kind: str, prefix: str) -> str:
        name = f"{prefix}-{secrets.token_hex(6)}"
        (self.root / kind / name).mkdir(parents=True)
        return name


# The bottom layer of every disk: the writable top-level directories of a fresh VM.
_BASE_DIRS = {
    "tmp": 0o1777,
    "root": 0o700,
    "home": 0o755,
    "work": 0o755,
    "var": 0o755,
    "var/tmp": 0o1777,
    "mnt": 0o755,
    "opt": 0o755,
    "srv": 0o755,
}


# Mount points for the sandbox, mirrored from the host (symlinks such as /bin -> usr/bin
# stay symlinks) so bwrap never has to create them in a VM's upper layer.
HOST_SYSTEM_DIRS = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc")
_MOUNT_POINTS = ("proc", "dev", "sys", "run")


def _make_base(base: Path) -> None:
    for rel, mode in _BASE_DIRS.items():
        path = base / rel
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, mode)
    for name in _MOUNT_POINTS:
        (base / name).mkdir(exist_ok=True)
    for name in HOST_SYSTEM_DIRS:
        host, path = Path("/") / name, base / name
        if path.exists() or path.is_symlink() or not host.exists():
            continue
        if host.is_symlink():
            path.symlink_to(os.readlink(host))
        else:
            path.mkdir()


def _copy_tree(src: Path, dst: Path) -> None:
    """Copy ``src``'s contents into ``dst`` keeping whiteouts, xattrs and reflinks if possible."""
    subprocess.run(
        ["cp", "-a", "--reflink=auto", f"{src}/.", str(dst)],
        check=True,
        capture_output=True,
    )
