"""Retry and reconnection policies: small objects a user can replace.

A :class:`RetryPolicy` decides whether an operation whose connection failed
is sent again to the next node of its plan; a reconnection schedule is an
iterator of delays (seconds) between attempts to reopen a node's connection.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

__all__ = [
    "IDEMPOTENT_OPERATIONS",
    "DefaultRetryPolicy",
    "ExponentialReconnect",
    "RetryAllPolicy",
    "RetryNonePolicy",
    "RetryPolicy",
]

# Operations whose repetition cannot change the outcome: sending them again
# after a lost connection is safe whether or not the first attempt applied.
IDEMPOTENT_OPERATIONS = frozenset(
    {
        "get",
        "get_all",
        "contains_key",
        "contains_keys",
        "put",
        "put_all",
        "remove_keys",
        "remove_all",
        "clear",
        "clear_key",
        "clear_keys",
        "get_size",
        "scan",
        "partitions",
        "cluster_nodes",
        "binary_type",
        "get_cache_names",
        "get_or_create_cache",
        "cache_config",
        "cluster_state",
        "tx_start",
    }
)


class RetryPolicy:
    """Whether to send ``operation`` to another node after ``error`` on attempt ``attempt``.

    Only connection failures reach a policy: server errors are never retried.
    ``attempt`` counts from 1 (the attempt that failed). The number of
    attempts is bounded by the client too (the nodes of the plan, once each).
    """

    def should_retry(self, operation: str, error: BaseException, attempt: int) -> bool:
        raise NotImplementedError


@dataclass(frozen=True)
class DefaultRetryPolicy(RetryPolicy):
    """Retry operations whose repetition is harmless (:data:`IDEMPOTENT_OPERATIONS`).

    ``get_and_put``, ``put_if_absent``, ``replace``, ``remove_key`` and the
    like are not retried: their answer depends on whether the lost attempt
    was applied. ``max_attempts`` caps the attempts (None: one per node).
    """

    max_attempts: int | None = None
    retried: frozenset[str] = field(default=IDEMPOTENT_OPERATIONS)

    def should_retry(self, operation: str, error: BaseException, attempt: int) -> bool:
        if self.max_attempts is not None and attempt >= self.max_attempts:
            return False
        return operation in self.retried


@dataclass(frozen=True)
class RetryAllPolicy(RetryPolicy):
    """Retry every operation (the Java client's default); opt in knowingly."""

    max_attempts: int | None = None

    def should_retry(self, operation: str, error: BaseException, attempt: int) -> bool:
        return self.max_attempts is None or attempt < self.max_attempts


class RetryNonePolicy(RetryPolicy):
    """Never retry: every connection failure reaches the caller."""

    def should_retry(self, operation: str, error: BaseException, attempt: int) -> bool:
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
