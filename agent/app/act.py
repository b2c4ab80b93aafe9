"""``caselog reply``, ``reopen`` and ``cc``: act on a case, never twice, never too often; the
outbox behind ``caselog outbox``; and the autopilot of ``caselog watch``.

A plan (:func:`plan_reply`, :func:`plan_reopen`, :func:`plan_cc`) is made from the store
alone: what would be sent, to which case, on which account and marketplace, checked against
the site's documented limits and, as far as the store knows, the contact rules. Nothing opens
a browser until :func:`send`, which, under the account store's write lock (one writer, so two
sends cannot both pass the rules):

1. settles every ``pending`` outbox entry of the account (a run killed between its click and
   its read-back): reads the case back and finds what it sent, never sending it again;
2. opens the case's page and reads the case fresh;
3. applies the contact rules (:mod:`agent.core.contact`) to the fresh case, the draft's basis
   and the outbox; a refusal is written to the outbox and raised (:class:`ContactRefused`,
   exit 7);
4. checks the limits the form states and that it carries its anti-CSRF token;
5. writes the entry ``pending`` and **commits it to disk before the click**;
6. clicks (:mod:`agent.site.actions`: a fetch of the form's own fields, or the page's button);
7. reads the case back: the new message (reply), the status (reopen), the Cc list; the entry
   becomes ``sent`` with what was found, ``failed`` when nothing was found, ``refused`` when
   the site said no; committed.

A process killed anywhere leaves at most one ``pending`` entry, which step 1 of the next run
settles from the thread. The draft's basis (what the seller saw) is the stored case after
the last sync, or the agent's own look at the case after its last send when that is newer.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

from agent.app.accounts import each_store, open_store
from agent.app.flags import case_links
from agent.app.maps import maps_in_use
from agent.app.todo import draft, find_case
from agent.config import Account, Marketplace, Settings
from agent.core.businesstime import BusinessCalendar
from agent.core.contact import (
    ActionKind,
    Attachment,
    Attempt,
    Look,
    Origin,
    OutboxEntry,
    OutboxState,
    Refusal,
    SiteLimits,
    Verdict,
    check,
    contacts_today,
    find_sent,
    limit_problem,
    text_hash,
)
from agent.core.drafts import ANSWER_HERE, DraftKind
from agent.core.labels import marketplace_name, status_label
from agent.core.models import Case, CaseStatus, FlagKind, Message, utcnow
from agent.core.present import TodoItem
from agent.core.turn import reopen_until
from agent.errors import CaselogError, ConfigError, ContactRefused, OverLimit, SendFailed
from agent.home import Home
from agent.site.actions import Answer, CasePage, Outcome
from agent.site.credentials import resolve
from agent.site.readers import CaseDetail, make_reader
from agent.site.selectormap import SelectorMap
from agent.site.session import AccountContext, BrowserSession, CredentialSource
from agent.store import Store

__all__ = [
    "DRAFT_FOR",
    "AutopilotReport",
    "Plan",
    "SendReport",
    "autopilot",
    "basis_of",
    "outbox_entries",
    "plan_cc",
    "plan_reopen",
    "plan_reply",
    "precheck",
    "send",
    "settle_pending",
    "with_own_sends",
]

Clock = Callable[[], datetime]


# -- plans ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What would be sent, to which case, on which account and marketplace."""

    kind: ActionKind
    account: Account
    case: Case
    basis: Look
    url: str
    body: str = ""
    draft_kind: str | None = None
    attachments: tuple[Attachment, ...] = ()
    files: tuple[Path, ...] = ()
    cc_op: str = ""  # cc: "add" or "remove"
    address: str = ""  # cc: the address
    cc: tuple[str, ...] | None = None  # cc: the list after the change; reply: the list kept
    then_reply: Plan | None = None  # reopen --text: the message sent after reopening

    @property
    def case_id(self) -> str:
        return self.case.case_id

    @property
    def unchanged(self) -> bool:
        """A Cc change that changes nothing as far as the agent knows (the address is already
        there, or not there); sending still asks the site."""
        return self.kind is ActionKind.CC and self.cc == self.basis.cc

    def entry(
        self,
        now: datetime,
        origin: Origin,
        state: OutboxState,
        cc: tuple[str, ...] | None,
        **more: Any,
    ) -> OutboxEntry:
        """The outbox entry of sending this plan at ``now`` (``more``: its other fields)."""
        return OutboxEntry(
            entry_id=_entry_id(now, self.case_id, self.kind),
            account=self.account.name,
            case_id=self.case_id,
            marketplace=self.case.marketplace,
            kind=self.kind,
            origin=origin,
            body=self.body,
            body_sha256=text_hash(self.body) if self.kind is ActionKind.REPLY else "",
            cc=cc,
            attachments=self.attachments,
            created_at=now,
            state=state,
            **more,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "account": self.account.name,
            "marketplace": self.case.marketplace,
            "marketplace_name": marketplace_name(self.case.marketplace),
            "case_id": self.case_id,
            "subject": self.case.subject,
            "status": self.case.status.value,
            "status_label": status_label(self.case.status.value),
            "url": self.url,
            "body": self.body if self.kind is ActionKind.REPLY else None,
            "draft": self.draft_kind,
            "cc": list(self.cc) if self.cc is not None else None,
            "cc_change": {"op": self.cc_op, "address": self.address} if self.cc_op else None,
            "attachments": [a.model_dump() for a in self.attachments],
            "then": self.then_reply.as_json() if self.then_reply else None,
        }


def _stored(
    home: Home, settings: Settings, case_id: str, account: str | None
) -> tuple[Account, Case, list[Message], list[OutboxEntry]]:
    stored = find_case(home, settings, case_id, account)
    if stored.archived:
        raise ConfigError(
            f"case {case_id} belongs to account {stored.name}, which is not in caselog.toml "
            "(archived); add the account to caselog.toml to act on its cases"
        )
    with stored.open() as store:
        case = store.case(case_id)
        assert case is not None
        return stored.account, case, store.messages(case_id), store.outbox(case_id)


def basis_of(case: Case, messages: list[Message], outbox: list[OutboxEntry]) -> Look:
    """What the seller's draft was made from: the stored case after the last sync, or the
    agent's own look at the case after its last send, whichever is newer."""
    return with_own_sends(Look.of(case.status, messages, case.cc, case.last_seen_at), outbox)


def with_own_sends(look: Look, outbox: list[OutboxEntry]) -> Look:
    """``look``, or the agent's own look at the case after a later send of its own: what the
    agent itself changed is not news to the seller."""
    for entry in outbox:
        after = entry.after
        if entry.state is OutboxState.SENT and after is not None and after.seen_at > look.seen_at:
            look = after
    return look


def _attachments(paths: list[Path]) -> tuple[tuple[Attachment, ...], tuple[Path, ...]]:
    found = []
    for path in paths:
        if not path.is_file():
            raise ConfigError(f"--attach {path}: no such file; check the path")
        data = path.read_bytes()
        found.append(
            Attachment(name=path.name, size=len(data), sha256=hashlib.sha256(data).hexdigest())
        )
    return tuple(found), tuple(paths)


def _text(text: str | None, file: Path | None) -> str:
    if file is not None:
        try:
            return file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"--file {file} cannot be read ({exc}); give a UTF-8 text file"
            ) from None
    return text or ""


def _check_limits(plan: Plan, limits: SiteLimits) -> None:
    problem = limit_problem(
        plan.kind,
        body=plan.body,
        cc=plan.cc if plan.kind is ActionKind.CC else None,
        attachments=plan.attachments,
        limits=limits,
    )
    if problem:
        raise OverLimit(f"nothing was sent: {problem[0].lower()}{problem[1:]}")


def plan_reply(
    home: Home,
    settings: Settings,
    case_id: str,
    *,
    account: str | None = None,
    text: str | None = None,
    file: Path | None = None,
    draft_kind: str | None = None,
    attach: list[Path] | None = None,
    now: datetime,
) -> Plan:
    """A reply to ``case_id``: ``text``, the content of ``file``, or a ``draft_kind``
    (``follow-up``, ``escalation``) written from the stored case."""
    given = [x for x in (text, file, draft_kind) if x is not None]
    if len(given) != 1:
        raise ConfigError("say what to send with exactly one of --draft, --text or --file")
    acc, case, messages, outbox = _stored(home, settings, case_id, account)
    if draft_kind is not None:
        if draft_kind not in ("follow-up", "escalation"):
            raise ConfigError(f"--draft must be follow-up or escalation, not {draft_kind!r}")
        written = draft(home, settings, case_id, draft_kind, now, acc.name)
        body = written.body
        if written.kind is DraftKind.REPLY:  # the seller's turn: a place for the answer
            raise ConfigError(
                f"case {case_id} waits for your answer, so its draft has a place for it "
                f"({ANSWER_HERE}); write the answer into a file and send it with --file"
            )
    else:
        body = _text(text, file)
    attachments, files = _attachments(list(attach or []))
    plan = Plan(
        kind=ActionKind.REPLY,
        account=acc,
        case=case,
        basis=basis_of(case, messages, outbox),
        url=case_links(acc)(case),
        body=body,
        draft_kind=draft_kind,
        attachments=attachments,
        files=files,
        cc=case.cc,
    )
    _check_limits(plan, SiteLimits())
    return plan


def plan_reopen(
    home: Home,
    settings: Settings,
    case_id: str,
    *,
    account: str | None = None,
    text: str | None = None,
) -> Plan:
    """Reopen ``case_id``; with ``text``, then send it as a message."""
    acc, case, messages, outbox = _stored(home, settings, case_id, account)
    basis = basis_of(case, messages, outbox)
    url = case_links(acc)(case)
    then = None
    if text is not None:
        then = Plan(ActionKind.REPLY, acc, case, basis, url, body=text, cc=case.cc)
        _check_limits(then, SiteLimits())
    return Plan(ActionKind.REOPEN, acc, case, basis, url, then_reply=then)


def _cc_after(current: tuple[str, ...], op: str, address: str) -> tuple[str, ...]:
    there = [a for a in current if a.casefold() == address.casefold()]
    if op == "add":
        return current if there else (*current, address)
    return tuple(a for a in current if a.casefold() != address.casefold())


def plan_cc(
    home: Home,
    settings: Settings,
    case_id: str,
    op: str,
    address: str,
    *,
    account: str | None = None,
) -> Plan:
    """Add ``address`` to the case's Cc list, or remove it (the Cc editor)."""
    if op not in ("add", "remove"):
        raise ConfigError(f"say add or remove, not {op!r}")
    address = address.strip()
    acc, case, messages, outbox = _stored(home, settings, case_id, account)
    basis = basis_of(case, messages, outbox)
    plan = Plan(
        ActionKind.CC,
        acc,
        case,
        basis,
        case_links(acc)(case),
        cc_op=op,
        address=address,
        cc=_cc_after(basis.cc, op, address),
    )
    _check_limits(plan, SiteLimits())
    return plan


def _calendar(account: Account) -> BusinessCalendar:
    return BusinessCalendar.of(account)


def precheck(
    home: Home,
    settings: Settings,
    plan: Plan,
    now: datetime,
    force: bool,
    *,
    store: Store | None = None,
) -> Verdict:
    """The contact rules as far as the store knows (the preview's verdict; sending reads the
    case fresh and checks again)."""
    if store is None:
        with open_store(home, plan.account.name, readonly=True) as own:
            return precheck(home, settings, plan, now, force, store=own)
    outbox = store.outbox()
    messages = store.messages(plan.case_id)
    events = store.events(case_id=plan.case_id)
    return check(
        Attempt(plan.kind, plan.account.name, plan.case_id, plan.body),
        basis=None,
        status=plan.case.status,
        messages=messages,
        cc=plan.case.cc,
        outbox=outbox,
        settings=settings.contact,
        reopen_until=reopen_until(plan.case, messages, events, settings.rules.reopen_window_days),
        calendar=_calendar(plan.account),
        now=now,
        force=force,
    )


# -- sending ---------------------------------------------------------------------------------------


@dataclass
class SendReport:
    """What a send did: its entries (a reopen with text has two), and the earlier pending
    entries it settled first."""

    entries: list[OutboxEntry] = field(default_factory=list)
    settled: list[OutboxEntry] = field(default_factory=list)
    unchanged: bool = False  # a Cc change that the site's list already had


def _entry_id(now: datetime, case_id: str, kind: ActionKind) -> str:
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{case_id}-{kind.value}-{uuid.uuid4().hex[:6]}"


class _Acting:
    """One account's browser context, its case pages by marketplace, and its store."""

    def __init__(
        self,
        home: Home,
        settings: Settings,
        account: Account,
        store: Store,
        ctx: AccountContext,
        clock: Clock,
    ) -> None:
        self.settings = settings
        self.account = account
        self.store = store
        self.ctx = ctx
        self.clock = clock
        self.maps: dict[str, tuple[Marketplace | None, SelectorMap]] = {
            (mp.id if mp else ""): (mp, smap) for mp, smap in maps_in_use(home, account)
        }
        self._pages: dict[str, tuple[CasePage, Any]] = {}

    def page(self, marketplace: str) -> tuple[CasePage, Any]:
        """The case page and the reader of ``marketplace`` (made once per marketplace)."""
        known = marketplace if marketplace in self.maps else next(iter(self.maps))
        if known not in self._pages:
            mp, smap = self.maps[known]
            self._pages[known] = (
                CasePage(self.ctx, smap, self.account, mp),
                make_reader(self.ctx, smap, self.account, mp),
            )
        return self._pages[known]

    def read(self, marketplace: str, case_id: str) -> tuple[CasePage, CaseDetail]:
        """Open the case's page and read the case as the site shows it now."""
        page, reader = self.page(marketplace)
        page.open(case_id)
        opened = page.page.url
        detail: CaseDetail = reader.details([case_id])[case_id]
        if page.page.url != opened:  # the reader navigated (signed in again, rendered pages)
            page.open(case_id)
        return page, detail

    def read_back(self, marketplace: str, case_id: str) -> CaseDetail:
        _, reader = self.page(marketplace)
        try:
            detail: CaseDetail = reader.details([case_id])[case_id]
        except CaselogError as exc:
            raise SendFailed(
                f"case {case_id} could not be read back after sending ({exc}); its outbox "
                "entry stays pending and is settled from the thread by the next `caselog "
                "reply`, `reopen`, `cc` or `caselog outbox --settle`: do not send it again"
            ) from None
        return detail

    # -- settling -------------------------------------------------------------------------------

    def settle(self, entry: OutboxEntry, detail: CaseDetail, answer: Answer | None) -> OutboxEntry:
        """The entry as the case read back shows it: sent, failed or refused."""
        now = self.clock()
        after = Look.of(detail.status, detail.messages, detail.cc, now)
        update: dict[str, Any] = {"settled_at": now, "after": after}
        if entry.kind is ActionKind.REPLY:
            found = find_sent(entry, detail.messages)
            if found:
                update |= {
                    "state": OutboxState.SENT,
                    "message_id": found[0].message_id,
                    "sent_at": found[0].sent_at,
                }
                if len(found) > 1:
                    update["detail"] = f"the site shows this message {len(found)} times"
                return entry.model_copy(update=update)
        elif entry.kind is ActionKind.REOPEN:
            was = entry.before.status if entry.before else CaseStatus.ANSWERED
            if was is CaseStatus.ANSWERED and detail.status is not CaseStatus.ANSWERED:
                return entry.model_copy(update=update | {"state": OutboxState.SENT, "sent_at": now})
        elif entry.cc is not None and [a.casefold() for a in detail.cc] == [
            a.casefold() for a in entry.cc
        ]:
            return entry.model_copy(update=update | {"state": OutboxState.SENT, "sent_at": now})
        if answer is not None and answer.outcome is Outcome.REFUSED:
            said = answer.text or answer.code
            return entry.model_copy(
                update=update | {"state": OutboxState.REFUSED, "detail": f"the site said: {said}"}
            )
        why = f"the site answered {answer.code or answer.outcome.value}; " if answer else ""
        return entry.model_copy(
            update=update
            | {
                "state": OutboxState.FAILED,
                "detail": f"{why}not found on the case when read back, so it was not sent",
            }
        )

    def settle_pending(self) -> list[OutboxEntry]:
        """Settle every pending entry of the account from its case as the site shows it."""
        done = []
        for entry in self.store.outbox():
            if entry.state is not OutboxState.PENDING:
                continue
            page, reader = self.page(entry.marketplace)
            page.open(entry.case_id)
            detail = reader.details([entry.case_id])[entry.case_id]
            settled = self.settle(entry, detail, None)
            self.store.put_outbox(settled)
            self.store.commit()
            done.append(settled)
        return done

    # -- one action -----------------------------------------------------------------------------

    def act(
        self,
        plan: Plan,
        *,
        force: bool,
        origin: Origin,
        basis: Look | None = None,
    ) -> OutboxEntry | None:
        """Check, record, send and read back one action; None for a Cc change with nothing
        to change."""
        case_id, market = plan.case_id, plan.case.marketplace
        page, fresh = self.read(market, case_id)
        now = self.clock()
        before = Look.of(fresh.status, fresh.messages, fresh.cc, now)
        cc = plan.cc
        if plan.kind is ActionKind.CC:
            cc = _cc_after(fresh.cc, plan.cc_op, plan.address)
            if cc == fresh.cc:
                return None
        entry = plan.entry(
            now,
            origin,
            OutboxState.PENDING,
            cc=cc,
            before=before,
            baseline=tuple(m.message_id for m in fresh.messages),
        )
        # what the draft was made from, with what this account sent since (a pending entry
        # of an earlier run, settled a moment ago, is the agent's own doing)
        outbox = self.store.outbox()
        basis = with_own_sends(basis or plan.basis, [e for e in outbox if e.case_id == case_id])
        # the window as the to-do counts it, from the case as just read
        until = reopen_until(
            plan.case.model_copy(update={"status": fresh.status}),
            fresh.messages,
            self.store.events(case_id=case_id),
            self.settings.rules.reopen_window_days,
        )
        verdict = check(
            Attempt(plan.kind, self.account.name, case_id, plan.body),
            basis=basis,
            status=fresh.status,
            messages=fresh.messages,
            cc=fresh.cc,
            outbox=outbox,
            settings=self.settings.contact,
            reopen_until=until,
            calendar=_calendar(self.account),
            now=now,
            force=force,
        )
        if verdict.refusal is not None:
            _record_refusal(self.store, entry, verdict.refusal)
        entry = entry.model_copy(update={"forced": verdict.forced})
        unavailable = page.available(plan.kind)
        if unavailable is not None:
            raise SendFailed(
                f"the page of case {case_id} offers no {plan.kind.value} ({unavailable}); "
                "nothing was sent"
            )
        page.token(plan.kind)
        _check_limits(replace(plan, cc=cc), page.limits(plan.kind))
        self.store.put_outbox(entry)
        self.store.commit()  # on disk before the click: a kill from here on is settled later
        if plan.kind is ActionKind.REPLY:
            answer = page.reply(plan.body, list(plan.files))
        elif plan.kind is ActionKind.REOPEN:
            answer = page.reopen()
        else:
            answer = page.set_cc(list(cc or ()))
        settled = self.settle(entry, self.read_back(market, case_id), answer)
        self.store.put_outbox(settled)
        self.store.commit()
        return settled


def _record_refusal(store: Store, entry: OutboxEntry, refusal: Refusal) -> NoReturn:
    """Keep ``entry`` in the outbox as refused by one of our rules (nothing was sent), and
    say why."""
    refused = entry.model_copy(
        update={
            "state": OutboxState.REFUSED,
            "rule": refusal.rule,
            "detail": refusal.sentence,
            "settled_at": entry.created_at,
        }
    )
    store.put_outbox(refused)
    store.commit()
    raise ContactRefused(refusal.rule.value, refusal.sentence)


@contextmanager
def _acting(
    home: Home,
    settings: Settings,
    account: Account,
    session: BrowserSession | None,
    clock: Clock,
    credentials: CredentialSource,
) -> Iterator[_Acting]:
    own = session is None
    browser = session or BrowserSession()
    try:
        with open_store(home, account.name) as store:
            ctx = browser.context(account, home.state_path(account.name), credentials)
            try:
                yield _Acting(home, settings, account, store, ctx, clock)
            finally:
                ctx.close()
    finally:
        if own:
            browser.close()


def send(
    home: Home,
    settings: Settings,
    plan: Plan,
    *,
    force: bool = False,
    origin: Origin = Origin.COMMAND,
    session: BrowserSession | None = None,
    clock: Clock = utcnow,
    credentials: CredentialSource = resolve,
) -> SendReport:
    """Send ``plan`` as the module docstring says; raise :class:`ContactRefused` when a rule
    refuses, :class:`SendFailed` when the site refuses or nothing is found afterwards."""
    report = SendReport()
    _refuse_early(home, settings, plan, force=force, origin=origin, now=clock())
    with _acting(home, settings, plan.account, session, clock, credentials) as acting:
        report.settled = acting.settle_pending()
        entry = acting.act(plan, force=force, origin=origin)
        if entry is None:
            report.unchanged = True
            return report
        report.entries.append(entry)
        _raise_unless_sent(entry)
        if plan.then_reply is not None:
            then = acting.act(plan.then_reply, force=force, origin=origin, basis=entry.after)
            assert then is not None
            report.entries.append(then)
            _raise_unless_sent(then)
    return report


def _refuse_early(
    home: Home, settings: Settings, plan: Plan, *, force: bool, origin: Origin, now: datetime
) -> None:
    """A rule that refuses on what the store and the outbox already say refuses without a
    browser: a fresh read could only add "changed" to it. Not while an entry is pending
    (it is settled first, and may change the verdict)."""
    with open_store(home, plan.account.name) as store:
        if any(e.state is OutboxState.PENDING for e in store.outbox()):
            return
        verdict = precheck(home, settings, plan, now, force, store=store)
        if verdict.refusal is None:
            return
        cc = plan.cc if plan.kind is ActionKind.CC else None
        _record_refusal(store, plan.entry(now, origin, OutboxState.PENDING, cc), verdict.refusal)


def _raise_unless_sent(entry: OutboxEntry) -> None:
    if entry.state is OutboxState.SENT:
        return
    what = {ActionKind.REPLY: "the message", ActionKind.REOPEN: "the reopen"}.get(
        entry.kind, "the Cc change"
    )
    if entry.state is OutboxState.REFUSED:
        raise SendFailed(f"case {entry.case_id} refused {what}: {entry.detail}; nothing was sent")
    raise SendFailed(
        f"{what} to case {entry.case_id} is not on the case ({entry.detail}); check the case "
        "with `caselog sync` and send again only if it is still needed"
    )


def settle_pending(
    home: Home,
    settings: Settings,
    account: str | None = None,
    *,
    session: BrowserSession | None = None,
    clock: Clock = utcnow,
) -> list[OutboxEntry]:
    """Settle the pending entries of each account that has any (``caselog outbox --settle``)."""
    done: list[OutboxEntry] = []
    for acc in settings.selected(account):
        if not home.has_store(acc.name):
            continue
        with open_store(home, acc.name, readonly=True) as store:
            if not any(e.state is OutboxState.PENDING for e in store.outbox()):
                continue
        with _acting(home, settings, acc, session, clock, resolve) as acting:
            done += acting.settle_pending()
    return done


def outbox_entries(
    home: Home, settings: Settings, account: str | None = None, state: str | None = None
) -> list[OutboxEntry]:
    """Every outbox entry of the accounts with data, newest first (of one ``state``)."""
    if state is not None and state not in {s.value for s in OutboxState}:
        raise ConfigError(
            f"--state must be one of {', '.join(s.value for s in OutboxState)}, not {state!r}"
        )
    found = [
        e
        for _, store in each_store(home, settings, account)
        for e in store.outbox()
        if state is None or e.state.value == state
    ]
    return sorted(found, key=lambda e: (e.created_at, e.entry_id), reverse=True)


# -- the autopilot ----------------------------------------------------------------------------

DRAFT_FOR = {FlagKind.FOLLOW_UP: "follow-up", FlagKind.ESCALATE: "escalation"}


@dataclass
class AutopilotReport:
    """What one round's autopilot sent, and what it held back and why: a contact rule
    (``quiet_period``, ``duplicate``...), ``daily_cap``, ``not_sendable`` (the draft needs
    the seller, or breaks a limit) or ``failed`` (the site did not take it)."""

    sent: list[OutboxEntry] = field(default_factory=list)
    plans: dict[str, Plan] = field(default_factory=dict)  # by entry id
    held: dict[str, str] = field(default_factory=dict)  # case id -> why

    def held_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for why in self.held.values():
            counts[why] = counts.get(why, 0) + 1
        return dict(sorted(counts.items()))


def autopilot(
    home: Home,
    settings: Settings,
    account: Account,
    due: list[TodoItem],
    session: BrowserSession,
    clock: Clock = utcnow,
    credentials: CredentialSource = resolve,
) -> AutopilotReport:
    """Send what ``[contact] auto_send`` lists for the due items, under the contact rules
    and the daily cap (``[contact] auto_send_daily_cap`` messages a day, the account's day,
    of the autopilot's own; the account's ``daily_budget`` holds too); one message per case
    per round, most overdue first."""
    report = AutopilotReport()
    kinds = {FlagKind(k) for k in settings.contact.auto_send}
    chosen: dict[str, TodoItem] = {}
    for item in sorted(due, key=lambda i: i.due_at):
        if item.kind in kinds and item.case_id not in chosen:
            chosen[item.case_id] = item
    zone = _calendar(account).zone
    for case_id, item in chosen.items():
        now = clock()
        try:
            plan = plan_reply(
                home,
                settings,
                case_id,
                account=account.name,
                draft_kind=DRAFT_FOR[FlagKind(item.kind)],
                now=now,
            )
            with open_store(home, account.name, readonly=True) as store:
                verdict = precheck(home, settings, plan, now, force=False, store=store)
                sent_today = contacts_today(store.outbox(), now, zone, Origin.AUTOPILOT)
            if verdict.refusal is not None:
                report.held[case_id] = verdict.refusal.rule.value
                continue
            if sent_today >= settings.contact.auto_send_daily_cap:
                report.held[case_id] = "daily_cap"
                continue
            result = send(
                home,
                settings,
                plan,
                origin=Origin.AUTOPILOT,
                session=session,
                clock=clock,
                credentials=credentials,
            )
        except ContactRefused as exc:
            report.held[case_id] = exc.rule
            continue
        except (ConfigError, OverLimit):
            report.held[case_id] = "not_sendable"
            continue
        except SendFailed:
            report.held[case_id] = "failed"
            continue
        for entry in result.entries:
            report.sent.append(entry)
            report.plans[entry.entry_id] = plan
    return report
