"""The line-for-line alignment: bundler comment layout and set-aside comment lines."""

from __future__ import annotations

from tests.contract.alignment import bundled_lines, misaligned


def numbered(*texts: str) -> dict[int, str]:
    return {n: text for n, text in enumerate(texts, start=2)}


def test_multi_line_comment_is_laid_out_as_the_bundler_prints_it() -> None:
    rendered = bundled_lines(
        numbered(
            "    /** @description line one",
            "     *     line two */",
            "    a?: string;",
        )
    )
    assert rendered == ["/**", "* @description line one", "* line two", "*/", "a?: string;"]


def test_format_and_example_lines_are_set_aside() -> None:
    rendered = bundled_lines(
        numbered(
            "/** Format: int64 */",
            "size: number;",
            "/**",
            " * Format: date-time",
            " * @description When.",
            " */",
            "at: string;",
        )
    )
    assert rendered == ["size: number;", "/** @description When. */", "at: string;"]


def test_misaligned_reports_the_line_and_the_rendered_entry() -> None:
    dts = numbered("schemas: {", "A: {", "x: string;", "};", "requestBodies: never;")
    rendered = ["schemas: {", "A: {", "y: string;", "};", "requestBodies: never;"]
    (only,) = misaligned(dts, rendered)
    assert (only.number, only.expected, only.got, only.entry) == (
        4,
        "x: string;",
        "y: string;",
        "A",
    )
    assert (
        misaligned(dts, ["schemas: {", "A: {", "x: string;", "};", "requestBodies: never;"]) == []
    )


def test_lines_after_the_components_sections_are_not_compared() -> None:
    dts = numbered("requestBodies: never;", "type Other = 1;")
    assert misaligned(dts, ["requestBodies: never;"]) == []
