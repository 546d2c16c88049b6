"""Retry and reconnection policies: small objects a user can replace.

A :class:`RetryPolicy` decides whether an operation whose attempt failed is
sent again to the next node of its plan, from the operation's
:class:`~ignite_router.protocol.opcodes.RetrySafety` and the attempt's
:class:`~ignite_router.errors.FailureClass`; a reconnection schedule is an
iterator of delays (seconds) between attempts to reopen a node's connection.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ignite_router.errors import FailureClass
from ignite_router.protocol.opcodes import RetrySafety

__all__ = [
    "DefaultRetryPolicy",
    "ExponentialReconnect",
    "FailedAttempt",
    "RetryAllPolicy",
    "RetryNonePolicy",
    "RetryPolicy",
]


@dataclass(frozen=True, slots=True)
class FailedAttempt:
    """One failed attempt of an operation, as a retry policy sees it.

    ``safety`` comes from the operation's code
    (:func:`~ignite_router.protocol.opcodes.retry_safety`), ``failure`` from
    what the client knows of the attempt's fate, ``number`` counts attempts
    from 1 (the one that failed).
    """

    operation: str
    op_code: int
    safety: RetrySafety
    failure: FailureClass
    error: BaseException
    number: int


class RetryPolicy:
    """Whether to send an operation to the next node of its plan after a failed attempt.

    Server errors reach a policy only when they say the request was not
    applied (``FailureClass.REFUSED``); other server errors are raised. The
    number of attempts is bounded by the client too (the plan's nodes, once each).
    """

    def should_retry(self, attempt: FailedAttempt) -> bool:
        raise NotImplementedError


_ALWAYS_SAFE = frozenset({FailureClass.NOT_DELIVERED, FailureClass.REFUSED})
_HARMLESS = frozenset({RetrySafety.READ, RetrySafety.IDEMPOTENT})


@dataclass(frozen=True)
class DefaultRetryPolicy(RetryPolicy):
    """Retry what cannot change the outcome; never re-send a write that may still land.

    - Reads, and idempotent requests (get-or-create a cache, register a
      binary type), are retried after any failure.
    - Any operation is retried when its attempt was not delivered or was refused.
    - A write whose attempt reached a node and got no answer is never sent
      again: after a timeout the node may be slow or paused and apply it after
      the retry; after the node died or closed the connection it may already
      have applied it (and replicated it to the backups), so a retry could
      apply it a second time, after another client's newer write. Such a write
      raises :class:`~ignite_router.errors.OutcomeUnknownError`.

    ``max_attempts`` caps the attempts (None: one per node).
    """

    max_attempts: int | None = None

    def should_retry(self, attempt: FailedAttempt) -> bool:
        if self.max_attempts is not None and attempt.number >= self.max_attempts:
            return False
        return attempt.safety in _HARMLESS or attempt.failure in _ALWAYS_SAFE


@dataclass(frozen=True)
class RetryAllPolicy(RetryPolicy):
    """Retry every operation after every failure (the Java client's default); opt in knowingly.

    It accepts this anomaly: client A's ``put(k, 2)`` times out on a paused
    primary and is retried on another node; client B's ``put(k, 3)`` is
    acknowledged; then the primary resumes and applies A's first attempt.
    ``k`` is 2 again: B's acknowledged write is lost, and readers saw
    2 → 3 → 2. Conditional writes may also answer as if they had not been
    applied when their lost attempt was.
    """

    max_attempts: int | None = None

    def should_retry(self, attempt: FailedAttempt) -> bool:
        return self.max_attempts is None or attempt.number < self.max_attempts


class RetryNonePolicy(RetryPolicy):
    """Never retry: every failure reaches the caller."""

    def should_retry(self, attempt: FailedAttempt) -> bool:
        return False


@dataclass(frozen=True)
class ExponentialReconnect:
    """Capped exponential backoff with full jitter: ``uniform(base/2, min(cap, base*2**n))``.

    Calling the object starts a fresh schedule (an infinite iterator of delays).
    """

    initial: float = 0.05
    cap: float = 0.5
    factor: float = 2.0
    jitter: Callable[[float, float], float] = field(default=random.uniform, compare=False)

    def __post_init__(self) -> None:
        if not 0 < self.initial <= self.cap or self.factor < 1:
            raise ValueError("need 0 < initial <= cap and factor >= 1")

    def __call__(self) -> Iterator[float]:
        delay = self.initial
        while True:
            yield self.jitter(delay / 2, delay)
            delay = min(self.cap, delay * self.factor)
