"""Collect the whole suite, then select: path subsets and ``--ignore`` become deselection.

pytest collects only what its arguments name and never visits what ``--ignore`` names, so
``pytest conformance/suite/test_auth.py`` could not know which required tests it left out.
The plugin widens such a run back to the whole suite — :func:`widen` (at configure time)
replaces the suite's sub-paths among the arguments by the suite directory, and
:func:`collect_ignored` (``pytest_ignore_collect``) collects ignored suite paths anyway —
then :func:`narrow` (at ``pytest_collection_modifyitems``) deselects what the user left
out, through ``pytest_deselected`` like ``-k`` does, with the reason. The run keeps the
whole expected set and names every required test it did not judge.

Only the shipped suite is widened: other conformance tests (a project's own) are
collected as pytest always does. Every xdist worker widens its own arguments the same way.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conformance.plugin.state import DROPPED

__all__ = ["Narrowing", "Pick", "collect_ignored", "narrow", "widen"]

NOT_PICKED = "not selected by the path arguments"
IGNORED = "left out by --ignore/--ignore-glob"


@dataclass(frozen=True)
class Pick:
    """One path argument inside the suite: a directory or file, maybe with ``::`` parts."""

    path: Path
    parts: tuple[str, ...] = ()

    def matches(self, path: Path, nodeid: str) -> bool:
        """True when the item at ``path`` with ``nodeid`` is what this argument names.

        Example: ``Pick(Path(".../test_auth.py"), ("test_x",))`` matches the items
        ``test_auth.py::test_x`` and ``test_auth.py::test_x[getVm]``.
        """
        if path != self.path:
            return not self.parts and self.path in path.parents
        names = nodeid.split("::")[1:]
        if len(names) < len(self.parts):
            return False
        for index, part in enumerate(self.parts):
            name = names[index]
            last = index == len(self.parts) - 1
            if name != part and not (last and name.split("[", 1)[0] == part):
                return False
        return True


@dataclass
class Narrowing:
    """What the user's arguments left out of the suite (applied by :func:`narrow`)."""

    picks: list[Pick] = field(default_factory=list)  # empty: the whole suite was named
    ignored: list[Path] = field(default_factory=list)  # suite paths --ignore named


def _resolve(config: pytest.Config, arg: str) -> tuple[Path, tuple[str, ...]] | None:
    """(path, parts) of one collection argument, as pytest itself resolves it."""
    from _pytest.main import resolve_collection_argument  # no public API for this

    where, pypath = config.invocation_params.dir, bool(config.option.pyargs)
    try:
        found: Any = resolve_collection_argument(where, arg, 0, as_pypath=pypath)
    except TypeError:  # pytest < 8.4 takes no argument index
        found = resolve_collection_argument(where, arg, as_pypath=pypath)  # type: ignore[call-arg]
    except Exception:  # a bad argument: pytest reports it itself
        return None
    if not hasattr(found, "path"):  # pytest < 8.1: a (path, parts) tuple
        return Path(found[0]).resolve(), tuple(found[1])
    parts = list(found.parts)
    if parts and getattr(found, "parametrization", None):  # pytest >= 9 splits "[id]" off
        parts[-1] += found.parametrization
    return Path(found.path).resolve(), tuple(parts)


def widen(config: pytest.Config, suite_dir: Path) -> Narrowing:
    """Replace path arguments inside the suite by the suite itself (in ``config.args``).

    Returns the picks to deselect by later; none when no argument named a part of the
    suite, or another argument already names all of it.
    """
    picks, kept, whole = [], [], False
    for arg in config.args:
        resolved = _resolve(config, arg)
        if resolved is None:
            kept.append(arg)
            continue
        path, parts = resolved
        if suite_dir in path.parents:
            picks.append(Pick(path, parts))
            continue
        whole = whole or (not parts and (path == suite_dir or path in suite_dir.parents))
        kept.append(arg)
    if not picks or whole:
        return Narrowing()
    config.args[:] = [*kept, str(suite_dir)]
    return Narrowing(picks)


def collect_ignored(
    path: Path, config: pytest.Config, suite_dir: Path, narrowing: Narrowing
) -> bool | None:
    """``pytest_ignore_collect``: collect a suite path ``--ignore`` names (False), and
    remember it; None (no opinion) for every other path."""
    resolved = path.resolve()
    if resolved != suite_dir and suite_dir not in resolved.parents:
        return None
    where = config.invocation_params.dir
    ignored = [(where / p).resolve() for p in config.getoption("ignore", None) or []]
    globs = [str(where / g) for g in config.getoption("ignore_glob", None) or []]
    if resolved in ignored or any(fnmatch.fnmatch(str(path), g) for g in globs):
        if resolved not in narrowing.ignored:
            narrowing.ignored.append(resolved)
        return False
    return None


def narrow(
    config: pytest.Config, items: list[pytest.Item], suite_dir: Path, narrowing: Narrowing
) -> None:
    """Deselect the suite's items the path arguments or ``--ignore`` left out."""
    if not narrowing.picks and not narrowing.ignored:
        return
    kept, dropped = [], []
    for item in items:
        path = Path(str(item.path)).resolve()
        why = None
        if suite_dir in path.parents:
            if any(path == p or p in path.parents for p in narrowing.ignored):
                why = IGNORED
            elif narrowing.picks and not any(p.matches(path, item.nodeid) for p in narrowing.picks):
                why = NOT_PICKED
        if why is None:
            kept.append(item)
        else:
            item.stash[DROPPED] = why
            dropped.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
