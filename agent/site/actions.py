"""Acting on a case through the Case Log's own page: the reply form, "Reopen this case" and
the Cc editor, found and sent as the selector map's ``[actions]`` section says.

- ``submit = "fetch"`` (classic, grid: server-rendered forms): the form's controls are filled
  in the page (text, Cc, files), then the form's own fields (``FormData``: the hidden case ID
  and the anti-CSRF token it carries) are sent by ``fetch()`` from the page
  (``js/submit_form.js``) and the answer is parsed there. Never as a navigation: Chromium may
  send a navigation's POST a second time when its connection closes unanswered, which would
  post the message twice; a ``fetch()`` is sent once.
- ``submit = "click"`` (modern: controls inside open shadow roots): the page's own controls
  are filled and its button clicked; the page's script sends the request (with the token in
  its header, read from the meta tag) and shows the confirmation or the refusal, which is
  awaited.

What comes back is an :class:`Answer`: ``confirmed`` (the page's confirmation), ``refused``
(the site said no, with its code and sentence: nothing was done), or ``unknown`` (a 500, no
answer, a timeout). Whatever the answer, the caller reads the case back before it believes
anything, and never sends again on its own.

Before sending, :meth:`CasePage.limits` reads the limits the form states
(``data-max-chars`` and the file input's) and :meth:`CasePage.token` checks that the page
carries its anti-CSRF token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import quote

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator

from agent.config import Account, Marketplace
from agent.core.contact import ActionKind, SiteLimits
from agent.core.text import squash
from agent.errors import ConfigError, IncompleteReason, ReadError, SendFailed
from agent.site.pages import PageKind, classify_url
from agent.site.readers.base import landing_path
from agent.site.selectormap import ActionsSpec, FormSpec, SelectorMap
from agent.site.session import AccountContext

__all__ = ["Answer", "CasePage", "Outcome"]


@cache
def _submit_js() -> str:
    return (files("agent.site") / "js" / "submit_form.js").read_text(encoding="utf-8")


_LIMITS_JS = """(el, names) => {
  const host = el.getRootNode() && el.getRootNode().host;
  const out = {};
  for (const [key, name] of Object.entries(names)) {
    out[key] = el.getAttribute(name) ?? (host ? host.getAttribute(name) : null);
  }
  return out;
}"""


class Outcome(StrEnum):
    CONFIRMED = "confirmed"
    REFUSED = "refused"  # the site said no: nothing was done
    UNKNOWN = "unknown"  # no answer, an error page, a timeout: read the case back


@dataclass(frozen=True)
class Answer:
    outcome: Outcome
    code: str = ""
    text: str = ""


class CasePage:
    """One case's page of one marketplace, and its forms."""

    def __init__(
        self,
        ctx: AccountContext,
        smap: SelectorMap,
        account: Account,
        marketplace: Marketplace | None,
    ) -> None:
        if smap.actions is None:
            raise ConfigError(
                f"selector map {smap.name} has no [actions] section, so caselog cannot act "
                "on cases with it; use a bundled map or add the section (README, Selector maps)"
            )
        self.ctx = ctx
        self.smap = smap
        self.spec: ActionsSpec = smap.actions
        self.account = account
        self.marketplace = marketplace
        self.case_id = ""
        self.timeout_ms = account.request_timeout_seconds * 1000

    @property
    def page(self) -> Any:
        return self.ctx.page

    def path(self, case_id: str) -> str:
        """The case's page with the marketplace selected (the site reads the selection from
        the same parameters as the lobby's)."""
        detail = self.smap.urls.detail.format(case_id=quote(case_id))
        lobby = landing_path(self.smap, self.account, self.marketplace)
        switch = lobby.partition("?")[2]
        return f"{detail}{'&' if '?' in detail else '?'}{switch}" if switch else detail

    def open(self, case_id: str) -> None:
        """Open the case's page (signing in when the site asks) and wait until it can be
        used."""
        self.case_id = case_id
        self.ctx.ensure_signed_in(self.path(case_id))
        if self.spec.ready:
            try:
                self.page.wait_for_selector(self.spec.ready, state="attached")
            except PlaywrightError as exc:
                raise ReadError(
                    IncompleteReason.TIMEOUT,
                    f"the page of case {case_id} never finished rendering ({exc})",
                ) from None

    # -- what the page offers -----------------------------------------------------------------

    def _form(self, kind: ActionKind) -> FormSpec:
        form: FormSpec = getattr(self.spec, kind.value)
        return form

    def _control(self, kind: ActionKind, selector: str) -> Locator:
        form = self._form(kind)
        if self.spec.submit == "fetch" and form.form:
            return self.page.locator(form.form).locator(selector).first
        return self.page.locator(selector).first

    def available(self, kind: ActionKind) -> str | None:
        """None when the page offers ``kind``, else why not (in the page's words)."""
        form = self._form(kind)
        there = form.form if self.spec.submit == "fetch" else form.send
        if there and self.page.locator(there).count():
            return None
        if form.unavailable and self.page.locator(form.unavailable).count():
            return squash(self.page.locator(form.unavailable).first.inner_text())
        return "the page shows no such form"

    def token(self, kind: ActionKind) -> str:
        """The anti-CSRF token the form (or the page) carries; none is a :class:`SendFailed`."""
        form = self._form(kind)
        if self.spec.submit == "fetch" and form.form:
            found = self.page.locator(form.form).locator(self.spec.token)
        else:
            found = self.page.locator(self.spec.token)
        value = found.first.get_attribute(self.spec.token_attr) if found.count() else None
        if not value:
            raise SendFailed(
                f"the page of case {self.case_id} carries no anti-CSRF token "
                f"({self.spec.token}); nothing was sent: sign in again with `caselog login` "
                "and retry"
            )
        return value

    def limits(self, kind: ActionKind) -> SiteLimits:
        """The limits the form states; the documented ones where it states none."""
        form, spec, base = self._form(kind), self.spec, SiteLimits()
        values: dict[str, Any] = {}
        if kind is ActionKind.REPLY and form.message:
            values |= self._attrs(kind, form.message, message_max_chars=spec.max_chars_attr)
        if form.cc:
            values |= self._attrs(kind, form.cc, cc_max_chars=spec.max_chars_attr)
        if kind is ActionKind.REPLY and form.files:
            values |= self._attrs(
                kind,
                form.files,
                max_files=spec.max_files_attr,
                max_file_bytes=spec.max_file_bytes_attr,
                allowed_types=spec.allowed_types_attr,
            )
        numbers = {
            k: int(v)
            for k, v in values.items()
            if k != "allowed_types" and v is not None and str(v).strip().isdigit()
        }
        types = values.get("allowed_types")
        return SiteLimits(
            message_max_chars=numbers.get("message_max_chars", base.message_max_chars),
            cc_max_chars=numbers.get("cc_max_chars", base.cc_max_chars),
            max_files=numbers.get("max_files", base.max_files),
            max_file_bytes=numbers.get("max_file_bytes", base.max_file_bytes),
            allowed_types=tuple(t.strip() for t in types.split(",") if t.strip())
            if types
            else base.allowed_types,
        )

    def _attrs(self, kind: ActionKind, selector: str, **names: str) -> dict[str, Any]:
        control = self._control(kind, selector)
        if not control.count():
            return {}
        found: dict[str, Any] = control.evaluate(_LIMITS_JS, names)
        return found

    # -- sending ------------------------------------------------------------------------------

    def reply(self, body: str, attachments: list[Path]) -> Answer:
        """Send ``body`` (and files) through the reply form; its Cc field is left as the page
        filled it in (the case's current list)."""
        form = self._form(ActionKind.REPLY)
        assert form.message is not None
        self._show(ActionKind.REPLY)
        self._control(ActionKind.REPLY, form.message).fill(body)
        if attachments:
            if form.files is None:
                raise ConfigError(f"selector map {self.smap.name} names no file input to attach")
            self._control(ActionKind.REPLY, form.files).set_input_files(
                [str(p) for p in attachments]
            )
        return self._send(ActionKind.REPLY)

    def reopen(self) -> Answer:
        return self._send(ActionKind.REOPEN)

    def set_cc(self, addresses: list[str]) -> Answer:
        """Replace the case's Cc list with ``addresses`` through the Cc editor."""
        form = self._form(ActionKind.CC)
        assert form.cc is not None
        self._show(ActionKind.CC)
        self._control(ActionKind.CC, form.cc).fill(", ".join(addresses))
        return self._send(ActionKind.CC)

    def _show(self, kind: ActionKind) -> None:
        """Click the control that shows a hidden form (the Cc editor), as a person would."""
        form = self._form(kind)
        if not form.open:
            return
        target = form.cc or form.message
        if target and self._control(kind, target).is_visible():
            return
        self.page.locator(form.open).first.click()

    def _send(self, kind: ActionKind) -> Answer:
        self.token(kind)
        try:
            if self.spec.submit == "fetch":
                return self._fetch(kind)
            return self._click(kind)
        except PlaywrightError as exc:
            # the browser failed while sending: whether it went out is unknown
            return Answer(Outcome.UNKNOWN, "browser_error", str(exc).strip().splitlines()[0])

    def _fetch(self, kind: ActionKind) -> Answer:
        form = self._form(kind)
        spec = self.spec
        got: dict[str, Any] = self.page.evaluate(
            _submit_js(),
            [form.form, spec.notice, spec.error, spec.error_code_attr, int(self.timeout_ms)],
        )
        if got.get("missing"):
            return Answer(Outcome.REFUSED, "no_form", "the page shows no such form")
        if got.get("foreign"):
            raise SendFailed(
                f"the form of case {self.case_id} posts to {got['foreign']}, not to "
                f"{self.ctx.origin}; nothing was sent"
            )
        status = int(got.get("status") or 0)
        if status == 0:
            return Answer(Outcome.UNKNOWN, "network_error", str(got.get("problem") or ""))
        if classify_url(str(got.get("url") or "")) is not PageKind.CONTENT:
            return Answer(Outcome.REFUSED, "signed_out", "the site asked to sign in again")
        if got.get("code") is not None:
            return self._refusal(str(got["code"]), str(got.get("text") or ""))
        if got.get("notice") is not None and status < 300:
            return Answer(Outcome.CONFIRMED, text=str(got["notice"]))
        if status in (400, 403, 404, 429):
            return Answer(Outcome.REFUSED, f"http_{status}", f"HTTP {status}")
        return Answer(Outcome.UNKNOWN, f"http_{status}", f"HTTP {status}")

    def _click(self, kind: ActionKind) -> Answer:
        form = self._form(kind)
        assert form.send is not None
        spec = self.spec
        self.page.locator(form.send).first.click()
        outcome = self.page.locator(f"{spec.notice}, {spec.error}").first
        try:
            outcome.wait_for(state="attached", timeout=self.timeout_ms)
        except PlaywrightError:
            return Answer(Outcome.UNKNOWN, "timeout", "the page showed no outcome in time")
        error = self.page.locator(spec.error)
        if error.count():
            code = error.first.get_attribute(spec.error_code_attr) or ""
            return self._refusal(code, squash(error.first.text_content() or ""))
        return Answer(Outcome.CONFIRMED, text=squash(outcome.text_content() or ""))

    def _refusal(self, code: str, text: str) -> Answer:
        if re.search(self.spec.refused_codes, code):
            return Answer(Outcome.REFUSED, code, text)
        return Answer(Outcome.UNKNOWN, code or "error", text)
