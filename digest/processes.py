"""Whether a process of this machine is still running: how a killed holder is told apart."""

from __future__ import annotations

import os


def alive(pid: int) -> bool:
    """True while a process with this id exists (a zombie counts until it is reaped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True
