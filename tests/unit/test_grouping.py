"""Group commit: who waits behind a commit goes in the next one, each with its own fate."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from events.errors import StoreUnavailable
from events.grouping import GroupCommit, Request
from events.store import Appended


class FakeCommit:
    """Settles groups as told; the first group waits until released."""

    def __init__(self) -> None:
        self.groups: list[list[str]] = []
        self.release = threading.Event()
        self.entered = threading.Event()

    def __call__(self, group: list[Request]) -> None:
        self.groups.append([r.recorded_by for r in group])
        if len(self.groups) == 1:
            self.entered.set()
            assert self.release.wait(10)
        for request in group:
            if request.recorded_by.startswith("bad"):
                request.error = ValueError(request.recorded_by)
            else:
                request.outcomes = []


def wait_until_queued(group: GroupCommit, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(group._queue) < count:
        assert time.monotonic() < deadline
        time.sleep(0.001)


def test_requests_waiting_behind_a_commit_are_committed_together() -> None:
    commit = FakeCommit()
    group = GroupCommit(commit)
    with ThreadPoolExecutor(5) as pool:
        first = pool.submit(group.submit, [], "first")
        assert commit.entered.wait(10)
        later = [pool.submit(group.submit, [], f"later-{n}") for n in range(4)]
        wait_until_queued(group, 4)

        commit.release.set()

        assert [f.result(10) for f in (first, *later)] == [[]] * 5
    assert commit.groups == [["first"], ["later-0", "later-1", "later-2", "later-3"]]


def test_a_request_that_fails_fails_alone() -> None:
    commit = FakeCommit()
    group = GroupCommit(commit)
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(group.submit, [], "first")
        assert commit.entered.wait(10)
        others = [pool.submit(group.submit, [], name) for name in ("good", "bad-one", "fine")]
        wait_until_queued(group, 3)

        commit.release.set()

        outcomes = [_outcome(f) for f in (first, *others)]
    assert outcomes[0] == outcomes[1] == outcomes[3] == []
    assert isinstance(outcomes[2], ValueError)


def _outcome(future: Future[list[Appended]]) -> object:
    return future.exception(10) or future.result()


class BrokenCommit(FakeCommit):
    """The first group waits until released; groups from `failing` on fail with `failure`."""

    def __init__(self, failure: BaseException, failing: int = 1) -> None:
        super().__init__()
        self.failure = failure
        self.failing = failing

    def __call__(self, group: list[Request]) -> None:
        if len(self.groups) + 1 < self.failing:
            super().__call__(group)
            return
        self.groups.append([r.recorded_by for r in group])
        if len(self.groups) == 1:
            self.entered.set()
            assert self.release.wait(10)
        raise self.failure


def test_an_unexpected_failure_reaches_every_waiter_as_an_error_of_its_own() -> None:
    commit = BrokenCommit(RuntimeError("the disk is full"))
    group = GroupCommit(commit)
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(group.submit, [], "first")
        assert commit.entered.wait(10)
        later = [pool.submit(group.submit, [], f"later-{n}") for n in range(3)]
        wait_until_queued(group, 3)

        commit.release.set()

        errors = [f.exception(10) for f in (first, *later)]
    assert all(isinstance(e, StoreUnavailable) and "the disk is full" in str(e) for e in errors)
    assert len({id(e) for e in errors}) == 4


def test_when_the_store_is_unavailable_the_queued_requests_fail_at_once() -> None:
    commit = BrokenCommit(StoreUnavailable("the lock wait timed out"))
    group = GroupCommit(commit)
    with ThreadPoolExecutor(3) as pool:
        first = pool.submit(group.submit, [], "first")
        assert commit.entered.wait(10)
        later = [pool.submit(group.submit, [], f"later-{n}") for n in range(2)]
        wait_until_queued(group, 2)

        commit.release.set()

        errors = [f.exception(10) for f in (first, *later)]
    assert all(isinstance(e, StoreUnavailable) for e in errors)
    assert commit.groups == [["first"]], "the queued requests did not wait out a second timeout"


def test_an_interrupted_leader_leaves_no_follower_waiting() -> None:
    commit = BrokenCommit(KeyboardInterrupt(), failing=2)
    group = GroupCommit(commit)
    with ThreadPoolExecutor(3) as pool:
        first = pool.submit(group.submit, [], "first")
        assert commit.entered.wait(10)
        later = [pool.submit(group.submit, [], f"later-{n}") for n in range(2)]
        wait_until_queued(group, 2)

        commit.release.set()

        assert first.result(10) == []
        outcomes = sorted(type(f.exception(10)).__name__ for f in later)
    assert commit.groups == [["first"], ["later-0", "later-1"]]
    assert outcomes == ["KeyboardInterrupt", "StoreUnavailable"], "only the leader is interrupted"


def test_a_commit_that_forgets_a_request_does_not_leave_it_waiting() -> None:
    group = GroupCommit(lambda _group: None)

    with pytest.raises(StoreUnavailable, match="interrupted before it was committed"):
        group.submit([], "forgotten")
