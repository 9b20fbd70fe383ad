"""The legal-variation serve options: validation and the pure helpers."""

from __future__ import annotations

import pytest

from conformance.reference.cli import main
from conformance.reference.domain.variations import EXTRA_FIELD, provider_of, with_extra_fields


@pytest.mark.parametrize(
    "argv",
    [["--page-cap", "0"], ["--fork-ms", "-1"], ["--presigned-threshold", "-5"]],
)
def test_unusable_variation_values_are_usage_errors(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert argv[0] in capsys.readouterr().err


def test_a_vm_id_says_its_provider() -> None:
    assert provider_of("01J9ZQ4T5B6C7D8E9F0G1H2J3K_vm") == "aws-burst"
    assert provider_of("vm_01J9ZQ4T5B6C7D8E9F0G1H2J3K") == "aws"


def test_extra_fields_touch_objects_and_list_items_but_not_maps_inside_them() -> None:
    body = {"sessions": [{"env": {"A": "1"}}], "next_cursor": None}
    extra = with_extra_fields(body)
    assert EXTRA_FIELD in extra and EXTRA_FIELD in extra["sessions"][0]
    assert extra["sessions"][0]["env"] == {"A": "1"}  # a map of data stays data
