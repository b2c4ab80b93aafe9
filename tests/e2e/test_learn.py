"""`maps learn` on every Case Log generation and locale: from the live list and case pages
and the records known to be true, the learned map reproduces every known record, field by
field, read by its own reader; a map learned for the grid also reads its saved snapshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import tomli_w
from learn_truth import known

from agent.config import Account, Marketplace
from agent.site.credentials import Credentials
from agent.site.learn.live import learn_live
from agent.site.selectormap import load_map, parse_map

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# generation and locale -> (scenario, merchant, marketplace, the map the site is read with)
GENERATIONS = {
    "classic-en-US": ("demo", "A3DEMOKITCHEN", "ATVPDKIKX0DER", None),
    "classic-en-GB": ("demo", "A2DEMOOUTDOOR", "A1F83G8C2ARO7P", None),
    "modern-en-US": ("demo", "A2DEMOOUTDOOR", "ATVPDKIKX0DER", None),
    "modern-zh-CN": ("demo", "A3DEMOKITCHEN", "AAHKV2X7AFYLW", None),
    "grid-en-GB": ("hostile", "A5HOSTILEGRID", "A1F83G8C2ARO7P", None),
}


def learn(site: Any, agent_session: Any, tmp_path: Path, generation: str) -> Any:
    scenario, merchant, market, _ = GENERATIONS[generation]
    site.admin.reset(scenario=scenario)
    login = site.server.login
    account = Account(
        name="learn",
        base_url=site.url,
        merchant_id=merchant,
        email=login["email"],
        marketplaces=[Marketplace(id=market, selector_map=generation)],
    )
    secrets = Credentials(login["email"], login["password"], login["totp_secret"])
    cases, messages = known(site.admin.ground_truth(), merchant, market)
    ctx = agent_session.context(account, tmp_path / "state.json", lambda _a: secrets)
    try:
        return learn_live(
            ctx,
            load_map(generation),
            account,
            account.marketplaces[0],
            cases,
            messages,
            name=f"learned-{generation}",
        )
    finally:
        ctx.close()


@pytest.mark.parametrize("generation", sorted(GENERATIONS))
def test_a_learned_map_reproduces_every_known_record(
    site: Any, agent_session: Any, tmp_path: Path, generation: str
) -> None:
    with agent_session as session:
        learned = learn(site, session, tmp_path, generation)
    assert learned.problems == []
    fields = learned.score.as_dict()
    # every field of the list, the case pages and the messages, on every record checked
    for name in ("list.case_id", "list.subject", "list.status", "list.created_at",
                 "detail.subject", "detail.status", "detail.created_at", "messages.count",
                 "messages.body", "messages.sender", "messages.sent_at"):  # fmt: skip
        assert name in fields, (name, fields)
    assert all(ok == of for ok, of in fields.values()), fields
    assert fields["list.case_id"][1] >= 4 and fields["messages.body"][1] >= 3


def test_the_learned_grid_map_reads_the_saved_grid_snapshots(
    site: Any, agent_session: Any, tmp_path: Path
) -> None:
    """Learned on one build of the grid (its hashed class names), read on another: the
    snapshots were saved from an earlier server start."""
    from agent.app.maps import read_saved_pages

    with agent_session as session:
        learned = learn(site, session, tmp_path, "grid-en-GB")
        assert learned.complete
        path = tmp_path / "learned-grid.toml"
        path.write_text(tomli_w.dumps(learned.data))
        smap = parse_map(path.read_text(), str(path))
        snapshots = Path(__file__).resolve().parents[2] / "snapshots" / "grid-en-GB"
        pages = [snapshots / "list.html", snapshots / "detail.html"]
        assert read_saved_pages(smap, pages, session) == []
        assert read_saved_pages(load_map("grid-en-GB"), pages, session) == []
