"""report.html is self-contained and escapes everything the target said."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser

from conformance.reports import RunReport, render_html
from conformance.reports._html_script import SCRIPT


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(text: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(text)
    return parser.tags


def test_page_loads_nothing_and_runs_only_its_own_script(report: RunReport) -> None:
    text = render_html(report)
    tags = _tags(text)
    scripts = re.findall(r"<script>(.*?)</script>", text, re.DOTALL)
    (policy,) = re.findall(r'http-equiv="Content-Security-Policy" content="([^"]*)"', text)

    assert not [t for t, _ in tags if t in ("link", "img", "iframe", "object")]
    assert not [a for _, a in tags if "src" in a]
    # the one kind of link: a failing test's HAR file, beside the page in the run directory
    links = [a["href"] for t, a in tags if "href" in a and t == "a"]
    assert links == [report.results[2].har]
    assert not [a for t, a in tags if "href" in a and t != "a"]
    assert not [k for _, a in tags for k in a if k.startswith("on")]
    assert scripts == [SCRIPT]
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in policy
    assert "default-src 'none'" in policy and "unsafe-inline" not in policy.split("script-src")[1]


def test_hostile_response_body_is_escaped(report: RunReport, hostile_text: str) -> None:
    text = render_html(report)

    assert hostile_text not in text
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in text


def test_verdict_counts_and_sections_are_present(report: RunReport) -> None:
    text = render_html(report)

    assert re.search(r'id="verdict"[^>]*>Profile <b>core</b>: <strong>non-conformant', text)
    for section in ('id="fail"', 'id="error"', 'id="warn"', 'id="not-run"', 'id="latency"'):
        assert section in text
    assert "conf-20261129T040000Z-abc123-fork-a" in text  # the leak


def test_failures_show_curl_and_the_redacted_exchange(report: RunReport) -> None:
    text = render_html(report)

    assert re.search(r'<pre class="curl" id="curl-\d+">curl -X POST', text)
    assert "Authorization: Bearer [REDACTED]" in text


def test_latency_table_lists_every_operation(report: RunReport) -> None:
    text = render_html(report)

    for operation in ("forkVm", "createRun", "getVm"):
        assert f"<code>{operation}</code>" in text
    assert "410.5" in text


def test_a_clean_run_says_nothing_was_left_behind(report: RunReport) -> None:
    report.leaks = []

    assert "No resources left behind." in render_html(report)


def test_page_says_why_the_run_is_incomplete(report: RunReport) -> None:
    report.incomplete_reasons = ["interrupted by <SIGINT>", "stopped early by -x"]
    report.missing_tests = [
        "conformance/suite/test_vms.py::test_list",
        "conformance/suite/test_runs.py::test_exec",
    ]
    text = render_html(report)

    (section,) = re.findall(r'<section id="incomplete".*?</section>', text, re.DOTALL)
    assert text.index('id="verdict"') < text.index('id="incomplete"') < text.index("Capabilities")
    assert "interrupted by &lt;SIGINT&gt;" in section
    assert "stopped early by -x" in section
    assert "<details><summary>2 required tests not judged</summary>" in section
    assert "conformance/suite/test_runs.py::test_exec" in section


def test_page_has_no_incomplete_section_when_everything_was_judged(report: RunReport) -> None:
    assert 'id="incomplete"' not in render_html(report)
