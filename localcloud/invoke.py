"""`make invoke FN=<LogicalId> EVENT=events/<file>.json`: like `sam local invoke`, no Docker.

With `make local` running, the event goes through its Lambda API (moto → in-process handler).
Otherwise an embedded local cloud (no gateways) starts on the same saved state, runs the
function once, saves and exits.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from localcloud import discovery
from localcloud.settings import state_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localcloud.invoke", description=__doc__)
    parser.add_argument("function", help="logical id in template.yaml, e.g. UsersFunction")
    parser.add_argument("--event", "-e", type=Path, help="event JSON file (default: {})")
    parser.add_argument("--template", type=Path, default=None)
    parser.add_argument("--state-dir", type=Path, default=state_dir())
    args = parser.parse_args(argv)
    event = json.loads(args.event.read_text()) if args.event else {}
    running = discovery.find(args.state_dir)
    if running:
        import boto3

        client = boto3.client(
            "lambda",
            endpoint_url=running["aws"],
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        response = client.invoke(FunctionName=args.function, Payload=json.dumps(event).encode())
        payload = json.loads(response["Payload"].read() or b"null")
        errored = "FunctionError" in response
    else:
        from localcloud.cloud import LocalCloud

        cloud = LocalCloud(args.template, state=args.state_dir, gateways=False, autosave_seconds=0).start()
        try:
            if args.function not in cloud.runner.functions:
                print(
                    f"No function {args.function!r}; the template has: {', '.join(sorted(cloud.runner.functions))}",
                    file=sys.stderr,
                )
                return 2
            result = cloud.runner.invoke(args.function, event)
            payload, errored = result.payload, result.errored
        finally:
            cloud.stop()
    print(json.dumps(payload, indent=2, default=str))
    return 1 if errored else 0


if __name__ == "__main__":
    sys.exit(main())
