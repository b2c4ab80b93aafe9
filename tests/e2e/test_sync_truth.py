"""`caselog sync` against the mock: the store equals the site's ground truth, for each of the
four selector maps (classic en-US and en-GB, modern en-US and zh-CN), read as a user would."""

from __future__ import annotations

import json

import pytest
from e2e_truth import MERCHANT_ACCOUNT, differences, site_view, store_view

from agent.home import Home
from agent.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_sync_equals_ground_truth_for_every_map(cli, site) -> None:  # type: ignore[no-untyped-def]
    result = cli("sync", "--all", "--json")
    assert result.returncode == 0, result.stderr + result.stdout
    summaries = json.loads(result.stdout)
    assert all(s["complete"] for s in summaries), summaries
    # the lists and details (HTML for the classic maps, JSON for the modern ones) were read
    # from a worker of the site's origin, the fast path
    assert [s["fetched_in"] for s in summaries] == ["worker"] * len(summaries)
    truth = site.admin.ground_truth()
    for merchant, account in MERCHANT_ACCOUNT.items():
        expected = site_view(truth, merchant)
        assert expected, f"the demo scenario has no cases for {merchant}"
        assert differences(expected, store_view(cli.home, account)) == []
    profiles = set()
    for account in MERCHANT_ACCOUNT.values():
        with Store.open(Home(cli.home).store_path(account), readonly=True) as store:
            snap = store.last_complete_snapshot()
            assert snap is not None
            profiles.update(snap.profile.split("+"))
    assert profiles == {"classic-en-US", "classic-en-GB", "modern-en-US", "modern-zh-CN"}
    # every long message came through whole (See more expanded)
    assert any(
        len(m[5]) > 1000
        for a in MERCHANT_ACCOUNT.values()
        for c in store_view(cli.home, a).values()
        for m in c["messages"]
    )


def test_second_sync_reads_only_what_changed(cli, site) -> None:  # type: ignore[no-untyped-def]
    first = json.loads(cli("sync", "--account", "demo-outdoor", "--json").stdout)
    second = json.loads(cli("sync", "--account", "demo-outdoor", "--json").stdout)
    assert first["details_read"] == first["cases_seen"] > 0
    assert second["complete"] and second["details_read"] == 0
    assert second["requests"] == second["pages"]
    site.admin.advance(days=2)
    third = json.loads(cli("sync", "--account", "demo-outdoor", "--json").stdout)
    truth = site_view(site.admin.ground_truth(), "A2DEMOOUTDOOR")
    assert differences(truth, store_view(cli.home, "demo-outdoor")) == []
    assert 0 < third["details_read"] < third["cases_seen"]


def test_cases_show_and_search_read_the_store(cli, site) -> None:  # type: ignore[no-untyped-def]
    assert cli("sync", "--account", "demo-outdoor").returncode == 0
    truth = site_view(site.admin.ground_truth(), "A2DEMOOUTDOOR")

    attention = json.loads(cli("cases", "--needs-attention", "--json").stdout)
    want = {cid for cid, c in truth.items() if c["status"] == "NEEDS_YOUR_ATTENTION"}
    assert {c["case_id"] for c in attention} == want and want

    cid, case = next((k, v) for k, v in truth.items() if len(v["messages"]) > 1)
    shown = json.loads(cli("show", cid, "--json").stdout)
    assert shown["case"]["subject"] == case["subject"]
    assert [m["body"] for m in shown["messages"]] == [m[5] for m in case["messages"]]
    assert cli("show", "99999999999").returncode == 2

    # a word found only in a message body: Amazon's own search cannot find it, ours does
    words = {w for m in case["messages"] for w in m[5].split() if w.isalpha() and len(w) > 6}
    body_only = sorted(
        w for w in words if all(w.lower() not in c["subject"].lower() for c in truth.values())
    )[0]
    hits = json.loads(cli("search", body_only, "--json").stdout)
    assert cid in {h["case_id"] for h in hits}
    assert all(not h["in_subject"] and h["messages"] for h in hits)


def test_long_threads_are_read_across_contact_pages(site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """ViewCase pages a long thread (``currentToken``); a map with a small contacts page size
    makes every thread longer than one page, and the store must still hold each one whole."""
    import tomllib

    import tomli_w
    from e2e_cli import account_cli

    from agent.site.selectormap import maps_dir

    raw = tomllib.loads((maps_dir() / "modern-en-US.toml").read_text())
    raw["name"] = "modern-en-US-small-pages"
    raw["api"]["contacts_page_size"] = 3
    small = tmp_path / "small-pages.toml"
    small.write_text(tomli_w.dumps(raw))
    cli = account_cli(
        tmp_path / "home", site.server, "paged", "A2DEMOOUTDOOR", {"ATVPDKIKX0DER": str(small)}
    )
    result = cli("sync", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    truth = {
        cid: c
        for cid, c in site_view(site.admin.ground_truth(), "A2DEMOOUTDOOR").items()
        if c["marketplace"] == "ATVPDKIKX0DER"
    }
    longest = max(len(c["messages"]) for c in truth.values())
    assert longest > 3 * 3, "the scenario needs a thread of more than three pages"
    # more requests than one list page and one ViewCase per case: the later pages
    assert summary["requests"] > summary["pages"] + summary["details_read"]
    assert differences(truth, store_view(cli.home, "paged")) == []
