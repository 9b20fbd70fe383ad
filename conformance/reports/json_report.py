"""results.json: the machine-readable report, checked against schemas/report.schema.json.

Both directions live here: writing (validated before it touches the disk, so a writer bug is
an error rather than a silently wrong file) and loading (for ``compare``), with messages that
name the file.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from conformance.reports.model import RunReport
from conformance.resources import schemas_dir

__all__ = [
    "RESULTS_FILE",
    "InvalidReport",
    "load_report",
    "render_json",
    "report_validator",
    "validate_document",
]

RESULTS_FILE = "results.json"
SCHEMA_FILE = "report.schema.json"


class InvalidReport(ValueError):
    """A results.json document (on disk or about to be written) that is not a valid report."""


@lru_cache(maxsize=1)
def report_validator() -> Draft202012Validator:
    """Return the Draft 2020-12 validator for schemas/report.schema.json."""
    schema = json.loads((schemas_dir() / SCHEMA_FILE).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def validate_document(document: Any, source: str) -> None:
    """Raise :class:`InvalidReport` naming ``source`` and the first schema error, if any."""
    errors = sorted(report_validator().iter_errors(document), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        where = "/".join(str(part) for part in first.path) or "(top level)"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise InvalidReport(
            f"{source}: does not match {SCHEMA_FILE} at {where}: {first.message}{more}"
        )


def render_json(report: RunReport) -> str:
    """Return results.json text for ``report``; raises :class:`InvalidReport` if it is invalid.

    Example: ``json.loads(render_json(report))["verdict"]`` → ``"conformant"``.
    """
    document = report.to_dict()
    validate_document(document, f"report of run {report.run_id!r}")
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def load_report(path: Path) -> RunReport:
    """Load a results.json file, or the results.json inside a run directory.

    Raises :class:`InvalidReport` naming the file when it is missing, is not JSON, or does
    not match the schema.
    """
    path = Path(path)
    if path.is_dir():
        path = path / RESULTS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidReport(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidReport(f"{path}: cannot read: {exc}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidReport(f"{path}: not valid JSON: {exc}") from None
    validate_document(document, str(path))
    try:
        return RunReport.from_dict(document)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidReport(f"{path}: not a run report: {exc}") from None
