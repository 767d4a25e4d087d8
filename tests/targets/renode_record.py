"""Record a real Renode's monitor conversation into tests/data/renode/monitor_conversation.json.

    HIL_RENODE=/path/to/renode .venv/bin/python -m tests.targets.renode_record

Runs the harness's own Renode target on the netduinoplus2 link firmware (engine none), as
``hil info`` does, then the monitor commands the target and the tests use, and writes every
chunk the monitor client sent and received, in order, as hex. The fake monitor of the tests
(tests/targets/renode_fake.py) replays it, so CI exercises what the real Renode sends.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from harness.firmware.build import build_firmware
from harness.targets import create_target
from harness.targets.renode import renode_executable
from harness.targets.renode_monitor import MonitorError

OUT = Path(__file__).resolve().parents[1] / "data" / "renode" / "monitor_conversation.json"
# after start() (handshake, hil.resc) and connect() (start, BOOT):
COMMANDS = ["version", "sysbus.cpu ExecutedInstructions", "machine ElapsedVirtualTime", "bogus"]


def record() -> dict:
    renode = renode_executable()
    version = ""
    image = build_firmware(board="netduinoplus2", engine="none")
    with create_target("renode", board="netduinoplus2") as target:
        target.start(image)
        target.connect()            # start, BOOT
        target.connect()            # pause, machine Reset, start, BOOT
        for command in COMMANDS:
            try:
                output = target.monitor.execute(command)
            except MonitorError:
                continue            # 'bogus': the error reply is what we record
            if command == "version":
                version = output
        monitor = target.monitor
        target.stop()               # quit
        transcript = monitor.transcript
    return {
        "about": "Renode's monitor (--disable-xwt --plain --port N hil.resc) as the harness's RenodeMonitor "
                 "saw it: every chunk sent and received, in order. Recorded from a real Renode by "
                 "tests/targets/renode_record.py; replayed by tests/targets/renode_fake.py.",
        "renode": version,
        "renode_executable": Path(renode).name,
        "firmware": f"netduinoplus2, engine none, build {image.build_id}",
        "chunks": [{"dir": direction, "hex": data.hex()} for direction, data in transcript],
    }


def main() -> int:
    conversation = record()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(conversation, indent=1) + "\n")
    print(f"{OUT}: {len(conversation['chunks'])} chunks from {conversation['renode']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
