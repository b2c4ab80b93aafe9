"""The events the agent records equal the events that follow from the site's ground truth
between syncs, while the mock's clock runs in several steps; syncs made during faults (blank
page, a case left out, session expiry) add no events."""

from __future__ import annotations

import itertools
import json
from collections import Counter

import pytest
from e2e_truth import MERCHANT_ACCOUNT, expected_events, recorded_events

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_recorded_events_follow_the_site_history(cli, site) -> None:  # type: ignore[no-untyped-def]
    def sync_all() -> None:
        result = cli("sync", "--all", "--json")
        assert result.returncode == 0, result.stderr
        assert all(s["complete"] for s in json.loads(result.stdout))

    sync_all()  # the baseline: no events
    dumps = [site.admin.ground_truth()]
    for step in ({"days": 1}, {"days": 1}, {"hours": 12}):
        site.admin.advance(**step)
        sync_all()
        dumps.append(site.admin.ground_truth())
    end = dumps[-1]
    expected = {
        a: sum((expected_events(x, y, m) for x, y in itertools.pairwise(dumps)), Counter())
        for m, a in MERCHANT_ACCOUNT.items()
    }
    assert sum(sum(c.values()) for c in expected.values()) > 10, "the simulator did little"
    kinds = {key[1] for c in expected.values() for key in c}
    # the seller's other users act too: CC changes and seller messages on existing cases
    assert {"cc_changed", "message_from_seller"} <= kinds, kinds
    for account, want in expected.items():
        assert recorded_events(cli.home, account) == want

    # syncs during faults add nothing
    before = {a: recorded_events(cli.home, a) for a in MERCHANT_ACCOUNT.values()}
    site.admin.set_faults(blank=True)
    assert cli("sync", "--all").returncode == 4
    site.admin.clear_faults()
    victim = end["cases"][5]["case_id"]
    site.admin.set_faults(drop_case=victim)
    sync_all()
    site.admin.clear_faults()
    site.admin.expire_sessions()
    sync_all()
    assert {a: recorded_events(cli.home, a) for a in MERCHANT_ACCOUNT.values()} == before
