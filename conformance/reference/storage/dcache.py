"""Let a running command see what ``/sync`` wrote behind its overlay mount.

A run sees its VM's disk through an overlayfs mount of its own, while ``/sync`` writes into
the upper layer on the host. Overlayfs caches lookups, negative ones included, so a command
that polls for a file (``while [ ! -e /tmp/f ]``) keeps being told it is missing after
``/sync`` created it: the contract says a file written by ``/sync`` is what a run reads.
Dropping the kernel's reclaimable dentries and inodes (``drop_caches`` 2: not the page
cache) after such a write makes the next lookup ask the layers again. It is done only while
a run of that VM is in flight, and it is host-wide: the price of emulating a VM disk with
overlays on one kernel.
"""

from __future__ import annotations

import logging
from pathlib import Path

__all__ = ["forget_cached_lookups"]

log = logging.getLogger("arker.reference")
DROP_CACHES = Path("/proc/sys/vm/drop_caches")


def forget_cached_lookups() -> None:
    """Drop reclaimable dentries and inodes; without the privilege, log it and go on."""
    try:
        DROP_CACHES.write_text("2\n", encoding="ascii")
    except OSError as exc:
        log.debug("cannot drop cached lookups (%s): a run may not see a new file", exc)
