"""The child process of :mod:`.isolate`: loads one ``py:`` function and answers calls to it."""

from __future__ import annotations

import os
import signal
import sys

from simulator.testbench.adapters import (
    SessionizerError,
    canonical_ids,
    check_callable,
    load_callable,
    takes_timezone,
)
from simulator.testbench.isolate import recv_blocking, send

__all__ = ["main"]


def main() -> None:
    """Entry point of the child: load the function, then answer calls until the input ends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and ends this process
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # print() in user code goes to the error file, not into the protocol
    inp = sys.stdin.buffer
    hello = recv_blocking(inp)
    if hello is None:
        return
    sys.path[:0] = [p for p in hello["sys_path"] if p not in sys.path]
    spec, value = hello["spec"], hello["value"]
    try:
        func = load_callable(spec, value)
        check_callable(spec, value, func)
    except SessionizerError as err:
        send(out, ("error", err.message))
        return
    send(out, ("ready", takes_timezone(func)))
    while (msg := recv_blocking(inp)) is not None:
        cols, kwargs = msg
        try:
            raw = func(*cols, **kwargs)
        except BaseException as err:  # SystemExit too: reported, the child lives on
            detail = str(err).strip().splitlines()
            send(out, ("raised", type(err).__name__ + (f": {detail[0]}" if detail else "")))
            continue
        try:
            ids = canonical_ids(cols[0], raw, len(cols[0]), spec)
        except SessionizerError as err:
            send(out, ("error", err.message))
            continue
        send(out, ("ok", ids))
