"""The seller's own archive: its data model, the versioned JSON form, filters, and the writer.

An :class:`Archive` holds, per account, every case, message, event and flag the store has.

- :func:`to_json_bytes` / :func:`from_json_bytes` are the JSON form (``archive.json``): keys
  sorted, lists in a fixed order, so the same archive always gives the same bytes. An export,
  an import into an empty home and a second export give byte-identical files **as long as the
  caller passes the same** ``generated_at``: it is part of the data, never the wall clock. The
  store passes the time of its newest snapshot ("the data as of"), which only moves when a sync
  saw something.
- :func:`filter_archive` narrows an archive to cases touched since a date and/or in some statuses.

Rendering the formats and writing them is :mod:`agent.export.render`; this module knows
nothing of any format but its own JSON.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from agent.config import AccountName
from agent.core.models import Case, CaseStatus, Event, Flag, Message, UtcDatetime
from agent.core.times import iso_utc
from agent.errors import ArchiveError, first_problem

__all__ = [
    "JSON_FILE",
    "SCHEMA_FILE",
    "SCHEMA_VERSION",
    "AccountArchive",
    "Archive",
    "data_as_of",
    "filter_archive",
    "from_json_bytes",
    "json_schema_bytes",
    "to_json_bytes",
]

SCHEMA_VERSION = 1
"""The version of ``archive.json`` this code writes and the newest it reads."""

JSON_FILE = "archive.json"
SCHEMA_FILE = "archive.schema.json"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AccountArchive(_Strict):
    """Everything kept for one seller account; ``timezone`` is an IANA name used for display."""

    account: AccountName
    timezone: str
    cases: list[Case]
    messages: list[Message]
    events: list[Event]
    flags: list[Flag]

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _consistent(self) -> AccountArchive:
        seen: set[str] = set()
        for case in self.cases:
            if case.account != self.account:
                raise ValueError(
                    f"case {case.case_id} belongs to account {case.account!r}, not {self.account!r}"
                )
            if case.case_id in seen:
                raise ValueError(f"case {case.case_id} appears twice")
            seen.add(case.case_id)
        for message in self.messages:
            if message.case_id not in seen:
                raise ValueError(
                    f"message {message.message_id} refers to case {message.case_id}, "
                    "which is not in the archive"
                )
        owners = [("event", e.event_id, e.account) for e in self.events]
        owners += [("flag", f.flag_id, f.account) for f in self.flags]
        for kind, rid, account in owners:
            if account != self.account:
                raise ValueError(
                    f"{kind} {rid} belongs to account {account!r}, not {self.account!r}"
                )
        return self


class Archive(_Strict):
    """The whole archive. ``generated_at`` is "the data as of" (an input, never the wall clock)."""

    schema_version: int = SCHEMA_VERSION
    generated_at: UtcDatetime
    accounts: list[AccountArchive]

    @model_validator(mode="after")
    def _unique(self) -> Archive:
        names: set[str] = set()
        owner: dict[str, str] = {}
        for acc in self.accounts:
            if acc.account in names:
                raise ValueError(f"account {acc.account!r} appears twice")
            names.add(acc.account)
            for case in acc.cases:
                if case.case_id in owner:
                    raise ValueError(
                        f"case {case.case_id} appears in accounts {owner[case.case_id]!r} "
                        f"and {acc.account!r}"
                    )
                owner[case.case_id] = acc.account
        return self


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def data_as_of(accounts: Iterable[AccountArchive]) -> datetime:
    """A ``generated_at`` that depends on the data alone: the newest moment it records.

    The latest of every case's ``last_seen_at``/``last_updated_at``, message's ``sent_at``,
    event's ``detected_at`` (1970-01-01 for an empty archive). After a sync this is the time
    of the newest snapshot that saw anything; after ``caselog import`` it is the same as in
    the imported file, so export -> import -> export stays byte-identical without storing
    anything extra. (A store that keeps its newest snapshot time may pass that instead, as
    long as an import restores it.)
    """
    newest = EPOCH
    for acc in accounts:
        for c in acc.cases:
            newest = max(newest, c.last_seen_at, c.last_updated_at or EPOCH)
        for m in acc.messages:
            newest = max(newest, m.sent_at)
        for e in acc.events:
            newest = max(newest, e.detected_at)
    return newest


# --------------------------------------------------------------------------- JSON


_CASES = TypeAdapter(list[Case])
_MESSAGES = TypeAdapter(list[Message])
_EVENTS = TypeAdapter(list[Event])
_FLAGS = TypeAdapter(list[Flag])


def _ordered(acc: AccountArchive) -> dict[str, Any]:
    """One account as plain JSON data, every list in its documented order."""
    return {
        "account": acc.account,
        "timezone": acc.timezone,
        "cases": _CASES.dump_python(sorted(acc.cases, key=lambda c: c.case_id), mode="json"),
        "messages": _MESSAGES.dump_python(
            sorted(acc.messages, key=lambda m: (m.case_id, *m.order)), mode="json"
        ),
        "events": _EVENTS.dump_python(
            sorted(acc.events, key=lambda e: (e.detected_at, e.event_id)), mode="json"
        ),
        "flags": _FLAGS.dump_python(sorted(acc.flags, key=lambda f: f.flag_id), mode="json"),
    }


def to_json_bytes(archive: Archive) -> bytes:
    """The archive as ``archive.json``: UTF-8, keys sorted, indented, newline-terminated.

    Order: accounts by name; cases by case_id; messages by (case_id, sent_at, message_id);
    events by (detected_at, event_id); flags by flag_id. Times are UTC ISO-8601 with ``Z``.
    """
    data = {
        "schema_version": archive.schema_version,
        "generated_at": iso_utc(archive.generated_at),
        "accounts": [_ordered(a) for a in sorted(archive.accounts, key=lambda a: a.account)],
    }
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"


def from_json_bytes(data: bytes) -> Archive:
    """Read ``archive.json``; any problem is an :class:`ArchiveError` naming it in one sentence."""
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ArchiveError(f"the archive is not valid JSON ({exc}): export it again") from exc
    if not isinstance(raw, dict):
        raise ArchiveError("the archive is not a JSON object: is this a caselog archive.json?")
    version = raw.get("schema_version")
    if version is None:
        raise ArchiveError("the archive has no schema_version: is this a caselog archive.json?")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ArchiveError(f"the archive's schema_version {version!r} is not a positive integer")
    if version > SCHEMA_VERSION:
        raise ArchiveError(
            f"the archive has schema_version {version}, newer than this caselog reads "
            f"({SCHEMA_VERSION}): upgrade caselog-agent"
        )
    try:
        return Archive.model_validate(raw)
    except ValidationError as exc:
        raise ArchiveError(f"the archive is not valid: {_first_error(exc)}") from exc


def _first_error(exc: ValidationError) -> str:
    where, msg, _ = first_problem(exc)
    extra = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
    return f"{where}: {msg}{extra}" if where else f"{msg}{extra}"


def json_schema_bytes() -> bytes:
    """A JSON Schema (draft 2020-12) describing ``archive.json``, as deterministic bytes."""
    schema = Archive.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"caselog-agent archive, schema_version {SCHEMA_VERSION}"
    schema["description"] = (
        "A seller's own archive of Amazon Seller Central cases: per account, every case, "
        "message, detected event and flag. Times are UTC ISO-8601."
    )
    return orjson.dumps(schema, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"


# --------------------------------------------------------------------------- filter


def _touched_since(
    case: Case, msgs: Iterable[Message], evts: Iterable[Event], since: datetime
) -> bool:
    times = [case.created_at, case.last_updated_at, case.last_amazon_reply_at]
    if any(t is not None and t >= since for t in times):
        return True
    return any(m.sent_at >= since for m in msgs) or any(e.detected_at >= since for e in evts)


def filter_archive(
    archive: Archive,
    *,
    since: datetime | None,
    statuses: set[CaseStatus] | None,
) -> Archive:
    """Keep the cases that match both filters, with their whole thread, events and flags.

    ``since`` (timezone-aware) keeps a case when anything happened to it at or after that
    moment: created, updated, a reply from Amazon, a message, or a detected event.
    ``statuses`` keeps cases whose canonical status is in the set. ``None`` means no filter.
    Accounts are kept even when none of their cases match; ``generated_at`` is unchanged.
    """
    if since is not None and since.tzinfo is None:
        raise ArchiveError("the --since date must carry a timezone")
    out: list[AccountArchive] = []
    for acc in archive.accounts:
        msgs_by: dict[str, list[Message]] = {}
        for m in acc.messages:
            msgs_by.setdefault(m.case_id, []).append(m)
        evts_by: dict[str, list[Event]] = {}
        for e in acc.events:
            evts_by.setdefault(e.case_id, []).append(e)
        keep = {
            c.case_id
            for c in acc.cases
            if (statuses is None or c.status in statuses)
            and (
                since is None
                or _touched_since(c, msgs_by.get(c.case_id, ()), evts_by.get(c.case_id, ()), since)
            )
        }
        out.append(
            acc.model_copy(
                update={
                    "cases": [c for c in acc.cases if c.case_id in keep],
                    "messages": [m for m in acc.messages if m.case_id in keep],
                    "events": [e for e in acc.events if e.case_id in keep],
                    "flags": [f for f in acc.flags if f.case_id in keep],
                }
            )
        )
    return archive.model_copy(update={"accounts": out})
