"""The third Case Log generation ("grid": an ARIA grid, <article> messages, no ids, hashed
classes, year-less visible dates, full texts in <template>) is read by a selector map alone:
the bundled grid-en-GB map gives a store equal to the site's ground truth."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_cli import account_cli
from e2e_truth import differences, site_view, store_view

pytestmark = [pytest.mark.browser, pytest.mark.slow]

GRID_MERCHANT = "A5HOSTILEGRID"
UK = "A1F83G8C2ARO7P"


@pytest.fixture(scope="module")
def hostile_site() -> Iterator[object]:
    from caselog_mock import MockServer

    server = MockServer(scenario="hostile", port=0)
    server.start()
    yield server
    server.stop()


def test_the_grid_map_reads_the_grid_generation_exactly(hostile_site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from caselog_mock import AdminClient

    cli = account_cli(tmp_path / "home", hostile_site, "grid", GRID_MERCHANT, {UK: "grid-en-GB"})
    result = cli("sync", "--json", timeout=300)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["complete"], summary
    truth = site_view(
        AdminClient(hostile_site.url, hostile_site.admin_token).ground_truth(), GRID_MERCHANT
    )
    stored = store_view(cli.home, "grid")
    assert differences(truth, stored, message_ids=False) == []  # the grid shows no ids
    # a thread longer than one page was followed to its end
    assert max(len(c["messages"]) for c in stored.values()) > 20
    # a long message came whole from its <template>, not the cut preview
    assert any(len(m[5]) > 1000 for c in stored.values() for m in c["messages"])
