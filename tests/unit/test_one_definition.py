"""Each fact has one definition, and every place that shows it gives the same answer.

Before the layout (issue 10) each of these existed twice and the copies disagreed; each
test below fails against those copies.
"""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest
import tomli_w
from pydantic import TypeAdapter

from agent.app.accounts import stored_accounts
from agent.config import Account, RuleSettings, Settings, parse_settings
from agent.core.categories import categoriser_for, category_label
from agent.core.diff import diff_snapshots
from agent.core.drafts import issue_of
from agent.core.labels import STATUS_LABELS
from agent.core.models import (
    Case,
    CaseState,
    CaseStatus,
    Direction,
    Flag,
    FlagKind,
    FlagState,
    Message,
    Severity,
    Snapshot,
    UtcDatetime,
)
from agent.core.rules import due_now, evaluate, thresholds_for
from agent.core.times import iso_utc
from agent.core.turn import Turn, whose_turn
from agent.errors import ConfigError
from agent.export.archive import AccountArchive, Archive, to_json_bytes
from agent.export.facts import account_bundles, active_flags, turn_of
from agent.export.to_markdown import case_md
from agent.home import Home
from agent.site.retry import RetryPolicy
from agent.site.selectormap import maps_dir, parse_map
from agent.store import Store

LA = ZoneInfo("America/Los_Angeles")
NOW = datetime(2026, 11, 20, 10, tzinfo=LA)
ACCOUNT = Account(name="acme", base_url="https://sellercentral.amazon.com")

# Subjects sellers write, across every default category (and none).
SUBJECTS = [
    "Account suspended: plan of action",
    "Your account health rating",
    "Disbursement on hold",
    "Funds held in reserve",
    "Refund not credited",
    "FBA reimbursement for lost units",
    "Listing suppressed: missing images",
    "Listing removed for policy",
    "Intellectual property complaint on ASIN B01",
    "Trademark infringement",
    "Stranded inventory report",
    "FBA inbound shipment received short",
    "General question",
    "关于退款的问题",
    "账户被停用",
]


def case(subject: str = "Shipping question", status: CaseStatus = CaseStatus.OPEN) -> Case:
    created = NOW - timedelta(days=3)
    return Case(
        case_id="12345678901",
        account="acme",
        subject=subject,
        status=status,
        status_raw=STATUS_LABELS[status],
        created_at=created,
        first_seen_at=created,
        last_seen_at=created,
    )


def message(direction: Direction, sent_at: datetime, body: str = "Any news?") -> Message:
    sender = "Amazon" if direction is Direction.FROM_AMAZON else "You"
    return Message(
        message_id=Message.stable_id("12345678901", sender, sent_at, body),
        case_id="12345678901",
        direction=direction,
        sender=sender,
        sent_at=sent_at,
        body=body,
    )


def bundle_of(c: Case, messages: list[Message] = ()) -> object:  # type: ignore[assignment]
    acc = AccountArchive(
        account="acme", timezone="UTC", cases=[c], messages=list(messages), events=[], flags=[]
    )
    return account_bundles(acc).cases[0]


# -- status labels ----------------------------------------------------------------------------


def test_a_status_reads_the_same_in_a_flag_and_in_the_archive() -> None:
    c = case(status=CaseStatus.WORK_IN_PROGRESS)
    reason = evaluate([c], {}, [], {}, rules=RuleSettings(), account=ACCOUNT, now=NOW)[0].reason
    label = STATUS_LABELS[CaseStatus.WORK_IN_PROGRESS]
    assert reason.startswith(f"{label} since")
    assert f"**Status:** {label}" in case_md(bundle_of(c))  # type: ignore[arg-type]


# -- whose turn -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status",
    [CaseStatus.OPEN, CaseStatus.NEEDS_YOUR_ATTENTION, CaseStatus.ANSWERED, CaseStatus.CLOSED],
)
def test_the_archive_says_whose_turn_as_the_rules_do(status: CaseStatus) -> None:
    c = case(status=status)
    rules = whose_turn(c, [], [])
    shown, since = turn_of(c, [], [])
    assert shown is rules.turn
    assert since == (None if rules.turn is Turn.NOBODY else rules.since)
    assert bundle_of(c).turn is rules.turn  # type: ignore[attr-defined]


# -- categories -------------------------------------------------------------------------------


@pytest.mark.parametrize("subject", SUBJECTS)
def test_the_rules_and_the_chart_put_a_case_in_the_same_category(subject: str) -> None:
    rules = RuleSettings()
    urgent = thresholds_for(subject, rules).category
    shown = bundle_of(case(subject)).category  # type: ignore[attr-defined]
    if urgent is not None:
        assert shown == category_label(urgent)
    else:
        assert shown not in {category_label(c) for c in rules.urgent_categories}


def test_old_urgent_keyword_tables_still_work() -> None:
    settings = parse_settings(
        '[rules]\nurgent_categories = { payments = ["payout", "disbursement"] }\n'
    )
    rules = settings.rules
    assert rules.urgent_categories == ["payments"]
    assert thresholds_for("Payouts delayed", rules).category == "payments"
    assert thresholds_for("Account suspended", rules).category is None  # not urgent any more
    assert categoriser_for(rules)("Account suspended") == "account_health"


def test_an_urgent_category_must_be_a_category() -> None:
    with pytest.raises(ConfigError, match="urgent category 'payouts' is not one of"):
        parse_settings('[rules]\nurgent_categories = ["payouts"]\n')


# -- whether a flag is in force ---------------------------------------------------------------


def test_a_snooze_without_an_end_is_in_force_for_the_to_do_and_the_archive() -> None:
    flag = Flag(
        flag_id="f1",
        account="acme",
        case_id="12345678901",
        kind=FlagKind.FOLLOW_UP,
        severity=Severity.INFO,
        due_at=NOW - timedelta(hours=1),
        reason="Follow up.",
        state=FlagState.SNOOZED,
        snoozed_until=None,
    )
    assert due_now([flag], NOW) == [flag]
    assert active_flags([flag], NOW) == [flag]
    later = flag.model_copy(update={"snoozed_until": NOW + timedelta(hours=1)})
    assert due_now([later], NOW) == [] == active_flags([later], NOW)


# -- time formats -----------------------------------------------------------------------------


def test_archive_times_are_written_as_pydantic_writes_them() -> None:
    at = datetime(2026, 11, 21, 16, 35, tzinfo=UTC)
    archive = Archive(generated_at=at, accounts=[])
    written = orjson.loads(to_json_bytes(archive))["generated_at"]
    assert written == iso_utc(at) == TypeAdapter(UtcDatetime).dump_python(at, mode="json")


# -- whitespace -------------------------------------------------------------------------------


def test_spacing_alone_is_no_change_and_no_new_issue() -> None:
    state = CaseState(status=CaseStatus.OPEN, status_raw="Open", subject="Payment  on hold")
    prev = Snapshot(
        snapshot_id="a", account="acme", taken_at=NOW, profile="p", complete=True,
        cases={"12345678901": state},
    )  # fmt: skip
    spaced = state.model_copy(update={"subject": "\tPayment on\u00a0hold "})
    new = prev.model_copy(update={"snapshot_id": "b", "cases": {"12345678901": spaced}})
    assert diff_snapshots(prev, new, [], now=NOW) == []
    assert issue_of(case("\tPayment on\u00a0hold ")) == issue_of(case("Payment  on hold"))


# -- accounts with data -----------------------------------------------------------------------


def test_every_reader_of_the_home_sees_the_same_accounts(tmp_path: Path) -> None:
    home = Home(tmp_path).ensure()
    for name in ("configured", "imported"):
        with Store.open(home.store_path(name)) as store:
            store.set_meta(timezone="Europe/London")
            store.commit()
    settings = Settings(accounts=[Account(name="configured", base_url="https://x.example")])
    seen = stored_accounts(home, settings)
    assert [(s.name, s.archived) for s in seen] == [("configured", False), ("imported", True)]
    assert seen[1].account.timezone == "Europe/London"


# -- retries ----------------------------------------------------------------------------------


def test_one_retry_policy_waits_the_longest_backoff_and_stops_when_used_up() -> None:
    waited: list[float] = []
    policy = RetryPolicy(2, sleep=waited.append)
    assert policy.again(1, [None, "3"])  # the site's Retry-After wins over 0.25 s
    assert policy.again(2, [None])
    assert not policy.again(3, [None])
    assert policy.again(1, [])  # nothing failed (signed in again): no wait
    assert waited == [3.0, 0.5]
    assert all(policy.retryable(s) for s in (0, 429, 500, 503))
    assert not any(policy.retryable(s) for s in (200, 302, 404))


# -- validation errors as one sentence --------------------------------------------------------


def test_config_and_selector_maps_name_a_bad_key_the_same_way() -> None:
    with pytest.raises(ConfigError) as config:
        parse_settings('[[accounts]]\nname = "a"\nbase_url = "https://x.example"\ntimezone = 3\n')
    assert "key accounts[0].timezone:" in str(config.value)
    raw = tomllib.loads((maps_dir() / "modern-en-US.toml").read_text())
    raw["date_formats"] = ["%b %d, %Y", 3]
    with pytest.raises(ConfigError) as smap:
        parse_map(tomli_w.dumps(raw), "bad.toml")
    assert "key date_formats[1]: " in str(smap.value)


# -- the case pages' renderer key -------------------------------------------------------------


def test_the_renderer_key_reads_every_file_it_names() -> None:
    """A name that no longer exists (a moved module) would make every export re-render every
    page, silently; each one must be there."""
    from importlib import resources

    from agent.export import render

    root = resources.files("agent")
    missing = [n for n in render._RENDERER_FILES if not root.joinpath(n).is_file()]
    assert missing == []
    assert render._renderer_key() == render._renderer_key()
