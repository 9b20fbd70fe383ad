"""HAR 1.2 files of a failing test's traffic, so a browser's devtools can open them.

Every exchange the test's process recorded from the test's set-up to its report becomes
one entry: request and response as recorded — already redacted by the client (keys, URL
credentials, presigned signatures) and bodies truncated exactly as in the report's
evidence. One file per failing test, ``<run dir>/har/<test>.har``, one page per file.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from conformance.exchanges import Exchange, ExchangeLog
from conformance.traffic import MeteredLog, TimedExchange

__all__ = ["HAR_DIR", "har_document", "har_name", "write_test_har"]

HAR_DIR = "har"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_NAME_LIMIT = 120


def har_name(nodeid: str) -> str:
    """The file name of a test's HAR: its node id made safe (a hash keeps long ones unique).

    Example: ``har_name("conformance/suite/test_vms.py::test_get[a]")`` →
    ``"test_vms.py__test_get_a_.har"``.
    """
    path, sep, rest = nodeid.partition("::")
    tail = path.rsplit("/", 1)[-1] + sep + rest
    safe = _UNSAFE.sub("_", tail.replace("::", "__")).strip(".") or "test"
    if len(safe) > _NAME_LIMIT:
        digest = hashlib.sha256(nodeid.encode("utf-8")).hexdigest()[:10]
        safe = f"{safe[:_NAME_LIMIT]}-{digest}"
    return f"{safe}.har"


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat(timespec="milliseconds")


def _headers(headers: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in headers.items()]


def _mime(headers: Mapping[str, str]) -> str:
    for name, value in headers.items():
        if name.lower() == "content-type":
            return value
    return ""


def _status_text(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _entry(exchange: Exchange, started: float, page: str) -> dict[str, Any]:
    millis = round(exchange.elapsed_s * 1000.0, 3)
    request: dict[str, Any] = {
        "method": exchange.method,
        "url": exchange.url,
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": _headers(exchange.request_headers),
        "queryString": [
            {"name": k, "value": v}
            for k, v in parse_qsl(urlsplit(exchange.url).query, keep_blank_values=True)
        ],
        "headersSize": -1,
        "bodySize": -1 if exchange.request_body is None else len(exchange.request_body.encode()),
    }
    if exchange.request_body is not None:
        request["postData"] = {
            "mimeType": _mime(exchange.request_headers),
            "text": exchange.request_body,
        }
    body = exchange.response_body or ""
    entry: dict[str, Any] = {
        "pageref": page,
        "startedDateTime": _iso(started),
        "time": millis,
        "request": request,
        "response": {
            "status": exchange.status,
            "statusText": _status_text(exchange.status),
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": _headers(exchange.response_headers),
            "content": {
                "size": len(body.encode()),
                "mimeType": _mime(exchange.response_headers),
                "text": body,
            },
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
        },
        "cache": {},
        "timings": {"send": 0, "wait": millis, "receive": 0},
    }
    notes = [n for n in (exchange.operation_id, exchange.request_body_note) if n]
    if notes:
        entry["comment"] = "; ".join(notes)
    return entry


def har_document(
    title: str, exchanges: Sequence[TimedExchange], *, creator_version: str
) -> dict[str, Any]:
    """A HAR 1.2 document with one page (``title``) holding ``exchanges``.

    Example: ``har_document(nodeid, log.timed_since(mark), creator_version="0.2.0")``.
    """
    first = exchanges[0].started_wall if exchanges else datetime.now(UTC).timestamp()
    page = "page_1"
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "arker-conformance", "version": creator_version},
            "pages": [
                {
                    "startedDateTime": _iso(first),
                    "id": page,
                    "title": title,
                    "pageTimings": {"onContentLoad": -1, "onLoad": -1},
                }
            ],
            "entries": [_entry(t.exchange, t.started_wall, page) for t in exchanges],
        }
    }


def _timed(log: ExchangeLog, mark: int) -> list[TimedExchange]:
    if isinstance(log, MeteredLog):
        return log.timed_since(mark)
    now = datetime.now(UTC).timestamp()  # a plain log keeps no times: stamp them now
    return [TimedExchange(e, 0.0, now) for e in log.since(mark)]


def write_test_har(run_dir: Path, nodeid: str, log: ExchangeLog, mark: int) -> str:
    """Write the HAR of the exchanges after ``mark``; return its path relative to ``run_dir``.

    Example: ``data["har"] = write_test_har(settings.run_dir, item.nodeid, target.log, mark)``.
    """
    from conformance import __version__
    from conformance.reports._files import write_text_atomic

    relative = f"{HAR_DIR}/{har_name(nodeid)}"
    document = har_document(nodeid, _timed(log, mark), creator_version=__version__)
    text = json.dumps(document, indent=1, ensure_ascii=False)
    write_text_atomic(Path(run_dir) / relative, text + "\n")
    return relative
