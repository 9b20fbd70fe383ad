"""Which versions a run was made of: suite, contract, profile and backend."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Versions"]


@dataclass(frozen=True)
class Versions:
    """The versions ``compare`` and ``history`` tell apart.

    ``backend`` is what the backend says it is (None when it does not say); a test whose
    outcome flips while ``backend`` stays the same is flaky.

    Example: ``Versions("0.2.0", "0.5.1", sha, "core", psha, "arker-reference 0.2.0")``.
    """

    suite: str
    spec: str
    spec_sha256: str
    profile: str
    profile_sha256: str = ""
    backend: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form used in results.json."""
        return {
            "suite": self.suite,
            "spec": self.spec,
            "spec_sha256": self.spec_sha256,
            "profile": self.profile,
            "profile_sha256": self.profile_sha256,
            "backend": self.backend,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Versions:
        """Build from the results.json form."""
        backend = data.get("backend")
        return cls(
            suite=str(data["suite"]),
            spec=str(data["spec"]),
            spec_sha256=str(data["spec_sha256"]),
            profile=str(data["profile"]),
            profile_sha256=str(data.get("profile_sha256", "")),
            backend=None if backend is None else str(backend),
        )

    def changes(self, newer: Versions) -> list[tuple[str, str | None, str | None]]:
        """``(what, old, new)`` for every version that differs in ``newer``.

        The hashes count as a change of their version (same name, different document).

        Example: ``Versions("1", ...).changes(Versions("2", ...))`` → ``[("suite", "1", "2")]``.
        """
        found: list[tuple[str, str | None, str | None]] = []
        for what, old, new in (
            ("suite", self.suite, newer.suite),
            ("spec", self.spec, newer.spec),
            ("spec sha256", self.spec_sha256[:12], newer.spec_sha256[:12]),
            ("profile", self.profile, newer.profile),
            ("profile sha256", self.profile_sha256[:12], newer.profile_sha256[:12]),
            ("backend", self.backend, newer.backend),
        ):
            if old != new:
                found.append((what, old, new))
        return found
