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


def behind_a_commit(commit: FakeCommit, names: list[str], *, soon: bool = False) -> list[object]:
    """`first` commits alone and blocks; `names` queue behind it; then all are released.

    Each caller's result, or the exception it raised, in order: first, then `names`.
    Callers wait in threads of their own, or, `soon`, hold futures and no thread.
    """
    group = GroupCommit(commit)
    with ThreadPoolExecutor(len(names) + 1) as pool:

        def send(name: str) -> Future[list[Appended]]:
            return group.submit_soon([], name) if soon else pool.submit(group.submit, [], name)

        first = send("first")
        assert commit.entered.wait(10)
        later = [send(name) for name in names]
        wait_until_queued(group, len(names))
        commit.release.set()
        return [future.exception(10) or future.result() for future in (first, *later)]


both_ways = pytest.mark.parametrize("soon", [False, True], ids=["threads", "futures"])


@both_ways
def test_requests_waiting_behind_a_commit_are_committed_together(soon: bool) -> None:
    commit = FakeCommit()

    outcomes = behind_a_commit(commit, [f"later-{n}" for n in range(4)], soon=soon)

    assert outcomes == [[]] * 5
    assert commit.groups == [["first"], ["later-0", "later-1", "later-2", "later-3"]]


@both_ways
def test_a_request_that_fails_fails_alone(soon: bool) -> None:
    outcomes = behind_a_commit(FakeCommit(), ["good", "bad-one", "fine"], soon=soon)

    assert outcomes[0] == outcomes[1] == outcomes[3] == []
    assert isinstance(outcomes[2], ValueError)


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


@both_ways
def test_an_unexpected_failure_reaches_every_waiter_as_an_error_of_its_own(soon: bool) -> None:
    failure = BrokenCommit(RuntimeError("the disk is full"))

    errors = behind_a_commit(failure, ["a", "b", "c"], soon=soon)

    assert all(isinstance(e, StoreUnavailable) and "the disk is full" in str(e) for e in errors)
    assert len({id(e) for e in errors}) == 4


@both_ways
def test_when_the_store_is_unavailable_the_queued_requests_fail_at_once(soon: bool) -> None:
    commit = BrokenCommit(StoreUnavailable("the lock wait timed out"))

    errors = behind_a_commit(commit, ["a", "b"], soon=soon)

    assert all(isinstance(e, StoreUnavailable) for e in errors)
    assert commit.groups == [["first"]], "the queued requests did not wait out a second timeout"


def test_an_interrupted_leader_leaves_no_follower_waiting() -> None:
    commit = BrokenCommit(KeyboardInterrupt(), failing=2)

    first, *later = behind_a_commit(commit, ["later-0", "later-1"])

    assert first == []
    assert commit.groups == [["first"], ["later-0", "later-1"]]
    kinds = sorted(type(outcome).__name__ for outcome in later)
    assert kinds == ["KeyboardInterrupt", "StoreUnavailable"], "only the leader is interrupted"


def test_a_commit_that_forgets_a_request_does_not_leave_it_waiting() -> None:
    group = GroupCommit(lambda _group: None)

    with pytest.raises(StoreUnavailable, match="interrupted before it was committed"):
        group.submit([], "forgotten")
    with pytest.raises(StoreUnavailable, match="interrupted before it was committed"):
        group.submit_soon([], "forgotten").result(10)


def test_futures_queued_behind_a_thread_that_leads_are_committed_after_it() -> None:
    commit = FakeCommit()
    group = GroupCommit(commit)
    with ThreadPoolExecutor(1) as pool:
        leader = pool.submit(group.submit, [], "thread")
        assert commit.entered.wait(10)
        futures = [group.submit_soon([], f"future-{n}") for n in range(3)]
        wait_until_queued(group, 3)
        commit.release.set()

        assert [f.result(10) for f in (leader, *futures)] == [[]] * 4
    assert commit.groups == [["thread"], ["future-0", "future-1", "future-2"]]


def test_threads_queued_behind_the_committers_own_thread_are_committed_by_it() -> None:
    commit = FakeCommit()
    group = GroupCommit(commit)
    with ThreadPoolExecutor(2) as pool:
        first = group.submit_soon([], "future")
        assert commit.entered.wait(10)
        waiting = [pool.submit(group.submit, [], f"thread-{n}") for n in range(2)]
        wait_until_queued(group, 2)
        commit.release.set()

        assert [f.result(10) for f in (first, *waiting)] == [[]] * 3
    assert commit.groups == [["future"], ["thread-0", "thread-1"]]


def test_an_interrupted_committer_thread_still_serves_the_requests_after() -> None:
    commit = BrokenCommit(KeyboardInterrupt(), failing=1)
    group = GroupCommit(commit)
    interrupted = group.submit_soon([], "first")
    commit.release.set()
    assert isinstance(interrupted.exception(10), StoreUnavailable)
    commit.failing = 99  # the next groups commit

    assert group.submit_soon([], "later").result(10) == []
    assert group.submit([], "thread") == []


def test_a_request_given_up_on_before_its_group_is_not_appended_and_leaves_the_rest_to_commit() -> (
    None
):
    commit = FakeCommit()
    group = GroupCommit(commit)
    first = group.submit_soon([], "first")
    assert commit.entered.wait(10)
    gone, kept = group.submit_soon([], "gone"), group.submit_soon([], "kept")
    waiting = in_a_thread(group, "thread")
    wait_until_queued(group, 3)
    assert gone.cancel()  # what asyncio does to it when its request is cancelled
    commit.release.set()

    assert [f.result(10) for f in (first, kept, waiting)] == [[]] * 3
    assert commit.groups == [["first"], ["kept", "thread"]]


def test_an_outage_behind_a_thread_leaves_no_one_waiting_when_a_queued_request_was_given_up() -> (
    None
):
    commit = BrokenCommit(StoreUnavailable("the lock wait timed out"), failing=1)
    group = GroupCommit(commit)
    leader = in_a_thread(group, "thread")
    assert commit.entered.wait(10)
    gone = group.submit_soon([], "gone")
    wait_until_queued(group, 1)
    gone.cancel()
    commit.release.set()

    assert isinstance(leader.exception(10), StoreUnavailable)
    commit.failing = 99  # the store is back
    assert group.submit_soon([], "later").result(10) == []
    assert in_a_thread(group, "thread").result(10) == []


def test_once_the_process_stops_taking_threads_queued_futures_fail_and_threads_still_commit() -> (
    None
):
    commit = FakeCommit()
    commit.release.set()
    group = GroupCommit(commit)
    assert group.submit_soon([], "first").result(10) == []
    assert group._leader is not None
    group._leader.shutdown()  # as at the interpreter's exit: no new work is taken

    with pytest.raises(StoreUnavailable, match="stopping"):
        group.submit_soon([], "too-late").result(10)
    assert in_a_thread(group, "thread").result(10) == []


def in_a_thread(group: GroupCommit, name: str) -> Future[list[Appended]]:
    """`submit` from a thread of its own that the test does not wait for if it hangs."""
    done: Future[list[Appended]] = Future()

    def run() -> None:
        try:
            done.set_result(group.submit([], name))
        except BaseException as error:
            done.set_exception(error)

    threading.Thread(target=run, daemon=True).start()
    return done
