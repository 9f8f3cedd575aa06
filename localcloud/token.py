"""`make token USER=<id> [ADMIN=1]`: a local JWT for trying the API with curl."""

from __future__ import annotations

import argparse
import sys

from localcloud.settings import jwt_secret
from stratus.auth.jwt_tokens import issue_token


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localcloud.token", description=__doc__)
    parser.add_argument("user_id")
    parser.add_argument("--admin", action="store_true")
    parser.add_argument("--email", default=None)
    parser.add_argument("--hours", type=float, default=24)
    args = parser.parse_args(argv)
    email = args.email or f"{args.user_id}@example.com"
    print(issue_token(jwt_secret(), args.user_id, email=email, admin=args.admin, ttl_seconds=int(args.hours * 3600)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
