"""`arker-conformance probe`: ask a backend what it supports and write a profile.

Forks one VM from the golden (ledgered, deleted at the end), calls each optional
capability's characteristic operation once, and writes a profile: capabilities that
answered a correct ``unsupported_operation`` are ``unsupported``, everything else
``required``; ``fork.public`` is ``optional`` (one org's key cannot probe it);
``burst.routing`` is ``required`` when the probe's fork came back as a burst
VM (an id of the burst form, provider ``aws-burst``), else ``optional``. Review the result
before certifying against it.

Example::

    ARKER_API_KEY=... arker-conformance probe --backend-url https://... --output mine.yaml
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import yaml

from conformance.errors import HarnessError
from conformance.target import Target

__all__ = ["PROBES", "add_arguments", "probe", "run"]

Probe = Callable[[Target, str], httpx.Response]

BURST_VM_ID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}_[A-Za-z0-9]+")


def _run(**extra: Any) -> Probe:
    return lambda t, vm: t.client.request(
        "POST", f"/v1/vms/{quote(vm, safe='')}/runs", json={"command": "true", **extra}
    )


def _get(suffix: str) -> Probe:
    return lambda t, vm: t.client.request("GET", f"/v1/vms/{quote(vm, safe='')}/{suffix}")


def _fork(**fields: Any) -> Probe:
    return lambda t, vm: t.fork_raw(suffix="probe", **fields)


PROBES: dict[str, Probe] = {
    "fork.by_id": lambda t, vm: t.fork_raw(suffix="probe", source_vm_id=vm),
    "fork.durable": _fork(durable=True),
    "fork.network": _fork(network=False),
    "fork.sizing": _fork(vcpu_count=1),
    "runs.background": _run(background=True),
    "runs.timeout": _run(timeout=60),
    "runs.signal": _run(command="", signal="SIGINT"),
    "runs.resources": _run(vcpu_count=1),
    "runs.acquire_release": _run(acquire="cpu"),
    "runs.cancel": lambda t, vm: t.client.request(
        "DELETE", f"/v1/vms/{quote(vm, safe='')}/runs/conf-probe"
    ),
    "sessions": _get("sessions"),
    "tunnels": _get("tunnels"),
    "syncs": _get("syncs"),
    "resize": lambda t, vm: t.client.request(
        "POST", f"/v1/vms/{quote(vm, safe='')}/resize", json={}
    ),
    "filesystems": lambda t, vm: t.client.request("GET", "/v1/filesystems"),
    "sync.inline": lambda t, vm: t.client.request(
        "POST", f"/v1/vms/{quote(vm, safe='')}/sync", json={"op": "read", "path": "/etc/hostname"}
    ),
    "runs.idempotency": lambda t, vm: t.client.request(
        "POST",
        f"/v1/vms/{quote(vm, safe='')}/runs",
        json={"command": "true"},
        headers={"Idempotency-Key": f"conf-probe-{t.settings.run_id}"},
    ),
    "sync.presigned": lambda t, vm: t.client.request(
        "POST",
        f"/v1/vms/{quote(vm, safe='')}/sync",
        json={"op": "write", "writes": [{"path": "/tmp/conf-probe", "size": 1, "presigned": True}]},
    ),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare this command's options."""
    env = os.environ.get
    parser.add_argument(
        "--backend-url", metavar="URL", default=env("ARKER_BASE_URL"), help="[env ARKER_BASE_URL]"
    )
    parser.add_argument(
        "--control-url",
        metavar="URL",
        default=env("ARKER_CONTROL_BASE_URL"),
        help="[env ARKER_CONTROL_BASE_URL]",
    )
    parser.add_argument(
        "--api-key", metavar="KEY", default=env("ARKER_API_KEY"), help="[env ARKER_API_KEY]"
    )
    parser.add_argument(
        "--golden", metavar="NAME", default="ubuntu", help="golden VM to fork (ubuntu)"
    )
    parser.add_argument("--name", default="probed", help="name of the written profile")
    parser.add_argument(
        "--output", type=Path, metavar="PATH", default=Path("probed.yaml"), help="profile file"
    )
    parser.add_argument(
        "--report-dir", type=Path, metavar="DIR", default=Path("reports"), help="ledger location"
    )


def probe(target: Target) -> dict[str, str]:
    """Call every probe once on a fresh VM; return ``{capability: requirement}``."""
    from conformance.checks.envelope import unsupported_message

    forked = target.fork(suffix="probe")
    vm = forked["vm_id"]
    burst = BURST_VM_ID.fullmatch(vm) and forked.get("provider") in ("aws-burst", None)
    answers: dict[str, str] = {"burst.routing": "required" if burst else "optional"}
    print(f"  {'burst.routing':<22} vm id {vm} -> {answers['burst.routing']}")
    # Another org's public VM is what fork.public is about: one org's key cannot tell.
    answers["fork.public"] = "optional"
    print(f"  {'fork.public':<22} not probed (needs a second org) -> optional")
    for capability, call in PROBES.items():
        response = call(target, vm)
        refused = unsupported_message(target.spec, response) is not None
        answers[capability] = "unsupported" if refused else "required"
        print(f"  {capability:<22} {response.status_code} -> {answers[capability]}")
    return answers


def run(args: argparse.Namespace) -> int:
    """Probe the backend and write the profile; 2 when it cannot be probed."""
    if not args.backend_url or not args.api_key:
        print(
            "probe: --backend-url and --api-key (or their env vars) are required", file=sys.stderr
        )
        return 2
    target = _connect(args)
    try:
        problem = target.preflight()
        if problem is not None:
            print(f"probe: {problem}", file=sys.stderr)
            return 2
        answers = probe(target)
    except HarnessError as exc:
        print(f"probe: {exc}", file=sys.stderr)
        return 2
    finally:
        leftovers = target.ledger.teardown(target.delete_entry)
        for item in leftovers:
            print(f"probe: could not delete {item.entry.kind} {item.entry.id}: {item.error}")
    _write(args, target, answers)
    return 0


def _connect(args: argparse.Namespace) -> Target:
    from conformance.plugin.options import command_settings
    from conformance.profiles import load_profile
    from conformance.spec import Spec
    from conformance.target import connect

    settings = command_settings(
        backend_url=args.backend_url,
        control_url=args.control_url,
        api_key=args.api_key,
        golden=args.golden,
        report_dir=args.report_dir,
    )
    return connect(
        settings, Spec.load(), load_profile("full"), args.backend_url, (args.api_key, None)
    )


def _write(args: argparse.Namespace, target: Target, answers: dict[str, str]) -> None:
    from conformance.profiles import load_profile

    declared = {cap: req for cap, req in answers.items() if req != "required"}
    unsupported = [cap for cap, req in answers.items() if req == "unsupported"]
    document = {
        "name": args.name,
        "description": f"probed from {target.public_url} at "
        f"{datetime.now(UTC).isoformat(timespec='seconds')}; review before certifying",
        "default": "required",
        "capabilities": declared,
    }
    args.output.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    load_profile(args.output)  # the written profile must itself be valid
    print(f"probe: wrote {args.output} ({len(unsupported)} unsupported)")
