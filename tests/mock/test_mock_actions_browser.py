"""Seller actions through the pages, in Chromium: all three UI generations and locales.

The hooks an agent will drive (fixtures/README.md §5.5, §6.2, §7.5, §10): the anti-CSRF token
in the page, the limits stated before sending, the Cc editor, the confirmation
(``role=status``) and refusal (``role=alert``) hooks, and what the site received, from its
received-actions log.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from caselog_mock import AdminClient, MockServer, SellerClient
from caselog_mock.locales import get_locale, limit_hints
from mocksite import TOKEN, UI_LOCALES, UIS, by_subject, case_id, detail_path, signed_in_client
from playwright.sync_api import Locator, Page, expect

OPEN_CASE = "Carrier shows delivered"
CC_CASE = "Disbursement on hold"
KAT_INPUTS = {"reply-cc", "edit-cc-input", "edit-subject-input"}  # modern: inner <input>
GRID_FIELDS = {  # the grid has no ids: its controls by form (action) and field name
    "reply-message": ("reply", "[name=message]"),
    "reply-cc": ("reply", "[name=cc]"),
    "reply-attachment": ("reply", "[name=attachment]"),
    "reply-send": ("reply", "button[type=submit]"),
    "edit-cc-input": ("cc", "[name=cc]"),
    "edit-cc-save": ("cc", "button[type=submit]"),
    "edit-subject-input": ("subject", "[name=subject]"),
}
GRID_HINTS = {  # a field's hint: the ``small`` right after the field's label
    "reply-message-hint": "reply-message",
    "reply-cc-hint": "reply-cc",
    "reply-attachment-hint": "reply-attachment",
    "edit-cc-hint": "edit-cc-input",
    "edit-subject-hint": "edit-subject-input",
}
GRID_HOOKS = {
    "action-notice": "[role=status][data-action]",
    "action-error": "[role=alert][data-action]",
    "edit-cc-button": "details:has(form[action$='/cc']) > summary",
    **{name: f"form[action$='/{form}'] {what}" for name, (form, what) in GRID_FIELDS.items()},
    **{
        hint: "form[action$='/{}'] label:has({}) + small".format(*GRID_FIELDS[name])
        for hint, name in GRID_HINTS.items()
    },
}


def hook(ui: str, name: str) -> str:
    """The same hook in every generation: classic ``#name``, modern ``[data-testid=name]``,
    grid by role, form and field name (:data:`GRID_HOOKS`)."""
    return {"classic": f"#{name}", "modern": f"[data-testid={name}]"}.get(ui) or GRID_HOOKS[name]


def field(ui: str, name: str) -> str:
    """The control to type into (modern kat-input: the input inside its shadow root)."""
    return hook(ui, name) + (" input" if ui == "modern" and name in KAT_INPUTS else "")


class Detail:
    """A case's detail page in one UI generation."""

    def __init__(self, page: Page, ui: str, case_id: str) -> None:
        self.page, self.ui, self.case_id = page, ui, case_id

    def open(self) -> Detail:
        self.page.goto(detail_path(self.ui, self.case_id))
        self.ready()
        return self

    def ready(self) -> None:
        if self.ui == "modern":
            self.page.wait_for_selector(
                "[data-testid=case-detail][data-state=ready]", state="attached"
            )

    def __call__(self, name: str) -> Locator:
        return self.page.locator(hook(self.ui, name))

    def fill(self, name: str, text: str) -> None:
        self.page.locator(field(self.ui, name)).fill(text)

    def value(self, name: str) -> Locator:
        return self.page.locator(field(self.ui, name))

    def newest_body(self) -> str | None:
        selector = {
            "classic": "#contact-history .case-message .message-body",
            "modern": "[data-testid=contact-card] [data-testid=contact-body]",
            "grid": "article > p",
        }[self.ui]
        return self.page.locator(selector).first.text_content()

    def cc(self) -> Locator:
        selector = {
            "classic": "#case-cc .cc-address",
            "modern": "[data-testid=cc-item]",
            "grid": "dl ul > li",
        }[self.ui]
        return self.page.locator(selector)


@pytest.fixture(params=UI_LOCALES, ids=[f"{u}-{loc}" for u, loc in UI_LOCALES])
def ui_locale(request: pytest.FixtureRequest, admin: AdminClient) -> tuple[str, Any]:
    ui, locale = request.param
    admin.reset(scenario="demo", ui=ui, locale=locale)
    return ui, get_locale(locale)


def open_case(page: Page, admin: AdminClient, ui: str, subject: str) -> Detail:
    """The demo scenario with every marketplace in ``ui``; the detail page of a case."""
    admin.reset(scenario="demo", ui=ui)
    return Detail(page, ui, case_id(admin, subject)).open()


def expect_notice(d: Detail, kind: str, text: str) -> None:
    notice = d("action-notice")
    expect(notice).to_have_text(text)
    expect(notice).to_have_attribute("role", "status")
    expect(notice).to_have_attribute("data-action", kind)


def expect_refusal(d: Detail, kind: str, code: str, text: str) -> None:
    error = d("action-error")
    expect(error).to_have_text(text)
    expect(error).to_have_attribute("role", "alert")
    expect(error).to_have_attribute("data-action", kind)
    expect(error).to_have_attribute("data-error-code", code)


@pytest.mark.browser
def test_limits_token_cc_editor_and_confirmation(
    seller_page: Page, seller: SellerClient, admin: AdminClient, ui_locale: tuple[str, Any]
) -> None:
    ui, loc = ui_locale
    cid = case_id(admin, CC_CASE)
    d = Detail(seller_page, ui, cid).open()
    # the limits, stated in the page before anything is sent
    limits = admin.options()
    for name, attr, value in [
        ("reply-message", "data-max-chars", limits["message_max_chars"]),
        ("reply-cc", "data-max-chars", limits["cc_max_chars"]),
        ("edit-cc-input", "data-max-chars", limits["cc_max_chars"]),
        ("edit-subject-input", "data-max-chars", limits["subject_max_chars"]),
        ("reply-attachment", "data-max-files", limits["attachment_max_files"]),
        ("reply-attachment", "data-max-file-bytes", limits["attachment_max_bytes"]),
        ("reply-attachment", "data-allowed-types", ",".join(limits["attachment_types"])),
    ]:
        expect(d(name)).to_have_attribute(attr, str(value))
    hints = limit_hints(loc, limits)
    for name, key in [
        ("reply-message-hint", "message"),
        ("reply-cc-hint", "cc"),
        ("reply-attachment-hint", "attachment"),
        ("edit-cc-hint", "cc"),
        ("edit-subject-hint", "subject"),
    ]:
        expect(d(name)).to_have_text(hints[key])
    # the session's anti-CSRF token: in the page's meta tag, and in every classic or grid form
    token = seller.csrf_token(detail_path(ui, cid))
    expect(seller_page.locator(f"meta[name={TOKEN}]")).to_have_attribute("content", token)
    if ui != "modern":
        forms = seller_page.locator("form[method=post]")  # subject, Cc, reply (no reopen)
        expect(forms).to_have_count(3)
        expect(seller_page.locator(f"form[method=post] input[name={TOKEN}]")).to_have_count(3)
        for tok in seller_page.locator(f"input[name={TOKEN}]").all():
            expect(tok).to_have_attribute("value", token)
    # the Cc editor: refused (the text kept), then accepted
    expect(d("edit-cc-input")).to_be_hidden()
    d("edit-cc-button").click()
    too_long = "a" * 289 + "@example.com"
    d.fill("edit-cc-input", too_long)
    d("edit-cc-save").click()
    sentence = loc.t("err_cc_too_long", length=301, max=300)
    expect_refusal(d, "cc", "err_cc_too_long", sentence)
    if ui != "grid":  # the grid shows a refusal once, at the top (its action-error hook)
        expect(d("edit-cc-error")).to_have_text(sentence)
        expect(d("edit-cc-error")).to_have_attribute("role", "alert")
    expect(d.value("edit-cc-input")).to_have_value(too_long)
    d.fill("edit-cc-input", "ops@demo-outdoor.example,  legal@demo-outdoor.example")
    d("edit-cc-save").click()
    expect_notice(d, "cc", loc.t("cc_saved"))
    expect(d.cc()).to_have_text(["ops@demo-outdoor.example", "legal@demo-outdoor.example"])
    # a reply: the confirmation, and the message at the top of the thread
    d.fill("reply-message", "Thanks, see the statement.\nSecond line.")
    d("reply-send").click()
    expect_notice(d, "reply", loc.t("sent"))
    assert d.newest_body() == "Thanks, see the statement.\nSecond line."
    log = admin.received_actions()
    assert [(e["kind"], e["csrf"], e["accepted"], e["refusal"]) for e in log] == [
        ("cc", "valid", False, "err_cc_too_long"),
        ("cc", "valid", True, None),
        ("reply", "valid", True, None),
    ]
    # a browser submits the textarea's line breaks as CR LF (classic form and modern FormData)
    assert log[2]["body"] == "Thanks, see the statement.\r\nSecond line."
    assert log[2]["cc_text"] == "ops@demo-outdoor.example, legal@demo-outdoor.example"
    assert (
        log[2]["message_id"]
        == by_subject(admin.ground_truth(), CC_CASE)["messages"][-1]["message_id"]
    )


@pytest.mark.browser
def test_a_token_from_an_earlier_session_is_refused_and_the_text_kept(
    seller_page: Page, mock_server: MockServer, admin: AdminClient, ui_locale: tuple[str, Any]
) -> None:
    ui, loc = ui_locale
    cid = case_id(admin, OPEN_CASE)
    d = Detail(seller_page, ui, cid).open()
    before = admin.ground_truth()["cases"]
    # the seller signs in again (another tab): the cookie changes, this page's token does not
    again = signed_in_client(mock_server)
    seller_page.context.add_cookies(
        [{"name": c.name, "value": c.value, "url": mock_server.url} for c in again.cookies]
    )
    d.fill("reply-message", "Following up on this case.")
    d("reply-send").click()
    expect_refusal(d, "reply", "err_csrf", loc.t("err_csrf"))
    expect(d.value("reply-message")).to_have_value("Following up on this case.")
    assert admin.ground_truth()["cases"] == before
    if ui == "modern":  # the page's token is stale until the page is loaded again
        d.open()
        d.fill("reply-message", "Following up on this case.")
    d("reply-send").click()  # classic, grid: the page shown with the error has the new token
    expect_notice(d, "reply", loc.t("sent"))
    assert [(e["csrf"], e["accepted"]) for e in admin.received_actions()] == [
        ("wrong", False),
        ("valid", True),
    ]


FAILED_ANSWER = {  # what the page shows when the answer of an accepted reply fails
    ("classic", "http_500"): ("#error-page", "Something went wrong"),
    ("grid", "http_500"): ("[role=alert]", "Something went wrong"),
    ("modern", "http_500"): ("[data-testid=action-error]", "InternalServerError"),
    ("modern", "disconnect"): ("[data-testid=action-error]", "network_error"),
}


@pytest.mark.browser
@pytest.mark.parametrize(("ui", "mode"), list(FAILED_ANSWER))
def test_a_failed_answer_after_the_reply_then_reading_the_thread_back(
    ui: str, mode: str, seller_page: Page, admin: AdminClient
) -> None:
    d = open_case(seller_page, admin, ui, OPEN_CASE)
    admin.set_faults(accept_then_fail=1, accept_then_fail_mode=mode)
    d.fill("reply-message", "Sent once; the answer failed.")
    d("reply-send").click()
    where, what = FAILED_ANSWER[(ui, mode)]
    if ui != "modern":
        expect(seller_page.locator(where)).to_contain_text(what)
    else:
        expect(seller_page.locator(where)).to_have_attribute("data-error-code", what)
        expect(d("reply-error")).to_have_text("Something went wrong. Please try again.")
        expect(d("reply-send")).not_to_have_attribute("disabled", "")
    d.open()  # read the thread back instead of sending again
    assert d.newest_body() == "Sent once; the answer failed."
    (entry,) = admin.received_actions()  # the browser did not send it again either
    assert (entry["accepted"], entry["fault"], entry["http_status"]) == (
        True,
        f"accept_then_fail:{mode}",
        500 if mode == "http_500" else None,
    )
    bodies = [m["body"] for m in by_subject(admin.ground_truth(), OPEN_CASE)["messages"]]
    assert bodies.count("Sent once; the answer failed.") == 1


@pytest.mark.browser
@pytest.mark.parametrize("ui", ["classic", "grid"])
def test_chromium_may_resend_a_form_whose_connection_closed_unanswered(
    ui: str, seller_page: Page, admin: AdminClient
) -> None:
    """A hazard for never-twice, seen from the site: when the connection of a form POST
    (classic or grid) closes before any answer, Chromium resends the POST if it went out on a
    connection Chromium counts as reused (an idle pooled or a pre-connected one), and otherwise
    shows ERR_EMPTY_RESPONSE. Which one happens is Chromium's own race, not the page's: each
    try must be one of the two, and within a few tries one click's reply is received and
    accepted twice. (The modern page's fetch was not resent; a 500 is never resent.)"""
    for _ in range(5):
        d = open_case(seller_page, admin, ui, OPEN_CASE)
        admin.set_faults(accept_then_fail=1, accept_then_fail_mode="disconnect")
        d.fill("reply-message", "One click.")
        d("reply-send").click()
        failed = seller_page.get_by_text("ERR_EMPTY_RESPONSE")
        expect(d("action-notice").or_(failed)).to_be_visible()
        log = [(e["accepted"], e["fault"], e["body"]) for e in admin.received_actions()]
        bodies = [m["body"] for m in by_subject(admin.ground_truth(), OPEN_CASE)["messages"]]
        assert bodies.count("One click.") == len(log)  # every POST received was accepted
        if failed.is_visible():  # not resent: received once
            assert log == [(True, "accept_then_fail:disconnect", "One click.")]
            continue
        expect(d("action-notice")).to_have_text("Your message has been sent.")  # the resend's
        assert log == [
            (True, "accept_then_fail:disconnect", "One click."),
            (True, None, "One click."),
        ]
        return
    pytest.fail("Chromium never resent the POST in 5 tries")


@pytest.mark.browser
@pytest.mark.parametrize("ui", UIS)
def test_a_late_confirmation_after_the_reply_is_made(
    ui: str, seller_page: Page, admin: AdminClient
) -> None:
    d = open_case(seller_page, admin, ui, OPEN_CASE)
    admin.set_faults(confirm_delay_ms=2000)
    d.fill("reply-message", "Late confirmation.")
    d("reply-send").click(no_wait_after=True)
    made = wait_for(lambda: admin.received_actions())
    assert made[0]["accepted"] and made[0]["delayed_ms"] == 2000
    # made, but not confirmed yet: the classic or grid form's answer (the redirect) has not
    # come; the modern page's Send is busy (disabled) meanwhile
    if ui != "modern":
        assert "done=sent" not in seller_page.url
    else:
        expect(d("action-notice")).to_have_count(0)
        expect(d("reply-send")).to_have_attribute("data-busy", "true")
        expect(d("reply-send")).to_have_attribute("disabled", "")
    d.ready()
    expect(d("action-notice")).to_have_text("Your message has been sent.", timeout=10_000)
    assert len(admin.received_actions()) == 1


def wait_for(probe: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("timed out")
