"""Every mock fault ends in either a complete, correct snapshot (after retries) or an
incomplete snapshot with the right reason and exit code. Never a wrong snapshot, and never
an event from a failed read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from e2e_truth import differences, site_view, store_view

from agent.core.models import EventKind
from agent.home import Home
from agent.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ACCOUNT = "demo-outdoor"
MERCHANT = "A2DEMOOUTDOOR"


def sync(cli: Any, *extra: str) -> tuple[int, dict[str, Any], str]:
    result = cli("sync", "--account", ACCOUNT, "--json", *extra)
    summary = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    return result.returncode, summary, result.stderr


def snapshots(home: Path) -> list[Any]:
    with Store.open(Home(home).store_path(ACCOUNT), readonly=True) as store:
        return store.snapshots()


def events(home: Path) -> list[Any]:
    with Store.open(Home(home).store_path(ACCOUNT), readonly=True) as store:
        return store.events()


def assert_store_is_truth(cli: Any, site: Any) -> None:
    truth = site_view(site.admin.ground_truth(), MERCHANT)
    assert differences(truth, store_view(cli.home, ACCOUNT)) == []


@pytest.mark.parametrize(
    ("faults", "fired", "retried"),
    [
        ({"error_rate": 0.3}, "500", True),
        ({"rate_limit_per_second": 15}, "429", True),
        ({"latency_ms": 40}, "latency", False),
        ({"drift": True}, "drift", False),
    ],
    ids=["http-500s", "429-retry-after", "latency", "layout-drift"],
)
def test_recoverable_faults_give_a_complete_correct_snapshot(
    cli, site, faults, fired, retried
) -> None:  # type: ignore[no-untyped-def]
    site.admin.set_faults(**faults)
    code, summary, err = sync(cli)
    assert code == 0, err
    assert summary["complete"], summary
    times = site.admin.faults()["fired"].get(fired, 0)
    assert times > 0, f"the {fired} fault never fired"
    if retried:  # every refused request was asked again, and counted
        assert summary["requests"] >= summary["pages"] + summary["details_read"] + times
    assert_store_is_truth(cli, site)


def test_blank_case_log_is_incomplete_exit_4_and_no_events(cli, site) -> None:  # type: ignore[no-untyped-def]
    assert sync(cli)[0] == 0
    site.admin.set_faults(blank=True)
    code, summary, _ = sync(cli)
    assert code == 4
    assert summary["complete"] is False and summary["reason"] == "blank_page"
    assert site.admin.faults()["fired"]["blank"] > 0
    page = Path(summary["failed_page"])  # the page is kept for a person, with a note of why
    assert "currently unavailable" in page.read_text()
    note = json.loads(page.with_suffix(".json").read_text())
    assert note["reason"] == "blank_page" and note["account"] == ACCOUNT
    assert page.stat().st_mode & 0o777 == 0o600
    assert events(cli.home) == []
    assert [s.complete for s in snapshots(cli.home)] == [True, False]
    site.admin.clear_faults()
    assert sync(cli)[0] == 0
    assert events(cli.home) == []  # nothing changed on the site: a blank page was no change


def test_persistent_500s_are_incomplete_not_a_change(cli, site) -> None:  # type: ignore[no-untyped-def]
    assert sync(cli)[0] == 0
    site.admin.set_faults(error_rate=1.0)
    code, summary, _ = sync(cli)
    assert code == 4 and summary["reason"] == "http_error"
    assert site.admin.faults()["fired"]["500"] > 1  # tried, and tried again
    assert events(cli.home) == []


def test_a_case_left_out_of_one_listing_raises_no_alarm(cli, site) -> None:  # type: ignore[no-untyped-def]
    assert sync(cli)[0] == 0
    victim = sorted(site_view(site.admin.ground_truth(), MERCHANT))[3]
    site.admin.set_faults(drop_case=victim)  # left out of the next listing only
    code, summary, _ = sync(cli)
    assert code == 0 and summary["complete"]
    assert site.admin.faults()["fired"]["dropped"] == 1
    assert events(cli.home) == []  # its ID was searched and found: no "missing"
    assert_store_is_truth(cli, site)


def test_a_case_that_stays_away_is_missing_then_gone_then_back(cli, site) -> None:  # type: ignore[no-untyped-def]
    assert sync(cli)[0] == 0
    victim = sorted(site_view(site.admin.ground_truth(), MERCHANT))[3]
    site.admin.set_faults(drop_listings=3, drop_case=victim)  # listings and ID searches
    assert sync(cli)[0] == 0
    assert [(e.case_id, e.kind) for e in events(cli.home)] == [(victim, EventKind.CASE_MISSING)]
    assert sync(cli)[0] == 0
    assert [e.kind for e in events(cli.home)] == [EventKind.CASE_MISSING, EventKind.CASE_GONE]
    assert sync(cli)[0] == 0
    assert [e.kind for e in events(cli.home)] == [
        EventKind.CASE_MISSING,
        EventKind.CASE_GONE,
        EventKind.CASE_BACK,
    ]


def test_a_case_left_out_but_still_counted_is_a_count_mismatch(cli, site) -> None:  # type: ignore[no-untyped-def]
    assert sync(cli)[0] == 0
    victim = sorted(site_view(site.admin.ground_truth(), MERCHANT))[0]
    site.admin.set_faults(drop_case=victim, drop_keep_total=True)
    code, summary, _ = sync(cli)
    assert code == 4 and summary["reason"] == "count_mismatch"
    assert events(cli.home) == []


def test_expired_session_signs_in_again(cli, site) -> None:  # type: ignore[no-untyped-def]
    assert sync(cli)[0] == 0
    site.admin.expire_sessions()
    site.admin.advance(days=1)
    code, summary, err = sync(cli)
    assert code == 0, err
    assert summary["complete"]
    assert_store_is_truth(cli, site)


def test_session_expiring_mid_run_signs_in_again(cli, site) -> None:  # type: ignore[no-untyped-def]
    assert sync(cli)[0] == 0
    site.admin.set_faults(expire_after_requests=12)  # in the middle of the detail reads
    code, summary, err = sync(cli, "--full")
    assert code == 0, err
    assert summary["complete"]
    assert site.admin.faults()["expire_after_requests"] == 0, "the session did expire"
    assert_store_is_truth(cli, site)
    assert events(cli.home) == []


def test_session_expiring_mid_run_without_credentials_is_exit_3(cli, site) -> None:  # type: ignore[no-untyped-def]
    assert sync(cli)[0] == 0
    cli.env["CASELOG_DEMO_PASSWORD"] = ""
    site.admin.set_faults(expire_after_requests=12)
    code, _, err = sync(cli, "--full")
    assert code == 3
    assert "caselog login --account demo-outdoor --headed" in err
    assert snapshots(cli.home)[-1].reason.value == "login_needed"
    assert events(cli.home) == []


def test_expired_session_without_credentials_needs_a_person(cli, site) -> None:  # type: ignore[no-untyped-def]
    assert sync(cli)[0] == 0
    site.admin.expire_sessions()
    cli.env.pop("CASELOG_DEMO_PASSWORD")
    cli.env["CASELOG_DEMO_PASSWORD"] = ""
    code, _, err = sync(cli)
    assert code == 3
    assert "caselog login --account demo-outdoor --headed" in err
    assert [s.complete for s in snapshots(cli.home)] == [True, False]
    assert snapshots(cli.home)[-1].reason.value == "login_needed"
    assert events(cli.home) == []


def test_captcha_stops_for_a_person(cli, site) -> None:  # type: ignore[no-untyped-def]
    site.admin.set_faults(captcha_next_login=True)
    code, _, err = sync(cli)
    assert code == 3
    assert "captcha" in err and "caselog login --account demo-outdoor --headed" in err


def test_a_verification_challenge_stops_for_a_person(cli, site) -> None:  # type: ignore[no-untyped-def]
    assert sync(cli)[0] == 0
    site.admin.expire_sessions()
    site.admin.set_faults(challenge_next_login=True)
    code, _, err = sync(cli)
    assert code == 3
    assert "challenge page that a person must answer" in err
    assert "caselog login --account demo-outdoor --headed" in err
    assert [s.complete for s in snapshots(cli.home)] == [True, False]
    assert snapshots(cli.home)[-1].reason.value == "login_needed"
    assert events(cli.home) == []


def test_a_selector_that_matches_nothing_is_named_and_the_page_kept(cli, site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from agent.site.selectormap import maps_dir

    broken = tmp_path / "classic-en-GB-broken.toml"
    broken.write_text(
        (maps_dir() / "classic-en-GB.toml")
        .read_text()
        .replace('table = "table#case-log-table"', 'table = "table#case-log-grid"')
    )
    config = cli.home / "caselog.toml"
    config.write_text(config.read_text().replace('"classic-en-GB"', f'"{broken}"'))
    code, summary, _ = sync(cli)
    assert code == 4
    assert summary["reason"] == "selector_missing"
    assert "table#case-log-grid" in summary["detail"]
    page = Path(summary["failed_page"])
    assert 'id="case-log-table"' in page.read_text()
    assert (page.stat().st_mode & 0o777) == 0o600
    note = json.loads(page.with_suffix(".json").read_text())
    assert note["reason"] == "selector_missing" and "lobby.html" in note["url"]
    assert events(cli.home) == []
