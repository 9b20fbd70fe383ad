"""Which of ``certify``'s leftover arguments pytest would take, and a refusal for the rest.

``certify`` hands every option it does not declare to pytest. An option neither knows
(a typo, ``--backend_url``, an abbreviation) is refused before anything starts, with the
closest known option, instead of surfacing later as pytest's usage error, or not at all.
The check builds pytest's own parser with the plugins the child run would load (the
installed ``pytest11`` plugins, minus those ``certify`` blocks), so it knows exactly what
the child knows.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["pytest_parser_names", "refusal", "test_paths", "unknown_options"]


class _Capture:
    """A plugin that keeps the parser pytest hands to ``pytest_addoption``."""

    parser: Any = None

    def pytest_addoption(self, parser: Any) -> None:
        self.parser = parser


def _pytest_parser(blocked: Sequence[str]) -> Any:
    # pytest has no public way to build its parser without starting a session; this is
    # what its own main() does first (get_config, then the setuptools plugins), stopped
    # before parsing. pytest_addoption is a historic hook: a plugin registered last still
    # receives the parser, with every option already on it.
    from _pytest.config import get_config

    args = [word for name in blocked for word in ("-p", f"no:{name}")]
    config = get_config(args)
    config.pluginmanager.load_setuptools_entrypoints("pytest11")
    capture = _Capture()
    config.pluginmanager.register(capture, "arker-conformance-option-capture")
    return capture.parser


def pytest_parser_names(parser: Any) -> list[str]:
    """Every option string ``parser`` (pytest's) declares; empty if its shape changed."""
    # pytest 9 exposes the argparse parser as `optparser`; pytest 8 builds it in _getparser()
    optparser = getattr(parser, "optparser", None)
    if optparser is None and hasattr(parser, "_getparser"):
        optparser = parser._getparser()
    # another shape: refuse without suggestions rather than crash
    actions = getattr(optparser, "_actions", [])
    return sorted({name for action in actions for name in action.option_strings})


def unknown_options(args: Sequence[str], blocked: Sequence[str]) -> tuple[list[str], list[str]]:
    """``(unknown, known names)``: the option words in ``args`` pytest (with the plugins in
    ``blocked`` off) would not take, and every option it would.

    Example: ``unknown_options(["-n", "4", "--bogus"], ["cacheprovider"])[0]``
    → ``["--bogus"]``.
    """
    parser = _pytest_parser(blocked)
    _, unknown = parser.parse_known_and_unknown_args(list(args))
    return [word for word in unknown if word.startswith("-")], pytest_parser_names(parser)


def test_paths(args: Sequence[str], blocked: Sequence[str]) -> list[str]:
    """The positional words of ``args`` (test paths or node ids), as pytest would read them.

    Example: ``test_paths(["-k", "x", "suite/test_auth.py"], ["cacheprovider"])``
    → ``["suite/test_auth.py"]``.
    """
    namespace, _ = _pytest_parser(blocked).parse_known_and_unknown_args(list(args))
    return [str(word) for word in getattr(namespace, "file_or_dir", None) or []]


def refusal(unknown: Iterable[str], known: Iterable[str], command: str) -> str:
    """The message refusing ``unknown`` options, each with the closest known one.

    Example: ``refusal(["--backend_url=x"], ["--backend-url"], "certify")`` →
    ``"arker-conformance certify: unknown option --backend_url (did you mean --backend-url?)"``.
    """
    names = sorted(set(known))
    lines = []
    for word in unknown:
        name = word.split("=", 1)[0]
        # long with long ("--lf" is not "-l"), compared without the dashes they all share
        same_kind = {n.lstrip("-"): n for n in names if n.startswith("--") == name.startswith("--")}
        close = difflib.get_close_matches(name.lstrip("-"), list(same_kind), n=1, cutoff=0.6)
        hint = f" (did you mean {same_kind[close[0]]}?)" if close else ""
        lines.append(f"arker-conformance {command}: unknown option {name}{hint}")
    lines.append(
        f"neither {command} nor pytest knows {'it' if len(lines) == 1 else 'them'}; "
        f"see arker-conformance {command} --help "
        "and pytest --help"
    )
    return "\n".join(lines)
