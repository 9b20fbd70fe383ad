"""pytest plugin entry point (``pytest11``): hooks only, cheap to import.

The decisions live elsewhere: options (``options``), gating and outcomes (``outcomes``),
result aggregation (``collect``), run state and target life cycle (``session``). The
plugin is inert for sessions that collect no conformance test: it starts nothing and
touches neither the exit status nor the terminal summary.
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator
from typing import Any

import pytest

from conformance import collect, distribution, selection, session, summary
from conformance.options import add_options, resolve_settings

_MARKERS = (
    "capability(name): the capability a conformance test checks (closed catalogue)",
    "creates_nothing: the test creates no resource; the only kind run under --read-only",
    "honesty(name): capability-honesty probe; runs only where the profile says unsupported",
    "requires(name, ...): secondary capabilities the test needs: disabled by profile where "
    "one is unsupported; an unsupported_operation on one is judged by its own requirement",
    "shares_vm: the tests only read or run harmless commands; their `vm` is one VM per module",
)
_STATUS = {  # outcome → (pytest category, letter, word, markup)
    "pass": ("passed", ".", "PASS", {"green": True}),
    "fail": ("failed", "F", "FAIL", {"red": True}),
    "warn": ("warn", "W", "WARN", {"yellow": True}),
    "unsupported": ("unsupported", "U", "UNSUPPORTED", {"cyan": True}),
    "disabled": ("disabled", "D", "DISABLED", {"yellow": True}),
    "error": ("error", "E", "ERROR", {"red": True}),
}
_WORKER_KEY = "arker_conformance"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``arker-conformance`` options (with env and ini fallbacks)."""
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    """Register markers and resolve the settings once into ``config.stash``."""
    from pathlib import Path

    for line in _MARKERS:
        config.addinivalue_line("markers", line)
    workerinput: dict[str, Any] = getattr(config, "workerinput", {})
    settings = resolve_settings(config, inherited=workerinput.get(_WORKER_KEY))
    suite_dir = Path(__file__).resolve().parent / "suite"
    config.stash[session.STATE] = session.RunState(
        settings,
        None,
        suite_dir,
        worker_id=workerinput.get("workerid"),
        workers=int(workerinput.get("workercount", 1)),
        narrowing=selection.widen(config, suite_dir),  # collect the whole suite, then select
    )
    if not workerinput:
        session.refuse_unshareable_budget(config, settings)
        distribution.default_dist(config, suite_dir)  # -n N without --dist: worksteal
    config.pluginmanager.register(_Recorder(config), "arker-conformance-recorder")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist controller: hand the run id and seed to every worker."""
    state = session.state_of(node.config)
    if state is not None:
        node.workerinput[_WORKER_KEY] = {
            "run_id": state.settings.run_id,
            "seed": state.settings.seed,
        }


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    """Target (no secrets), profile, spec version and hash, seed, run id."""
    state = session.state_of(config)
    if state is None or not summary.wants_header(config, state):
        return None
    return summary.header_lines(state)


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Name every ``ARKER_`` environment variable the suite does not know, and credentials
    in a URL (not sent), after the header (also under ``-q``): either would otherwise be
    ignored without a word."""
    import os

    from conformance.environment import warning_lines
    from conformance.session import state_of
    from conformance.urls import userinfo_warning

    state = state_of(session.config)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if state is None or state.is_worker or reporter is None:
        return
    if summary.wants_header(session.config, state):
        urls = [
            userinfo_warning(state.settings.backend_url, "--backend-url"),
            userinfo_warning(state.settings.control_url, "--control-url"),
        ]
        for line in [*warning_lines(os.environ), *filter(None, urls)]:
            reporter.write_line(line, yellow=True, bold=True)


@pytest.hookimpl(tryfirst=True)
def pytest_ignore_collect(collection_path: Any, config: pytest.Config) -> bool | None:
    """Collect suite paths ``--ignore`` names anyway: they are deselected after collection."""
    state = session.state_of(config)
    if state is None or state.narrowing is None:
        return None
    return selection.collect_ignored(collection_path, config, state.suite_dir, state.narrowing)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Decide, for every conformance test, whether it runs (usage errors end the run)."""
    state = session.state_of(config)
    if state is not None:
        session.decide_all(state, items)


def pytest_deselected(items: list[pytest.Item]) -> None:
    """Count conformance tests deselected by ``-k``/``-m`` (required ones: not conformant)."""
    if items:
        state = session.state_of(items[0].config)
        if state is not None:
            session.note_deselected(state, items)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Gate the test: disabled tests are skipped before any fixture runs."""
    state = session.state_of(item.config)
    if state is not None:
        session.gate(state, item)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    """Remember the ledger position: what the test body creates is released after it."""
    state = session.state_of(item.config)
    if state is not None:
        session.mark_call(state, item)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
    """After the fixtures' teardown, delete what the test body created (reverse order);
    a clean-up that went wrong fails (backend) or errors (suite) the teardown."""
    state = session.state_of(item.config)
    try:
        result = yield
    except BaseException:
        if state is not None:  # the fixture's own teardown error is the one to report
            with contextlib.suppress(Exception):
                session.release_test_resources(state, item)
        raise
    if state is not None:
        session.release_test_resources(state, item)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Map the phase result to our outcome and attach redacted evidence to the report."""
    report = yield
    state = session.state_of(item.config)
    if state is not None:
        collect.annotate(item, call, report, state)
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_report_teststatus(
    report: pytest.TestReport, config: pytest.Config
) -> tuple[str, str, tuple[str, dict[str, bool]]] | None:
    """Show PASS / FAIL / WARN / UNSUPPORTED / DISABLED / ERROR distinctly."""
    data = collect.props_of(report)
    if data is None:
        return None
    category, letter, word, markup = _STATUS[data["outcome"]]
    return category, letter, (word, markup)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    """pytest-xdist controller: what the workers will run (a lost one leaves no result)."""
    state = session.state_of(node.config)
    if state is not None:
        state.scheduled.update(ids)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist controller: merge a worker's leaks, problems and deselection count."""
    state = session.state_of(node.config)
    output = getattr(node, "workeroutput", {}).get(_WORKER_KEY)
    if state is not None and output:
        session.merge_worker(state, output)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Tear down, then (controller) set the exit status from the verdict and write reports."""
    from conformance.session import close_target, state_of, worker_output

    state = state_of(session.config)
    if state is None:
        return
    close_target(state)
    state.interrupted = state.interrupted or exitstatus == pytest.ExitCode.INTERRUPTED
    if state.is_worker:
        session.config.workeroutput[_WORKER_KEY] = worker_output(state)  # type: ignore[attr-defined]
        return
    if state.active and not session.config.option.collectonly:  # --co judges nothing
        session.exitstatus = summary.finish(state)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Counts per outcome and capability, leaks, the verdict and the report path."""
    state = session.state_of(config)
    if state is None or not state.active or state.is_worker or config.option.collectonly:
        return
    if state.profile_refused:
        return  # the collection was refused (a bad profile): that message is the summary
    for line, markup in summary.summary_lines(state):
        terminalreporter.write_line(line, **markup)


class _Recorder:
    """Holds the config for ``pytest_runtest_logreport``, whose hook has no config arg."""

    def __init__(self, config: pytest.Config) -> None:
        self._config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Aggregate outcomes (on the xdist controller these come from the workers)."""
        state = session.state_of(self._config)
        if state is not None:
            collect.record(report, state)
