"""Call a function concurrently through boto3 and count which execution environment served each call.

    python invoke.py -mw 4 -it 40 -l Counter [--endpoint-url http://127.0.0.1:3001]
    python invoke.py -it 200 -l workshop-hello -q live --by version --endpoint-url http://127.0.0.1:4566

Prints one line per environment, "calls container", most used first (like ``sort | uniq -c``);
with ``--by version``, one line per version that ran (``X-Amz-Executed-Version``), which shows an
alias's traffic split during a canary. Point --endpoint-url at ``lamctl local start-lambda`` (the
default) or at the local cloud.
"""

from __future__ import annotations

import argparse
import collections
import json
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-mw", "--max-workers", type=int, default=4, help="concurrent callers")
    ap.add_argument("-it", "--iterations", type=int, default=40, help="invocations in all")
    ap.add_argument("-l", "--lambda-function", default="Counter", help="function name")
    ap.add_argument("-q", "--qualifier", default=None, help="version or alias to invoke")
    ap.add_argument("--by", choices=("container", "version"), default="container",
                    help="count calls per container (the function's answer) or per executed version")
    ap.add_argument("--endpoint-url", default="http://127.0.0.1:3001")
    ap.add_argument("--region", default="us-east-1")
    args = ap.parse_args()

    client = boto3.client(
        "lambda", endpoint_url=args.endpoint_url, region_name=args.region,
        aws_access_key_id="testing", aws_secret_access_key="testing",
        config=Config(max_pool_connections=max(10, args.max_workers), retries={"total_max_attempts": 1}),
    )

    def call(_: int) -> str:
        kwargs = {"Qualifier": args.qualifier} if args.qualifier else {}
        resp = client.invoke(FunctionName=args.lambda_function, Payload=b"{}", **kwargs)
        body = json.loads(resp["Payload"].read())
        if resp.get("FunctionError"):
            raise SystemExit(f"the function failed: {body}")
        if args.by == "version":
            return resp["ExecutedVersion"]
        return body["container"]

    with ThreadPoolExecutor(max_workers=args.max_workers) as pool:
        containers = list(pool.map(call, range(args.iterations)))
    for container, calls in collections.Counter(containers).most_common():
        print(f"{calls:7d} {container}")


if __name__ == "__main__":
    main()
