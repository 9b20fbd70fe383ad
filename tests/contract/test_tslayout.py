"""The d.ts reader: rendered-diff parsing, gaps, tails and normalisation."""

from __future__ import annotations

import pytest

from tests.contract.tslayout import (
    DiffFormatError,
    diff_new_side,
    generated_components,
    normalise,
    scan,
)

NBSP = "\u00a0"


def rendered(*rows: tuple[str, tuple[int, ...], str]) -> str:
    """A rendered diff: each row is (sign, line numbers, text)."""
    out = ["header", "@@ -1,4 +1,5 @@ interface components {"]
    for sign, numbers, text in rows:
        out += [str(n) for n in numbers]
        out.append(f"{sign} {text}")
    return "\n".join(out)


def test_new_side_keeps_added_and_context_lines_by_new_number() -> None:
    text = rendered(
        (NBSP, (1, 1), "interface components {"),
        ("-", (2,), "old: string;"),
        ("+", (2,), "new: string;"),
        ("+", (3,), "added: number;"),
        (NBSP, (3, 4), "kept;"),
        ("+", (5,), "tail;"),
    )
    assert diff_new_side(text) == {
        1: " interface components {",
        2: " new: string;",
        3: " added: number;",
        4: " kept;",
        5: " tail;",
    }


def test_new_side_rejects_a_hunk_whose_count_is_wrong() -> None:
    text = rendered((NBSP, (1, 1), "a;"), ("+", (2,), "b;"))
    with pytest.raises(DiffFormatError, match="announces 5 lines, has 2"):
        diff_new_side(text)


def lines(*texts: str, start: int = 2, skip: tuple[int, ...] = ()) -> dict[int, str]:
    """Number ``texts`` from ``start``, leaving out the numbers in ``skip`` (hidden)."""
    numbered: dict[int, str] = {}
    number = start
    for text in texts:
        while number in skip:
            number += 1
        numbered[number] = text
        number += 1
    return numbered


def test_scan_splits_entries_and_marks_a_gap_inside_one() -> None:
    layout = scan(
        lines(
            "schemas: {",
            "A: {",  # 3
            "x: string;",  # 4
            "};",  # 5
            "B: {",  # 6
            "y: number;",  # 7 ; 8 hidden
            "};",  # 9
            'C: "c";',  # 10
            "};",
            "requestBodies: never;",
            skip=(8,),
        )
    )
    entries = layout.by_name()
    assert [e.name for e in layout.entries] == ["A", "B", "C"]
    assert entries["A"].complete and entries["C"].complete
    assert not entries["B"].complete
    assert entries["B"].lines == ["B: {", "y: number;"]
    assert [(t.next_entry, t.segments) for t in layout.tails] == [("C", [["};"]])]
    assert layout.gaps == [(8, 8)]


def test_scan_gives_a_leading_comment_to_the_entry_after_a_tail() -> None:
    layout = scan(
        lines(
            "schemas: {",
            "A: {",
            "a: string;",  # 4 ; 5 hidden
            "};",  # 6
            "/** @description B */",
            "B: string;",
            "};",
            "requestBodies: never;",
            skip=(5,),
        )
    )
    assert layout.by_name()["B"].lines == ["/** @description B */", "B: string;"]
    assert layout.tails[0].segments == [["};"]]


def test_a_member_whose_header_line_does_not_end_it_is_not_complete_alone() -> None:
    layout = scan(lines("schemas: {", "U:", '| "a"', '| "b";', "};", "requestBodies: never;"))
    assert layout.by_name()["U"].lines == ["U:", '| "a"', '| "b";']


def test_scan_needs_the_end_of_the_sections() -> None:
    with pytest.raises(DiffFormatError, match="requestBodies"):
        scan(lines("schemas: {", "A: string;"))


def test_generated_components_numbers_from_two() -> None:
    body = generated_components("x\nexport interface components {\n    schemas: {\n}\n")
    assert body == {2: "    schemas: {"}


def test_normalise_keeps_meaningful_tags_and_drops_prose() -> None:
    assert normalise(
        [
            "/**",
            " * @description Several words",
            " *     wrapped.",
            " * @default aws",
            " * @enum {string|null}",
            " */",
            "/** Format: int64 */",
            'export   provider?:  "aws" | null;',
        ]
    ) == ["@default aws", "@enum {string|null}", 'provider?: "aws" | null;']
