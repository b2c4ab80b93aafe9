"""Export benchmark: ``python -m tests.perf.export_bench --cases 10000 --messages 6``.

Builds a deterministic synthetic archive (no network, no mock site), exports it to every
format in a fresh folder, changes a few cases, exports again into the same folder, and prints
one JSON line: seconds (wall and CPU) for the first export, for an unchanged re-export and
for a re-export with a few changed cases, files written each time, the export's size, peak
RSS of this process and of the worker processes, and the load average (the machine may be
shared: CPU seconds say what the export itself cost).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from agent.core.models import (
    Case,
    CaseStatus,
    Direction,
    Event,
    EventKind,
    Flag,
    FlagKind,
    Message,
    Severity,
)
from agent.export.archive import (
    AccountArchive,
    Archive,
    from_json_bytes,
    to_json_bytes,
)
from agent.export.render import write_archive

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
STATUS_WEIGHTS = {
    CaseStatus.RESOLVED: 40,
    CaseStatus.CLOSED: 15,
    CaseStatus.ANSWERED: 10,
    CaseStatus.PENDING_AMAZON_ACTION: 12,
    CaseStatus.NEEDS_YOUR_ATTENTION: 6,
    CaseStatus.WORK_IN_PROGRESS: 8,
    CaseStatus.OPEN: 4,
    CaseStatus.TRANSFERRED: 2,
    CaseStatus.REOPENED: 2,
    CaseStatus.UNKNOWN: 1,
}
LABELS = {s: s.value.replace("_", " ").title() for s in CaseStatus}
SUBJECTS = (
    "Account health: policy warning on ASIN {asin}",
    "Disbursement delayed for settlement {n}",
    "Listing suppressed: {asin} missing images",
    "FBA inbound shipment FBA{n} received short",
    "Stranded inventory for {asin}",
    "Intellectual property complaint about {asin}",
    "Refund not credited for order {order}",
    "Question about fees on order {order}",
    "Brand registry request for {asin}",
    "General question {n}",
)
_VOCABULARY = (
    "order shipment refund listing account please review thank you the we have your "
    "inventory warehouse carrier tracking invoice attached screenshot policy product detail "
    "page update team seller support investigation resolved pending information provide "
    "within hours business days reimbursement units received damaged lost customer return "
    "brand approval category ungating document verification appeal performance metrics"
)
WORDS = _VOCABULARY.split()


def _words(rnd: random.Random, n: int) -> str:
    return " ".join(rnd.choice(WORDS) for _ in range(n))


def synthetic_case(
    rnd: random.Random, account: str, case_id: str, n_messages: int, version: int = 0
) -> tuple[Case, list[Message], list[Event], list[Flag]]:
    created = T0 + timedelta(minutes=rnd.randrange(0, 60 * 24 * 600))
    status = rnd.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
    asin = f"B0{rnd.randrange(10**8):08d}"
    subject = rnd.choice(SUBJECTS).format(
        asin=asin, n=rnd.randrange(10**6), order=f"112-{rnd.randrange(10**7):07d}-0000000"
    )
    messages = []
    t = created
    for i in range(n_messages):
        direction = Direction.FROM_SELLER if i % 2 == 0 else Direction.FROM_AMAZON
        t += timedelta(minutes=rnd.randrange(30, 60 * 24 * 4))
        body = f"Hello,\n\n{_words(rnd, rnd.randrange(30, 90))}.\n\n{_words(rnd, 12)}"
        sender = "You" if direction is Direction.FROM_SELLER else "Amazon Seller Support"
        messages.append(
            Message(
                message_id=f"m{case_id}-{i}",
                case_id=case_id,
                direction=direction,
                sender=sender,
                sender_email="seller@example.com" if direction is Direction.FROM_SELLER else "",
                sent_at=t,
                body=body,
                attachments=(f"evidence-{i}.pdf",) if i == 0 else (),
            )
        )
    if version:  # a changed case: a new status and one more message from Amazon
        status = CaseStatus.NEEDS_YOUR_ATTENTION
        t += timedelta(hours=5)
        messages.append(
            Message(
                message_id=f"m{case_id}-v{version}",
                case_id=case_id,
                direction=Direction.FROM_AMAZON,
                sender="Amazon Seller Support",
                sent_at=t,
                body=f"We need more information (update {version}).",
            )
        )
    from_amazon = [m.sent_at for m in messages if m.direction is Direction.FROM_AMAZON]
    last_amazon = max(from_amazon, default=None)
    case = Case(
        case_id=case_id,
        account=account,
        marketplace="US",
        subject=subject,
        status=status,
        status_raw=LABELS[status],
        created_at=created,
        last_updated_at=t,
        last_amazon_reply_at=last_amazon,
        primary_email="seller@example.com",
        cc=("ops@example.com",) if rnd.random() < 0.2 else (),
        message_count=len(messages),
        first_seen_at=created,
        last_seen_at=t,
    )
    events = [
        Event(
            event_id=f"e{case_id}-0",
            account=account,
            case_id=case_id,
            kind=EventKind.CASE_NEW,
            after=subject,
            detected_at=created + timedelta(minutes=5),
            snapshot_id="s0",
        ),
        Event(
            event_id=f"e{case_id}-1",
            account=account,
            case_id=case_id,
            kind=EventKind.STATUS_CHANGED,
            before=CaseStatus.PENDING_AMAZON_ACTION.value,
            after=status.value,
            detected_at=t,
            snapshot_id="s1",
        ),
    ]
    flags = []
    if status is CaseStatus.NEEDS_YOUR_ATTENTION:
        flags.append(
            Flag(
                flag_id=f"f{case_id}",
                account=account,
                case_id=case_id,
                kind=FlagKind.REPLY_DUE,
                severity=Severity.URGENT,
                due_at=t + timedelta(days=1),
                reason="Amazon asked you a question; reply before the case auto-closes.",
            )
        )
    return case, messages, events, flags


def synthetic_archive(
    n_cases: int, n_messages: int, seed: int = 7, changed: frozenset[int] = frozenset()
) -> Archive:
    """``n_cases`` cases of ``n_messages`` messages in one account; ``changed`` indexes differ."""
    account = "bench-seller"
    cases, messages, events, flags = [], [], [], []
    for i in range(n_cases):
        rnd = random.Random(seed * 1_000_003 + i)
        c, m, e, f = synthetic_case(
            rnd, account, f"{10_000_000_000 + i}", n_messages, version=int(i in changed)
        )
        cases.append(c)
        messages += m
        events += e
        flags += f
    generated = max(c.last_seen_at for c in cases) if cases else T0
    return Archive(
        generated_at=generated,
        accounts=[
            AccountArchive(
                account=account,
                timezone="America/Los_Angeles",
                cases=cases,
                messages=messages,
                events=events,
                flags=flags,
            )
        ],
    )


def _cpu() -> float:
    """CPU seconds (user + system) of this process and its finished worker processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=6)
    parser.add_argument("--changed", type=int, default=10, help="cases changed before re-export")
    parser.add_argument("--formats", default="json,csv,md,html")
    parser.add_argument("--out", type=Path, default=None, help="keep the export here")
    parser.add_argument("--workers", type=int, default=None, help="default: one per core")
    args = parser.parse_args(argv)
    formats = set(args.formats.split(","))

    t = time.perf_counter()
    archive = synthetic_archive(args.cases, args.messages)
    changed = frozenset(range(0, args.cases, max(1, args.cases // max(args.changed, 1))))
    changed = frozenset(sorted(changed)[: args.changed])
    archive2 = synthetic_archive(args.cases, args.messages, changed=changed)
    build_s = time.perf_counter() - t
    now = archive.generated_at + timedelta(days=1)

    with tempfile.TemporaryDirectory(prefix="caselog-bench-") as tmp:
        out = args.out or Path(tmp) / "export"
        cpu0 = _cpu()
        first = write_archive(archive, out, formats, now=now, workers=args.workers)
        cpu1 = _cpu()
        again = write_archive(archive, out, formats, now=now, workers=args.workers)
        cpu2 = _cpu()
        second = write_archive(archive2, out, formats, now=now, workers=args.workers)
        cpu3 = _cpu()
        data = to_json_bytes(archive2)
        t = time.perf_counter()
        from_json_bytes(data)
        import_s = time.perf_counter() - t
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())

    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = {
        "cases": args.cases,
        "messages_per_case": args.messages,
        "formats": sorted(formats),
        "first_export_s": first.seconds,
        "first_export_cpu_s": round(cpu1 - cpu0, 2),
        "files_first": len(first.written),
        "unchanged_reexport_s": again.seconds,
        "files_rewritten_unchanged": len(again.written),
        "reexport_s": second.seconds,
        "reexport_cpu_s": round(cpu3 - cpu2, 2),
        "changed_cases": len(changed),
        "files_rewritten": len(second.written),
        "rewritten": second.written if len(second.written) <= 40 else second.written[:40],
        "json_import_s": round(import_s, 3),
        "export_mb": round(size / 1e6, 1),
        "build_s": round(build_s, 3),
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "workers_peak_rss_mb": round(child_kb / 1024, 1),
        "load_avg_1m": os.getloadavg()[0],
        "cpus": os.cpu_count(),
    }
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
