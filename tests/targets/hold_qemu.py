"""Helper process for the no-leftover tests: start QEMU, print its pid, then block until signalled.

    python hold_qemu.py ELF
"""

from __future__ import annotations

import sys
import threading

from harness.targets import create_target


def main() -> int:
    with create_target("qemu", icount=False) as target:
        url = target.start(sys.argv[1])
        print(f"pid={target.pid} url={url}", flush=True)
        threading.Event().wait(timeout=60.0)  # the test signals us long before this; Ctrl-C interrupts it
    return 0


if __name__ == "__main__":
    sys.exit(main())
