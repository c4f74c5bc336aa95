"""The engine's JSON-lines events (protocol/engine-events.ts, version 1): one JSON object per line on stdout and,
for a training run, appended to RUNDIR/events.jsonl. Readers validate them with the protocol's validator."""
import datetime
import json
import os
import sys

EVENTS_VERSION = 1


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class EventSink:
    def __init__(self, run_dir=None, out=sys.stdout):
        self.out = out
        self.path = os.path.join(run_dir, "events.jsonl") if run_dir else None

    def emit(self, type_, **fields):
        event = {"v": EVENTS_VERSION, "time": now_iso(), "type": type_, **fields}
        line = json.dumps(event, separators=(",", ":"), allow_nan=False) + "\n"
        if self.path:
            # One write of a whole line (append mode): concurrent readers never see half an event.
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(line)
        self.out.write(line)
        self.out.flush()
        return event
