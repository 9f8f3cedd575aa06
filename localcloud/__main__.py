"""`make local`: run the Stratus local cloud until Ctrl-C (or SIGTERM), keeping its data."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from localcloud.cloud import LocalCloud
from localcloud.settings import http_port, state_dir, ws_port


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localcloud", description=__doc__)
    parser.add_argument("--template", type=Path, default=None, help="SAM template (default: template.yaml)")
    parser.add_argument("--http-port", type=int, default=http_port())
    parser.add_argument("--ws-port", type=int, default=ws_port())
    parser.add_argument("--state-dir", type=Path, default=state_dir())
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stopped = threading.Event()  # handlers first: a signal during start-up is not lost
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    cloud = LocalCloud(args.template, args.http_port, args.ws_port, args.state_dir).start()
    print(cloud.ready_line(), flush=True)
    # Wake up now and then: Linux may deliver the signal to another thread, and Python runs the
    # handler only when the main thread wakes (an untimed wait could sleep through it forever).
    while not stopped.wait(0.5):
        pass
    cloud.stop()
    print("Stratus local cloud stopped; data saved to", args.state_dir / "snapshot.json", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
