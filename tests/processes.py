"""Child processes the tests interrupt with SIGINT, as a person's Ctrl+C would.

A process started while SIGINT is ignored inherits that (a shell's background job, or a test
run in which an earlier test left the disposition ignored): its Python then installs no
KeyboardInterrupt handler, and Ctrl+C does nothing. :func:`default_sigint` gives the child
the default disposition before it starts, as a terminal's foreground process has it.
"""

from __future__ import annotations

import signal


def default_sigint() -> None:
    """``preexec_fn`` for :class:`subprocess.Popen`: SIGINT at its default in the child."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
