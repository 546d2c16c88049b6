"""A recorded random workload: every key operation of the cache API, by N workers.

A :class:`Call` is one cache method call with the per-key operations it
stands for; :class:`Workload` draws calls for one worker; :class:`Recorder`
turns each call's outcome into history operations and keeps the figures the
report needs. What a worker does is a *script*, a generator of calls that
receives their replies; :class:`Driver` runs scripts against a blocking
``Client``'s cache (threads) or an ``AioClient``'s (tasks), so the two shells
share everything but the call itself. With hedging on, the workers' reads
(``get``, ``contains_key``, ``get_all``) go through the cache's
``with_hedging()`` view and are recorded as hedged.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Generator, Hashable
from dataclasses import dataclass, field
from typing import Any

from ignite_router.chaos.history import Kind, Operation, Outcome
from ignite_router.errors import (
    NoNodeAvailableError,
    OutcomeUnknownError,
    ServerError,
    TransactionLostError,
)

__all__ = [
    "DOCUMENTED_ERRORS",
    "Call",
    "Driver",
    "Recorder",
    "Reply",
    "Script",
    "Workload",
    "outcome_of",
    "worker",
]

# The errors a key operation may raise (docs/guide.md, failover section); anything else is a bug.
DOCUMENTED_ERRORS = (OutcomeUnknownError, NoNodeAvailableError, ServerError, TransactionLostError)
MULTI_KEYS = (2, 4)  # keys per get_all / put_all / remove_keys call: min, max
ERROR_PAUSE = (0.01, 0.05)  # seconds a worker waits after an error: min, max


def outcome_of(error: BaseException) -> Outcome:
    """FAIL when the client says nothing was applied, INFO (indeterminate) otherwise."""
    if isinstance(error, NoNodeAvailableError) and not error.maybe_applied:
        return Outcome.FAIL
    if isinstance(error, ServerError) and error.refused:
        return Outcome.FAIL
    return Outcome.INFO


@dataclass(frozen=True)
class Call:
    """A cache method, its arguments, and ``(key, kind, args)`` for each key it touches;
    ``hedged``: made on the hedged cache (a read)."""

    method: str
    args: tuple[Any, ...]
    effects: tuple[tuple[Hashable, Kind, tuple[Any, ...]], ...]
    hedged: bool = False

    def result_for(self, key: Hashable, result: Any) -> Any:
        """One key's share of the call's result."""
        if self.method == "get_all":
            return result.get(key)
        if self.method in ("put_all", "remove_keys"):
            return None
        return result

    def operations(
        self, process: int, invoked: float, completed: float, outcome: Outcome, result: Any
    ) -> list[Operation]:
        finished = None if outcome is Outcome.INFO else completed
        return [
            Operation(
                process,
                key,
                kind,
                args,
                invoked,
                finished,
                outcome,
                self.result_for(key, result) if outcome is Outcome.OK else None,
                self.hedged,
            )
            for key, kind, args in self.effects
        ]


class Workload:
    """Random calls for one worker over keys ``0 .. keys-1``; every written value is unique.

    Values are ``"<process>:<n>"`` strings, so a read names the write it saw.
    ``replace_if_equals`` expects the value this worker last saw for the key.
    With ``hedge``, ``get``, ``contains_key`` and ``get_all`` calls are hedged.
    """

    # Cache method -> weight in the mix.
    MIX: dict[str, int] = {
        "get": 20,
        "put": 12,
        "get_all": 6,
        "put_all": 5,
        "contains_key": 6,
        "remove_key": 4,
        "remove_keys": 3,
        "replace_if_equals": 8,
        "put_if_absent": 5,
        "get_and_put_if_absent": 5,
        "get_and_put": 8,
        "replace": 4,
        "get_and_remove": 3,
    }

    def __init__(self, process: int, keys: int, rng: random.Random, hedge: bool = False) -> None:
        self.process = process
        self.keys = keys
        self.rng = rng
        self.hedge = hedge
        self.written = 0
        self.seen: dict[Hashable, Any] = {}
        self._methods = list(self.MIX)
        self._weights = list(self.MIX.values())

    def _value(self) -> str:
        self.written += 1
        return f"{self.process}:{self.written}"

    def _keys(self) -> list[int]:
        return self.rng.sample(range(self.keys), min(self.keys, self.rng.randint(*MULTI_KEYS)))

    def next_call(self) -> Call:
        method = self.rng.choices(self._methods, self._weights)[0]
        if method == "get_all":
            keys = self._keys()
            return Call(method, (keys,), tuple((k, Kind.READ, ()) for k in keys), self.hedge)
        if method == "put_all":
            pairs = {k: self._value() for k in self._keys()}
            return Call(method, (pairs,), tuple((k, Kind.WRITE, (v,)) for k, v in pairs.items()))
        if method == "remove_keys":
            keys = self._keys()
            return Call(method, (keys,), tuple((k, Kind.DELETE, ()) for k in keys))
        key = self.rng.randrange(self.keys)
        if method == "replace_if_equals":
            expected, new = self.seen.get(key, f"{self.process}:0"), self._value()
            return Call(method, (key, expected, new), ((key, Kind.CAS, (expected, new)),))
        kind = SINGLE_KEY[method]
        no_value = kind in (Kind.READ, Kind.CONTAINS, Kind.REMOVE, Kind.GET_AND_REMOVE)
        args = () if no_value else (self._value(),)
        return Call(method, (key, *args), ((key, kind, args),), self.hedge and kind.is_read)

    def observe(self, call: Call, result: Any) -> None:
        """Remember the values a successful call showed (for later compare-and-set)."""
        for key, kind, _ in call.effects:
            if kind in (Kind.READ, Kind.SWAP, Kind.GET_AND_PUT_IF_ABSENT, Kind.GET_AND_REMOVE):
                value = call.result_for(key, result)
                if value is not None:
                    self.seen[key] = value


SINGLE_KEY = {
    "get": Kind.READ,
    "put": Kind.WRITE,
    "contains_key": Kind.CONTAINS,
    "remove_key": Kind.REMOVE,
    "put_if_absent": Kind.PUT_IF_ABSENT,
    "get_and_put_if_absent": Kind.GET_AND_PUT_IF_ABSENT,
    "get_and_put": Kind.SWAP,
    "replace": Kind.REPLACE,
    "get_and_remove": Kind.GET_AND_REMOVE,
}


@dataclass(frozen=True)
class Reply:
    """What a call gave back: its result, or the error it raised."""

    result: Any = None
    error: BaseException | None = None


@dataclass
class Recorder:
    """The history and the figures of every call (thread-safe)."""

    bound: Callable[[], float]  # the client's upper bound on one call now, seconds
    operations: list[Operation] = field(default_factory=list)
    largest_bound: float = 0.0
    calls: int = 0
    slowest: float = 0.0
    over_bound: list[str] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    undocumented: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, call: Call, process: int, invoked: float, completed: float, reply: Reply) -> None:
        error = reply.error
        outcome = Outcome.OK if error is None else outcome_of(error)
        operations = call.operations(process, invoked, completed, outcome, reply.result)
        took = completed - invoked
        bound = self.bound()  # it grows with the nodes the client knows
        with self._lock:
            self.operations.extend(operations)
            self.calls += 1
            self.slowest = max(self.slowest, took)
            self.largest_bound = max(self.largest_bound, bound)
            if took > bound:
                self.over_bound.append(f"{call.method} took {took:.3f} s > {bound:.3f} s")
            if error is not None:
                self.errors[type(error).__name__] += 1
                if not isinstance(error, DOCUMENTED_ERRORS):
                    self.undocumented.append(f"{call.method}: {type(error).__name__}: {error}")


# A script yields calls to make (or seconds to pause) and receives each call's reply.
Script = Generator[Call | float, Reply | None, Any]


def worker(workload: Workload, deadline: float, clock: Callable[[], float]) -> Script:
    """Random calls until ``deadline``; after an error a short pause, as an application
    would take before trying again (a refusal comes at once, and a loop of them says
    nothing new)."""
    while clock() < deadline:
        call = workload.next_call()
        reply = yield call
        assert reply is not None
        if reply.error is None:
            workload.observe(call, reply.result)
        else:
            yield workload.rng.uniform(*ERROR_PAUSE)


@dataclass
class Driver:
    """Runs scripts against a cache, recording every call: blocking or asyncio.

    Hedged calls go to ``hedged_cache`` (the cache's ``with_hedging()`` view).
    """

    cache: Any
    recorder: Recorder
    clock: Callable[[], float] = time.monotonic
    hedged_cache: Any = None

    def _method(self, call: Call) -> Any:
        if not call.hedged:
            return getattr(self.cache, call.method)
        if self.hedged_cache is None:
            raise RuntimeError(f"a hedged {call.method} call, but the driver has no hedged cache")
        return getattr(self.hedged_cache, call.method)

    def run(self, script: Script, process: int) -> Any:
        """Drive ``script`` with blocking calls; its return value."""
        try:
            item = next(script)
            while True:
                reply = None
                if isinstance(item, Call):
                    invoked = self.clock()
                    try:
                        reply = Reply(self._method(item)(*item.args))
                    except Exception as error:
                        reply = Reply(error=error)
                    self.recorder.add(item, process, invoked, self.clock(), reply)
                else:
                    time.sleep(item)
                item = script.send(reply)
        except StopIteration as done:
            return done.value

    async def run_async(self, script: Script, process: int) -> Any:
        """Drive ``script`` awaiting an asyncio cache's calls; its return value."""
        try:
            item = next(script)
            while True:
                reply = None
                if isinstance(item, Call):
                    invoked = self.clock()
                    try:
                        reply = Reply(await self._method(item)(*item.args))
                    except Exception as error:
                        reply = Reply(error=error)
                    self.recorder.add(item, process, invoked, self.clock(), reply)
                else:
                    await asyncio.sleep(item)
                item = script.send(reply)
        except StopIteration as done:
            return done.value

    def run_threads(self, workloads: list[Workload], deadline: float) -> None:
        """One thread per workload until ``deadline``."""
        threads = [
            threading.Thread(
                target=self.run,
                args=(worker(w, deadline, self.clock), w.process),
                name=f"chaos-worker-{w.process}",
            )
            for w in workloads
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    async def run_tasks(self, workloads: list[Workload], deadline: float) -> None:
        """One task per workload until ``deadline``."""
        await asyncio.gather(
            *(self.run_async(worker(w, deadline, self.clock), w.process) for w in workloads)
        )
