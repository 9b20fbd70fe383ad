"""arker-conformance: the conformance suite for the Arker VM API (0.5.1 contract)."""

from __future__ import annotations

__version__ = "0.1.0.dev0"
__all__ = ["__version__"]
