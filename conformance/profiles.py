"""Capability profiles: load, validate and resolve ``extends:`` chains.

A profile is a YAML file ``{name, description, extends?, default?, capabilities}``
validated against ``schemas/profile.schema.json`` and the capability catalogue. Any
problem raises :class:`ProfileError` naming the file, the bad key and the closest
valid name.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import jsonschema
import yaml

from conformance import resources
from conformance.capabilities import CAPABILITIES, closest
from conformance.vocabulary import REQUIREMENTS, Requirement

__all__ = [
    "Profile",
    "ProfileError",
    "available_profiles",
    "load_profile",
]

_TOP_KEYS = ("name", "description", "extends", "default", "capabilities")


class ProfileError(ValueError):
    """A profile file is missing, malformed or names something outside the catalogue."""


@dataclass(frozen=True)
class Profile:
    """A resolved profile: every catalogue capability mapped to a requirement."""

    name: str
    description: str
    source: Path
    requirements: dict[str, Requirement] = field(default_factory=dict)
    chain: tuple[str, ...] = ()

    def requirement(self, capability: str) -> Requirement:
        """Return ``required``/``optional``/``unsupported`` for ``capability``.

        Example: ``load_profile("core").requirement("sessions") == "optional"``.
        """
        return self.requirements[capability]

    def by_requirement(self, requirement: Requirement | str) -> list[str]:
        """Capabilities carrying ``requirement``, in catalogue order."""
        return [cap for cap, req in self.requirements.items() if req == requirement]


def available_profiles() -> list[str]:
    """Names of the shipped profiles (``core``, ``full``, ...)."""
    return sorted(p.stem for p in resources.profiles_dir().glob("*.yaml"))


def load_profile(name_or_path: str | Path, *, base: Path | None = None) -> Profile:
    """Load and resolve a profile by shipped name or by file path.

    Args:
        name_or_path: ``"core"`` or ``"./my-backend.yaml"``.
        base: directory for relative ``extends:`` paths (internal).

    Example: ``load_profile("burst").requirement("tunnels") == "unsupported"``.
    """
    return _resolve(_locate(str(name_or_path), base), ())


def _locate(ref: str, base: Path | None) -> Path:
    candidate = Path(ref)
    looks_like_path = candidate.suffix in (".yaml", ".yml") or "/" in ref or "\\" in ref
    if looks_like_path:
        if not candidate.is_absolute() and base is not None:
            candidate = base / candidate
        if not candidate.is_file():
            raise ProfileError(f"profile file {candidate} does not exist")
        return candidate.resolve()
    shipped = resources.profiles_dir() / f"{ref}.yaml"
    if shipped.is_file():
        return shipped.resolve()
    names = available_profiles()
    near = difflib.get_close_matches(ref, names, n=1)
    hint = f"; did you mean {near[0]!r}?" if near else ""
    raise ProfileError(f"unknown profile {ref!r} (shipped: {', '.join(names)}){hint}")


def _resolve(path: Path, seen: tuple[Path, ...]) -> Profile:
    if path in seen:
        cycle = " -> ".join(str(p) for p in (*seen, path))
        raise ProfileError(f"{path}: extends cycle: {cycle}")
    raw = _read(path)
    parent: Profile | None = None
    if "extends" in raw:
        parent = _resolve(_locate(str(raw["extends"]), path.parent), (*seen, path))
    explicit = cast(dict[str, str], raw.get("capabilities") or {})
    default = raw.get("default")
    requirements: dict[str, Requirement] = {}
    for cap in CAPABILITIES:
        if cap in explicit:
            requirements[cap] = Requirement(explicit[cap])
        elif parent is not None and default is None:
            requirements[cap] = parent.requirements[cap]
        else:
            requirements[cap] = Requirement(default or Requirement.OPTIONAL)
    chain = (str(raw["name"]), *(parent.chain if parent else ()))
    return Profile(
        name=str(raw["name"]),
        description=str(raw.get("description", "")),
        source=path,
        requirements=requirements,
        chain=chain,
    )


def _read(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ProfileError(f"{path}: a profile must be a mapping, got {type(raw).__name__}")
    _check_keys(path, raw)
    errors = sorted(_validator().iter_errors(raw), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = ".".join(str(p) for p in first.absolute_path) or "(top level)"
        raise ProfileError(f"{path}: key {where}: {first.message}")
    return raw


def _check_keys(path: Path, raw: dict[str, Any]) -> None:
    for key in raw:
        if key not in _TOP_KEYS:
            near = difflib.get_close_matches(str(key), _TOP_KEYS, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise ProfileError(f"{path}: unknown key {key!r}{hint}")
    caps = raw.get("capabilities")
    if not isinstance(caps, dict):
        return
    for cap, value in caps.items():
        if cap not in CAPABILITIES:
            near_cap = closest(str(cap))
            hint = f"; did you mean {near_cap!r}?" if near_cap else ""
            raise ProfileError(f"{path}: unknown capability {cap!r}{hint}")
        if value not in REQUIREMENTS:
            near = difflib.get_close_matches(str(value), REQUIREMENTS, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise ProfileError(
                f"{path}: capabilities.{cap}: bad value {value!r} "
                f"(one of {', '.join(REQUIREMENTS)}){hint}"
            )


def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads((resources.schemas_dir() / "profile.schema.json").read_text())
    return cast(jsonschema.protocols.Validator, jsonschema.Draft202012Validator(schema))
