"""The versions a run was made of (suite, contract, profile, backend) for its report."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from conformance.reports.versions import Versions

if TYPE_CHECKING:
    from conformance.profiles import Profile
    from conformance.spec import Spec

__all__ = ["profile_sha256", "run_versions"]


def profile_sha256(profile: Profile) -> str:
    """SHA-256 of the profile as resolved (name and every capability's requirement).

    Two profile files that resolve to the same requirements hash alike; an edit that changes
    what is required changes the hash even when the name stays.
    """
    resolved = {"name": profile.name, "requirements": dict(sorted(profile.requirements.items()))}
    text = json.dumps(resolved, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def run_versions(suite: str, spec: Spec, profile: Profile, *, embedded: bool) -> Versions:
    """The run's :class:`Versions`.

    The contract has no operation that names a backend's version, so ``backend`` is known
    only for the embedded reference backend (``arker-reference <suite version>``) and is
    None for any other target (``compare`` and ``history`` treat None as "the same").

    Example: ``run_versions("0.2.0", spec, profile, embedded=True).backend``.
    """
    return Versions(
        suite=suite,
        spec=spec.version,
        spec_sha256=spec.sha256,
        profile=profile.name,
        profile_sha256=profile_sha256(profile),
        backend=f"arker-reference {suite}" if embedded else None,
    )
