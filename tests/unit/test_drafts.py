"""Drafts carry the case's own facts, and only those; the escalation follows the seeds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from agent.config import Account
from agent.core.drafts import DraftKind, draft_escalation, draft_follow_up
from agent.core.models import Case, CaseStatus, Direction, Event, EventKind, Message

LA = ZoneInfo("America/Los_Angeles")
ACCOUNT = Account(name="acme", base_url="https://sellercentral.example")
CASE_ID = "12345678901"
AMAZON, SELLER = Direction.FROM_AMAZON, Direction.FROM_SELLER
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=LA)
LONG_ANSWER = (
    "Thank you for contacting Seller Support.\n\n   We have forwarded your request to the "
    "payments team, who will review the hold on your account and the documents you sent. "
    "This can take several business days and we will write again as soon as they answer; "
    "THIS PART IS BEYOND THE QUOTE"
)


def la(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=LA)


def case(
    subject: str = "  Disbursement   on hold since 3 Nov ",
    status: CaseStatus = CaseStatus.PENDING_AMAZON_ACTION,
) -> Case:
    return Case(
        case_id=CASE_ID,
        account="acme",
        subject=subject,
        status=status,
        status_raw=status.value,
        created_at=la(10),
        first_seen_at=la(10),
        last_seen_at=la(10),
    )


def msg(direction: Direction, sent_at: datetime, body: str = "Any news?") -> Message:
    return Message(
        message_id=Message.stable_id(CASE_ID, direction.value, sent_at, body),
        case_id=CASE_ID,
        direction=direction,
        sender="Amazon" if direction is AMAZON else "You",
        sent_at=sent_at,
        body=body,
    )


HISTORY = [
    msg(SELLER, la(10), "My disbursement has been on hold since 3 Nov."),
    msg(AMAZON, la(12), "Please send a bank statement."),
    msg(SELLER, la(13), "Attached is the statement."),
    msg(AMAZON, la(16), LONG_ANSWER),
    msg(SELLER, la(18), "Any update on this?"),
    msg(SELLER, la(20), "Following up again."),
]


def status_event(status: CaseStatus, detected_at: datetime) -> Event:
    return Event(
        event_id=f"e-{detected_at.isoformat()}",
        account="acme",
        case_id=CASE_ID,
        kind=EventKind.STATUS_CHANGED,
        after={"status": status.value, "status_raw": status.value},
        detected_at=detected_at,
        snapshot_id="s",
    )


# Amazon asked a question on 12 Nov (Needs Your Attention); the seller answered on 13 Nov.
STATUS_HISTORY = [
    status_event(CaseStatus.NEEDS_YOUR_ATTENTION, la(12, 11)),
    status_event(CaseStatus.PENDING_AMAZON_ACTION, la(13, 11)),
]
QUOTE = (
    "Thank you for contacting Seller Support. We have forwarded your request to the payments "
    "team, who will review the hold on your account and the documents you sent. This can take "
    "several business days and we will"
)


def test_escalation_subject_follows_the_seeds_template() -> None:
    draft = draft_escalation(case(), HISTORY, account=ACCOUNT, now=NOW)
    assert draft.subject == (
        "Urgent Escalation Request: 12345678901 for Disbursement on hold since 3 Nov"
    )
    assert (draft.case_id, draft.kind) == (CASE_ID, DraftKind.ESCALATION)


def test_escalation_body_carries_the_facts_in_order() -> None:
    body = draft_escalation(case(), HISTORY, account=ACCOUNT, now=NOW).body
    expected_in_order = [
        "I am requesting the escalation of case 12345678901, which is still unresolved.",
        "Summary: Disbursement on hold since 3 Nov.",
        "The case was opened on 10 Nov 2026.",
        "It has been waiting for an answer for 8 days, since your last message on 16 Nov 2026.",
        f'Your last reply, on 16 Nov 2026, said: "{QUOTE[:199].rstrip()}…"',
        "Actions taken:\n"
        "- 10 Nov 2026: opened this case.\n"
        "- 13 Nov 2026: replied in this case.\n"
        "- 18 Nov 2026: followed up.\n"
        "- 20 Nov 2026: followed up.",
        "Desired outcome: release of the held disbursement.",
        "reviewed by a senior member of the team",
        "Kind regards,",
    ]
    positions = [body.find(part) for part in expected_in_order]
    assert -1 not in positions, [
        p for p, i in zip(expected_in_order, positions, strict=True) if i < 0
    ]
    assert positions == sorted(positions)
    assert "BEYOND THE QUOTE" not in body


def test_follow_up_draft_carries_the_facts() -> None:
    draft = draft_follow_up(case(), HISTORY, STATUS_HISTORY, account=ACCOUNT, now=NOW)
    assert draft.kind is DraftKind.FOLLOW_UP
    assert draft.subject == "Follow-up on case 12345678901: Disbursement on hold since 3 Nov"
    assert draft.body.startswith(
        'Hello,\n\nI am following up on case 12345678901 ("Disbursement on hold since 3 Nov"), '
        "opened on 10 Nov 2026. It has been waiting for an answer for 8 days, since your last "
        "message on 16 Nov 2026. I have already followed up on 18 Nov 2026 and 20 Nov 2026."
    )
    assert f'Your last reply, on 16 Nov 2026, said: "{QUOTE[:120]}' in draft.body
    assert "next steps toward release of the held disbursement?" in draft.body


def test_a_reply_after_needs_your_attention_is_not_called_a_follow_up() -> None:
    messages = [
        msg(SELLER, la(10), "My disbursement is on hold."),
        msg(AMAZON, la(12), "Please send a bank statement."),
        msg(SELLER, la(13), "Attached is the statement."),
    ]
    body = draft_follow_up(case(), messages, STATUS_HISTORY, account=ACCOUNT, now=NOW).body
    assert "since my message on 13 Nov 2026" in body
    assert "followed up" not in body


def test_a_case_amazon_never_answered() -> None:
    messages = [msg(SELLER, la(10), "My disbursement is on hold.")]
    follow_up = draft_follow_up(case(), messages, account=ACCOUNT, now=NOW).body
    assert "for 14 days, since I opened it on 10 Nov 2026." in follow_up
    assert "I have not received a reply from Amazon on this case yet." in follow_up
    assert "Your last reply" not in follow_up and "followed up" not in follow_up
    escalation = draft_escalation(case(), messages, account=ACCOUNT, now=NOW).body
    assert "Actions taken:\n- 10 Nov 2026: opened this case.\n\n" in escalation


def test_a_long_history_lists_the_opening_and_the_latest_actions() -> None:
    messages = [*HISTORY, *(msg(SELLER, la(21, 9 + i), f"Bump {i}") for i in range(8))]
    body = draft_escalation(case(), messages, account=ACCOUNT, now=NOW).body
    actions = body.split("Actions taken:\n")[1].split("\n\n")[0].splitlines()
    assert len(actions) == 11
    assert actions[:2] == ["- 10 Nov 2026: opened this case.", "- (2 earlier messages not listed)"]
    assert actions[-1] == "- 21 Nov 2026: followed up."


def test_an_amazon_message_without_text_is_dated_not_quoted() -> None:
    messages = [msg(SELLER, la(10)), msg(AMAZON, la(12), "  \n ")]
    body = draft_follow_up(case(), messages, account=ACCOUNT, now=NOW).body
    assert "Your last reply was on 12 Nov 2026." in body
    assert "said:" not in body


def test_escalations_already_sent_are_listed_as_such() -> None:
    messages = [*HISTORY, msg(SELLER, la(23), "Urgent Escalation Request: 12345678901 for ...")]
    body = draft_escalation(case(), messages, account=ACCOUNT, now=NOW).body
    assert "- 23 Nov 2026: requested escalation of this case." in body


@pytest.mark.parametrize(
    ("subject", "outcome"),
    [
        pytest.param("Disbursement on hold", "release of the held disbursement", id="payments"),
        pytest.param(
            "Account deactivated",
            "reinstatement of the account, or a clear list of what is still needed",
            id="account-health",
        ),
        pytest.param(
            "Listing suppressed for ASIN B00X",
            "reactivation of the affected listings",
            id="listing",
        ),
        pytest.param(
            "Trademark infringement complaint",
            "a review of the policy notice and its removal if it was issued in error",
            id="policy",
        ),
        pytest.param(
            "Shipping template question",
            "a resolution of this case, or a clear statement of the next steps",
            id="default",
        ),
    ],
)
def test_desired_outcome_by_category(subject: str, outcome: str) -> None:
    body = draft_escalation(case(subject), HISTORY, account=ACCOUNT, now=NOW).body
    assert f"Desired outcome: {outcome}." in body


@pytest.mark.parametrize("draft", [draft_follow_up, draft_escalation])
def test_desired_outcome_can_be_given(draft: object) -> None:
    assert callable(draft)
    body = draft(
        case(), HISTORY, account=ACCOUNT, now=NOW, outcome="a refund of the 120 USD fee."
    ).body
    assert "a refund of the 120 USD fee" in body
    assert "held disbursement" not in body


@pytest.mark.parametrize(
    ("timezone", "day"),
    [
        pytest.param("America/Los_Angeles", "18 Nov 2026", id="LA"),
        pytest.param("Asia/Tokyo", "19 Nov 2026", id="Tokyo"),
    ],
)
def test_dates_are_in_the_accounts_time_zone(timezone: str, day: str) -> None:
    account = ACCOUNT.model_copy(update={"timezone": timezone})
    messages: Sequence[Message] = [*HISTORY[:4], msg(SELLER, la(18, 17))]  # 01:00 UTC on 19 Nov
    body = draft_follow_up(case(), messages, account=account, now=NOW).body
    assert f"I have already followed up on {day}." in body


def test_a_case_waiting_for_the_seller_gets_no_waiting_claim() -> None:
    messages = [msg(SELLER, la(10)), msg(AMAZON, la(12), "Please send a bank statement.")]
    body = draft_escalation(
        case(status=CaseStatus.NEEDS_YOUR_ATTENTION), messages, account=ACCOUNT, now=NOW
    ).body
    assert "waiting for an answer" not in body
    assert "Its status is Needs Your Attention." in body


def test_refuses_naive_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        draft_follow_up(case(), HISTORY, account=ACCOUNT, now=datetime(2026, 11, 24))


# -- drafts that fit the case (issue 13) -------------------------------------------------------

QUESTION = "Please send the invoice for order 112-1234567-1234567.\n\nWe will close this in 7 days."


def test_a_follow_up_on_the_sellers_turn_is_a_reply_quoting_amazons_question() -> None:
    c = case("Listing removed for a missing invoice", CaseStatus.NEEDS_YOUR_ATTENTION)
    messages = [msg(SELLER, la(10), "Why was my listing removed?"), msg(AMAZON, la(20), QUESTION)]
    d = draft_follow_up(c, messages, account=ACCOUNT, now=NOW)
    assert d.kind is DraftKind.REPLY
    assert d.subject == f"Re: case {CASE_ID}: Listing removed for a missing invoice"
    quoted = "> Please send the invoice for order 112-1234567-1234567.\n>\n> We will close"
    assert f"You wrote:\n\n{quoted}" in d.body
    assert "[Your answer" in d.body
    assert "status" not in d.body.casefold()  # never "let me know the current status"


@pytest.mark.parametrize(
    ("subject", "overdue", "title"),
    [
        ("Disbursement on hold", False, "Urgent Escalation Request"),  # payments: urgent
        ("Shipping template question", False, "Escalation Request"),
        ("Shipping template question", True, "Urgent Escalation Request"),
    ],
)
def test_urgent_only_for_urgent_categories_or_overdue_deadlines(
    subject: str, overdue: bool, title: str
) -> None:
    d = draft_escalation(case(subject), HISTORY, account=ACCOUNT, now=NOW, overdue=overdue)
    assert d.subject == f"{title}: {CASE_ID} for {subject}"


def test_drafts_are_signed_with_the_accounts_signature() -> None:
    signed = ACCOUNT.model_copy(update={"signature": "Dana, Demo Outdoor Co"})
    follow = draft_follow_up(case(), HISTORY, account=signed, now=NOW)
    assert follow.body.endswith("Thank you,\nDana, Demo Outdoor Co\n")
    escalation = draft_escalation(case(), HISTORY, account=signed, now=NOW)
    assert escalation.body.endswith("Kind regards,\nDana, Demo Outdoor Co\n")
    assert draft_escalation(case(), HISTORY, account=ACCOUNT, now=NOW).body.endswith(
        "Kind regards,\n"
    )


@pytest.mark.parametrize(
    ("signature", "error"),
    [
        ("x" * 201, "at most 200 characters"),
        ("Dana\x1b[31m", "control character"),
        ("a\nb\nc\nd\ne", "at most 4 lines"),
    ],
)
def test_a_bad_signature_is_refused_when_the_file_is_read(signature: str, error: str) -> None:
    import tomli_w

    from agent.config import parse_settings
    from agent.errors import ConfigError

    text = tomli_w.dumps(
        {"accounts": [{"name": "a", "base_url": "https://x.example", "signature": signature}]}
    )
    with pytest.raises(ConfigError, match=error):
        parse_settings(text)
