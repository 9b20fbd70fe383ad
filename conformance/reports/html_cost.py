"""Small report.html pieces of results.json format 3: the run's cost and a test's HAR link.

Kept apart from the page layout (``html.py``) so either can change without the other.
"""

from __future__ import annotations

from html import escape

from conformance.reports.model import RunReport, TestRecord

__all__ = ["cost_section", "har_link"]


def cost_section(report: RunReport) -> str:
    """``<section id="cost">``: forks, VMs, requests, run time and bytes of the run.

    Example: ``'id="cost"' in cost_section(report)`` → ``True``.
    """
    rows = "".join(
        f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>"
        for label, value in report.cost.lines()
    )
    return (
        '<section id="cost"><h2>Cost</h2>'
        "<p>What the run asked of the backend, as the suite's client saw it "
        "(set-up and teardown included).</p>"
        f'<table class="num cost"><tbody>{rows}</tbody></table></section>'
    )


def har_link(result: TestRecord) -> str:
    """A link to the test's HAR file (open it in a browser's devtools), or nothing.

    Example: ``har_link(failing)`` → ``'<p class="har"><a href="har/x.har" ...'``.
    """
    if result.har is None:
        return ""
    href = escape(result.har, quote=True)
    return (
        f'<p class="har">Traffic of this test: <a href="{href}" download>{href}</a> '
        "(HAR 1.2, redacted; open it in the browser's network panel)</p>"
    )
