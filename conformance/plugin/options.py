"""Command-line options of the plugin and their one-time resolution into :class:`Settings`.

Every option has an environment fallback and an ini key (``arker_<dest>``); precedence is
CLI > environment > ini > default, resolved once in ``pytest_configure`` and kept in
``config.stash``. API keys are kept out of ``repr`` so they never reach a log line.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "OPTIONS",
    "Option",
    "Settings",
    "add_options",
    "command_settings",
    "metavar",
    "new_run_id",
    "resolve_settings",
]


@dataclass(frozen=True)
class Option:
    """One plugin option: flag, env fallback, kind and default."""

    flag: str
    env: str | None
    kind: str  # "str" | "int" | "float" | "bool" | "path" | "seed"
    default: Any
    help: str

    @property
    def dest(self) -> str:
        """Attribute name on ``config.option`` (``--max-vms`` → ``arker_max_vms``)."""
        return "arker_" + self.flag.lstrip("-").replace("-", "_")


OPTIONS: tuple[Option, ...] = (
    Option(
        "--backend-url",
        "ARKER_BASE_URL",
        "str",
        None,
        "base URL of the backend under test; absent: start the embedded reference backend",
    ),
    Option(
        "--control-url",
        "ARKER_CONTROL_BASE_URL",
        "str",
        None,
        "control-plane base URL (GET /v1/vms); default: the backend URL",
    ),
    Option("--api-key", "ARKER_API_KEY", "str", None, "API key of the first org"),
    Option(
        "--other-api-key",
        "ARKER_OTHER_API_KEY",
        "str",
        None,
        "API key of a second org (tenancy checks); without it tenancy tests are disabled",
    ),
    Option(
        "--profile",
        "ARKER_PROFILE",
        "str",
        None,
        "capability profile: shipped name or YAML path (default core; reference if embedded)",
    ),
    Option("--report-dir", "ARKER_REPORT_DIR", "path", "reports", "where run reports go"),
    Option("--spec", "ARKER_SPEC", "path", None, "OpenAPI document (default: bundled 0.5.1)"),
    Option(
        "--seed",
        "ARKER_SEED",
        "seed",
        0,
        "seed for generated data: an integer (default 0, so runs repeat) or 'random' to "
        "draw one (printed in the header and saved in results.json)",
    ),
    Option(
        "--max-vms",
        "ARKER_MAX_VMS",
        "int",
        8,
        "at most this many suite VMs alive at once (the default applies per xdist worker; "
        "a value given is the total, shared among the workers)",
    ),
    Option("--max-forks", "ARKER_MAX_FORKS", "int", 500, "at most this many forks per run"),
    Option("--rate", "ARKER_RATE", "float", None, "request rate limit (requests/second)"),
    Option(
        "--request-timeout", "ARKER_REQUEST_TIMEOUT", "float", 60.0, "per-request timeout (seconds)"
    ),
    Option(
        "--deadline",
        "ARKER_DEADLINE",
        "float",
        None,
        "overall deadline of the run (seconds); tests after it end as error",
    ),
    Option(
        "--wait-budget",
        "ARKER_WAIT_BUDGET",
        "float",
        120.0,
        "longest wait for something 0.5.1 sets no time for (a run ending, a tunnel "
        "opening); running out is an error, not a fail",
    ),
    Option(
        "--read-only",
        "ARKER_READ_ONLY",
        "bool",
        False,
        "run only checks that create nothing (creates_nothing)",
    ),
    Option("--golden", "ARKER_GOLDEN", "str", "ubuntu", "golden VM name the suite forks from"),
    Option("--run-id", "ARKER_RUN_ID", "str", None, "run id (default: generated)"),
    Option(
        "--property-examples",
        "ARKER_PROPERTY_EXAMPLES",
        "int",
        4,
        "generated cases per operation and mode in the property tests",
    ),
    Option(
        "--property-forks",
        "ARKER_PROPERTY_FORKS",
        "int",
        3,
        "real forks one forkVm property test may make (0: none)",
    ),
    Option(
        "--property-scenarios",
        "ARKER_PROPERTY_SCENARIOS",
        "int",
        4,
        "scenarios the stateful property test runs",
    ),
    Option(
        "--property-steps",
        "ARKER_PROPERTY_STEPS",
        "int",
        12,
        "steps per stateful scenario",
    ),
    Option(
        "--property-stateful-forks",
        "ARKER_PROPERTY_STATEFUL_FORKS",
        "int",
        8,
        "forks the stateful property test may make",
    ),
)
# the least value each integer option accepts
_MINIMUM = {
    "max_vms": 1,
    "max_forks": 1,
    "property_examples": 1,
    "property_forks": 0,
    "property_scenarios": 1,
    "property_steps": 1,
    "property_stateful_forks": 1,
}


@dataclass(frozen=True, repr=False)
class Settings:
    """Resolved run settings (CLI > env > ini > default). Keys are hidden from ``repr``,
    and URLs show no credentials or secret query values there."""

    backend_url: str | None
    control_url: str | None
    api_key: str | None = field(repr=False)
    other_api_key: str | None = field(repr=False)
    profile: str
    report_dir: Path
    spec: Path | None
    seed: int
    max_vms: int
    max_forks: int
    rate: float | None
    request_timeout: float
    deadline: float | None
    wait_budget: float
    read_only: bool
    golden: str
    run_id: str
    property_examples: int
    property_forks: int
    property_scenarios: int
    property_steps: int
    property_stateful_forks: int
    seed_drawn: bool = False  # True when --seed random drew the seed
    max_vms_given: bool = False  # False: the default, which applies per xdist worker

    @property
    def embedded(self) -> bool:
        """True when no backend URL was given: the plugin starts the reference backend."""
        return self.backend_url is None

    @property
    def run_dir(self) -> Path:
        """``<report-dir>/<run-id>``: ledger and report files of this run."""
        return self.report_dir / self.run_id

    def secrets(self) -> list[str]:
        """The secrets to redact from every output."""
        return [key for key in (self.api_key, self.other_api_key) if key]

    def __repr__(self) -> str:
        # a traceback's locals (pytest -l) may print settings: URLs go through the redactor
        from conformance.redaction import Redactor

        redact = Redactor().url
        shown = []
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name.endswith("_url") and isinstance(value, str):
                value = redact(value)
            if item.repr:
                shown.append(f"{item.name}={value!r}")
        return f"Settings({', '.join(shown)})"


# What an option's value is, as `--help` shows it (``--backend-url=URL``). Without one the
# metavar would be the upper-cased dest, ``ARKER_BACKEND_URL``, which reads like an
# environment name the suite does not read.
METAVARS: dict[str, str] = {
    "--backend-url": "URL",
    "--control-url": "URL",
    "--api-key": "KEY",
    "--other-api-key": "KEY",
    "--profile": "NAME|PATH",
    "--report-dir": "DIR",
    "--spec": "PATH",
    "--seed": "N|random",
    "--rate": "PER_SECOND",
    "--golden": "NAME",
    "--run-id": "ID",
}
_KIND_METAVARS = {"int": "N", "float": "SECONDS", "path": "PATH", "seed": "N", "str": "VALUE"}


def metavar(opt: Option) -> str:
    """The placeholder ``--help`` shows for ``opt``'s value.

    Example: ``metavar(option("--backend-url"))`` → ``"URL"``; an int option → ``"N"``.
    """
    return METAVARS.get(opt.flag, _KIND_METAVARS.get(opt.kind, "VALUE"))


def add_options(parser: pytest.Parser) -> None:
    """Register the ``arker-conformance`` option group and its ini keys."""
    group = parser.getgroup("arker-conformance", "Arker VM API conformance")
    for opt in OPTIONS:
        env = f" [env {opt.env}]" if opt.env else ""
        if opt.kind == "bool":
            group.addoption(
                opt.flag, action="store_true", default=None, dest=opt.dest, help=opt.help + env
            )
            parser.addini(opt.dest, opt.help, type="bool", default=None)
        else:
            group.addoption(
                opt.flag,
                action="store",
                default=None,
                dest=opt.dest,
                metavar=metavar(opt),
                help=opt.help + env,
            )
            parser.addini(opt.dest, opt.help, type="string", default=None)


def new_run_id() -> str:
    """A fresh run id: UTC timestamp + random tag, safe inside VM names.

    Example: ``"20261129t043512-3fa1c2d9"``.
    """
    return datetime.now(UTC).strftime("%Y%m%dt%H%M%S") + "-" + secrets.token_hex(4)


def _raw(config: pytest.Config, opt: Option) -> Any:
    value = config.getoption(opt.dest, default=None)
    if value is not None:
        return value
    if opt.env and os.environ.get(opt.env, "") != "":
        return os.environ[opt.env]
    ini = config.getini(opt.dest)
    if ini not in (None, "", []):
        return ini
    return None


def _convert(opt: Option, value: Any) -> Any:
    if value is None:
        return opt.default if opt.kind != "path" or opt.default is None else Path(opt.default)
    try:
        if opt.kind == "int":
            return int(value)
        if opt.kind == "float":
            return float(value)
        if opt.kind == "bool":
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
        if opt.kind == "path":
            return Path(value)
        if opt.kind == "seed":
            return _seed(value)
    except ValueError as exc:
        raise pytest.UsageError(f"{opt.flag}: bad value {value!r}: {exc}") from exc
    return str(value)


RANDOM_SEED = "random"


def _seed(value: Any) -> int | str:
    """An integer seed, or ``RANDOM_SEED`` (drawn once by :func:`resolve_settings`)."""
    if str(value).strip().lower() == RANDOM_SEED:
        return RANDOM_SEED
    seed = int(value)
    if not 0 <= seed < 2**32:
        raise ValueError("a seed is between 0 and 2**32 - 1")
    return seed


def resolve_settings(config: pytest.Config, *, inherited: dict[str, Any] | None = None) -> Settings:
    """Resolve every option once (CLI > env > ini > default).

    Args:
        config: the pytest config.
        inherited: values a pytest-xdist controller handed to this worker (run id, seed),
            so every worker shares them.
    """
    values = {opt.dest[len("arker_") :]: _convert(opt, _raw(config, opt)) for opt in OPTIONS}
    inherited = inherited or {}
    if values["run_id"] is None:
        values["run_id"] = inherited.get("run_id") or new_run_id()
    values["seed_drawn"] = values["seed"] == RANDOM_SEED
    values["max_vms_given"] = any(
        _raw(config, opt) is not None for opt in OPTIONS if opt.flag == "--max-vms"
    )
    if "seed" in inherited:  # an xdist worker uses the controller's (possibly drawn) seed
        values["seed"] = inherited["seed"]
    elif values["seed_drawn"]:
        values["seed"] = secrets.randbelow(2**32)
    if values["profile"] is None:
        values["profile"] = "core" if values["backend_url"] else "reference"
    if values["backend_url"]:
        values["backend_url"] = str(values["backend_url"]).rstrip("/")
    for name, least in _MINIMUM.items():
        if values[name] < least:
            raise pytest.UsageError(f"--{name.replace('_', '-')} must be at least {least}")
    if values["wait_budget"] <= 0:
        raise pytest.UsageError("--wait-budget must be a positive number of seconds")
    return Settings(**values)


def command_settings(**overrides: Any) -> Settings:
    """Settings for the CLI commands (probe): every option's default, then ``overrides``.

    Example: ``command_settings(backend_url=url, api_key=key, run_id=new_run_id())``.
    """
    values: dict[str, Any] = {opt.dest[len("arker_") :]: _convert(opt, None) for opt in OPTIONS}
    values.update(profile="full", seed=0, run_id=new_run_id())
    values.update(overrides)
    return Settings(**values)
