"""Profiles: shipped ones resolve per DESIGN §3; bad files name file, key and closest name."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.capabilities import CAPABILITIES, closest
from conformance.profiles import ProfileError, available_profiles, load_profile

CORE_REQUIRED = {
    "vms",
    "fork.by_id",
    "runs.foreground",
    "sync.inline",
    "pagination",
    "auth",
    "tenancy",
}
BURST_UNSUPPORTED = {"sessions", "tunnels", "resize", "filesystems", "syncs", "fork.durable"}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_shipped_profiles_are_the_four_of_the_design() -> None:
    assert set(available_profiles()) >= {"core", "full", "burst", "reference"}


def test_core_requires_the_portable_baseline_and_leaves_the_rest_optional() -> None:
    core = load_profile("core")
    assert set(core.by_requirement("required")) == CORE_REQUIRED
    assert set(core.by_requirement("optional")) == set(CAPABILITIES) - CORE_REQUIRED
    assert core.by_requirement("unsupported") == []


@pytest.mark.parametrize("name", ["full", "reference"])
def test_full_and_reference_require_everything_but_burst_routing(name: str) -> None:
    profile = load_profile(name)
    assert set(profile.by_requirement("required")) == set(CAPABILITIES) - {"burst.routing"}
    assert profile.by_requirement("optional") == ["burst.routing"]


def test_burst_extends_core_with_background_and_declares_the_unsupported() -> None:
    burst = load_profile("burst")
    assert burst.chain == ("burst", "core")
    assert set(burst.by_requirement("unsupported")) == BURST_UNSUPPORTED
    assert set(burst.by_requirement("required")) == CORE_REQUIRED | {
        "runs.background",
        "burst.routing",
    }


def test_unknown_capability_names_file_key_and_closest(tmp_path: Path) -> None:
    path = write(tmp_path, "mine.yaml", "name: mine\ncapabilities:\n  run.cancel: required\n")
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    message = str(info.value)
    assert str(path) in message and "'run.cancel'" in message and "'runs.cancel'" in message


def test_unknown_top_level_key_names_the_closest_key(tmp_path: Path) -> None:
    path = write(tmp_path, "mine.yaml", "name: mine\nextend: core\ncapabilities: {}\n")
    with pytest.raises(ProfileError, match=r"mine\.yaml: unknown key 'extend'.*'extends'"):
        load_profile(path)


def test_bad_requirement_value_names_the_closest_value(tmp_path: Path) -> None:
    path = write(tmp_path, "mine.yaml", "name: mine\ncapabilities:\n  vms: requried\n")
    with pytest.raises(ProfileError, match=r"capabilities\.vms: bad value 'requried'.*'required'"):
        load_profile(path)


def test_schema_violations_name_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, "mine.yaml", "name: 7\ncapabilities: {}\n")
    with pytest.raises(ProfileError, match=r"mine\.yaml: key name"):
        load_profile(path)


def test_missing_capabilities_mapping_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "mine.yaml", "name: mine\n")
    with pytest.raises(ProfileError, match="capabilities"):
        load_profile(path)


def test_extends_cycle_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", "name: a\nextends: b.yaml\ncapabilities: {}\n")
    write(tmp_path, "b.yaml", "name: b\nextends: a.yaml\ncapabilities: {}\n")
    with pytest.raises(ProfileError, match="extends cycle"):
        load_profile(tmp_path / "a.yaml")


def test_child_overrides_parent_and_inherits_the_rest(tmp_path: Path) -> None:
    path = write(
        tmp_path, "c.yaml", "name: c\nextends: burst\ncapabilities:\n  sessions: optional\n"
    )
    child = load_profile(path)
    assert child.requirement("sessions") == "optional"
    assert child.requirement("tunnels") == "unsupported"
    assert child.requirement("runs.background") == "required"


def test_child_default_applies_to_capabilities_nobody_listed(tmp_path: Path) -> None:
    path = write(
        tmp_path, "d.yaml", "name: d\nextends: core\ndefault: required\ncapabilities: {}\n"
    )
    child = load_profile(path)
    assert child.requirement("sessions") == "required"
    assert child.requirement("vms") == "required"


def test_unknown_profile_name_suggests_a_shipped_one() -> None:
    with pytest.raises(ProfileError, match="did you mean 'core'"):
        load_profile("cor")


def test_closest_capability() -> None:
    assert closest("fork.byid") == "fork.by_id"
    assert closest("zzzzzzzz") is None
