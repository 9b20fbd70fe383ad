"""Input bounds: what the backend refuses with 400 before it costs a core, a lock or a page.

0.5.1 states no limit for these inputs, so each bound here is the backend's own choice,
picked far above any real use and far below what would hurt:

- VM paths (``/sync``, ``/syncs``): at most ``MAX_PATH_BYTES`` bytes (Linux's PATH_MAX),
  ``MAX_DEPTH`` components, ``MAX_NAME_BYTES`` per component (NAME_MAX), valid Unicode
  (a lone surrogate cannot name a file);
- JSON bodies: nested at most ``MAX_JSON_DEPTH`` deep, no lone surrogate in any string or
  key (SQLite and the filesystem cannot store one);
- ``network.inbound.ports`` of a run: at most ``MAX_INBOUND_PORTS`` ports (each is a
  tunnel row shown in every ``Vm`` body); allow / block lists of a policy at most
  ``MAX_POLICY_ENTRIES`` entries;
- integers written as text (ports, ``expires``): at most ``MAX_INT_DIGITS`` digits
  (``int()`` of a 5,000-digit string raises).
"""

from __future__ import annotations

from typing import Any

from .errors import ApiError

__all__ = [
    "MAX_DEPTH",
    "MAX_INBOUND_PORTS",
    "MAX_INT_DIGITS",
    "MAX_JSON_DEPTH",
    "MAX_NAME_BYTES",
    "MAX_PATH_BYTES",
    "MAX_POLICY_ENTRIES",
    "check_count",
    "check_json",
    "check_vm_path_bounds",
]

MAX_PATH_BYTES = 4096
MAX_DEPTH = 256
MAX_NAME_BYTES = 255
MAX_JSON_DEPTH = 64
MAX_INBOUND_PORTS = 256
MAX_POLICY_ENTRIES = 1024
MAX_INT_DIGITS = 20


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_vm_path_bounds(vm_path: str, parts: list[str]) -> None:
    """400 when a VM path (already split into ``parts``) is too long, deep or not Unicode.

    Example: ``check_vm_path_bounds("/tmp/a", ["tmp", "a"])`` returns None.
    """
    if not _encodable(vm_path):
        raise ApiError("bad_request", "path must be valid Unicode (no lone surrogates)")
    size = len(vm_path.encode("utf-8"))
    if size > MAX_PATH_BYTES:
        raise ApiError("bad_request", f"path is {size} bytes; at most {MAX_PATH_BYTES}")
    if len(parts) > MAX_DEPTH:
        raise ApiError("bad_request", f"path has {len(parts)} components; at most {MAX_DEPTH}")
    for part in parts:
        if len(part.encode("utf-8")) > MAX_NAME_BYTES:
            raise ApiError(
                "bad_request", f"path component {part[:32]!r}... exceeds {MAX_NAME_BYTES} bytes"
            )


def check_json(value: Any) -> None:
    """400 when a parsed JSON value nests deeper than ``MAX_JSON_DEPTH`` or holds a lone
    surrogate in a string or key. Iterative: no recursion on hostile input.

    Example: ``check_json({"a": [1, "x"]})`` returns None.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not _encodable(item):
                raise ApiError("bad_request", "request body holds a lone surrogate")
            continue
        if not isinstance(item, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise ApiError("bad_request", f"request body nests deeper than {MAX_JSON_DEPTH}")
        children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children)


def check_count(items: object, field: str, limit: int) -> None:
    """400 when a list or object ``field`` holds more than ``limit`` entries."""
    if isinstance(items, list | dict) and len(items) > limit:
        raise ApiError("bad_request", f"{field} has {len(items)} entries; at most {limit}")
