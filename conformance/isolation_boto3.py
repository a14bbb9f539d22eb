#!/usr/bin/env python3
"""rdsca isolation check with boto3: accounts and regions never see each other.

Against a FRESH rdsca started with --clock 2024-07-01T00:00:00Z and
--transition-delay 0 (rds-ca-2019 is still listed, its instances have a
pending ca-certificate-rotation; changes are immediate). Three callers:
A in us-east-1, B (another account) in us-east-1, and A in eu-west-1.

  - A's override is not B's nor A-west's;
  - the same instance identifier in the three scopes makes three instances,
    each with its own scope's default CA and ARN;
  - A's instances cannot be described, filtered, modified, rebooted or
    deleted from the other scopes, by identifier or by ARN;
  - pending maintenance is per scope: other scopes cannot see or opt in to
    A's, and B's immediate rotation goes to B's default, not A's override;
  - in strict mode (RDSCA_ISO_STRICT=1) A's key signed with another secret is
    refused with SignatureDoesNotMatch and changes nothing.

The client is configured ONLY through AWS_ENDPOINT_URL_RDS.

Environment:
  AWS_ENDPOINT_URL_RDS        required
  RDSCA_ISO_A_KEY / _SECRET / _ACCOUNT   caller A (default 121212121212, any secret, the key)
  RDSCA_ISO_B_KEY / _SECRET / _ACCOUNT   caller B (default 343434343434, any secret, the key)
  RDSCA_ISO_STRICT            1 when the server runs --auth strict

Exits 0 when every assertion holds, 1 with a FAIL line on the first mismatch.
"""

import os
import sys

import rdsca_check
from rdsca_check import check, eq, step

A_KEY = os.environ.get("RDSCA_ISO_A_KEY", "121212121212")
A_SECRET = os.environ.get("RDSCA_ISO_A_SECRET", "secret-a")
A_ACCOUNT = os.environ.get("RDSCA_ISO_A_ACCOUNT", A_KEY)
B_KEY = os.environ.get("RDSCA_ISO_B_KEY", "343434343434")
B_SECRET = os.environ.get("RDSCA_ISO_B_SECRET", "secret-b")
B_ACCOUNT = os.environ.get("RDSCA_ISO_B_ACCOUNT", B_KEY)
STRICT = os.environ.get("RDSCA_ISO_STRICT") == "1"

ECC384, RSA2048, RSA4096, CA2019 = "rds-ca-ecc384-g1", "rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1", "rds-ca-2019"
ROTATION = "ca-certificate-rotation"
SAME, OWN, OLD = "same-name", "only-a", "on-2019"


class Caller:
    def __init__(self, name, key, secret, account, region):
        self.name, self.account, self.region = name, account, region
        # the endpoint comes from AWS_ENDPOINT_URL_RDS
        self.c = rdsca_check.rds_client(rdsca_check.session(key, secret, region))

    def arn(self, db):
        return f"arn:aws:rds:{self.region}:{self.account}:db:{db}"


expect_error = rdsca_check.expect_error


def override(caller):
    r = caller.c.describe_certificates()
    ov = [c["CertificateIdentifier"] for c in r["Certificates"] if c["CustomerOverride"]]
    check(len(ov) <= 1, f"{caller.name}: several overrides {ov}")
    default = r.get("DefaultCertificateForNewLaunches")
    if ov:
        eq(default, ov[0], f"{caller.name}: DefaultCertificateForNewLaunches with an override")
        return ov[0]
    return None


def ids(caller):
    out = []
    for page in caller.c.get_paginator("describe_db_instances").paginate(PaginationConfig={"PageSize": 20}):
        out.extend(d["DBInstanceIdentifier"] for d in page["DBInstances"])
    return out


def describe(caller, db):
    r = caller.c.describe_db_instances(DBInstanceIdentifier=db)
    eq(len(r["DBInstances"]), 1, f"{caller.name}: describe {db}")
    return r["DBInstances"][0]


def create(caller, db, ca=None):
    kw = dict(DBInstanceIdentifier=db, DBInstanceClass="db.t3.micro", Engine="postgres",
              MasterUsername="admin", MasterUserPassword="secret-password", AllocatedStorage=20)
    if ca:
        kw["CACertificateIdentifier"] = ca
    d = caller.c.create_db_instance(**kw)["DBInstance"]
    eq(d["DBInstanceArn"], caller.arn(db), f"{caller.name}: ARN of {db}")
    return d


def pending(caller, **kw):
    out = {}
    for page in caller.c.get_paginator("describe_pending_maintenance_actions").paginate(**kw):
        for r in page["PendingMaintenanceActions"]:
            out[r["ResourceIdentifier"]] = r["PendingMaintenanceActionDetails"]
    return out


def want_pending(caller, arns):
    got = pending(caller)
    eq(sorted(got), sorted(arns), f"{caller.name}: resources with pending maintenance")
    for arn, acts in got.items():
        eq([a["Action"] for a in acts], [ROTATION], f"{caller.name}: actions of {arn}")
    return got


def run():
    a = Caller("A/us-east-1", A_KEY, A_SECRET, A_ACCOUNT, "us-east-1")
    b = Caller("B/us-east-1", B_KEY, B_SECRET, B_ACCOUNT, "us-east-1")
    a_west = Caller("A/eu-west-1", A_KEY, A_SECRET, A_ACCOUNT, "eu-west-1")
    others = [b, a_west]

    step("overrides are per account and region")
    for c in (a, b, a_west):
        eq(override(c), None, f"{c.name}: override on a fresh server")
    a.c.modify_certificates(CertificateIdentifier=RSA4096)
    eq(override(a), RSA4096, "A's override")
    for c in others:
        eq(override(c), None, f"{c.name}: override after A set one")

    step("the same identifier in three scopes is three instances")
    for c in (a, b, a_west):
        create(c, SAME)
    create(a, OWN)
    eq(ids(a), [OWN, SAME], "A's instances")
    eq(ids(b), [SAME], "B's instances")
    eq(ids(a_west), [SAME], "A-west's instances")
    for c, ca in ((a, RSA4096), (b, RSA2048), (a_west, RSA2048)):
        eq(describe(c, SAME)["CACertificateIdentifier"], ca, f"{c.name}: CA of {SAME} (its scope's default)")
    check(describe(a, SAME)["DbiResourceId"] != describe(b, SAME)["DbiResourceId"], "two accounts' instances share a DbiResourceId")

    step("A's instances are out of the other scopes' reach")
    for c in others:
        for db in (OWN, a.arn(OWN), a.arn(SAME)):
            expect_error(c.c.describe_db_instances, "DBInstanceNotFound", 404, f"{c.name}: describe {db}", DBInstanceIdentifier=db)
        r = c.c.describe_db_instances(Filters=[{"Name": "db-instance-id", "Values": [a.arn(OWN), a.arn(SAME)]}])
        eq(r["DBInstances"], [], f"{c.name}: filter on A's ARNs")
        for db in (OWN, a.arn(OWN)):
            expect_error(c.c.modify_db_instance, "DBInstanceNotFound", 404, f"{c.name}: modify {db}",
                         DBInstanceIdentifier=db, CACertificateIdentifier=ECC384, ApplyImmediately=True)
            expect_error(c.c.reboot_db_instance, "DBInstanceNotFound", 404, f"{c.name}: reboot {db}", DBInstanceIdentifier=db)
            expect_error(c.c.delete_db_instance, "DBInstanceNotFound", 404, f"{c.name}: delete {db}",
                         DBInstanceIdentifier=db, SkipFinalSnapshot=True)
    d = describe(a, OWN)
    eq((d["DBInstanceStatus"], d["CACertificateIdentifier"]), ("available", RSA4096), f"A's {OWN} after the others' attempts")

    step("writes to the same identifier elsewhere leave A's alone")
    b.c.modify_db_instance(DBInstanceIdentifier=SAME, CACertificateIdentifier=ECC384, ApplyImmediately=True)
    a_west.c.delete_db_instance(DBInstanceIdentifier=SAME, SkipFinalSnapshot=True)
    eq(describe(b, SAME)["CACertificateIdentifier"], ECC384, f"B's {SAME} after its rotation")
    eq(describe(a, SAME)["CACertificateIdentifier"], RSA4096, f"A's {SAME} after B's rotation")
    eq(ids(a), [OWN, SAME], "A's instances after A-west's delete")
    eq(ids(a_west), [], "A-west's instances after its delete")

    step("pending maintenance is per scope")
    for c in (a, b, a_west):
        create(c, OLD, CA2019)
    for c in (a, b, a_west):
        acts = want_pending(c, [c.arn(OLD)])
        check("OptInStatus" not in acts[c.arn(OLD)][0], f"{c.name}: an opt-in nobody made")
    for c in others:
        eq(pending(c, ResourceIdentifier=a.arn(OLD)), {}, f"{c.name}: A's pending maintenance by ARN")
        for opt in ("immediate", "next-maintenance", "undo-opt-in"):
            expect_error(c.c.apply_pending_maintenance_action, "ResourceNotFoundFault", 404, f"{c.name}: opt in {opt} to A's",
                         ResourceIdentifier=a.arn(OLD), ApplyAction=ROTATION, OptInType=opt)
    a.c.apply_pending_maintenance_action(ResourceIdentifier=a.arn(OLD), ApplyAction=ROTATION, OptInType="next-maintenance")
    eq(want_pending(a, [a.arn(OLD)])[a.arn(OLD)][0].get("OptInStatus"), "next-maintenance", "A's opt-in")
    for c in others:
        check("OptInStatus" not in want_pending(c, [c.arn(OLD)])[c.arn(OLD)][0], f"{c.name}: sees A's opt-in")
    b.c.apply_pending_maintenance_action(ResourceIdentifier=b.arn(OLD), ApplyAction=ROTATION, OptInType="immediate")
    eq(describe(b, OLD)["CACertificateIdentifier"], RSA2048, "B's rotation target (B's default, not A's override)")
    want_pending(b, [])
    eq(describe(a, OLD)["CACertificateIdentifier"], CA2019, f"A's {OLD} after B's rotation")
    eq(want_pending(a, [a.arn(OLD)])[a.arn(OLD)][0].get("OptInStatus"), "next-maintenance", "A's opt-in after B's rotation")
    want_pending(a_west, [a_west.arn(OLD)])

    if STRICT:
        step("strict mode: A's key with another secret is refused and changes nothing")
        forged = Caller("A's key, B's secret", A_KEY, B_SECRET, A_ACCOUNT, "us-east-1")
        expect_error(forged.c.modify_certificates, "SignatureDoesNotMatch", 403, "forged ModifyCertificates", RemoveCustomerOverride=True)
        expect_error(forged.c.delete_db_instance, "SignatureDoesNotMatch", 403, "forged DeleteDBInstance",
                     DBInstanceIdentifier=OWN, SkipFinalSnapshot=True)
        claimed = Caller("A's account id as a key", A_ACCOUNT, B_SECRET, A_ACCOUNT, "us-east-1")
        expect_error(claimed.c.describe_db_instances, "InvalidClientTokenId", 403, "account id as an access key")
        eq(ids(a), [OLD, OWN, SAME], "A's instances after the forged calls")

    step("overrides unchanged")
    eq(override(a), RSA4096, "A's override at the end")
    for c in others:
        eq(override(c), None, f"{c.name}: override at the end")


def main():
    return rdsca_check.main("isolation boto3", "isolation_boto3",
                            lambda: f"A={A_ACCOUNT} B={B_ACCOUNT} strict={STRICT}", run, check_urls=False)


if __name__ == "__main__":
    sys.exit(main())
