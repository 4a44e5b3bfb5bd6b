"""WriteOrder: the line of calls and the cancel fence (pgwire.gate rules 6 and 7)."""

from __future__ import annotations

import asyncio

import pytest

from pgwire.gate import WriteOrder


def test_only_the_head_of_the_line_may_write() -> None:
    order = WriteOrder()
    first, second = object(), object()
    order.join(first)
    order.join(second)
    assert order.may_write(first) and not order.may_write(second)
    order.leave(first)
    assert order.may_write(second)


def test_nobody_writes_while_a_fence_is_up() -> None:
    order = WriteOrder()
    place = object()
    order.join(place)
    order.raise_fence()
    assert not order.may_write(place)
    order.lower_fence()
    assert order.may_write(place)


def test_a_fence_lowered_after_the_connection_closed_never_blocks_the_line() -> None:
    order = WriteOrder()
    first, second = object(), object()
    order.join(first)
    order.join(second)
    order.raise_fence()
    order.close()  # the connection is gone while a cancel was on its way
    order.lower_fence()  # the cancel's own clean-up comes later
    order.leave(first)
    assert order.may_write(second)


async def test_waiting_calls_go_on_when_the_connection_closes() -> None:
    order = WriteOrder()
    head, waiter = object(), object()
    order.join(head)
    order.join(waiter)
    task = asyncio.ensure_future(order.wait_turn(waiter, None))
    await asyncio.sleep(0)
    assert not task.done()
    order.close()
    await asyncio.wait_for(task, 1)


def test_a_reserved_place_keeps_its_position_when_claimed() -> None:
    order = WriteOrder()
    reservation = order.reserve()
    later = object()
    order.join(later)
    call = object()
    assert order.claim(reservation, call)
    assert order.may_write(call) and not order.may_write(later)


def test_a_cancelled_reservation_holds_nobody_back() -> None:
    order = WriteOrder()
    reservation = order.reserve()
    later = object()
    order.join(later)
    order.cancel(reservation)
    assert order.may_write(later)
    assert not order.claim(reservation, object())


@pytest.mark.parametrize("times", [1, 3])
def test_lowering_more_fences_than_were_raised_does_not_go_negative(times: int) -> None:
    order = WriteOrder()
    place = object()
    order.join(place)
    for _ in range(times):
        order.lower_fence()
    order.raise_fence()
    assert not order.may_write(place)
    order.lower_fence()
    assert order.may_write(place)


def test_a_suspended_reservation_holds_nobody_back_and_is_taken_again_at_admission() -> None:
    order = WriteOrder()
    first, second = order.reserve(), order.reserve()
    later = object()
    order.join(later)
    order.suspend(first)  # its call waits for admission
    call_two = object()
    assert order.claim(second, call_two)
    assert order.may_write(call_two)  # the suspended place ahead does not block it
    call_one = object()
    assert order.claim(first, call_one)  # admitted: back at its place, ahead of the others
    assert order.may_write(call_one) and not order.may_write(call_two)
