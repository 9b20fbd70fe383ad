"""Turning a generated case into one that reaches real handlers safely, deterministically.

* Path ids: most cases get the world's real ids (a real VM, run, session ...); a quarter
  keep their generated id, so the 404 path stays tested. Which ones is decided by a hash
  of the generated value, so the same seed gives the same requests. A path parameter that
  negative generation broke on purpose is never replaced.
* Bodies: every name the suite gives a resource carries the run prefix (ledger, sweep);
  fork sources point at the golden or the world VM, within a per-test cap on real forks;
  commands become ``echo <generated text>`` so arbitrary text exercises the output
  encodings without running arbitrary programs.
"""

from __future__ import annotations

import shlex
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from conformance.target import GOLDEN_ORG

if TYPE_CHECKING:
    from schemathesis import Case

    from conformance.property.world import World

__all__ = ["Preparer"]

_KEEP_GENERATED = 4  # 1 case in 4 keeps its generated path id
_COMMAND_TEXT = 64


def _bucket(value: Any, buckets: int) -> int:
    return zlib.crc32(repr(value).encode("utf-8", "replace")) % buckets


def _is_negative(case: Case[Any]) -> bool:
    return case.meta is not None and case.meta.generation.mode.is_negative


def _negated_path_params(case: Case[Any]) -> set[str]:
    meta = case.meta
    if meta is None or not _is_negative(case):
        return set()
    data = meta.phase.data
    location = getattr(data, "parameter_location", None)
    if location is None or str(getattr(location, "value", location)).lower() != "path":
        return set()
    named = getattr(data, "parameter", None)
    return {named} if named else set(case.path_parameters or {})


@dataclass
class Preparer:
    """Rewrites cases of one test (one operation and mode) before they are sent."""

    world: World
    operation_id: str
    fork_cap: int
    forks: int = 0
    stateful: bool = False  # links give the ids; forks always from the golden

    def prepare(self, case: Case[Any], *, always_real: bool = False) -> None:
        """Substitute real ids and make the body safe, in place.

        ``always_real`` (capability-honesty tests) substitutes every id it can.
        """
        if not self.stateful:
            self._path_ids(case, always_real)
        if not _is_negative(case):
            self._paging(case)
        if isinstance(case.body, dict):
            rewrite = getattr(self, f"_body_{self.operation_id}", None)
            if rewrite is not None:
                rewrite(case.body, _is_negative(case))

    def _paging(self, case: Case[Any]) -> None:
        """Valid paging for schema-valid data: a cursor only ever comes from a page (a
        generated one is garbage, which a backend refuses), and a ``limit`` in 1..1000,
        the range every reading answers (outside it 400 or clamping both pass)."""
        query = case.query
        if not isinstance(query, dict):
            return
        query.pop("cursor", None)
        limit = query.get("limit")
        if isinstance(limit, int) and not isinstance(limit, bool) and not 1 <= limit <= 1000:
            query["limit"] = 1 + abs(limit) % 1000

    def _path_ids(self, case: Case[Any], always_real: bool) -> None:
        params = case.path_parameters
        if not params:
            return
        keep = _negated_path_params(case)
        real = self.world.ids_for(self.operation_id, set(params))
        for name, value in real.items():
            if name in keep:
                continue
            if always_real or _bucket(params[name], _KEEP_GENERATED) != 0:
                params[name] = value

    # -- bodies ----------------------------------------------------------------------------

    def _name(self, body: dict[str, Any], suffix: str) -> None:
        if body.get("name") is None or isinstance(body.get("name"), str):
            body["name"] = self.world.target.ledger.new_name(suffix)

    def _body_forkVm(self, body: dict[str, Any], negative: bool) -> None:
        self._name(body, "prop-fork")
        if negative:  # a rewritten source could repair the broken field: leave it be
            return
        if self.forks >= self.fork_cap:
            # budget spent for this test: a source that cannot exist (404 expected)
            body.update(source_vm_id=None, source_vm_name=f"{self.world.target.prefix}-absent")
            return
        if self.stateful:  # the fork only feeds the links: a plain fork of the golden
            name = body["name"]
            body.clear()
            body.update(
                source_vm_name=self.world.target.golden, source_org_id=GOLDEN_ORG, name=name
            )
            self.forks += 1
            return
        choice = _bucket((body.get("source_vm_id"), body.get("source_vm_name")), 4)
        if choice in (0, 1):
            body.update(
                source_vm_id=None, source_vm_name=self.world.target.golden, source_org_id=GOLDEN_ORG
            )
        elif choice == 2 and (vm := self.world.get("vm")) is not None:
            body.update(source_vm_id=vm, source_vm_name=None, source_org_id=None)
        self.forks += 1

    def _body_createFilesystem(self, body: dict[str, Any], negative: bool) -> None:
        if isinstance(body.get("name"), str):
            body["name"] = self.world.target.ledger.new_name("prop-fs")

    def _body_createSync(self, body: dict[str, Any], negative: bool) -> None:
        fs = body.get("filesystem_id")
        if not self.stateful and isinstance(fs, str) and _bucket(fs, _KEEP_GENERATED) != 0:
            real = self.world.get("filesystem")
            if real is not None:
                body["filesystem_id"] = real

    def _body_createRun(self, body: dict[str, Any], negative: bool) -> None:
        command = body.get("command")
        if isinstance(command, str):
            body["command"] = "echo " + shlex.quote(command[:_COMMAND_TEXT])
        session = body.get("session_id")
        if not self.stateful and isinstance(session, str) and _bucket(session, 2) == 0:
            real = self.world.get("session")
            if real is not None:
                body["session_id"] = real
