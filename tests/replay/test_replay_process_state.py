"""``xtape.process.process_state``: the one place the CLI changes process-wide state
for ``record`` and ``replay`` (stop signals, automatic garbage collection)."""

from __future__ import annotations

import gc
import os
import signal

import pytest

from xtape.process import process_state


def test_signals_set_the_stop_event_and_everything_is_restored_after() -> None:
    before = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM), gc.isenabled())
    with process_state() as state:
        assert not gc.isenabled()
        os.kill(os.getpid(), signal.SIGTERM)
        assert state.stop_event.is_set()
        assert state.exit_code == 143
        with pytest.raises(KeyboardInterrupt):  # a second signal leaves at once
            signal.raise_signal(signal.SIGINT)
    assert (
        signal.getsignal(signal.SIGINT),
        signal.getsignal(signal.SIGTERM),
        gc.isenabled(),
    ) == before


def test_an_ignored_sigint_stays_ignored_and_sigterm_still_stops() -> None:
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with process_state() as state:
            signal.raise_signal(signal.SIGINT)
            assert not state.stop_event.is_set()
            signal.raise_signal(signal.SIGTERM)
            assert state.stop_event.is_set() and state.exit_code == 143
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_gc_stays_off_if_it_was_off_and_can_be_left_alone() -> None:
    with process_state(pause_gc=False):
        assert gc.isenabled()
    gc.disable()
    try:
        with process_state():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
