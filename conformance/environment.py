"""The ``ARKER_`` environment variables the suite knows, and a warning for the others.

A misspelt variable is worse than a missing one: whoever sets ``ARKER_BACKEND_URL``
instead of ``ARKER_BASE_URL`` certifies the embedded reference backend without a word.
At the start of a run the plugin names every ``ARKER_`` variable it does not know, with
the closest known name.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from conformance.plugin.options import OPTIONS

__all__ = ["KNOWN_ENV", "known_names", "unknown_variables", "warning_lines"]

# Every ARKER_ variable the suite, its reference backend, its tests or the official clients
# read, besides the options' own fallbacks (listed in conformance.plugin.options.OPTIONS, added
# below). Add a new one here, in one place.
KNOWN_ENV: tuple[str, ...] = (
    # the official clients (0.5.1): key, compute / burst / control-plane URLs, placement
    "ARKER_API_KEY",
    "ARKER_BASE_URL",
    "ARKER_BURST_BASE_URL",
    "ARKER_CONTROL_BASE_URL",
    "ARKER_PROVIDER",
    "ARKER_REGION",
    # the suite: the operator's wait budget
    "ARKER_WAIT_BUDGET",
    # the reference backend: its keys, its launcher's pid, the VM id inside a run
    "ARKER_REFERENCE_KEYS",
    "ARKER_REFERENCE_PARENT",
    "ARKER_VM_ID",
    # the project's own tests and benchmarks
    "ARKER_UPDATE_SNAPSHOTS",
    "ARKER_SDK_DTS_DIFF",
    "ARKER_BENCH_WIRE_DIR",
)
_PREFIX = "ARKER_"


def known_names() -> frozenset[str]:
    """:data:`KNOWN_ENV` plus every option's environment fallback.

    Example: ``"ARKER_MAX_VMS" in known_names()`` → ``True``.
    """
    return frozenset(KNOWN_ENV) | {opt.env for opt in OPTIONS if opt.env}


def unknown_variables(environ: Mapping[str, str]) -> list[tuple[str, str | None]]:
    """``(name, closest known name or None)`` for each unknown ``ARKER_`` variable, sorted.

    Example: ``unknown_variables({"ARKER_BACKEND_URL": "x"})``
    → ``[("ARKER_BACKEND_URL", "ARKER_BASE_URL")]``.
    """
    known = known_names()
    # compare what follows the prefix: the shared ARKER_ would make anything look close
    tails = sorted(name[len(_PREFIX) :] for name in known)
    found = []
    for name in sorted(environ):
        if name.startswith(_PREFIX) and name not in known:
            close = difflib.get_close_matches(name[len(_PREFIX) :], tails, n=1, cutoff=0.6)
            found.append((name, _PREFIX + close[0] if close else None))
    return found


def warning_lines(environ: Mapping[str, str]) -> list[str]:
    """One line per unknown ``ARKER_`` variable, saying it is ignored (values never shown).

    Example: ``"arker-conformance: WARNING: ARKER_BACKEND_URL is not a variable the suite
    knows; it is ignored (did you mean ARKER_BASE_URL?)"``.
    """
    lines = []
    for name, close in unknown_variables(environ):
        hint = f" (did you mean {close}?)" if close else ""
        lines.append(
            f"arker-conformance: WARNING: {name} is not a variable the suite knows; "
            f"it is ignored{hint}"
        )
    return lines
