"""How a network policy becomes the nftables ruleset of a VM's namespace (no VM needed)."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from conformance.reference.sandbox import egress
from conformance.reference.sandbox.egress import EgressPlan, plan_egress, ruleset


def test_policies_reduce_to_plans() -> None:
    assert plan_egress(None) == EgressPlan("open")
    assert plan_egress({"type": "blocked"}) == EgressPlan("blocked")
    listed = plan_egress({"type": "allow", "allow": ["10.0.0.0/8", "Example.COM.", "*.x.org"]})
    assert listed == EgressPlan("allow", ("10.0.0.0/8",), ("example.com", "*.x.org"))


def test_names_are_pinned_to_their_addresses_and_wildcards_are_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[str] = []

    def fake_getaddrinfo(name: str, *args: Any) -> list[Any]:
        asked.append(name)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("203.0.113.7", 0))]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    assert egress._resolve(("example.com", "*.x.org")) == ("203.0.113.7",)
    assert asked == ["example.com"]


def test_an_allow_list_accepts_what_it_lists_and_rejects_the_rest() -> None:
    plan = plan_egress({"type": "allow", "allow": ["198.51.100.0/24", "example.com"]})
    rules = ruleset(plan, ("203.0.113.7",), ("192.0.2.2",), None)
    assert "elements = { 198.51.100.0/24, 203.0.113.7 }" in rules
    assert "ip daddr @listed accept\n    reject with icmp type admin-prohibited" in rules
    assert "udp dport 53 redirect to :53" in rules  # queries go to the namespace's resolver
    assert "tcp dport 53 reject" in rules
    assert plan.permits("198.51.100.9") and plan.permits("203.0.113.7", ("203.0.113.7",))
    assert not plan.permits("127.0.0.1")


def test_a_block_list_rejects_what_it_lists_and_the_hosts_own_addresses() -> None:
    plan = plan_egress({"type": "block", "block": ["198.51.100.0/24"]})
    rules = ruleset(plan, (), ("192.0.2.2", "10.0.2.2"), ("192.0.2.2", 8000))
    assert "ip daddr @listed reject" in rules and "redirect to :53" in rules
    host = rules.index("ip daddr @host reject")
    assert rules.index("ip daddr 192.0.2.2 tcp dport 8000 accept") < host  # the API only
    assert not plan.permits("198.51.100.1") and plan.permits("203.0.113.1")


def test_open_egress_still_drops_the_hosts_addresses() -> None:
    rules = ruleset(EgressPlan("open"), (), ("192.0.2.2",), None)
    assert 'oif "lo" accept' in rules and "ip daddr @host reject" in rules
    assert "@listed accept" not in rules and "dport 53" not in rules
