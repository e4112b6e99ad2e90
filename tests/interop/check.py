"""Interop check: the official Alibaba Cloud Python SDKs against a running `migtop simulate`.

Environment: MIGTOP_SIM_ENDPOINT (http://127.0.0.1:PORT), MIGTOP_SIM_INSTANCES (space
separated), ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET (the pair the
simulator accepts), MIGTOP_BIN (migtop itself, for the role-based reads). Prints one PASS/FAIL line per check and exits 1 if any failed.
"""

import json
import os
import sys
import traceback

ENDPOINT = os.environ["MIGTOP_SIM_ENDPOINT"]
HOSTPORT = ENDPOINT.split("://", 1)[1].rstrip("/")
INSTANCES = os.environ["MIGTOP_SIM_INSTANCES"].split()
KEY_ID = os.environ["ALIBABA_CLOUD_ACCESS_KEY_ID"]
SECRET = os.environ["ALIBABA_CLOUD_ACCESS_KEY_SECRET"]
UNKNOWN = "pgm-doesnotexist0000"

failures = []


def check(name, fn):
    try:
        detail = fn()
        print(f"PASS  {name}" + (f": {detail}" if detail else ""))
    except Exception as e:  # noqa: BLE001 - report every failure the same way
        failures.append(name)
        print(f"FAIL  {name}: {type(e).__name__}: {e}")
        traceback.print_exc(limit=3, file=sys.stdout)


# ---- aliyun-python-sdk-core + aliyun-python-sdk-rds: signature v1 (HMAC-SHA1) ----
from aliyunsdkcore.client import AcsClient  # noqa: E402
from aliyunsdkcore.acs_exception.exceptions import ServerException  # noqa: E402
from aliyunsdkrds.request.v20140815.DescribeCloudMigrationResultRequest import (  # noqa: E402
    DescribeCloudMigrationResultRequest,
)


def legacy_request(instance, method=None):
    r = DescribeCloudMigrationResultRequest()
    r.set_DBInstanceName(instance)
    r.set_PageNumber(1)
    r.set_PageSize(100)
    r.set_endpoint(HOSTPORT)
    r.set_protocol_type("http")
    if method:
        r.set_method(method)
    return r


def legacy_client(secret):
    return AcsClient(KEY_ID, secret, "cn-hangzhou", auto_retry=False)


def legacy_reads(method):
    def run():
        total = 0
        for instance in INSTANCES:
            body = json.loads(legacy_client(SECRET).do_action_with_exception(legacy_request(instance, method)))
            items = body.get("Items")
            items = items if isinstance(items, list) else [items]
            assert body["TotalSize"] == len(items) and len(items) > 0, body
            for item in items:
                assert item["TargetInstanceName"] == instance, item
                assert item["MigrateStage"] in (
                    "precheck", "basebackup", "startup", "increment", "switch", "success"
                ), item
            total += len(items)
        return f"{total} tasks on {len(INSTANCES)} instances"
    return run


def legacy_expect_error(secret, instance, codes, status):
    def run():
        try:
            legacy_client(secret).do_action_with_exception(legacy_request(instance))
        except ServerException as e:
            assert e.get_error_code() in codes, (e.get_error_code(), e.get_error_msg())
            assert e.get_http_status() == status, e.get_http_status()
            if e.get_error_code() == "InvalidAccessKeySecret":
                return "HTTP 400 SignatureDoesNotMatch quoting the SDK's own string to sign (the SDK reports InvalidAccessKeySecret)"
            return f"{e.get_error_code()} (HTTP {e.get_http_status()})"
        raise AssertionError("the request was accepted")
    return run


check("legacy SDK (v1, POST) reads every task", legacy_reads(None))
check("legacy SDK (v1, GET) reads every task", legacy_reads("GET"))
# The legacy SDK turns SignatureDoesNotMatch into InvalidAccessKeySecret when the server's
# string to sign (quoted in the message) equals its own: proof both sides canonicalize alike.
check(
    "legacy SDK: wrong secret is rejected as SignatureDoesNotMatch",
    legacy_expect_error("not-the-secret", INSTANCES[0], ("InvalidAccessKeySecret", "SignatureDoesNotMatch"), 400),
)
check(
    "legacy SDK: unknown instance is InvalidDBInstanceName.NotFound, HTTP 404",
    legacy_expect_error(SECRET, UNKNOWN, ("InvalidDBInstanceName.NotFound",), 404),
)

# ---- alibabacloud-rds20140815 (tea openapi): signature V3 (ACS3-HMAC-SHA256) ----
from alibabacloud_rds20140815.client import Client  # noqa: E402
from alibabacloud_rds20140815 import models as rds_models  # noqa: E402
from alibabacloud_tea_openapi import models as open_api_models  # noqa: E402


def new_client(secret):
    cfg = open_api_models.Config(
        access_key_id=KEY_ID,
        access_key_secret=secret,
        endpoint=HOSTPORT,
        protocol="http",
        region_id="cn-hangzhou",
    )
    return Client(cfg)


def new_reads():
    total = 0
    for instance in INSTANCES:
        resp = new_client(SECRET).describe_cloud_migration_result(
            rds_models.DescribeCloudMigrationResultRequest(dbinstance_name=instance, page_number=1, page_size=100)
        )
        assert resp.status_code == 200, resp.status_code
        body = resp.body
        assert body.total_size == len(body.items) and body.items, body.to_map()
        for item in body.items:
            assert item.target_instance_name == instance
            assert item.task_id and item.migrate_stage
        total += len(body.items)
    return f"{total} tasks on {len(INSTANCES)} instances"


def new_precheck_read():
    resp = new_client(SECRET).describe_cloud_migration_precheck_result(
        rds_models.DescribeCloudMigrationPrecheckResultRequest(dbinstance_name=INSTANCES[0], page_number=1, page_size=10)
    )
    assert resp.body.items and resp.body.items[0].detail, resp.body.to_map()
    return f"{len(resp.body.items)} prechecks"


def error_of(e):
    code = getattr(e, "code", None)
    status = getattr(e, "status_code", None)
    inner = getattr(e, "inner_exception", None) or getattr(e, "__cause__", None)
    if code is None and inner is not None:
        return error_of(inner)
    return code, status


def new_expect_error(secret, instance, code, status):
    def run():
        try:
            new_client(secret).describe_cloud_migration_result(
                rds_models.DescribeCloudMigrationResultRequest(dbinstance_name=instance, page_number=1, page_size=10)
            )
        except Exception as e:  # noqa: BLE001 - the SDK raises its own hierarchy
            got = error_of(e)
            assert got == (code, status), (got, str(e)[:300])
            return f"{got[0]} (HTTP {got[1]})"
        raise AssertionError("the request was accepted")
    return run


check("new SDK (V3) reads every task", new_reads)
check("new SDK (V3) reads prechecks", new_precheck_read)
check(
    "new SDK: wrong secret is SignatureDoesNotMatch, HTTP 400",
    new_expect_error("not-the-secret", INSTANCES[0], "SignatureDoesNotMatch", 400),
)
check(
    "new SDK: unknown instance is InvalidDBInstanceName.NotFound, HTTP 404",
    new_expect_error(SECRET, UNKNOWN, "InvalidDBInstanceName.NotFound", 404),
)



def new_create_then_legacy_reads():
    instance = INSTANCES[-1]
    resp = new_client(SECRET).create_cloud_migration_task(
        rds_models.CreateCloudMigrationTaskRequest(
            dbinstance_name=instance,
            source_ip_address="172.16.0.9",
            source_port=5432,
            source_account="migratetest",
            source_password="interop-pw",
            source_category="ecsOnVpc",
            task_name="interop-task",
        )
    )
    task_id = resp.body.task_id
    assert task_id, resp.body.to_map()
    r = legacy_request(instance)
    r.set_TaskId(task_id)
    body = json.loads(legacy_client(SECRET).do_action_with_exception(r))
    items = body["Items"] if isinstance(body["Items"], list) else [body["Items"]]
    assert [i["TaskName"] for i in items] == ["interop-task"], body
    assert items[0]["MigrateStage"] == "precheck", items[0]
    return f"task {task_id} created (V3), read back at precheck (v1)"


def new_activate_refused_outside_increment():
    stage_of = {}
    for instance in INSTANCES:
        body = new_client(SECRET).describe_cloud_migration_result(
            rds_models.DescribeCloudMigrationResultRequest(dbinstance_name=instance, page_number=1, page_size=100)
        ).body
        stage_of[instance] = [i.migrate_stage for i in body.items]
    target = next(i for i, stages in stage_of.items() if "basebackup" in stages)
    try:
        new_client(SECRET).activate_migration_target_instance(
            rds_models.ActivateMigrationTargetInstanceRequest(dbinstance_name=target, switch_time_mode="0", force_switch="1")
        )
    except Exception as e:  # noqa: BLE001
        got = error_of(e)
        assert got == ("InvalidMigrateStatus", 400), (got, str(e)[:300])
        return f"{target}: InvalidMigrateStatus (HTTP 400)"
    raise AssertionError("a task in basebackup was switched over")


check("new SDK creates a task, legacy SDK reads it", new_create_then_legacy_reads)
check("new SDK: switchover outside increment is InvalidMigrateStatus", new_activate_refused_outside_increment)

# ---- alibabacloud-credentials: RamRoleArn (STS AssumeRole) and EcsRamRole (metadata service) ----
# The SDK's own providers fetch temporary credentials from the simulator, and both RDS SDKs
# read tasks with them. STS is reached through the SDK's documented sts_endpoint (an URL with
# a scheme is used as is); the metadata service, whose address the SDK fixes at
# 100.100.100.200, through the SDK's documented proxy option, the simulator being the proxy.
import logging  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402

from alibabacloud_credentials.client import Client as CredentialClient  # noqa: E402
from alibabacloud_credentials.models import Config as CredentialConfig  # noqa: E402
from aliyunsdkcore.auth.credentials import StsTokenCredential  # noqa: E402

ROLE_ARN = "acs:ram::1234567890123456:role/interop-reader"
MIGTOP = os.environ.get("MIGTOP_BIN")


def role_client(role_arn=ROLE_ARN):
    return CredentialClient(
        CredentialConfig(
            type="ram_role_arn",
            access_key_id=KEY_ID,
            access_key_secret=SECRET,
            role_arn=role_arn,
            role_session_name="interop-session",
            role_session_expiration=3600,
            sts_endpoint=ENDPOINT,
        )
    )


def ecs_client():
    return CredentialClient(CredentialConfig(type="ecs_ram_role", proxy=ENDPOINT))


def reads_with(credential_client):
    def run():
        cred = credential_client.get_credential()
        assert cred.access_key_id.startswith("STS."), cred.access_key_id
        assert cred.security_token, "no security token"
        # New SDK (V3), the credentials client plugged in as the SDK documents it.
        cfg = open_api_models.Config(
            credential=credential_client, endpoint=HOSTPORT, protocol="http", region_id="cn-hangzhou"
        )
        total = 0
        for instance in INSTANCES:
            body = Client(cfg).describe_cloud_migration_result(
                rds_models.DescribeCloudMigrationResultRequest(dbinstance_name=instance, page_number=1, page_size=100)
            ).body
            assert body.items, body.to_map()
            total += len(body.items)
        # Legacy SDK (v1), with the same temporary credentials and their SecurityToken.
        legacy = AcsClient(
            region_id="cn-hangzhou",
            credential=StsTokenCredential(cred.access_key_id, cred.access_key_secret, cred.security_token),
            auto_retry=False,
        )
        body = json.loads(legacy.do_action_with_exception(legacy_request(INSTANCES[0])))
        assert body["TotalSize"] > 0, body
        return f"{total} tasks (V3) and {body['TotalSize']} (v1) with {cred.access_key_id[:6]}****"
    return run


def sdk_refused_role():
    # The SDK logs each failed refresh with a traceback; the check reports the outcome itself.
    logging.getLogger("credentials").setLevel(logging.CRITICAL)
    try:
        role_client("acs:ram::1234567890123456:role/denied").get_credential()
    except Exception as e:  # noqa: BLE001 - CredentialException
        text = str(e)
        assert "NoPermission" in text and "RequestId" in text, text[:300]
        return "NoPermission (HTTP 403) with a RequestId"
    raise AssertionError("the simulator let the SDK assume role/denied")


def migtop_status(env_extra, config_json=None):
    home = tempfile.mkdtemp()
    if config_json is not None:
        os.makedirs(os.path.join(home, ".aliyun"))
        path = os.path.join(home, ".aliyun", "config.json")
        with open(path, "w") as f:
            f.write(config_json)
        os.chmod(path, 0o600)
    env = {"HOME": home, "PATH": os.environ.get("PATH", "")}
    env.update(env_extra)
    out = subprocess.run(
        [MIGTOP, "status", "--endpoint", ENDPOINT, "-o", "json"] + [a for i in INSTANCES for a in ("-i", i)],
        env=env, capture_output=True, text=True, timeout=60,
    )
    return out


def migtop_reads(env_extra, config_json=None):
    def run():
        assert MIGTOP, "MIGTOP_BIN is not set"
        out = migtop_status(env_extra, config_json)
        assert out.returncode == 0, (out.returncode, out.stderr[-500:])
        doc = json.loads(out.stdout)
        total = sum(len(i["tasks"]) for i in doc["instances"])
        assert total > 0, doc
        # Neither the signing secret nor a temporary token ("CAIS...") may reach the output.
        assert SECRET not in out.stdout + out.stderr
        assert "CAIS" not in out.stdout + out.stderr
        return f"{total} tasks on {len(INSTANCES)} instances"
    return run


ROLE_PROFILE = json.dumps({
    "current": "role",
    "profiles": [{
        "name": "role", "mode": "RamRoleArn", "access_key_id": KEY_ID, "access_key_secret": SECRET,
        "ram_role_arn": ROLE_ARN, "ram_session_name": "migtop-interop", "expired_seconds": 900,
    }],
})
ECS_PROFILE = json.dumps({"current": "ecs", "profiles": [{"name": "ecs", "mode": "EcsRamRole"}]})

check("credentials SDK: RamRoleArn at the simulator's STS, both RDS SDKs read with it", reads_with(role_client()))
check("credentials SDK: EcsRamRole from the simulator's metadata service, both RDS SDKs read with it", reads_with(ecs_client()))
check("credentials SDK: a refused role is NoPermission", sdk_refused_role)
check(
    "migtop status: RamRoleArn profile through the simulator's STS",
    migtop_reads({"ALIBABA_CLOUD_STS_ENDPOINT": ENDPOINT}, ROLE_PROFILE),
)
check(
    "migtop status: EcsRamRole profile through the simulator's metadata service",
    migtop_reads({"MIGTOP_ECS_METADATA_ENDPOINT": ENDPOINT}, ECS_PROFILE),
)

if failures:
    print(f"interop: FAIL ({len(failures)} of the checks failed)")
    sys.exit(1)
print("interop: PASS")
