"""Checking the audit log against its hash chain, and checkpoints of its head.

A checkpoint is ``COUNT:HASH``: the number of events and the hash of the last one. Kept
somewhere else (a ticket, a printed report, another system), it proves later that the
log still extends that head: the COUNT-th event must still carry HASH. The chain alone
cannot show that the newest events were cut off, or that someone rewrote the whole log
and recomputed every hash; a checkpoint kept elsewhere can.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass

from django.db.models import Count, Max

from qiyue.audit import chain
from qiyue.audit.models import AuditEvent

_CHECKPOINT = re.compile(r"^([0-9]{1,18}):([0-9a-f]{64})$")
# Hashes of this many recent events are remembered to tell a moved or inserted event
# (its link points to an earlier event) from a deleted one.
_RECENT = 10_000
_FIELDS = (
    "id",
    "at",
    "actor_id",
    "actor_name",
    "action",
    "target_type",
    "target_id",
    "data",
    "prev_hash",
    "hash",
)


class CheckpointError(ValueError):
    pass


@dataclass(frozen=True)
class Checkpoint:
    count: int
    hash: str

    def __str__(self) -> str:
        return f"{self.count}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        match = _CHECKPOINT.match(text.strip().lower())
        if not match or int(match[1]) < 1:
            raise CheckpointError(f"not a checkpoint (COUNT:HASH): {text!r}")
        return cls(int(match[1]), match[2])


@dataclass(frozen=True)
class Problem:
    event_id: int | None  # None: the log as a whole (e.g. shorter than a checkpoint)
    kind: str  # edited | deleted | inserted | reordered | truncated | rewritten
    detail: str

    def __str__(self) -> str:
        where = f"event #{self.event_id}" if self.event_id is not None else "log"
        return f"{where}: {self.kind}: {self.detail}"


@dataclass(frozen=True)
class Report:
    count: int  # events checked (all of them when the log is intact)
    head: Checkpoint | None
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _recompute(row: tuple[object, ...]) -> str | None:
    id_, at, actor_id, actor_name, action, target_type, target_id, data, prev, _h = row
    try:
        return chain.event_hash(
            str(prev),
            id=id_,
            at=at,
            actor_id=actor_id,
            actor_name=actor_name,
            action=action,
            target_type=target_type,
            target_id=target_id,
            data=data,
        )
    except (TypeError, ValueError):  # unencodable prev_hash, naive time, odd data
        return None


def _link_problem(
    event_id: int,
    prev_id: int | None,
    prev_hash: str,
    *,
    intact: bool,
    recent: OrderedDict[str, int],
) -> Problem:
    """Why an event's ``prev_hash`` is not the hash of the event before it."""
    before = f"#{prev_id}" if prev_id is not None else "the start of the log"
    if prev_hash in recent:
        linked = recent[prev_hash]
        first_extra = linked + 1 if prev_id is not None and linked < prev_id else event_id
        return Problem(
            first_extra,
            "inserted",
            f"event #{event_id} links to #{linked}, so the events from #{first_extra} "
            f"to {before} were inserted or moved there",
        )
    expected_id = (prev_id or 0) + 1
    if event_id > expected_id:
        return Problem(
            event_id,
            "deleted",
            f"events #{expected_id}–#{event_id - 1} are missing (ids jump from "
            f"{before} to #{event_id}) and its link does not match",
        )
    if intact:
        return Problem(
            event_id,
            "deleted",
            f"its link does not match the hash of {before}: an event before it was "
            "deleted or replaced",
        )
    return Problem(
        event_id,
        "reordered",
        "neither its link nor its content match: it was moved here from another "
        "position or replaced",
    )


def verify(*, checkpoint: Checkpoint | None = None) -> Report:
    """Walk the log in id order, streaming, and stop at the first bad event."""
    prev_hash, prev_id, count = chain.GENESIS, None, 0
    recent: OrderedDict[str, int] = OrderedDict()
    seen_checkpoint = checkpoint is None
    rows = AuditEvent.objects.order_by("id").values_list(*_FIELDS).iterator(chunk_size=2000)
    for row in rows:
        event_id, stored_prev, stored_hash = int(row[0]), str(row[8]), str(row[9])
        count += 1
        recomputed = _recompute(row)
        intact = recomputed is not None and recomputed == stored_hash
        if stored_prev != prev_hash:
            problem = _link_problem(event_id, prev_id, stored_prev, intact=intact, recent=recent)
            return Report(count - 1, None, problem)
        if not intact:
            return Report(
                count - 1,
                None,
                Problem(
                    event_id, "edited", "its content does not match its hash (edited or forged)"
                ),
            )
        if checkpoint is not None and count == checkpoint.count:
            if stored_hash != checkpoint.hash:
                return Report(
                    count - 1,
                    None,
                    Problem(
                        event_id,
                        "rewritten",
                        f"it is event number {count} but its hash is not the "
                        "checkpoint's: the log was rewritten up to here",
                    ),
                )
            seen_checkpoint = True
        recent[stored_hash] = event_id
        if len(recent) > _RECENT:
            recent.popitem(last=False)
        prev_hash, prev_id = stored_hash, event_id
    head = Checkpoint(count, prev_hash) if count else None
    if not seen_checkpoint:
        assert checkpoint is not None
        return Report(
            count,
            head,
            Problem(
                None,
                "truncated",
                f"it has {count} events, the checkpoint {checkpoint.count}: "
                "events at the end were deleted",
            ),
        )
    return Report(count, head, None)


def head() -> Checkpoint | None:
    """The checkpoint of the log as it is now, without verifying it. Count and last id
    come from one statement, so they agree even while others append."""
    agg = AuditEvent.objects.aggregate(n=Count("id"), last=Max("id"))
    if not agg["n"]:
        return None
    last = AuditEvent.objects.filter(pk=agg["last"]).values_list("hash", flat=True).get()
    return Checkpoint(agg["n"], last)
