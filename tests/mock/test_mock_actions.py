"""Seller actions over plain HTTP, in all three UI generations and all three locales.

Anti-CSRF tokens, the Cc editor, the limits the site checks, the received-actions log and the
faults that hit an action's answer after the action was made (fixtures/README.md §10, §12, §13).
"""

from __future__ import annotations

import hashlib
import html
import http.client
import re
import threading
import time
from typing import Any

import pytest
from caselog_mock import AdminClient, MockServer, SellerClient
from caselog_mock.locales import get_locale
from mocksite import (
    ACTION_PATHS,
    API,
    DETAIL_PAGES,
    GRID_DETAIL,
    SUCCESS,
    TOKEN,
    UI_LOCALES,
    UIS,
    Actor,
    by_subject,
    case_id,
    detail_path,
    refusal_text,
    signed_in_client,
)

OPEN_CASE = "Carrier shows delivered"  # Outdoor US, Open: can be replied to
CC_CASE = "Disbursement on hold"  # Outdoor US, Pending Amazon Action, two CC addresses
ANSWERED = "Buy Shipping label refund"  # Outdoor US, answered 2 days ago: can be reopened
RESOLVED = "Sponsored Products campaign billed twice"  # Outdoor US, Resolved
HOSTILE = (
    '<script>alert("x")</script> & <b>bold</b> &amp; {{7*7}} ${7*7}\r\n'
    '=HYPERLINK("http://evil.example")\r\n'
    "RTL: \u202eשלום עולם\u202c مرحبا بالعالم\r\n"
    "emoji: 👩‍👩‍👧‍👦 🇺🇦 🏳️‍🌈 zero\u200bwidth nbsp\u00a0end\r\n"
    "lone CR\rend\n"
    "   trailing spaces   "
)


@pytest.fixture(params=UI_LOCALES, ids=[f"{u}-{loc}" for u, loc in UI_LOCALES])
def actor(request: pytest.FixtureRequest, admin: AdminClient, seller: SellerClient) -> Actor:
    """The demo scenario with every marketplace in one UI generation and locale; the seller is
    on the first one (Demo Outdoor Co, US)."""
    ui, locale = request.param
    admin.reset(scenario="demo", ui=ui, locale=locale)
    return Actor(seller, ui)


@pytest.fixture(params=UIS)
def ui_actor(request: pytest.FixtureRequest, admin: AdminClient, seller: SellerClient) -> Actor:
    """The demo scenario with every marketplace in one UI generation (locales as they are)."""
    admin.reset(scenario="demo", ui=request.param)
    return Actor(seller, request.param)


def locale_of(admin: AdminClient) -> Any:
    marketplace = admin.ground_truth()["merchants"][0]["marketplaces"][0]
    return get_locale(marketplace["locale"])


def state(admin: AdminClient) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What an action may change: the cases and the history."""
    truth = admin.ground_truth()
    return truth["cases"], truth["history"]


# --- anti-CSRF tokens -----------------------------------------------------------------------


def test_every_action_needs_the_sessions_token(actor: Actor, admin: AdminClient) -> None:
    loc = locale_of(admin)
    sends = [
        ("reply", case_id(admin, OPEN_CASE), {"message": "Any news?"}),
        ("reopen", case_id(admin, ANSWERED), {}),
        ("cc", case_id(admin, CC_CASE), {"cc": "ops@demo-outdoor.example"}),
        ("edit", case_id(admin, CC_CASE), {"subject": "Disbursement on hold (3 weeks)"}),
    ]
    before = state(admin)
    for kind, cid, values in sends:
        for token in (None, "not-the-token"):
            res = actor.send(kind, cid, token=token, **values)
            assert res.status == 403, (kind, token, res.status)
            assert refusal_text(res, actor.ui) == loc.t("err_csrf")
    assert state(admin) == before  # nothing changed
    log = admin.received_actions()
    assert [(e["kind"], e["csrf"], e["accepted"], e["refusal"], e["http_status"]) for e in log] == [
        (kind, csrf, False, "err_csrf", 403)
        for kind, _cid, _values in sends
        for csrf in ("missing", "wrong")
    ]
    # the page's own token: every one accepted
    for kind, cid, values in sends:
        assert actor.send(kind, cid, **values).status == SUCCESS[actor.ui], kind
    accepted = admin.received_actions(since=len(log))
    assert [(e["kind"], e["csrf"], e["accepted"]) for e in accepted] == [
        (kind, "valid", True) for kind, _cid, _values in sends
    ]


def test_tokens_are_per_session_and_rotate_on_sign_in(
    ui_actor: Actor, mock_server: MockServer, admin: AdminClient
) -> None:
    mine, ui = ui_actor, ui_actor.ui
    cid = case_id(admin, CC_CASE)
    first = mine.token(cid)
    theirs = Actor(signed_in_client(mock_server), ui)
    assert theirs.token(cid) != first
    assert theirs.send("cc", cid, token=first, cc="a@b.example").status == 403  # not theirs
    # the same browser signs in again: a new session, a new token; the old one is refused
    login = mock_server.login
    mine.seller.sign_in(login["email"], login["password"], login["totp_secret"])
    second = mine.token(cid)
    assert second != first
    assert mine.token(cid) == second  # stable within the session
    assert mine.send("cc", cid, token=first, cc="a@b.example").status == 403
    assert mine.send("cc", cid, token=second, cc="a@b.example").status == SUCCESS[ui]
    assert [e["csrf"] for e in admin.received_actions()] == ["wrong", "wrong", "valid"]
    assert by_subject(admin.ground_truth(), CC_CASE)["cc"] == ["a@b.example"]


# --- the Cc editor --------------------------------------------------------------------------


def test_cc_editor_sets_the_list_within_the_limit(actor: Actor, admin: AdminClient) -> None:
    loc = locale_of(admin)
    cid = case_id(admin, CC_CASE)
    old = by_subject(admin.ground_truth(), CC_CASE)["cc"]
    cc_300 = ", ".join(f"person{i:02d}@example.com" for i in range(13))
    cc_300 += ", " + "z" * (300 - len(cc_300) - 2 - len("@example.com")) + "@example.com"
    cc_301 = cc_300[: -len("@example.com")] + "z@example.com"
    assert (len(cc_300), len(cc_301)) == (300, 301)
    refusals = [
        (cc_301, "err_cc_too_long", loc.t("err_cc_too_long", length=301, max=300)),
        ("ok@example.com, not-an-address", "err_cc_invalid", None),
    ]
    for text, _code, sentence in refusals:
        res = actor.send("cc", cid, cc=text)
        assert res.status == 400
        assert refusal_text(res, actor.ui) == (
            sentence or loc.t("err_cc_invalid", bad="not-an-address")
        )
        assert by_subject(admin.ground_truth(), CC_CASE)["cc"] == old
    assert actor.send("cc", cid, cc=cc_300).status == SUCCESS[actor.ui]
    truth = admin.ground_truth()
    assert ", ".join(by_subject(truth, CC_CASE)["cc"]) == cc_300
    event = truth["history"][-1]
    assert (event["kind"], event["cc_before"], event["source"]) == (
        "seller_cc_changed",
        old,
        "seller",
    )
    assert actor.send("cc", cid, cc="").status == SUCCESS[actor.ui]  # empty clears the list
    assert by_subject(admin.ground_truth(), CC_CASE)["cc"] == []
    log = admin.received_actions()
    assert [(e["cc_text"], e["accepted"], e["refusal"]) for e in log] == [
        (cc_301, False, "err_cc_too_long"),
        ("ok@example.com, not-an-address", False, "err_cc_invalid"),
        (cc_300, True, None),
        ("", True, None),
    ]
    assert log[1]["cc"] == ["ok@example.com", "not-an-address"]
    resolved = actor.send("cc", case_id(admin, RESOLVED), cc="a@b.example")
    assert resolved.status == 400
    assert refusal_text(resolved, actor.ui) == loc.t("err_cannot_edit_cc")


def test_the_reply_cc_field_still_replaces_the_list(ui_actor: Actor, admin: AdminClient) -> None:
    actor, ui = ui_actor, ui_actor.ui
    cid = case_id(admin, CC_CASE)
    old = by_subject(admin.ground_truth(), CC_CASE)["cc"]
    assert actor.send("reply", cid, message="No Cc field").status == SUCCESS[ui]
    assert by_subject(admin.ground_truth(), CC_CASE)["cc"] == old
    assert actor.send("reply", cid, message="New Cc", cc="x@y.example").status == SUCCESS[ui]
    assert by_subject(admin.ground_truth(), CC_CASE)["cc"] == ["x@y.example"]


# --- limits checked by the site ---------------------------------------------------------------


def test_limits_are_checked_by_the_site(actor: Actor, admin: AdminClient) -> None:
    loc = locale_of(admin)
    cid = case_id(admin, OPEN_CASE)
    pdf = ("label.pdf", b"%PDF" + b"x" * 996)  # 1,000 bytes
    cases = [
        ({"message": "x" * 32001}, (), loc.t("err_message_too_long", max=32000)),
        ({"message": " \r\n\t "}, (), loc.t("err_empty_message")),
        ({"message": "six files"}, [pdf] * 6, loc.t("err_too_many_files", max=5)),
        (
            {"message": "a tool"},
            [("tool.exe", b"MZ")],
            loc.t("err_file_type", name="tool.exe", types=", ".join(TYPES)),
        ),
        (
            {"message": "too big"},
            [("big.pdf", b"x" * 1001)],
            loc.t("err_file_size", name="big.pdf", size=1001, max=1000),
        ),
    ]
    admin.set_options(attachment_max_bytes=1000)
    before = state(admin)
    for values, files, sentence in cases:
        res = actor.send("reply", cid, files=files, **values)
        assert (res.status, refusal_text(res, actor.ui)) == (400, sentence)
    assert state(admin) == before
    edit = actor.send("edit", cid, subject="s" * 201)
    assert refusal_text(edit, actor.ui) == loc.t("err_subject_too_long", max=200)
    # at the limits: accepted (32,000 characters after CR LF -> LF, 5 files of the largest size)
    body = "y" * 31998 + "\r\n" + "z"
    assert actor.send("reply", cid, message=body, files=[pdf] * 5).status == SUCCESS[actor.ui]
    sent = by_subject(admin.ground_truth(), OPEN_CASE)["messages"][-1]
    assert sent["body"] == body.replace("\r\n", "\n") and len(sent["body"]) == 32000
    assert sent["attachments"] == ["label.pdf"] * 5
    log = admin.received_actions()
    assert [e["refusal"] for e in log] == [
        "err_message_too_long",
        "err_empty_message",
        "err_too_many_files",
        "err_file_type",
        "err_file_size",
        "err_subject_too_long",
        None,
    ]
    assert log[2]["attachments"] == [{"name": "label.pdf", "size": 1000}] * 6


TYPES = ["pdf", "png", "jpg", "jpeg", "gif", "txt", "csv", "xls", "xlsx", "doc", "docx"]


GRID_FIELDS = {  # a classic field's id -> the grid's form (its action's last part), field name
    "reply-message": ("reply", "message"),
    "reply-cc": ("reply", "cc"),
    "reply-attachment": ("reply", "attachment"),
    "edit-cc-input": ("cc", "cc"),
    "edit-subject-input": ("subject", "subject"),
}


def stated(page: str, ui: str, name: str) -> tuple[dict[str, str], str]:
    """A field's attributes and the hint shown with it: classic by ids (``aria-describedby``),
    grid by its form's action and the field's name (the hint: the ``small`` after the label)."""
    if ui == "classic":
        field = re.search(rf'<(?:input|textarea) id="{name}"([^>]*)>', page)
        assert field, name
        described = re.search(r'aria-describedby="([^"]*)"', field.group(1))
        assert described, name
        hint = re.search(rf'<span id="{described.group(1)}"[^>]*>(.*?)</span>', page)
    else:
        action, field_name = GRID_FIELDS[name]
        form = re.search(
            rf'<form [^>]*action="{GRID_DETAIL}/{action}"[^>]*>(.*?)</form>', page, re.S
        )
        assert form, name
        field = re.search(rf'<(?:input|textarea) ([^>]*name="{field_name}"[^>]*)>', form.group(1))
        hint = re.search(
            rf'name="{field_name}".*?</label>\s*<small[^>]*>(.*?)</small>', form.group(1), re.S
        )
    assert field and hint, name
    return dict(re.findall(r'([\w-]+)="([^"]*)"', field.group(1))), html.unescape(hint.group(1))


@pytest.mark.parametrize("ui", ["classic", "grid"])
def test_the_server_rendered_pages_state_the_limits(
    ui: str, admin: AdminClient, seller: SellerClient
) -> None:
    admin.reset(scenario="demo", ui=ui, locale="zh-CN")
    admin.set_options(cc_max_chars=120, message_max_chars=5000, attachment_max_files=3)
    page = seller.get(detail_path(ui, case_id(admin, CC_CASE))).text
    fields = {name: stated(page, ui, name) for name in GRID_FIELDS}
    chars = {name: attrs.get("data-max-chars") for name, (attrs, _hint) in fields.items()}
    assert chars == {
        "reply-message": "5000",
        "reply-cc": "120",
        "reply-attachment": None,
        "edit-cc-input": "120",
        "edit-subject-input": "200",
    }
    files = fields["reply-attachment"][0]
    assert (files["data-max-files"], files["data-max-file-bytes"]) == ("3", "10485760")
    assert files["data-allowed-types"].split(",") == TYPES
    cc_hint = "用逗号分隔电子邮件地址（总共最多 120 个字符，包括逗号和空格）。"
    assert {name: hint for name, (_attrs, hint) in fields.items()} == {
        "reply-message": "最多 5000 个字符。",
        "reply-cc": cc_hint,
        "reply-attachment": "最多 3 个文件，每个不超过 10 MB。允许的类型："
        + ", ".join(TYPES)
        + "。",
        "edit-cc-input": cc_hint,
        "edit-subject-input": "最多 200 个字符。",
    }
    # every action form carries the session's token
    token = seller.csrf_token(detail_path(ui, case_id(admin, CC_CASE)))
    forms = re.findall(r'<form [^>]*method="post"[^>]*>(.*?)</form>', page, re.S)
    assert len(forms) == 3  # subject, Cc, reply (this case cannot be reopened)
    assert all(f'name="{TOKEN}" value="{token}"' in form for form in forms)


# --- the received-actions log ----------------------------------------------------------------


def test_the_log_keeps_a_hostile_body_byte_for_byte(actor: Actor, admin: AdminClient) -> None:
    cid = case_id(admin, OPEN_CASE)
    res = actor.send(
        "reply", cid, message=HOSTILE, cc="ops@demo-outdoor.example", files=[("<b>.txt", b"hi")]
    )
    assert res.status == SUCCESS[actor.ui]
    (entry,) = admin.received_actions()
    assert entry["body"] == HOSTILE
    assert entry["body_sha256"] == hashlib.sha256(HOSTILE.encode("utf-8")).hexdigest()
    assert entry["attachments"] == [{"name": "<b>.txt", "size": 2}]
    assert (entry["cc_text"], entry["cc"]) == (
        "ops@demo-outdoor.example",
        ["ops@demo-outdoor.example"],
    )
    truth = admin.ground_truth()
    stored = by_subject(truth, OPEN_CASE)["messages"][-1]
    assert stored["body"] == HOSTILE.replace("\r\n", "\n").replace("\r", "\n")
    assert entry["message_id"] == stored["message_id"]
    assert (entry["merchant_id"], entry["marketplace_id"], entry["case_id"]) == (
        "A2DEMOOUTDOOR",
        "ATVPDKIKX0DER",
        cid,
    )
    assert (entry["kind"], entry["ui"], entry["at"]) == ("reply", actor.ui, truth["now"])
    assert entry["endpoint"] == ACTION_PATHS[actor.ui]["reply"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", entry["received_at"])
    if actor.ui != "modern":
        assert (res.headers["Location"], entry["http_status"]) == (
            f"{DETAIL_PAGES[actor.ui]}?caseID={cid}&done=sent",
            303,
        )
    else:
        assert (res.json()["contactId"], entry["http_status"]) == (stored["message_id"], 200)


def test_json_bodies_are_logged_as_received(admin: AdminClient, seller: SellerClient) -> None:
    """The modern API also takes JSON: its text (and a Cc list) logged exactly as sent."""
    cid = case_id(admin, OPEN_CASE)
    token = seller.csrf_token(detail_path("modern", cid))
    body = {"caseId": cid, "message": HOSTILE, "ccList": ["a@x.example", "b@y.example"]}
    assert seller.post_json(f"{API}/ReplyToCase", body, {TOKEN: token}).status == 200
    (entry,) = admin.received_actions()
    assert entry["body_sha256"] == hashlib.sha256(HOSTILE.encode()).hexdigest()
    assert (entry["cc_text"], entry["cc"]) == ("a@x.example, b@y.example", body["ccList"])


def test_requests_refused_before_the_action_are_logged(
    mock_server: MockServer, admin: AdminClient, seller: SellerClient
) -> None:
    actor = Actor(seller, "modern")
    cid = case_id(admin, OPEN_CASE)
    token = actor.token(cid)
    admin.set_faults(error_rate=1.0)
    assert actor.send("reply", cid, token=token, message="one").status == 500
    admin.clear_faults()
    anonymous = Actor(SellerClient(mock_server.url), "modern")  # never signed in
    assert anonymous.send("reply", cid, token=token, message="two").status == 401
    kitchen_case = case_id(admin, "Category approval needed")  # another merchant's case
    assert actor.send("reply", kitchen_case, token=token, message="three").status == 404
    log = admin.received_actions()
    assert [(e["seq"], e["body"], e["refusal"], e["http_status"]) for e in log] == [
        (1, "one", "fault_http_500", 500),
        (2, "two", "signed_out", 401),
        (3, "three", "not_found", 404),
    ]
    assert not any(e["accepted"] for e in log)
    assert admin.ground_truth()["history"] == []


# --- faults on the answer of an accepted action -------------------------------------------------


@pytest.mark.parametrize("mode", ["http_500", "disconnect"])
def test_accept_then_fail_records_the_reply_once(
    ui_actor: Actor, mode: str, admin: AdminClient
) -> None:
    actor, ui, seller = ui_actor, ui_actor.ui, ui_actor.seller
    cid = case_id(admin, OPEN_CASE)
    token = actor.token(cid)
    admin.set_faults(accept_then_fail=True, accept_then_fail_mode=mode)
    if mode == "http_500":
        res = actor.send("reply", cid, token=token, message="Sent once, answered 500")
        assert res.status == 500
        if ui == "grid":  # the grid's own error page (no ids)
            assert "Something went wrong on our end" in res.text
            assert not re.search(r"\sid=", res.text)
    else:
        with pytest.raises(http.client.RemoteDisconnected):
            actor.send("reply", cid, token=token, message="Sent once, answered 500")
    assert admin.faults()["accept_then_fail"] == 0  # once
    # reading the thread back shows the reply: it was made, exactly once
    truth = admin.ground_truth()
    mine = [
        m for m in by_subject(truth, OPEN_CASE)["messages"] if m["body"].startswith("Sent once")
    ]
    assert len(mine) == 1
    assert [e["kind"] for e in truth["history"]] == ["seller_reply"]
    (entry,) = admin.received_actions()
    assert entry["accepted"] and entry["message_id"] == mine[0]["message_id"]
    assert (entry["fault"], entry["http_status"]) == (
        f"accept_then_fail:{mode}",
        500 if mode == "http_500" else None,
    )
    page = seller.get(detail_path(ui, cid) if ui != "modern" else f"{API}/ViewCase?caseId={cid}")
    assert page.status == 200 and "Sent once, answered 500" in page.text
    # the fault is spent: the next action is answered normally
    assert actor.send("cc", cid, token=token, cc="").status == SUCCESS[ui]
    assert admin.faults()["fired"] == {"accept_then_fail": 1}


def test_a_late_confirmation_comes_after_the_change(ui_actor: Actor, admin: AdminClient) -> None:
    actor, ui = ui_actor, ui_actor.ui
    cid = case_id(admin, OPEN_CASE)
    token = actor.token(cid)
    admin.set_faults(confirm_delay_ms=1500)
    answers: list[int] = []
    started = time.monotonic()
    sender = threading.Thread(
        target=lambda: answers.append(actor.send("reply", cid, token=token, message="Late").status)
    )
    sender.start()
    while not admin.received_actions():
        time.sleep(0.05)
    # the reply is made and logged while its answer is still on the way
    assert by_subject(admin.ground_truth(), OPEN_CASE)["messages"][-1]["body"] == "Late"
    assert answers == [] and sender.is_alive()
    sender.join(10)
    assert answers == [SUCCESS[ui]] and time.monotonic() - started >= 1.5
    (entry,) = admin.received_actions()
    assert (entry["accepted"], entry["delayed_ms"], entry["fault"]) == (True, 1500, None)
    assert admin.faults()["fired"] == {"confirm_delay": 1}


def test_reset_can_set_the_ui_and_locale_once(admin: AdminClient) -> None:
    admin.reset(scenario="demo", ui="classic", locale="zh-CN")
    places = [mk for m in admin.ground_truth()["merchants"] for mk in m["marketplaces"]]
    assert {(mk["ui"], mk["locale"], mk["timezone"]) for mk in places} == {
        ("classic", "zh-CN", "Asia/Shanghai")
    }
    admin.reset(scenario="demo")
    places = [mk for m in admin.ground_truth()["merchants"] for mk in m["marketplaces"]]
    assert {(mk["ui"], mk["locale"]) for mk in places} == {
        ("modern", "en-US"),
        ("classic", "en-GB"),
        ("classic", "en-US"),
        ("modern", "zh-CN"),
    }
