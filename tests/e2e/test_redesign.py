"""Amazon redesigns a Case Log while the agent watches it: the sync that meets the new pages
stops (exit 4, no events, no false alarm), learns a map from the live pages and what the store
knows, keeps it beside the failed page, and says so; `caselog maps accept` switches to it, and
the next sync is complete and equal to the site's ground truth — no map written by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from e2e_truth import differences, site_view, store_view

from agent.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MERCHANT = "A2DEMOOUTDOOR"
UK = "A1F83G8C2ARO7P"


def sync(cli):  # type: ignore[no-untyped-def]
    result = cli("sync", "--account", "demo-outdoor", "--json")
    return result.returncode, json.loads(result.stdout), result.stderr


def test_a_redesign_is_learned_accepted_and_read_whole(cli, site) -> None:  # type: ignore[no-untyped-def]
    code, first, err = sync(cli)
    assert code == 0 and first["complete"], err
    db = cli.home / "data" / "demo-outdoor.json"

    site.admin.set_ui(MERCHANT, UK, "grid")  # Amazon redesigns the UK Case Log, now
    code, second, _ = sync(cli)
    assert code == 4 and second["reason"] == "selector_missing", second
    with Store.open(db, readonly=True) as store:
        assert store.events() == []  # a page that could not be read is never news
    assert second["candidate_map"], second["repair"]
    assert "caselog maps accept demo-outdoor" in second["repair"]
    candidate = Path(second["candidate_map"])
    assert candidate.parent == cli.home / "failed-pages"  # beside the failed page
    report = json.loads(candidate.with_suffix(".json").read_text())
    assert report["complete"] and report["marketplace"] == UK
    assert all(ok == of > 0 for ok, of in report["fields"].values()), report["fields"]

    accepted = cli("maps", "accept", "demo-outdoor", "--json")
    assert accepted.returncode == 0, accepted.stderr
    in_use = json.loads(accepted.stdout)["in_use"]
    assert in_use.endswith(f"demo-outdoor-{UK}.toml")

    code, third, err = sync(cli)
    assert code == 0 and third["complete"], err + json.dumps(third)
    truth = site_view(site.admin.ground_truth(), MERCHANT)
    assert differences(truth, store_view(cli.home, "demo-outdoor")) == []
    with Store.open(db, readonly=True) as store:
        assert store.events() == []  # nothing changed on the site: only its pages did
    shown = cli("config")
    assert f"marketplace {UK}: map learned-demo-outdoor-{UK}" in shown.stdout
