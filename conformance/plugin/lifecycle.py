"""The target's life cycle: open it (embedded backend, pre-flight), release what each
test created, and at the end tear everything down and check for leaks.

The ``target`` fixture and the plugin's hooks call into this module; nothing here runs at
import time. Under pytest-xdist every worker opens its own target (and, without
``--backend-url``, its own embedded backend) and keeps its own ledger file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from conformance.errors import HarnessError
from conformance.plugin.state import CALL_MARK, MARK, RunState, profile_of
from conformance.rules.marks import LEAK_RULE

if TYPE_CHECKING:
    from conformance.plugin.options import Settings
    from conformance.target import Target

__all__ = [
    "close_target",
    "mark_call",
    "open_target",
    "refuse_unshareable_budget",
    "release_test_resources",
]


def refuse_unshareable_budget(config: pytest.Config, settings: Settings) -> None:
    """On the xdist controller, before any worker starts: a ``--max-vms`` too small to share
    among the workers ends the run as one usage error (2), not as an error per test."""
    from conformance.budgets import worker_budget_error

    planned = config.getoption("tx", None) or []
    workers = len(planned) if config.getoption("dist", "no") != "no" else 1
    message = worker_budget_error(settings.max_vms, workers, given=settings.max_vms_given)
    if message:
        pytest.exit(f"arker-conformance usage error:\n  {message}", returncode=2)


def mark_call(state: RunState, item: pytest.Item) -> None:
    """Remember the ledger position when the test body starts."""
    if state.target is not None:
        item.stash[CALL_MARK] = state.target.ledger.mark()


def release_test_resources(state: RunState, item: pytest.Item) -> None:
    """After a test: delete what its body created (newest first), so budgets count live VMs,
    and judge every delete of the test's resources that went wrong (``cleanup``).

    Only resources created during the call phase are released here: those of session- or
    module-scoped fixtures (created during setup) stay until the session teardown.
    """
    from conformance.cleanup import judge_test_cleanup

    target = state.target
    if target is None:
        return
    if state.closed:  # the session ended in this test's teardown: judge what it saw before
        failures, state.unjudged_cleanup = state.unjudged_cleanup, []
    else:
        if CALL_MARK in item.stash:
            from conformance.janitor import deleted_in

            ledger = target.ledger
            live = ledger.alive_since(item.stash[CALL_MARK])
            for entry in deleted_in(target.log.since(item.stash.get(MARK, 0)), live):
                ledger.deleted(entry)  # the test deleted it: no second DELETE
            ledger.release(ledger.alive_since(item.stash[CALL_MARK]), target.delete_entry)
        failures = target.take_cleanup_failures()
    judge_test_cleanup(failures, target.profile, target.redactor.text)


def open_target(state: RunState) -> Target:
    """Build the session's :class:`Target` (starting the embedded backend if needed).

    Pre-flight: an unreachable target or a refused key ends the whole session with
    exit status 2 and a message naming the (redacted) URL.
    """
    from conformance.embedded import start_embedded
    from conformance.spec import Spec
    from conformance.target import connect

    settings = state.settings
    spec, profile = Spec.load(settings.spec), profile_of(state)
    embedded = None
    keys: tuple[str | None, str | None]
    if settings.backend_url is None:
        _refuse_unsandboxed(state)
        embedded = start_embedded(disabled=tuple(profile.by_requirement("unsupported")))
        base_url, keys = embedded.base_url, (embedded.api_key, embedded.other_api_key)
    else:
        base_url, keys = settings.backend_url, (settings.api_key, settings.other_api_key)
    state.target = connect(
        settings,
        spec,
        profile,
        base_url,
        keys,
        workers=state.workers,
        tag=state.worker_id,
        embedded=embedded,
    )
    problem = state.target.preflight()
    if problem is not None:
        state.problems.append(f"pre-flight: {problem}")
        close_target(state)
        if state.is_worker:  # pytest.exit would crash and respawn the worker
            raise HarnessError(f"pre-flight failed: {problem}")
        pytest.exit(f"arker-conformance pre-flight failed: {problem}", returncode=2)
    return state.target


def _refuse_unsandboxed(state: RunState) -> None:
    """Stop at once (exit 2) when the embedded backend could not sandbox its runs."""
    from conformance.embedded import sandbox_problem

    problem = sandbox_problem()
    if problem is None:
        return
    state.problems.append(f"embedded backend: {problem}")
    if state.is_worker:  # pytest.exit would crash and respawn the worker
        raise HarnessError(problem)
    pytest.exit(f"arker-conformance: {problem}", returncode=2)


def close_target(state: RunState) -> None:
    """Tear down every ledgered resource (newest first), check for leaks, stop the backend.

    Idempotent; called by the ``target`` fixture's finalizer and again (as a safety net,
    e.g. after ``pytest.exit`` or Ctrl-C) at session finish.
    """
    target = state.target
    if target is None or state.closed:
        return
    state.closed = True
    from conformance.cleanup import session_findings

    state.unjudged_cleanup = target.take_cleanup_failures()  # the last test's own
    try:
        target.ledger.teardown(target.delete_entry)  # what went wrong: cleanup_failures
        failures = target.take_cleanup_failures()
        scan = target.janitor.scan(target.prefix + "-")  # one list per kind, not a GET each
        leaks = target.ledger.leaks(scan.still_there)
        leaks, notes = session_findings(failures, leaks, target.redactor.text)
        known = {leak.get("id") for leak in leaks}
        leaks += [
            dict(x, reason="left over with the run prefix")
            for x in scan.leftovers()
            if x.get("id") not in known
        ]
        state.cleanup_problems.extend(notes)
        state.leaks.extend({**leak, "rule_id": LEAK_RULE} for leak in leaks)  # p4: rule id
    except (HarnessError, OSError, ValueError) as exc:
        state.cleanup_problems.append(f"leak check could not run: {target.redactor.text(str(exc))}")
    finally:
        for client in (target.client, target.other_client, target.anon_client):
            if client is not None:
                client.close()
        if target.embedded is not None:
            target.embedded.stop()
