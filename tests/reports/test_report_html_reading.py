"""report.html reads from the failure outwards: failing exchange first, JSON indented,
passing tests collapsed, every test filterable, honesty probes shown as what they are."""

from __future__ import annotations

import re
from dataclasses import replace

from conformance.reports import RunReport, TestRecord, render_html
from conformance.reports._html_tests import NOT_APPLICABLE_PREFIX, OPEN_FINDINGS
from conformance.vocabulary import Outcome, Requirement

_SUITE = "conformance/suite"
_PROBE = f"{_SUITE}/test_capability_honesty.py::test_run_option_is_refused_and_not_executed"
_NOT_APPLICABLE = "disabled by profile: profile supports it, {cap} is required (profile full)"


def _exchange(path: str, status: int, body: str) -> dict[str, object]:
    url = f"https://arker.example.com{path}"
    return {
        "method": "GET",
        "url": url,
        "request_headers": {"authorization": "Bearer ***"},
        "request_body": None,
        "status": status,
        "response_headers": {"content-type": "application/json"},
        "response_body": body,
        "elapsed_s": 0.01,
        "curl": f"curl -X GET '{url}'",
    }


def _failure_after_setup() -> TestRecord:
    """A failure whose evidence starts with two set-up calls and ends with the bad answer."""
    return TestRecord(
        f"{_SUITE}/test_vms.py::test_get_vm_names_it",
        "test_get_vm_names_it",
        "vms",
        "required",
        "fail",
        0.3,
        "id: expected vm_1, got vm_2",
        [
            _exchange("/v1/fork/setup-one", 200, '{"id":"vm_1"}'),
            _exchange("/v1/vms/setup-two", 200, '{"id":"vm_1","state":"running"}'),
            _exchange("/v1/vms/vm_1", 200, '{"id":"vm_2","name":"x"}'),
        ],
        ["fork golden ubuntu -> vm_1", "wait for vm_1 running", "get vm_1"],
    )


def _probe(
    cap: str, outcome: Outcome | str, requirement: Requirement | str, message: str | None
) -> TestRecord:
    return TestRecord(f"{_PROBE}[{cap}]", cap, cap, requirement, outcome, 0.0, message)


def test_the_failing_exchange_and_step_come_before_the_set_up_calls(report: RunReport) -> None:
    report.results = [_failure_after_setup()]
    text = render_html(report)
    finding = text[text.index('id="fail"') :]

    assert finding.index("id: expected vm_1, got vm_2") < finding.index("/v1/vms/vm_1 ")
    assert finding.index("/v1/vms/vm_1 ") < finding.index("/v1/vms/setup-two")
    assert finding.index("/v1/vms/setup-two") < finding.index("/v1/fork/setup-one")
    assert re.search(r'class="step">get vm_1<', finding)
    # the set-up calls and the full step log are there, collapsed
    assert "<details><summary>2 earlier exchanges, newest first</summary>" in finding
    assert "<details><summary>all 3 steps</summary>" in finding


def test_json_bodies_are_indented_and_others_left_alone(report: RunReport) -> None:
    failure = _failure_after_setup()
    raw = _exchange("/v1/raw", 500, '{"truncated": "abc')
    report.results = [replace(failure, evidence=(*failure.evidence, raw))]

    text = render_html(report)

    assert "{\n  &quot;id&quot;: &quot;vm_2&quot;,\n  &quot;name&quot;: &quot;x&quot;\n}" in text
    assert "{&quot;truncated&quot;: &quot;abc" in text


def test_every_curl_line_has_a_copy_button_pointing_at_it(report: RunReport) -> None:
    report.results = [_failure_after_setup(), *report.results]
    text = render_html(report)
    targets = re.findall(r'<button type="button" class="copy" data-copy="([^"]+)">', text)
    ids = re.findall(r'<pre class="curl" id="([^"]+)">curl ', text)

    assert len(targets) == 5
    assert targets == ids
    assert len(set(ids)) == len(ids)


def test_passing_tests_are_listed_collapsed(report: RunReport) -> None:
    text = render_html(report)
    section = text[text.index('<section id="pass">') :]
    section = section[: section.index("</section>")]

    assert section.startswith('<section id="pass"><details class="tests"><summary>')
    assert '<h2>Passed (<span class="count" data-total="2">2</span>)</h2>' in section
    assert "test_fork_golden_by_name" in section
    assert " open" not in section.split(">", 2)[1]


def test_every_test_is_one_filterable_element(report: RunReport) -> None:
    text = render_html(report)
    tagged = re.findall(r'data-o="([a-z]+)" data-c="([a-z._]+)"', text)

    assert sorted(tagged) == sorted((r.outcome, r.capability) for r in report.results)
    options = re.findall(r'<option value="([^"]+)">', text)
    assert options == sorted({r.capability for r in report.results})


def test_honesty_probes_that_do_not_apply_fold_into_one_line(report: RunReport) -> None:
    caps = ["runs.timeout", "runs.signal", "tunnels"]
    probes = [_probe(c, "disabled", "required", _NOT_APPLICABLE.format(cap=c)) for c in caps]
    report.results = [*report.results, *probes]

    text = render_html(report)
    not_run = text[text.index('id="not-run"') :]
    not_run = not_run[: not_run.index("</section>")]

    summary = '<details class="na tests"><summary>3 not applicable: the profile supports every '
    assert summary in text
    assert _PROBE not in not_run  # no "disabled" rows with the long repeated reason
    assert "profile supports it" not in text  # the reason is said once, in the summary line
    assert text.count('title="the profile supports this capability">n/a</span>') == 3


def test_probes_of_unsupported_capabilities_say_what_they_checked(report: RunReport) -> None:
    honest = _probe("resize", "unsupported", "unsupported", None)
    lying = _probe("tunnels", "fail", "unsupported", "answered 200 instead of 422")
    idle = _probe("runs.timeout", "disabled", "required", _NOT_APPLICABLE.format(cap="x"))
    report.results = [*report.results, honest, lying, idle]

    text = render_html(report)
    section = text[text.index('id="honesty"') :]
    section = section[: section.index("</section>")]

    assert '<h2>Honesty probes (<span class="count" data-total="3">3</span>)</h2>' in section
    assert 'class="badge o-unsupported">refused honestly</span>' in section
    assert "answered 200 instead of 422" in section
    assert "1 not applicable: the profile supports the other capability" in section


def test_many_findings_collapse_to_one_line_each_with_their_headline(report: RunReport) -> None:
    failures = [_failure_after_setup() for _ in range(OPEN_FINDINGS + 1)]
    text = render_html(report)
    report.results = failures
    many = render_html(report)

    assert '<details class="finding o-fail" open ' in text  # one failure: open
    assert '<details class="finding o-fail" open ' not in many
    assert many.count('<span class="headline">id: expected vm_1, got vm_2</span>') == 11


def test_the_message_shows_its_first_paragraph_and_folds_the_rest(report: RunReport) -> None:
    message = "Wrong status\n\nExchange 1:\nGET /v1/vms/vm_1\n\nReproduce with: curl"
    report.results = [replace(_failure_after_setup(), message=message)]

    text = render_html(report)

    assert "<pre class=msg>Wrong status</pre><details><summary>the whole message</summary>" in text
    assert "Exchange 1:\nGET /v1/vms/vm_1\n\nReproduce with: curl</pre>" in text


def test_transport_headers_are_left_out_of_the_page(report: RunReport) -> None:
    failure = _failure_after_setup()
    quiet_and_not = {"host": "h", "user-agent": "x", "idempotency-key": "k"}
    failure.evidence[-1]["request_headers"] = quiet_and_not
    failure.evidence[-1]["response_headers"] = {"date": "today", "content-type": "application/json"}
    report.results = [failure]

    text = render_html(report)

    assert "idempotency-key: k" in text and "content-type: application/json" in text
    assert "user-agent: x" not in text and "date: today" not in text


def test_the_page_knows_a_probe_that_does_not_apply_by_the_reason_the_gate_gives() -> None:
    """report.html reads this reason to fold probes; the gate must keep giving it."""
    from tests.unit.test_outcomes import decide

    supported = decide({"honesty": ("vms",)})

    assert str(supported.disabled).startswith(NOT_APPLICABLE_PREFIX)
