"""Does a saved session still work? One look at each account's Case Log in the browser,
never a sign-in (``caselog status --check-session``). Apart from :mod:`agent.app.status`
because it needs the browser, which plain ``caselog status`` does not load."""

from __future__ import annotations

from dataclasses import dataclass

from agent.app.maps import maps_in_use
from agent.config import Account
from agent.errors import CaselogError
from agent.home import Home
from agent.site.credentials import Credentials
from agent.site.pages import PageKind
from agent.site.session import BrowserSession

__all__ = ["SESSION_VERDICTS", "Verdict", "check_sessions"]

SESSION_VERDICTS = {
    PageKind.CONTENT: "works",
    PageKind.SIGNIN: "expired",
    PageKind.MFA: "asks for a verification code",
    PageKind.CAPTCHA: "shows a captcha",
    PageKind.CHALLENGE: "shows a challenge",
}
"""What the site made of a saved session, by the kind of page it answered with."""


@dataclass(frozen=True)
class Verdict:
    said: str
    needs_person: bool = False


def check_sessions(home: Home, accounts: list[Account]) -> dict[str, Verdict]:
    """Open each account's Case Log with its saved session and say what the site made of it
    (:data:`SESSION_VERDICTS`); accounts without a saved session are left out."""
    saved = [a for a in accounts if home.state_path(a.name).is_file()]
    if not saved:
        return {}
    verdicts: dict[str, Verdict] = {}
    try:
        with BrowserSession() as browser:
            for account in saved:
                _, smap = maps_in_use(home, account)[0]
                ctx = browser.context(
                    account,
                    home.state_path(account.name),
                    lambda a: Credentials(a.email, None, None),  # look, never sign in
                )
                try:
                    kind = ctx.goto(smap.urls.lobby)
                    verdicts[account.name] = Verdict(
                        SESSION_VERDICTS[kind], needs_person=kind is not PageKind.CONTENT
                    )
                except CaselogError as exc:
                    verdicts[account.name] = Verdict(f"could not be checked: {exc}")
                finally:
                    ctx.close()
    except CaselogError as exc:
        for account in saved:
            verdicts.setdefault(account.name, Verdict(f"could not be checked: {exc}"))
    return verdicts
