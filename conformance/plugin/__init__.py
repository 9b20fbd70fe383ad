"""pytest plugin entry point (``pytest11``): hooks only, cheap to import.

Each hook calls one module of this package: ``options`` (the command line), ``state``
(the run's state and stash keys), ``gating`` (requirement → outcome), ``lifecycle``
(backend, ledger, leak check), ``results`` (one :class:`~.results.TestRecord` per test),
``verdict`` (verdict, counts, reports), ``terminal`` (what is printed) and ``selection``
(path arguments become deselection). The plugin is inert for sessions that collect no
conformance test: it starts nothing and touches neither the exit status nor the terminal
summary.
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator
from typing import Any

import pytest

import conformance.plugin.gating as gating
import conformance.plugin.lifecycle as lifecycle
import conformance.plugin.results as results
import conformance.plugin.selection as selection
import conformance.plugin.state as state
import conformance.plugin.terminal as terminal
import conformance.plugin.verdict as verdict
from conformance import distribution
from conformance.plugin.options import add_options, resolve_settings
from conformance.rules.marks import MARKER_HELP as RULES_MARKER_HELP
from conformance.vocabulary import Outcome

_MARKERS = (
    "capability(name): the capability a conformance test checks (closed catalogue)",
    "creates_nothing: the test creates no resource; the only kind run under --read-only",
    "honesty(name): capability-honesty probe; runs only where the profile says unsupported",
    "requires(name, ...): secondary capabilities the test needs: disabled by profile where "
    "one is unsupported; an unsupported_operation on one is judged by its own requirement",
    "shares_vm: the tests only read or run harmless commands; their `vm` is one VM per process",
    RULES_MARKER_HELP,  # p4: rule ids
)
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
    suite_dir = Path(__file__).resolve().parents[1] / "suite"
    config.stash[state.STATE] = state.RunState(
        settings,
        None,
        suite_dir,
        worker_id=workerinput.get("workerid"),
        workers=int(workerinput.get("workercount", 1)),
        narrowing=selection.widen(config, suite_dir),  # collect the whole suite, then select
    )
    if not workerinput:
        lifecycle.refuse_unshareable_budget(config, settings)
        distribution.default_dist(config, suite_dir)  # -n N without --dist: worksteal
    config.pluginmanager.register(_Recorder(config), "arker-conformance-recorder")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist controller: hand the run id and seed to every worker."""
    run = state.state_of(node.config)
    if run is not None:
        node.workerinput[_WORKER_KEY] = {"run_id": run.settings.run_id, "seed": run.settings.seed}


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    """Target (no secrets), profile, spec version and hash, seed, run id."""
    run = state.state_of(config)
    if run is None or not terminal.wants_header(config, run):
        return None
    return terminal.header_lines(run)


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Name every ``ARKER_`` environment variable the suite does not know, and credentials
    in a URL (not sent), after the header (also under ``-q``): either would otherwise be
    ignored without a word."""
    run = state.state_of(session.config)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if run is None or run.is_worker or reporter is None:
        return
    if terminal.wants_header(session.config, run):
        for line in terminal.warning_lines(run):
            reporter.write_line(line, yellow=True, bold=True)


@pytest.hookimpl(tryfirst=True)
def pytest_ignore_collect(collection_path: Any, config: pytest.Config) -> bool | None:
    """Collect suite paths ``--ignore`` names anyway: they are deselected after collection."""
    run = state.state_of(config)
    if run is None or run.narrowing is None:
        return None
    return selection.collect_ignored(collection_path, config, run.suite_dir, run.narrowing)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Decide, for every conformance test, whether it runs (usage errors end the run)."""
    run = state.state_of(config)
    if run is not None:
        gating.decide_all(run, items)


def pytest_deselected(items: list[pytest.Item]) -> None:
    """Count conformance tests deselected by ``-k``/``-m`` (required ones: not conformant)."""
    if items:
        run = state.state_of(items[0].config)
        if run is not None:
            gating.note_deselected(run, items)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Gate the test: disabled tests are skipped before any fixture runs."""
    run = state.state_of(item.config)
    if run is not None:
        gating.gate(run, item)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    """Remember the ledger position: what the test body creates is released after it."""
    run = state.state_of(item.config)
    if run is not None:
        lifecycle.mark_call(run, item)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
    """After the fixtures' teardown, delete what the test body created (reverse order);
    a clean-up that went wrong fails (backend) or errors (suite) the teardown."""
    run = state.state_of(item.config)
    try:
        result = yield
    except BaseException:
        if run is not None:  # the fixture's own teardown error is the one to report
            with contextlib.suppress(Exception):
                lifecycle.release_test_resources(run, item)
        raise
    if run is not None:
        lifecycle.release_test_resources(run, item)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Map the phase result to our outcome and attach redacted evidence to the report."""
    run = state.state_of(item.config)
    if run is not None:
        results.tag_rules(item, call)  # before pytest renders the failure's text
    report = yield
    if run is not None:
        results.annotate(item, call, report, run)
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_report_teststatus(
    report: pytest.TestReport, config: pytest.Config
) -> tuple[str, str, tuple[str, dict[str, bool]]] | None:
    """Show PASS / FAIL / WARN / UNSUPPORTED / DISABLED / ERROR distinctly."""
    data = results.props_of(report)
    if data is None:
        return None
    category, letter, word, markup = terminal.STATUS[Outcome(data["outcome"])]
    return category, letter, (word, markup)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    """pytest-xdist controller: what the workers will run (a lost one leaves no result)."""
    run = state.state_of(node.config)
    if run is not None:
        run.scheduled.update(ids)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist controller: merge a worker's leaks, problems and deselection count."""
    run = state.state_of(node.config)
    output = getattr(node, "workeroutput", {}).get(_WORKER_KEY)
    if run is not None and output:
        state.merge_worker(run, output)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Tear down, then (controller) set the exit status from the verdict and write reports."""
    run = state.state_of(session.config)
    if run is None:
        return
    lifecycle.close_target(run)
    run.interrupted = run.interrupted or exitstatus == pytest.ExitCode.INTERRUPTED
    if run.is_worker:
        session.config.workeroutput[_WORKER_KEY] = state.worker_output(run)  # type: ignore[attr-defined]
        return
    if run.active and not session.config.option.collectonly:  # --co judges nothing
        session.exitstatus = verdict.finish(run)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Counts per outcome and capability, leaks, the verdict and the report path."""
    run = state.state_of(config)
    if run is None or not run.active or run.is_worker or config.option.collectonly:
        return
    if run.profile_refused:
        return  # the collection was refused (a bad profile): that message is the summary
    for line, markup in terminal.summary_lines(run):
        terminalreporter.write_line(line, **markup)


class _Recorder:
    """Holds the config for ``pytest_runtest_logreport``, whose hook has no config arg."""

    def __init__(self, config: pytest.Config) -> None:
        self._config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Aggregate outcomes (on the xdist controller these come from the workers)."""
        run = state.state_of(self._config)
        if run is not None:
            results.record(report, run)
