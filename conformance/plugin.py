"""pytest plugin entry point (``pytest11``): hooks only, cheap to import."""

from __future__ import annotations
