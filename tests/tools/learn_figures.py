"""Figures for `maps learn` on every generation and locale (a command, not a test):

    python -m tests.tools.learn_figures

For each generation: how many known records each field of the learned map reproduces, read
by the map's own reader from the live mock, and how long the learning took.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from caselog_mock import AdminClient, MockServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from learn_truth import known
from test_learn import GENERATIONS

from agent.config import Account, Marketplace
from agent.site.credentials import Credentials
from agent.site.learn.live import learn_live
from agent.site.selectormap import load_map
from agent.site.session import BrowserSession


def main() -> None:
    server = MockServer(scenario="demo", port=0).start()
    admin = AdminClient(server.url, server.admin_token)
    login = server.login
    secrets = Credentials(login["email"], login["password"], login["totp_secret"])
    try:
        with BrowserSession() as session:
            for generation, (scenario, merchant, market, _) in sorted(GENERATIONS.items()):
                admin.reset(scenario=scenario)
                account = Account(
                    name="learn",
                    base_url=server.url,
                    merchant_id=merchant,
                    email=login["email"],
                    marketplaces=[Marketplace(id=market, selector_map=generation)],
                )
                cases, messages = known(admin.ground_truth(), merchant, market)
                state = Path(tempfile.mkdtemp()) / "state.json"
                ctx = session.context(account, state, lambda _a: secrets)
                try:
                    got = learn_live(
                        ctx, load_map(generation), account, account.marketplaces[0], cases,
                        messages, name=f"learned-{generation}",
                    )  # fmt: skip
                finally:
                    ctx.close()
                fields = got.score.as_dict()
                figures = ", ".join(f"{k} {ok}/{of}" for k, (ok, of) in fields.items())
                state_word = "complete" if got.complete else f"INCOMPLETE {got.problems}"
                print(f"{generation}: {got.seconds:.1f} s, {state_word}")
                print(f"  {figures}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
