"""A hypothesis state machine: operations interleaved with node faults, checked against a dict.

With one backup and at most one fault at a time, nothing acknowledged may
be lost and no read may return a wrong value. A write fails only with
``OutcomeUnknownError``: while a node hangs (its attempt may still land, then
or later: the key may hold its value from then on), or when the node it went to
died or stopped before answering. While a node hangs, a read of a key it is
primary for may fail with ``NoNodeAvailableError`` after trying every node
(the others forward to the hung primary, as Ignite nodes do); with no hang,
reads never fail. A conditional write may fail with a
connection error whose outcome the next read settles.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from ignite_router import ConnectionLostError, NoNodeAvailableError, OutcomeUnknownError
from ignite_router.errors import FailureClass
from ignite_router.testing import LocalCluster
from tests.client_harness import connected

KEYS = st.integers(min_value=0, max_value=15)
VALUES = st.integers(min_value=0, max_value=1_000_000)
MAX_NODES = 4
FAILED = object()  # a read that got no answer from any node


class ClientAgainstModel(RuleBasedStateMachine):
    kind = "sync"

    def __init__(self) -> None:
        super().__init__()
        self.cluster = LocalCluster(nodes=3, backups=1).start()
        self._shell_context = connected(
            self.kind, self.cluster.endpoints, timeout=0.3, handshake_timeout=0.3
        )
        self.shell = self._shell_context.__enter__()
        self.cache = self.shell.do(self.shell.client.get_or_create_cache("model"))
        self.model: dict[int, set[int | None]] = {}  # key -> values it may hold
        self.late: dict[int, set[int | None]] = {}  # values of writes that may still land
        self.hung: int | None = None

    def teardown(self) -> None:
        try:
            self._shell_context.__exit__(None, None, None)
        finally:
            self.cluster.close()

    # -- helpers -----------------------------------------------------------------------------

    def read(self, call: Callable[[], Any]) -> Any:
        """A read's result, or ``FAILED`` when a hang made every node time out."""
        try:
            return self.shell.do(call())
        except NoNodeAvailableError as error:
            assert self.hung is not None, f"a read failed with no node hung: {error}"
            assert len(error.errors) >= 2, "a read is tried on more than one node"
            return FAILED

    def possible(self, key: int) -> set[int | None]:
        return self.model.get(key, {None}) | self.late.get(key, set())

    def write(self, pairs: dict[int, int | None], call: Callable[[], Any]) -> None:
        """Apply a plain write to the model: acknowledged, or of unknown outcome."""
        try:
            self.shell.do(call())
        except OutcomeUnknownError as error:
            # A hung node times the write out; a node killed or stopped while the write was
            # on its way takes the answer with it (PEER_GONE).
            assert self.hung is not None or error.failure is FailureClass.PEER_GONE, error
            for key, value in pairs.items():
                self.late.setdefault(key, set()).add(value)
            return
        for key, value in pairs.items():
            self.model[key] = {value}

    def alive(self) -> list[int]:
        return [i for i, node in enumerate(self.cluster.nodes) if node.alive]

    def dead(self) -> list[int]:
        return [i for i, node in enumerate(self.cluster.nodes) if not node.alive]

    def healthy(self) -> bool:
        return self.hung is None and not self.dead()

    # -- operations ----------------------------------------------------------------------------

    @rule(key=KEYS, value=VALUES)
    def put(self, key: int, value: int) -> None:
        self.write({key: value}, lambda: self.cache.put(key, value))

    @rule(key=KEYS)
    def get(self, key: int) -> None:
        value = self.read(lambda: self.cache.get(key))
        if value is FAILED:
            return
        assert value in self.possible(key)
        self.model[key] = {value}

    @rule(pairs=st.dictionaries(KEYS, VALUES, min_size=1, max_size=8))
    def put_all(self, pairs: dict[int, int]) -> None:
        self.write(dict(pairs), lambda: self.cache.put_all(pairs))

    @rule(keys=st.lists(KEYS, min_size=1, max_size=8, unique=True))
    def get_all(self, keys: list[int]) -> None:
        found = self.read(lambda: self.cache.get_all(keys))
        if found is FAILED:
            return
        for key in keys:
            assert found.get(key) in self.possible(key)
            self.model[key] = {found.get(key)}

    @rule(keys=st.lists(KEYS, min_size=1, max_size=5, unique=True))
    def remove_keys(self, keys: list[int]) -> None:
        self.write(dict.fromkeys(keys), lambda: self.cache.remove_keys(keys))

    @rule(key=KEYS, value=VALUES)
    def get_and_put(self, key: int, value: int) -> None:
        before = self.possible(key)
        try:
            previous = self.shell.do(self.cache.get_and_put(key, value))
        except ConnectionLostError:
            self.model[key] = before | {value}
            return
        assert previous in before
        self.model[key] = {value}

    # -- faults --------------------------------------------------------------------------------

    @precondition(lambda self: self.healthy())
    @rule(data=st.data())
    def kill(self, data: st.DataObject) -> None:
        self.cluster.kill_node(data.draw(st.sampled_from(self.alive())))

    @precondition(lambda self: self.healthy())
    @rule(data=st.data())
    def stop(self, data: st.DataObject) -> None:
        self.cluster.stop_node(data.draw(st.sampled_from(self.alive())))

    @precondition(lambda self: bool(self.dead()))
    @rule(data=st.data())
    def start(self, data: st.DataObject) -> None:
        self.cluster.start_node(data.draw(st.sampled_from(self.dead())))

    @precondition(lambda self: self.healthy() and len(self.cluster.nodes) < MAX_NODES)
    @rule()
    def add(self) -> None:
        self.cluster.add_node()

    @precondition(lambda self: self.healthy())
    @rule(data=st.data())
    def hang(self, data: st.DataObject) -> None:
        self.hung = data.draw(st.sampled_from(self.alive()))
        self.cluster.hang_node(self.hung)

    @precondition(lambda self: self.hung is not None)
    @rule()
    def heal(self) -> None:
        self.cluster.heal_node(self.hung)
        self.hung = None

    @invariant()
    def some_node_is_up(self) -> None:
        assert self.alive()


class AioClientAgainstModel(ClientAgainstModel):
    kind = "async"


MODEL_SETTINGS = settings(
    max_examples=8,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.mark.parametrize(
    "machine", [ClientAgainstModel, AioClientAgainstModel], ids=["sync", "async"]
)
def test_client_against_model(machine: type[RuleBasedStateMachine]) -> None:
    machine.TestCase.settings = MODEL_SETTINGS
    machine.TestCase().runTest()
