"""The comparison for benches/side_by_side.py: a long-running loop over the official Python SDK
(aliyun-python-sdk-core + aliyun-python-sdk-rds, signature v1 like migtop) doing migtop's
polling: every INTERVAL, DescribeCloudMigrationResult for each instance (every page), the
ReplicationInfo decoded, one line per task printed to the terminal.

    python sdk_loop.py --endpoint http://127.0.0.1:PORT --interval 2 --duration 60 ID...

Credentials come from ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET.
"""

import argparse
import json
import os
import sys
import time

from aliyunsdkcore.client import AcsClient
from aliyunsdkrds.request.v20140815.DescribeCloudMigrationResultRequest import (
    DescribeCloudMigrationResultRequest,
)


def lsn(text):
    """An LSN "X/Y" as a number, or None."""
    try:
        hi, lo = str(text).split("/")
        return (int(hi, 16) << 32) | int(lo, 16)
    except (ValueError, AttributeError):
        return None


def replication(item):
    """ReplicationInfo as a dict (the API sends it as a JSON string, sometimes escaped)."""
    raw = item.get("ReplicationInfo")
    if isinstance(raw, dict):
        return raw
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        try:
            return json.loads(raw.replace('\\"', '"'))
        except ValueError:
            return {}


def tasks(client, host, instance):
    """Every task of `instance`, page by page."""
    items, page = [], 1
    while True:
        r = DescribeCloudMigrationResultRequest()
        r.set_DBInstanceName(instance)
        r.set_PageNumber(page)
        r.set_PageSize(100)
        r.set_endpoint(host)
        r.set_protocol_type("http")
        body = json.loads(client.do_action_with_exception(r))
        got = body.get("Items") or []
        items.extend(got if isinstance(got, list) else [got])
        if len(items) >= int(body.get("TotalSize") or 0) or not got:
            return items
        page += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--interval", type=float, default=2.0)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("instances", nargs="+")
    args = ap.parse_args()
    host = args.endpoint.split("://", 1)[1].rstrip("/")
    client = AcsClient(
        os.environ["ALIBABA_CLOUD_ACCESS_KEY_ID"],
        os.environ["ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
        "cn-hangzhou",
        auto_retry=False,
    )
    start = time.monotonic()
    rounds = 0
    while True:
        now = time.monotonic()
        if now - start >= args.duration:
            break
        stamp = time.strftime("%H:%M:%S")
        for instance in args.instances:
            try:
                for item in tasks(client, host, instance):
                    info = replication(item)
                    end, replay = lsn(info.get("LatestEndLsn")), lsn(info.get("ReplayLsn"))
                    lag = "-" if end is None or replay is None else f"{max(end - replay, 0) / 1048576:.1f} MiB"
                    print(f"{stamp} {instance} {item.get('TaskName')} {item.get('MigrateStage')} lag {lag}")
            except Exception as e:  # noqa: BLE001 - a failed poll is reported, the loop goes on
                print(f"{stamp} {instance} error: {e}")
        sys.stdout.flush()
        rounds += 1
        time.sleep(max(0.0, start + rounds * args.interval - time.monotonic()))


if __name__ == "__main__":
    main()
