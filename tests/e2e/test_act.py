"""Acting on cases against the mock, through Chromium, in every Case Log generation and
locale: a reopen with a message and a Cc change reach the site exactly once (its
received-actions log, with a valid anti-CSRF token), show in its ground truth, and come back
in the next sync's store; an answer lost after the site accepted is read back, never sent
again; the limits a form states stop what breaks them before anything is sent.

The agent runs in-process here (the library functions the CLI calls, on the session's
Chromium, the mock's clock as its clock); test_act_cli.py runs the commands themselves."""

from __future__ import annotations

import re
from typing import Any

import pytest
from act_agent import (
    OUTDOOR,
    UK,
    US,
    agent,
    amazons_turn,
    cases_of,
    received,
    reopenable,
    replyable,
    signed_in,
)

from agent.core.contact import ActionKind, OutboxState, Rule
from agent.core.models import CaseStatus
from agent.errors import ConfigError, ContactRefused, OverLimit, SendFailed
from agent.site.session import BrowserSession

pytestmark = [pytest.mark.browser]

MAPS = [
    "classic-en-US",
    "classic-en-GB",
    "classic-zh-CN",
    "modern-en-US",
    "modern-en-GB",
    "modern-zh-CN",
    "grid-en-GB",
]
ADDRESS = "returns-team@demo-outdoor.example"
CSRF = "anti-csrftoken-a2z"


@pytest.fixture(scope="module")
def state(e2e_site: Any, browser: Any, tmp_path_factory: Any) -> Any:
    """One sign-in for the module."""
    return signed_in(e2e_site, BrowserSession(browser=browser), tmp_path_factory.mktemp("act"))


def on_map(site: Any, smap: str) -> None:
    """Every marketplace of the demo in this map's generation and locale."""
    ui, _, locale = smap.partition("-")
    site.admin.reset(scenario="demo", ui=ui, locale=locale)
    site.admin.clear_faults()


@pytest.mark.parametrize("smap", MAPS)
def test_reopen_reply_and_cc_reach_the_site_once_and_the_next_sync(
    smap: str, e2e_site: Any, agent_session: Any, tmp_path: Any, state: Any
) -> None:
    on_map(e2e_site, smap)
    me = agent(e2e_site, agent_session, tmp_path, state=state, maps={US: smap})
    me.sync()
    case = reopenable(e2e_site.admin.ground_truth(), OUTDOOR, US)
    cid, cc_before = case["case_id"], case["cc"]
    text = f"Please look at this again ({smap}).\nThe problem came back: 退款 ✓."

    done = me.send(me.reopen(cid, text=text))
    assert [(e.kind, e.state) for e in done.entries] == [
        (ActionKind.REOPEN, OutboxState.SENT),
        (ActionKind.REPLY, OutboxState.SENT),
    ]
    done = me.send(me.cc(cid, "add", ADDRESS))
    assert [(e.kind, e.state) for e in done.entries] == [(ActionKind.CC, OutboxState.SENT)]

    got = received(e2e_site, cid)
    assert [(a["kind"], a["accepted"], a["csrf"], a["ui"]) for a in got] == [
        (kind, True, "valid", smap.split("-")[0]) for kind in ("reopen", "reply", "cc")
    ]
    assert got[1]["body"].replace("\r\n", "\n") == text
    assert got[2]["cc"] == [*cc_before, ADDRESS]
    truth = next(c for c in e2e_site.admin.ground_truth()["cases"] if c["case_id"] == cid)
    assert [m["body"] for m in truth["messages"]].count(text) == 1
    assert truth["cc"] == [*cc_before, ADDRESS] and truth["status"] != "ANSWERED"

    me.sync()
    stored, messages, outbox = me.stored(cid)
    assert [m.body for m in messages].count(text) == 1
    assert list(stored.cc) == [*cc_before, ADDRESS]
    assert stored.status is not CaseStatus.ANSWERED
    # the outbox names the message the sync stored
    reply = next(e for e in outbox if e.kind is ActionKind.REPLY)
    assert reply.message_id in {m.message_id for m in messages if m.body == text}


LOST = [("classic-en-GB", "disconnect"), ("grid-en-GB", "disconnect"), ("modern-en-US", "http_500")]


@pytest.mark.parametrize(("smap", "mode"), LOST)
def test_an_answer_lost_after_the_site_accepted_is_read_back_not_sent_again(
    smap: str, mode: str, e2e_site: Any, agent_session: Any, tmp_path: Any, state: Any
) -> None:
    """The site takes the message, then the answer fails (a 500, or the connection closes
    unanswered: Chromium may resend a form navigation then; a fetch() it does not)."""
    on_map(e2e_site, smap)
    me = agent(e2e_site, agent_session, tmp_path, state=state, maps={UK: smap})
    me.sync()
    cid = replyable(e2e_site.admin.ground_truth(), OUTDOOR, UK)["case_id"]
    e2e_site.admin.set_faults(accept_then_fail=1, accept_then_fail_mode=mode)
    done = me.send(me.reply(cid, text="Here is the tracking number: 1Z999AA10123456784."))
    assert [(e.state, e.message_id is not None) for e in done.entries] == [(OutboxState.SENT, True)]
    got = received(e2e_site, cid)
    assert [(a["kind"], a["accepted"], a["fault"]) for a in got] == [
        ("reply", True, f"accept_then_fail:{mode}")
    ]
    assert e2e_site.admin.faults()["fired"]["accept_then_fail"] == 1


def test_the_limits_a_form_states_stop_a_send_before_anything_goes(
    e2e_site: Any, agent_session: Any, tmp_path: Any, state: Any
) -> None:
    """The pages state tighter limits than Amazon documents: the agent reads them there."""
    on_map(e2e_site, "classic-en-GB")
    me = agent(e2e_site, agent_session, tmp_path, state=state, maps={UK: "classic-en-GB"})
    me.sync()
    cid = replyable(e2e_site.admin.ground_truth(), OUTDOOR, UK)["case_id"]
    e2e_site.admin.set_options(message_max_chars=40, cc_max_chars=20, attachment_types=["pdf"])
    note = tmp_path / "note.txt"
    note.write_text("receipt")
    cases = [
        (me.reply(cid, text="x" * 41), "the message is 41 characters long and the site "
         "takes at most 40; shorten it."),
        (me.reply(cid, text="Receipt attached.", attach=[note]), "note.txt is not a file type "
         "the site takes (pdf); convert it or attach another."),
        (me.cc(cid, "add", ADDRESS), "the Cc list would be 33 characters long and the site "
         "takes at most 20 (commas and spaces included); remove an address."),
    ]  # fmt: skip
    for plan, problem in cases:
        with pytest.raises(OverLimit) as exc:
            me.send(plan)
        assert str(exc.value) == f"nothing was sent: {problem}"
    assert received(e2e_site, cid) == []
    assert me.outbox() == []  # refused before an entry was written


def test_a_case_that_changed_since_the_draft_is_refused_with_nothing_sent(
    e2e_site: Any, agent_session: Any, tmp_path: Any, state: Any
) -> None:
    """The draft is made from the store; Amazon answers before it goes: the fresh read before
    sending sees it, and the outbox records the refusal."""
    on_map(e2e_site, "modern-en-US")
    me = agent(e2e_site, agent_session, tmp_path, state=state, maps={US: "modern-en-US"})
    me.sync()
    cid = amazons_turn(e2e_site.admin.ground_truth(), OUTDOOR, US)["case_id"]
    plan = me.reply(cid, text="Any news on this?")
    e2e_site.admin.advance(days=5)  # Amazon writes meanwhile; the store does not know
    with pytest.raises(ContactRefused) as exc:
        me.send(plan)
    assert exc.value.rule == "changed"
    assert str(exc.value).startswith(f"Case {cid} changed since the draft was made (")
    assert [a for a in received(e2e_site, cid) if a["kind"] == "reply"] == []
    assert [(e.state, e.rule) for e in me.outbox()] == [(OutboxState.REFUSED, Rule.CHANGED)]


def test_a_draft_that_needs_the_sellers_answer_is_not_sent(
    e2e_site: Any, agent_session: Any, tmp_path: Any, state: Any
) -> None:
    """On the seller's turn a follow-up draft is a reply with a place for the answer: it is
    refused before anything is read or sent, and the sentence says how to send the answer."""
    on_map(e2e_site, "classic-en-GB")
    me = agent(e2e_site, agent_session, tmp_path, state=state, maps={UK: "classic-en-GB"})
    me.sync()
    truth = e2e_site.admin.ground_truth()
    cid = next(
        c["case_id"] for c in cases_of(truth, OUTDOOR, UK) if c["status"] == "NEEDS_YOUR_ATTENTION"
    )
    with pytest.raises(ConfigError) as exc:
        me.reply(cid, draft_kind="follow-up")
    assert f"case {cid} waits for your answer" in str(exc.value)
    assert "--file" in str(exc.value)
    assert received(e2e_site, cid) == [] and me.outbox() == []


@pytest.mark.parametrize("smap", ["classic-en-GB", "modern-en-US"])
def test_a_reopen_the_site_refuses_is_recorded_as_refused_with_its_words(
    smap: str,
    e2e_site: Any,
    agent_session: Any,
    tmp_path: Any,
    state: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Our rules let the reopen go; the site refuses it (its anti-CSRF token is stale by the
    time it arrives: the form field in the classic UI, the header in the modern one). The
    outbox keeps what the site said, and nothing was done."""
    on_map(e2e_site, smap)
    me = agent(e2e_site, agent_session, tmp_path, state=state, maps={US: smap})
    me.sync()
    cid = reopenable(e2e_site.admin.ground_truth(), OUTDOOR, US)["case_id"]
    opened = agent_session.context

    def stale_token(route: Any) -> None:
        req = route.request
        if req.method != "POST":
            route.continue_()
            return
        headers = dict(req.headers)
        if CSRF in headers:
            headers[CSRF] = "stale"
        body = re.sub(rf"{CSRF}=[^&]*", f"{CSRF}=stale", req.post_data or "")  # urlencoded
        body = re.sub(rf'(name="{CSRF}"\r\n\r\n)[^\r]*', r"\1stale", body)  # multipart
        route.continue_(headers=headers, post_data=body or None)

    def context(*args: Any, **kwargs: Any) -> Any:
        ctx = opened(*args, **kwargs)
        ctx.context.route("**/*", stale_token)
        return ctx

    monkeypatch.setattr(agent_session, "context", context)
    with pytest.raises(SendFailed) as exc:
        me.send(me.reopen(cid))
    assert str(exc.value).startswith(f"case {cid} refused the reopen: the site said: ")
    assert str(exc.value).endswith("; nothing was sent")
    [entry] = me.outbox()
    assert (entry.kind, entry.state, entry.rule) == (ActionKind.REOPEN, OutboxState.REFUSED, None)
    assert entry.detail is not None and entry.detail.startswith("the site said: ")
    [tried] = received(e2e_site, cid)
    assert (tried["kind"], tried["accepted"], tried["csrf"], tried["refusal"]) == (
        "reopen",
        False,
        "wrong",
        "err_csrf",
    )
    truth = next(c for c in e2e_site.admin.ground_truth()["cases"] if c["case_id"] == cid)
    assert truth["status"] == "ANSWERED"


def test_a_forced_reply_records_the_rule_it_passed(
    e2e_site: Any, agent_session: Any, tmp_path: Any, state: Any
) -> None:
    """A second message on Amazon's turn inside the quiet days goes only with --force, and its
    outbox entry says which rule was set aside."""
    on_map(e2e_site, "modern-en-US")
    me = agent(e2e_site, agent_session, tmp_path, state=state, maps={US: "modern-en-US"})
    me.sync()
    cid = amazons_turn(e2e_site.admin.ground_truth(), OUTDOOR, US)["case_id"]
    first = me.send(me.reply(cid, text="Is there any news on this case?"))
    assert [(e.state, e.forced) for e in first.entries] == [(OutboxState.SENT, ())]
    me.sync()
    again = me.reply(cid, text="Sorry to insist: this blocks our shipments.")
    with pytest.raises(ContactRefused) as exc:
        me.send(again)
    assert exc.value.rule == Rule.QUIET.value
    forced = me.send(again, force=True)
    assert [(e.state, e.forced) for e in forced.entries] == [(OutboxState.SENT, (Rule.QUIET,))]
    stored = {e.entry_id: e for e in me.outbox()}
    assert stored[forced.entries[0].entry_id].forced == (Rule.QUIET,)
    assert [a["kind"] for a in received(e2e_site, cid) if a["accepted"]] == ["reply", "reply"]
