"""Locate the bundled contract documents and profiles.

One helper for both layouts: an installed wheel carries them under
``conformance/_data/`` (hatch force-include), a source checkout has them at the
repository root next to the package.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["SPEC_FILE", "data_dir", "profiles_dir", "schemas_dir", "spec_path"]

SPEC_FILE = "arker-0.5.1.openapi.yaml"
_PACKAGE = Path(__file__).resolve().parent


def data_dir(kind: str) -> Path:
    """Return the directory holding bundled ``kind`` files (``schemas`` or ``profiles``).

    Example: ``data_dir("schemas") / "profile.schema.json"``.
    """
    for candidate in (_PACKAGE / "_data" / kind, _PACKAGE.parent / kind):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"bundled {kind}/ not found next to {_PACKAGE}")


def schemas_dir() -> Path:
    """Directory of the bundled OpenAPI document and JSON Schemas."""
    return data_dir("schemas")


def profiles_dir() -> Path:
    """Directory of the shipped capability profiles."""
    return data_dir("profiles")


def spec_path() -> Path:
    """Path of the bundled Arker 0.5.1 OpenAPI document."""
    return schemas_dir() / SPEC_FILE
