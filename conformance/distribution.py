"""How pytest-xdist hands out the suite's tests when the operator did not say.

``pytest -n N`` alone distributes with xdist's ``load`` mode: tests go out one chunk at a
time in collection order, so a module's tests land on every worker and each worker forks
the module's shared VM (``module_vm``) again. ``worksteal`` gives each worker a contiguous
share of the collection instead (a module stays together, one shared VM) and lets a worker
that runs dry take half of the busiest worker's remaining tests, so no worker is left with
a long tail. An explicit ``--dist`` (command line, ``PYTEST_ADDOPTS`` or ini ``addopts``)
is always kept, and runs that do not name the suite (a project's own tests under ``-n``)
are left to xdist.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable
from pathlib import Path

import pytest

__all__ = ["DEFAULT_DIST", "default_dist", "dist_given", "names_the_suite"]

DEFAULT_DIST = "worksteal"
_DIST_FLAGS = ("--dist", "-d", "--distload")


def dist_given(args: Iterable[str]) -> bool:
    """Whether command-line words choose a distribution mode themselves.

    Example: ``dist_given(["-n", "4", "--dist=load"]) is True``; ``dist_given(["-n", "4"])``
    is False.
    """
    return any(arg in _DIST_FLAGS or arg.startswith("--dist=") for arg in args)


def names_the_suite(args: Iterable[str], bases: Iterable[Path], suite_dir: Path) -> bool:
    """Whether a path among ``args`` (relative to one of ``bases``: the invocation
    directory, the rootdir for ``testpaths``) is the suite, inside it or above it.

    Example: ``names_the_suite(["tests"], [repo], repo / "conformance/suite") is False``.
    """
    for arg in args:
        for base in bases:
            path = (base / arg.split("::", 1)[0]).resolve()
            if path == suite_dir or suite_dir in path.parents or path in suite_dir.parents:
                return True
    return False


def default_dist(config: pytest.Config, suite_dir: Path) -> None:
    """On the xdist controller of ``-n N`` with no ``--dist`` given: use ``worksteal``.

    Only for runs whose paths name the suite (``suite_dir``). Call it from
    ``pytest_configure`` (before xdist's, which is ``trylast``): the mode is read when the
    scheduler is made and sent to the workers when they start.
    """
    option = config.option
    if getattr(option, "dist", "no") != "load" or not getattr(option, "numprocesses", None):
        return
    bases = [config.invocation_params.dir, config.rootpath]
    if not names_the_suite(config.args, bases, suite_dir.resolve()):
        return
    words = [
        *config.invocation_params.args,
        *shlex.split(os.environ.get("PYTEST_ADDOPTS", "")),
        *config.getini("addopts"),
    ]
    if not dist_given(words):
        option.dist = DEFAULT_DIST
