"""Every selector map against its saved pages (snapshots/), offline: no server, no network.

Each saved page sits beside ``<name>.expected.json``, the records it must yield, taken from
the mock's ground truth when the page was captured (tests/tools/capture_snapshots.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from agent.config import Account
from agent.errors import ReadError
from agent.site.fetcher import Fetcher, PagePool, Request, SavedPages
from agent.site.pages import PageKind, classify_url
from agent.site.readers import ApiReader, HtmlReader, Reader
from agent.site.retry import RetryPolicy
from agent.site.selectormap import available_maps, load_map

SNAPSHOTS = Path(__file__).resolve().parents[2] / "snapshots"
ORIGIN = "http://snapshot.invalid"


def expected(map_name: str, name: str) -> dict[str, Any]:
    return json.loads((SNAPSHOTS / map_name / f"{name}.expected.json").read_text())


def reader_for(map_name: str, page: Any = None) -> Reader:
    smap = load_map(map_name)
    account = Account(name="snap", base_url=ORIGIN)
    ctx: Any = SimpleNamespace(page=page, origin=ORIGIN, account=account)
    fetcher = Fetcher(
        PagePool(page, ORIGIN),
        account=account.name,
        relogin=lambda: None,
        concurrency=1,
        retry=RetryPolicy(0),
        timeout_s=10,
    )
    cls = ApiReader if smap.ui == "modern" else HtmlReader
    return cls(ctx, smap, account, None, fetcher)


def iso(value: Any) -> str:
    return value.isoformat().replace("+00:00", "Z")


def check_case(got: Any, want: dict[str, Any]) -> None:
    assert got.subject == want["subject"]
    assert got.status.value == want["status"]
    assert iso(got.created_at) == want["created_at"]


def check_detail(detail: Any, want: dict[str, Any], ids: bool = True) -> None:
    """``ids``: the page shows message ids (a map without ``message_id`` makes its own)."""
    check_case(detail, want)
    assert detail.primary_email == want["primary_email"]
    assert list(detail.cc) == list(want["cc"])
    got = detail.messages  # in thread order, as the site has them
    assert [
        (
            m.message_id if ids else None,
            m.direction.value,
            m.sender_email,
            iso(m.sent_at),
            m.body,
            list(m.attachments),
        )
        for m in got
    ] == [
        (
            m["message_id"] if ids else None,
            m["direction"],
            m["sender_email"],
            m["sent_at"],
            m["body"],
            m["attachments"],
        )
        for m in want["messages"]
    ]


def test_every_map_has_snapshots() -> None:
    assert set(available_maps()) == {p.name for p in SNAPSHOTS.iterdir() if p.is_dir()}


@pytest.mark.parametrize("map_name", available_maps())
def test_signin_page_is_recognised(map_name: str) -> None:
    html = (SNAPSHOTS / map_name / "signin.html").read_text()
    assert classify_url(ORIGIN + "/ap/signin") is PageKind.SIGNIN
    for hook in ('id="ap_email"', 'id="continue"'):
        assert hook in html


CLASSIC = [m for m in available_maps() if load_map(m).read_with == "html"]  # fetched pages
MODERN = [m for m in available_maps() if load_map(m).read_with == "api"]


@pytest.mark.browser
@pytest.mark.parametrize("map_name", CLASSIC)
def test_classic_map_reads_its_saved_pages(map_name: str, page: Any) -> None:
    reader = reader_for(map_name, page)
    assert isinstance(reader, HtmlReader)
    folder = SNAPSHOTS / map_name

    def extract(name: str, kind: str) -> Any:
        req = Request(key=name, url=f"{ORIGIN}/{name}", kind=kind)
        reader.fetcher.transport = SavedPages(
            page, ORIGIN, {name: (folder / f"{name}.html").read_text()}
        )
        spec = reader.list_spec() if kind == "list" else reader.smap.detail.model_dump()
        return reader.fetcher.fetch([req], spec, reader.smap.blank_texts)[name]

    listing, want = extract("list", "list"), expected(map_name, "list")["expected"]
    assert reader.stated(listing) == want["total"]
    rows = [reader.row(r) for r in listing["rows"]]
    by_id = {r.case_id: r for r in rows}  # the list's own order is the site's business
    assert sorted(by_id) == sorted(c["case_id"] for c in want["rows"]) and len(rows) == len(by_id)
    for case in want["rows"]:
        check_case(by_id[case["case_id"]], case)

    want_detail = expected(map_name, "detail")["expected"]
    ids = "message_id" in reader.smap.detail.message_fields
    check_detail(
        reader.detail(want_detail["case_id"], extract("detail", "detail")), want_detail, ids
    )

    blank = extract("blank", "list")
    assert blank["error"] == "blank"


@pytest.mark.parametrize("map_name", MODERN)
def test_modern_map_reads_its_saved_api_answers(map_name: str) -> None:
    reader = reader_for(map_name)
    assert isinstance(reader, ApiReader)
    folder = SNAPSHOTS / map_name
    total, items = reader.search_data("list", json.loads((folder / "list.json").read_text()))
    want = expected(map_name, "list")["expected"]
    assert total == want["total"] == len(items)
    rows = {r.case_id: r for r in (reader.row(i) for i in items)}
    for case in want["rows"]:
        check_case(rows[case["case_id"]], case)

    saved = json.loads((folder / "detail.json").read_text())
    contacts = saved["view"]["contactList"]
    for c in contacts:  # what "See more" fetches
        if c["messageTruncated"]:
            c.update(message=saved["contacts"][c["contactId"]]["message"], messageTruncated=False)
    want_detail = expected(map_name, "detail")["expected"]
    check_detail(
        reader.detail(want_detail["case_id"], saved["view"]["viewCaseMetaData"], contacts),
        want_detail,
    )

    with pytest.raises(ReadError) as info:
        reader.search_data("blank", json.loads((folder / "blank.json").read_text()))
    assert info.value.reason == "blank_page"
