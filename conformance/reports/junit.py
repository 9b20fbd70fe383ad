"""junit.xml (xunit2 flavour), with the six outcomes mapped faithfully.

| outcome     | JUnit                                                               |
|-------------|---------------------------------------------------------------------|
| pass        | plain ``<testcase>``                                                |
| fail        | ``<failure type="fail">``                                           |
| error       | ``<error type="error">`` (the suite broke, not the backend)         |
| warn        | passed ``<testcase>``, property outcome=warn, message in system-out |
| unsupported | ``<skipped type="unsupported" message="unsupported: ...">``         |
| disabled    | ``<skipped type="disabled" message="disabled: ...">``               |

Every testcase carries the properties ``capability``, ``requirement``, ``outcome`` (and
``rule_ids``, the catalogued rules it enforces, when it names some) so a CI
viewer that shows properties keeps the distinctions a skip/fail view would lose. A property
test's testcase also carries ``operation``, ``mode``, ``seed`` (its own, to replay it),
``cases`` and ``failures``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from conformance.reports._files import write_text_atomic
from conformance.reports._text import first_line, printable
from conformance.reports.model import OperationStats, RunReport, TestRecord, public_url

__all__ = ["JUNIT_FILE", "render_junit", "write_junit"]

JUNIT_FILE = "junit.xml"
SUITE_NAME = "arker-conformance"


def _classname(nodeid: str) -> str:
    """Dotted class name, as pytest writes it.

    ``conformance/suite/test_vms.py::TestFork::test_x[a]`` → ``conformance.suite.test_vms.TestFork``
    """
    parts = nodeid.split("::")
    module = parts[0].removesuffix(".py").replace("/", ".").replace("\\", ".")
    return ".".join([module, *parts[1:-1]])


def _details(result: TestRecord) -> str:
    """The body of a failure/error/warn: message, the steps taken, then curl reproductions."""
    sections = [result.message or "(no message)"]
    if result.steps:
        sections.append(
            "Steps:\n" + "\n".join(f"  {i}. {s}" for i, s in enumerate(result.steps, 1))
        )
    curls = [str(item["curl"]) for item in result.evidence if item.get("curl")]
    if curls:
        sections.append("Reproduce with:\n" + "\n".join(curls))
    return printable("\n\n".join(sections))


def _properties(parent: ET.Element, pairs: list[tuple[str, str]]) -> None:
    props = ET.SubElement(parent, "properties")
    for name, value in pairs:
        ET.SubElement(props, "property", name=name, value=printable(value))


def _testcase(result: TestRecord, stats: OperationStats | None) -> ET.Element:
    case = ET.Element(
        "testcase",
        classname=printable(_classname(result.nodeid)),
        name=printable(result.name),
        time=f"{result.duration_s:.3f}",
    )
    pairs = [
        ("capability", result.capability),
        ("requirement", result.requirement),
        ("outcome", result.outcome),
    ]
    if result.rule_ids:
        pairs.append(("rule_ids", ",".join(result.rule_ids)))
    if stats is not None:
        pairs += [
            ("operation", stats.operation_id),
            ("mode", stats.mode),
            ("seed", str(stats.seed)),
            ("cases", str(stats.cases)),
            ("failures", str(stats.failures)),
        ]
    _properties(case, pairs)
    headline = first_line(result.message)
    if result.outcome in ("fail", "error"):
        tag = "failure" if result.outcome == "fail" else "error"
        node = ET.SubElement(case, tag, message=headline, type=result.outcome)
        node.text = _details(result)
    elif result.outcome in ("unsupported", "disabled"):
        # the plugin's reason may already say "disabled: ..."; say it once
        reason = headline.removeprefix(f"{result.outcome}: ") or f"capability {result.capability}"
        ET.SubElement(case, "skipped", message=f"{result.outcome}: {reason}", type=result.outcome)
    elif result.outcome == "warn":
        ET.SubElement(case, "system-out").text = "warn: " + _details(result)
    return case


def _suite(report: RunReport) -> ET.Element:
    results = report.results
    suite = ET.Element(
        "testsuite",
        name=printable(f"{SUITE_NAME}[{report.profile}]"),
        tests=str(len(results)),
        failures=str(sum(r.outcome == "fail" for r in results)),
        errors=str(sum(r.outcome == "error" for r in results)),
        skipped=str(sum(r.outcome in ("unsupported", "disabled") for r in results)),
        time=f"{sum(r.duration_s for r in results):.3f}",
        timestamp=report.started_at,
    )
    _properties(
        suite,
        [
            ("run_id", report.run_id),
            ("profile", report.profile),
            ("verdict", report.verdict),
            ("backend_url", public_url(report.backend_url)),
            ("suite_version", report.suite_version),
            ("spec_version", report.spec_version),
            ("spec_sha256", report.spec_sha256),
            ("seed", "" if report.seed is None else str(report.seed)),
            ("leaks", str(len(report.leaks))),
        ],
    )
    stats = {item.nodeid: item for item in report.operations}
    suite.extend(_testcase(result, stats.get(result.nodeid)) for result in results)
    return suite


def render_junit(report: RunReport) -> str:
    """Return junit.xml text (one ``<testsuites>`` holding one ``<testsuite>``).

    Example: ``ET.fromstring(render_junit(report)).find("testsuite").get("failures")``.
    """
    suite = _suite(report)
    root = ET.Element("testsuites", name=SUITE_NAME)
    for attribute in ("tests", "failures", "errors", "skipped", "time"):
        root.set(attribute, suite.get(attribute, "0"))
    root.append(suite)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n"


def write_junit(report: RunReport, directory: Path) -> Path:
    """Write ``directory/junit.xml``; return its path."""
    return write_text_atomic(Path(directory) / JUNIT_FILE, render_junit(report))
