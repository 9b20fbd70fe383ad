"""How pytest-xdist hands out the suite's tests when the operator did not say.

``pytest -n N`` alone distributes with xdist's ``load`` mode: tests go out one chunk at a
time in collection order, so a module's tests land on every worker and each worker forks
the module's shared VM (``module_vm``) again. ``worksteal`` gives each worker a contiguous
share of the collection instead (a module stays together, one shared VM) and lets a worker
that runs dry take half of the busiest worker's remaining tests, so no worker is left with
a long tail. An explicit ``--dist`` (command line, ``PYTEST_ADDOPTS`` or ini ``addopts``)
is always kept.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable

import pytest

__all__ = ["DEFAULT_DIST", "default_dist", "dist_given"]

DEFAULT_DIST = "worksteal"
_DIST_FLAGS = ("--dist", "-d", "--distload")


def dist_given(args: Iterable[str]) -> bool:
    """Whether command-line words choose a distribution mode themselves.

    Example: ``dist_given(["-n", "4", "--dist=load"]) is True``; ``dist_given(["-n", "4"])``
    is False.
    """
    return any(arg in _DIST_FLAGS or arg.startswith("--dist=") for arg in args)


def default_dist(config: pytest.Config) -> None:
    """On the xdist controller of ``-n N`` with no ``--dist`` given: use ``worksteal``.

    Call it from ``pytest_configure`` (before xdist's, which is ``trylast``): the mode is
    read when the scheduler is made and sent to the workers when they start.
    """
    option = config.option
    if getattr(option, "dist", "no") != "load" or not getattr(option, "numprocesses", None):
        return
    words = [
        *config.invocation_params.args,
        *shlex.split(os.environ.get("PYTEST_ADDOPTS", "")),
        *config.getini("addopts"),
    ]
    if not dist_given(words):
        option.dist = DEFAULT_DIST
