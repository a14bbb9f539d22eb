#!/usr/bin/env python3
"""rdsca CA rotation rehearsal with boto3.

A whole rotation through a real client, against a FRESH rdsca started with
--transition-delay 1s (the clock is moved with POST /_rdsca/clock/advance, so
the server must be this rehearsal's alone):

  override rds-ca-rsa4096-g1 -> create a postgres instance (it gets the override)
  -> waiter db_instance_available -> defer a rotation to rds-ca-ecc384-g1
  (ApplyImmediately=False) -> reboot (the CA does not change, the rotation stays
  pending) -> advance the clock 8 days, past the maintenance window -> the CA
  is rotated, its server certificate valid a year from the window start
  -> DescribeDBEngineVersions -> delete -> waiter db_instance_deleted.

The client is configured ONLY through AWS_ENDPOINT_URL_RDS (no endpoint_url
argument); the admin endpoint is reached at the same base URL. Against a strict
server (RDSCA_STRICT=1) the admin calls are signed with botocore's SigV4Auth
(service "rds", the session's credentials), and the rehearsal first checks that
unsigned and wrongly signed admin calls are refused and change nothing.

Environment:
  AWS_ENDPOINT_URL_RDS   required, e.g. http://127.0.0.1:8080
  AWS_ACCESS_KEY_ID      the account (a 12-digit key is the account id); default 101010101010
  AWS_SECRET_ACCESS_KEY  any value (open mode), the key's secret (strict mode)
  RDSCA_ACCOUNT          the account the instance ARN must name; default AWS_ACCESS_KEY_ID
                         (open mode); in strict mode the credentials file's account of the key
  AWS_DEFAULT_REGION     must be us-east-1
  RDSCA_TRANSITION_DELAY seconds the server's --transition-delay is; default 1
  RDSCA_STRICT           1: the server runs --auth strict: sign the admin calls, and check
                         that unsigned ones are refused

Exits 0 when every assertion holds, 1 with a FAIL line on the first mismatch.
"""

import datetime
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import WaiterError

import rdsca_check
from rdsca_check import ENDPOINT, Mismatch, check, eq, step

UTC = datetime.timezone.utc
KEY = os.environ.get("AWS_ACCESS_KEY_ID", "101010101010")
ACCOUNT = os.environ.get("RDSCA_ACCOUNT") or KEY
SECRET = os.environ.get("AWS_SECRET_ACCESS_KEY", "secret")
REGION = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
DELAY = float(os.environ.get("RDSCA_TRANSITION_DELAY", "1"))
STRICT = os.environ.get("RDSCA_STRICT") == "1"
SESSION = rdsca_check.session(KEY, SECRET, REGION)
DB = "rehearsal-boto3"
G1 = ["rds-ca-ecc384-g1", "rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1"]
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]  # datetime.weekday() order


def add_years(t, n):
    """Calendar years, as the server computes a server certificate's expiry."""
    try:
        return t.replace(year=t.year + n)
    except ValueError:  # 29 February
        return t.replace(year=t.year + n, month=3, day=1)


def admin_send(method, path, body=None, credentials=None):
    """Sends an admin request, signed with SigV4 (service "rds") when credentials are
    given; returns the status, Content-Type and decoded JSON body."""
    data = b"" if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if credentials is not None:
        req = AWSRequest(method=method, url=ENDPOINT + path, data=data, headers=headers)
        SigV4Auth(credentials, "rds", REGION).add_auth(req)
        headers = dict(req.headers.items())
    req = urllib.request.Request(ENDPOINT + path, data=data or None, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers.get("Content-Type"), json.loads(r.read())
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.headers.get("Content-Type"), json.loads(e.read())


def admin(method, path, body=None):
    """An admin call that must succeed; signed with the session's credentials against a
    strict server. Returns the clock it answers."""
    creds = SESSION.get_credentials() if STRICT else None
    status, ctype, v = admin_send(method, path, body, creds)
    eq(status, 200, f"{method} {path} status ({v})")
    eq(ctype, "application/json", f"{method} {path} Content-Type")
    return datetime.datetime.fromisoformat(v["now"].replace("Z", "+00:00"))


def expect_admin_refused(method, path, body, credentials, code, status):
    got, ctype, v = admin_send(method, path, body, credentials)
    eq((got, v.get("code")), (status, code), f"{method} {path}: status and code ({v})")
    eq(ctype, "application/json", f"{method} {path} Content-Type")
    check(v.get("error"), f"{method} {path}: no error message in {v}")
    print(f"    ok: {method} {path} -> {code} ({status})", flush=True)


def strict_admin_refusals(c):
    """A strict server's admin endpoints refuse unsigned and wrongly signed calls, and
    those change nothing."""
    before = clock_now()
    expect_admin_refused("GET", "/_rdsca/clock", None, None, "MissingAuthenticationToken", 403)
    expect_admin_refused("POST", "/_rdsca/clock/advance", {"days": 8}, None, "MissingAuthenticationToken", 403)
    expect_admin_refused("POST", "/_rdsca/reset", None, None, "MissingAuthenticationToken", 403)
    expect_admin_refused("POST", "/moto-api/reset", None, None, "MissingAuthenticationToken", 403)
    expect_admin_refused("POST", "/_rdsca/clock/advance", {"days": 8}, Credentials(KEY, SECRET + "-wrong"),
                         "SignatureDoesNotMatch", 403)
    expect_admin_refused("POST", "/_rdsca/reset", None, Credentials("AKIARDSCANOSUCHKEY00", SECRET),
                         "InvalidClientTokenId", 403)
    after = clock_now()
    check(datetime.timedelta(0) <= after - before < datetime.timedelta(seconds=30),
          f"refused calls moved the clock from {before} to {after}")
    eq(c.describe_certificates()["DefaultCertificateForNewLaunches"], "rds-ca-rsa4096-g1",
       "DefaultCertificateForNewLaunches after refused resets")


def clock_now():
    return admin("GET", "/_rdsca/clock")


def next_window_start(window, after):
    """First start of ddd:hh24:mi-ddd:hh24:mi strictly after `after`."""
    m = re.fullmatch(r"(\w{3}):(\d\d):(\d\d)-(\w{3}):(\d\d):(\d\d)", window)
    check(m, f"PreferredMaintenanceWindow {window!r} is not ddd:hh24:mi-ddd:hh24:mi")
    wd, h, mi = WEEKDAYS.index(m.group(1)), int(m.group(2)), int(m.group(3))
    for d in range(8):
        day = (after + datetime.timedelta(days=d)).replace(hour=h, minute=mi, second=0, microsecond=0)
        if day.weekday() == wd and day > after:
            return day
    raise Mismatch(f"no start of {window} after {after}")


def client():
    return rdsca_check.rds_client(SESSION)


def expect_error(fn, code, status, what, **kwargs):
    return rdsca_check.expect_error(fn, code, status, what, say_ok=True, **kwargs)


def describe(c):
    r = c.describe_db_instances(DBInstanceIdentifier=DB)
    eq(len(r["DBInstances"]), 1, "number of instances")
    return r["DBInstances"][0]


def check_instance(d, status, ca, pending_ca=None):
    eq(d.get("DBInstanceIdentifier"), DB, "DBInstanceIdentifier")
    eq(d.get("DBInstanceStatus"), status, "DBInstanceStatus")
    eq(d.get("Engine"), "postgres", "Engine")
    eq(d.get("DBInstanceArn"), f"arn:aws:rds:us-east-1:{ACCOUNT}:db:{DB}", "DBInstanceArn")
    check(re.fullmatch(r"db-[A-Z2-7]{26}", d.get("DbiResourceId", "")), f"DbiResourceId {d.get('DbiResourceId')!r}")
    eq(d.get("CACertificateIdentifier"), ca, "CACertificateIdentifier")
    pmv = d.get("PendingModifiedValues")
    check(isinstance(pmv, dict), f"no PendingModifiedValues in {d!r}")
    eq(pmv.get("CACertificateIdentifier"), pending_ca, "PendingModifiedValues.CACertificateIdentifier")
    if status == "creating":
        check("Endpoint" not in d, f"creating: Endpoint {d.get('Endpoint')!r}")
        check("InstanceCreateTime" not in d, "creating: InstanceCreateTime present")
        eq(d.get("CertificateDetails"), {"CAIdentifier": ca}, "creating: CertificateDetails (CAIdentifier only)")
        eq(pmv.get("MasterUserPassword"), "****", "creating: PendingModifiedValues.MasterUserPassword")
    elif status == "deleting":
        check("CertificateDetails" not in d, f"deleting: CertificateDetails {d.get('CertificateDetails')!r}")
        check(d.get("Endpoint", {}).get("Address"), "deleting: no Endpoint")
    else:
        e = d.get("Endpoint") or {}
        check(re.fullmatch(DB + r"\.c[a-z0-9]{11}\.us-east-1\.rds\.amazonaws\.com", e.get("Address", "")),
              f"Endpoint.Address {e.get('Address')!r}")
        eq(e.get("Port"), 5432, "Endpoint.Port")
        eq(e.get("HostedZoneId"), "Z2R2ITUGPM61AM", "Endpoint.HostedZoneId")
        ct = d.get("InstanceCreateTime")
        check(isinstance(ct, datetime.datetime) and ct.tzinfo is not None, f"InstanceCreateTime {ct!r}")
        cd = d.get("CertificateDetails") or {}
        eq(cd.get("CAIdentifier"), ca, "CertificateDetails.CAIdentifier")
        check(isinstance(cd.get("ValidTill"), datetime.datetime), f"CertificateDetails.ValidTill {cd.get('ValidTill')!r}")
    return d


def wait(c, name, **cfg):
    t = time.monotonic()
    try:
        c.get_waiter(name).wait(DBInstanceIdentifier=DB, WaiterConfig={"Delay": 0.5, "MaxAttempts": 60, **cfg})
    except WaiterError as e:
        raise Mismatch(f"waiter {name}: {e}")
    print(f"    waiter {name} done in {time.monotonic() - t:.1f}s", flush=True)


def run():
    eq(REGION, "us-east-1", "AWS_DEFAULT_REGION")
    c = client()

    step("override rds-ca-rsa4096-g1")
    r = c.modify_certificates(CertificateIdentifier="rds-ca-rsa4096-g1")
    eq(r["Certificate"]["CertificateIdentifier"], "rds-ca-rsa4096-g1", "ModifyCertificates id")
    eq(r["Certificate"]["CustomerOverride"], True, "CustomerOverride")
    eq(c.describe_certificates()["DefaultCertificateForNewLaunches"], "rds-ca-rsa4096-g1", "DefaultCertificateForNewLaunches")

    if STRICT:
        step("strict: admin calls unsigned or wrongly signed are refused and change nothing")
        strict_admin_refusals(c)

    step("create-db-instance postgres: creating, on the override")
    t_create = clock_now()
    r = c.create_db_instance(DBInstanceIdentifier=DB, DBInstanceClass="db.t3.micro", Engine="postgres",
                             MasterUsername="admin", MasterUserPassword="secret-password", AllocatedStorage=20)
    check_instance(r["DBInstance"], "creating", "rds-ca-rsa4096-g1")
    expect_error(c.create_db_instance, "DBInstanceAlreadyExists", 400, "create again",
                 DBInstanceIdentifier=DB, DBInstanceClass="db.t3.micro", Engine="postgres",
                 MasterUsername="admin", MasterUserPassword="secret-password", AllocatedStorage=20)

    step("waiter db_instance_available")
    wait(c, "db_instance_available")
    d = check_instance(describe(c), "available", "rds-ca-rsa4096-g1")
    till = d["CertificateDetails"]["ValidTill"]
    lo, hi = add_years(t_create, 1) - datetime.timedelta(seconds=1), add_years(clock_now(), 1)
    check(lo <= till <= hi, f"ValidTill {till} not a year after creation, in [{lo}, {hi}]")
    window = d["PreferredMaintenanceWindow"]

    step("defer a rotation to rds-ca-ecc384-g1 (ApplyImmediately=False)")
    t_modify = clock_now()
    r = c.modify_db_instance(DBInstanceIdentifier=DB, CACertificateIdentifier="rds-ca-ecc384-g1", ApplyImmediately=False)
    check_instance(r["DBInstance"], "available", "rds-ca-rsa4096-g1", pending_ca="rds-ca-ecc384-g1")
    check_instance(describe(c), "available", "rds-ca-rsa4096-g1", pending_ca="rds-ca-ecc384-g1")
    r = c.describe_pending_maintenance_actions()
    eq(r["PendingMaintenanceActions"], [], "pending maintenance actions (a deferred change is not one)")

    step("reboot: the CA does not change, the rotation stays pending")
    r = c.reboot_db_instance(DBInstanceIdentifier=DB)
    check_instance(r["DBInstance"], "rebooting", "rds-ca-rsa4096-g1", pending_ca="rds-ca-ecc384-g1")
    wait(c, "db_instance_available")
    check_instance(describe(c), "available", "rds-ca-rsa4096-g1", pending_ca="rds-ca-ecc384-g1")

    step("advance the clock 8 days, past the maintenance window")
    before = clock_now()
    after = admin("POST", "/_rdsca/clock/advance", {"days": 8})
    check(datetime.timedelta(days=8) <= after - before < datetime.timedelta(days=8, seconds=30),
          f"clock moved from {before} to {after}")
    d = check_instance(describe(c), "available", "rds-ca-ecc384-g1")
    start = next_window_start(window, t_modify)
    check(start <= after, f"window start {start} not passed at {after}")
    want = add_years(start, 1)
    till = d["CertificateDetails"]["ValidTill"]
    check(want <= till <= want + datetime.timedelta(seconds=DELAY + 2),
          f"ValidTill {till}, want a year after the window start {start} (+ the {DELAY}s rotation)")
    print(f"    window {window}: started {start}, ValidTill {till}", flush=True)

    step("describe-db-engine-versions postgres")
    versions = []
    for page in c.get_paginator("describe_db_engine_versions").paginate(Engine="postgres", PaginationConfig={"PageSize": 20}):
        versions += page["DBEngineVersions"]
    check(versions, "no postgres versions")
    check(d["EngineVersion"] in [v["EngineVersion"] for v in versions], f"instance's version {d['EngineVersion']} not listed")
    for v in versions:
        eq(v.get("Engine"), "postgres", "Engine")
        eq(v.get("SupportedCACertificateIdentifiers"), G1, f"postgres {v.get('EngineVersion')} SupportedCACertificateIdentifiers")
        eq(v.get("SupportsCertificateRotationWithoutRestart"), True, f"postgres {v.get('EngineVersion')} SupportsCertificateRotationWithoutRestart")
    r = c.describe_db_engine_versions(Engine="mysql", EngineVersion="5.7")
    check(r["DBEngineVersions"], "no mysql 5.7")
    for v in r["DBEngineVersions"]:
        eq(v.get("SupportsCertificateRotationWithoutRestart"), False, f"mysql {v.get('EngineVersion')} SupportsCertificateRotationWithoutRestart")

    step("delete-db-instance --skip-final-snapshot: deleting, then gone")
    r = c.delete_db_instance(DBInstanceIdentifier=DB, SkipFinalSnapshot=True)
    check_instance(r["DBInstance"], "deleting", "")
    wait(c, "db_instance_deleted")
    expect_error(c.describe_db_instances, "DBInstanceNotFound", 404, "describe after deletion", DBInstanceIdentifier=DB)

    step("cleanup: remove the override")
    c.modify_certificates(RemoveCustomerOverride=True)


def main():
    return rdsca_check.main(
        "boto3 rehearsal", "rehearsal_boto3",
        lambda: f"key {KEY}, account {ACCOUNT}{'; strict (signed admin calls)' if STRICT else ''}",
        run, passed=lambda: f"{len(rdsca_check.SEEN_URLS)} requests")


if __name__ == "__main__":
    sys.exit(main())
