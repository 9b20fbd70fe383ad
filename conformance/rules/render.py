"""``docs/rules.md``, generated from the catalogue."""

from __future__ import annotations

from conformance.rules import DROPPED, EVERY, FAMILIES, RULES, Rule

__all__ = ["render"]

_INTRO = """\
# The rules the suite enforces

<!-- Generated from conformance/rules/ by `python -m conformance.rules`: do not edit. -->

Every rule below is one the suite turns into a **fail** (or a **warn** for an optional
capability). Each has a stable id (family prefix and number, such as `PAG-003`), its
capability, and where the 0.5.1 contract states it: an operation of the SDKs, a field of
the 0.5.1 schemas (the SDK type declarations), the error-code table, or what the 0.5.1 SDKs
do with an answer. Where 0.5.1 allows several answers, every one of them passes. "Later
contract" means the API description shipped with later SDKs (1.x): its extra rules are
never enforced.

Every failure names its rules: the failure text begins with the ids (`PAG-002: ...`), and
each test's row in `results.json` (`rule_ids`), `summary.md`, `report.html` and the JUnit
file carries them. A check that judges one of the rules every operation obeys (the error
envelope, the schemas) names that rule; any other failure names the rules of the test that
saw it, which each suite test declares with `@pytest.mark.rules(...)`.

Status: **kept** (enforced as before), **relaxed** (more answers pass than before), **new**.
A note marked *reading* is how the suite reads a field whose meaning 0.5.1 gives only in
words; each is listed so it can be challenged. Rules no longer enforced are listed at the
end.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _status(rule: Rule) -> str:
    status = f"**{rule.status}**" if rule.status != "kept" else "kept"
    if rule.note:
        note = rule.note
        note = "*reading*" + note[len("reading") :] if note.startswith("reading") else note
        status += f": {note}"
    return _cell(status)


def render() -> str:
    """The whole page, as ``python -m conformance.rules`` writes it."""
    lines = [_INTRO]
    counts = ", ".join(f"{f.prefix} {len(f.rules)}" for f in FAMILIES)
    lines.append(f"{len(RULES)} rules: {counts}.\n")
    for family in FAMILIES:
        lines += [f"## {family.title} ({family.prefix})", ""]
        if family.intro:
            lines += [family.intro, ""]
        lines += [
            "| id | rule | capability | where 0.5.1 states it | status |",
            "|---|---|---|---|---|",
        ]
        for rule in family.rules:
            capability = "every operation" if rule.capability == EVERY else f"`{rule.capability}`"
            lines.append(
                f'| <a id="{rule.id}"></a>{rule.id} | {_cell(rule.text)} | {capability} '
                f"| {_cell(rule.source)} | {_status(rule)} |"
            )
        lines.append("")
    lines += [
        "## Dropped",
        "",
        "No longer enforced, with why.",
        "",
        "| rule | why |",
        "|---|---|",
    ]
    lines += [f"| {_cell(d.text)} | {_cell(d.why)} |" for d in DROPPED]
    return "\n".join(lines) + "\n"
