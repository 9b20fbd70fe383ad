"""Two-letter API keys: the reference certifies conformant, and no id or line is altered.

Redaction and the echo check find a key only as a whole token, so ``KA`` inside a VM id,
a test name or a curl line is left alone, and a backend quoting generated input back is
not reported as echoing the key.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from conformance.reference.launcher import ReferenceServer

from .zoo import REPO, suite_command

KEYS = {"KA": "org-a", "KB": "org-b"}
# what redaction may legitimately leave behind: a masked bearer header, a signature
_EXPECTED_MASKS = re.compile(r"Bearer \*\*\*|(?:signature|sig|token)=\*\*\*", re.IGNORECASE)


def test_two_letter_keys_certify_conformant_with_nothing_altered(tmp_path: Path) -> None:
    report_dir = tmp_path / "reports"
    with ReferenceServer(tmp_path / "data", api_keys=KEYS) as srv:
        argv, env = suite_command(srv.base_url, (), report_dir, "short", "reference")
        env.update(ARKER_API_KEY="KA", ARKER_OTHER_API_KEY="KB")
        proc = subprocess.run(
            argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=1200, check=False
        )
    output = proc.stdout + proc.stderr
    report = json.loads((report_dir / "short" / "results.json").read_text(encoding="utf-8"))
    assert (proc.returncode, report["verdict"]) == (0, "conformant"), output[-4000:]
    assert report["missing_tests"] == [] and report["incomplete_reasons"] == []
    for result in report["results"]:
        assert "***" not in result["nodeid"] + result["name"], result["nodeid"]
        for exchange in result["evidence"]:
            for text in (exchange["url"], exchange["curl"]):
                assert "***" not in _EXPECTED_MASKS.sub("", text), text
    junit = (report_dir / "short" / "junit.xml").read_text(encoding="utf-8")
    assert 'name="test_wrong_key_is_unauthorized[listVms]"' in junit
    assert "***" not in re.sub(r"Bearer \*\*\*", "", junit)
