"""The modern UI read through its rendered pages (shadow DOM), forced or as the fallback when
the page's JSON API no longer answers as the selector map says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from e2e_truth import differences, site_view, store_view

from agent.app.sync import AccountSync
from agent.config import Account, Marketplace, Settings
from agent.home import Home
from agent.site.selectormap import maps_dir

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MODERN = {
    "modern-en-US": ("A2DEMOOUTDOOR", "ATVPDKIKX0DER"),
    "modern-zh-CN": ("A3DEMOKITCHEN", "AAHKV2X7AFYLW"),
}


@pytest.fixture
def sync_one(site: Any, agent_session: Any, caselog_home: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Sync one modern marketplace with a given map and reader; return (result, differences)."""
    monkeypatch.setenv("DOM_PW", site.server.login["password"])
    monkeypatch.setenv("DOM_TOTP", site.server.login["totp_secret"])

    def run(merchant: str, market: str, selector_map: str, reader: str) -> tuple[Any, list[str]]:
        account = Account(
            name="dom",
            base_url=site.url,
            merchant_id=merchant,
            email=site.server.login["email"],
            password_env="DOM_PW",
            totp_env="DOM_TOTP",
            marketplaces=[Marketplace(id=market, selector_map=selector_map, reader=reader)],  # type: ignore[arg-type]
        )
        result = AccountSync(
            agent_session, account, Settings(accounts=[account]), Home(caselog_home)
        ).run()
        truth = {
            k: v
            for k, v in site_view(site.admin.ground_truth(), merchant).items()
            if v["marketplace"] == market
        }
        return result, differences(truth, store_view(caselog_home, "dom"))

    return run


@pytest.mark.parametrize("map_name", sorted(MODERN))
def test_dom_reader_equals_ground_truth(map_name: str, sync_one) -> None:  # type: ignore[no-untyped-def]
    result, diff = sync_one(*MODERN[map_name], map_name, "dom")
    assert result.snapshot.complete, result.summary()
    assert diff == []


def test_changed_api_falls_back_to_the_rendered_pages(sync_one, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    changed = tmp_path / "modern-en-US-api-moved.toml"
    text = (maps_dir() / "modern-en-US.toml").read_text()
    changed.write_text(
        text.replace(
            'search = "/hill/hillservice/mons-api/SearchForCases"',
            'search = "/hill/hillservice/mons-api/SearchForCasesV2"',
        )
    )
    result, diff = sync_one(*MODERN["modern-en-US"], str(changed), "auto")
    assert result.snapshot.complete, result.summary()
    assert diff == []
