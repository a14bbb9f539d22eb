#!/usr/bin/env python3
"""rdsca conformance check with boto3.

The client is configured ONLY through the AWS_ENDPOINT_URL_RDS environment
variable: no endpoint_url argument is passed anywhere. Every request's URL is
checked against that variable, so a client that silently ignored it would fail
here rather than talk to something else.

Environment:
  AWS_ENDPOINT_URL_RDS   required, e.g. http://127.0.0.1:8080
  AWS_ACCESS_KEY_ID      primary account's key (open mode: a 12-digit key is the account id;
                         strict mode: a key of the server's credentials file); default 111111111111
  AWS_SECRET_ACCESS_KEY  any value in open mode, the key's secret in strict mode; default "secret"
  AWS_DEFAULT_REGION     primary region; must be us-east-1 (expected values are us-east-1's)
  RDSCA_SECOND_ACCOUNT   the key of the account used for the isolation checks; default 222222222222
  RDSCA_SECOND_SECRET_ACCESS_KEY
                         its secret (strict mode); default AWS_SECRET_ACCESS_KEY
  RDSCA_STRICT           1: the server runs --auth strict; also check that a wrong secret, an
                         unknown key and an unsigned request are refused as AWS refuses them

Usage:
  boto3_check.py            full check against a server at the real clock (2024-01-25 or later)
  boto3_check.py --clock-2024
                            check for a server started with --clock 2024-01-01T00:00:00Z:
                            rds-ca-2019 is listed and is the system default

Exits 0 when every assertion holds, 1 with a message on the first mismatch.
"""

import datetime
import os
import re
import sys

import rdsca_check
from rdsca_check import ClientError, Mismatch, check, eq, step

UTC = datetime.timezone.utc


def ts(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


# Validity windows rdsca must report (from the real catalogue).
WINDOWS = {
    "us-east-1": {
        "rds-ca-2019": (ts("2019-09-19T18:16:53Z"), ts("2024-08-22T17:08:50Z")),
        "rds-ca-ecc384-g1": (ts("2021-05-25T22:41:55Z"), ts("2121-05-25T23:41:55Z")),
        "rds-ca-rsa2048-g1": (ts("2021-05-25T22:34:57Z"), ts("2061-05-25T23:34:57Z")),
        "rds-ca-rsa4096-g1": (ts("2021-05-25T22:38:35Z"), ts("2121-05-25T23:38:35Z")),
    },
    "eu-west-1": {
        "rds-ca-2019": (ts("2019-09-11T17:31:48Z"), ts("2024-08-22T17:08:50Z")),
        "rds-ca-ecc384-g1": (ts("2021-05-20T16:58:07Z"), ts("2121-05-20T17:58:07Z")),
        "rds-ca-rsa2048-g1": (ts("2021-05-20T16:49:12Z"), ts("2061-05-20T17:49:12Z")),
        "rds-ca-rsa4096-g1": (ts("2021-05-20T16:53:54Z"), ts("2121-05-20T17:53:54Z")),
    },
}
CURRENT_IDS = ["rds-ca-ecc384-g1", "rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1"]
CLOCK2024_IDS = ["rds-ca-2019"] + CURRENT_IDS
THUMB_RE = re.compile(r"^[0-9a-f]{40}$")

PRIMARY = os.environ.get("AWS_ACCESS_KEY_ID", "111111111111")
SECRET = os.environ.get("AWS_SECRET_ACCESS_KEY", "secret")
REGION = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
SECOND = os.environ.get("RDSCA_SECOND_ACCOUNT", "222222222222")
SECOND_SECRET = os.environ.get("RDSCA_SECOND_SECRET_ACCESS_KEY") or SECRET
STRICT = os.environ.get("RDSCA_STRICT") == "1"


def client(account, region, secret=None, unsigned=False):
    return rdsca_check.rds_client(rdsca_check.session(account, secret or SECRET, region), unsigned=unsigned)


def expect_error(fn, code, status, what, message=None, **kwargs):
    return rdsca_check.expect_error(fn, code, status, what, message=message, request_id=True, **kwargs)


def describe_all(c, page_size=20):
    """All certificates through the paginator; returns (certs, default)."""
    pages = list(
        c.get_paginator("describe_certificates").paginate(
            PaginationConfig={"PageSize": page_size}
        )
    )
    check(pages, "paginator returned no page")
    certs = []
    defaults = set()
    for p in pages:
        eq(p["ResponseMetadata"]["HTTPStatusCode"], 200, "describe page HTTP status")
        certs.extend(p.get("Certificates", []))
        defaults.add(p.get("DefaultCertificateForNewLaunches"))
    eq(len(defaults), 1, "DefaultCertificateForNewLaunches differs between pages")
    check("Marker" not in pages[-1], f"last page carries a Marker: {pages[-1].get('Marker')!r}")
    return certs, defaults.pop(), pages


def check_cert(cert, region, override_id):
    cid = cert.get("CertificateIdentifier")
    check(cid in WINDOWS[region], f"unexpected certificate {cid!r} in {region}")
    eq(cert.get("CertificateType"), "CA", f"{cid} CertificateType")
    tp = cert.get("Thumbprint")
    check(isinstance(tp, str) and THUMB_RE.match(tp), f"{cid} Thumbprint {tp!r} is not 40 lowercase hex digits")
    eq(cert.get("CertificateArn"), f"arn:aws:rds:{region}::cert:{cid}", f"{cid} CertificateArn")
    vf, vt = cert.get("ValidFrom"), cert.get("ValidTill")
    for name, v in (("ValidFrom", vf), ("ValidTill", vt)):
        check(isinstance(v, datetime.datetime), f"{cid} {name} is {type(v).__name__}, not datetime: {v!r}")
        check(v.tzinfo is not None and v.utcoffset() == datetime.timedelta(0), f"{cid} {name} {v!r} is not tz-aware UTC")
    eq((vf, vt), WINDOWS[region][cid], f"{cid} ({region}) ValidFrom/ValidTill")
    co = cert.get("CustomerOverride")
    check(isinstance(co, bool), f"{cid} CustomerOverride missing or not a bool: {co!r}")
    if cid == override_id:
        eq(co, True, f"{cid} CustomerOverride (the overridden cert)")
        check("CustomerOverrideValidTill" in cert, f"{cid} is overridden but has no CustomerOverrideValidTill")
        eq(cert["CustomerOverrideValidTill"], vt, f"{cid} CustomerOverrideValidTill (must equal ValidTill)")
        check(cert["CustomerOverrideValidTill"].tzinfo is not None, f"{cid} CustomerOverrideValidTill not tz-aware")
    else:
        eq(co, False, f"{cid} CustomerOverride")
        check(
            "CustomerOverrideValidTill" not in cert,
            f"{cid} is not overridden but has CustomerOverrideValidTill={cert.get('CustomerOverrideValidTill')!r}",
        )


def check_listing(c, region, ids, default, override_id):
    certs, got_default, _ = describe_all(c)
    eq([x.get("CertificateIdentifier") for x in certs], ids, f"{region} certificate ids (sorted)")
    for cert in certs:
        check_cert(cert, region, override_id)
    eq(sum(1 for x in certs if x["CustomerOverride"]), 1 if override_id else 0, f"{region} number of CustomerOverride=true")
    eq(got_default, default, f"{region} DefaultCertificateForNewLaunches")
    thumbs = [x["Thumbprint"] for x in certs]
    eq(len(set(thumbs)), len(thumbs), f"{region} thumbprints are not distinct")
    return {x["CertificateIdentifier"]: x for x in certs}


def run_current():
    eq(REGION, "us-east-1", "AWS_DEFAULT_REGION (expected values are us-east-1's)")
    check(PRIMARY != SECOND, f"primary account {PRIMARY} equals second account {SECOND}")
    a = client(PRIMARY, "us-east-1")
    b = client(SECOND, "us-east-1", SECOND_SECRET)
    a_eu = client(PRIMARY, "eu-west-1")

    step("reset: remove any override left by an earlier run")
    a.modify_certificates(RemoveCustomerOverride=True)

    step("describe all (paginator, PageSize 20)")
    certs = check_listing(a, "us-east-1", CURRENT_IDS, "rds-ca-rsa2048-g1", None)

    step("describe all (single call, no MaxRecords): same answer, RequestId present")
    r = a.describe_certificates()
    eq([x["CertificateIdentifier"] for x in r["Certificates"]], CURRENT_IDS, "single-call ids")
    eq(r.get("DefaultCertificateForNewLaunches"), "rds-ca-rsa2048-g1", "single-call default")
    check("Marker" not in r, f"single call returned a Marker {r.get('Marker')!r} for 3 certificates")
    check(r["ResponseMetadata"].get("RequestId"), "no RequestId in ResponseMetadata")
    eq({x["CertificateIdentifier"]: x["Thumbprint"] for x in r["Certificates"]},
       {k: v["Thumbprint"] for k, v in certs.items()}, "thumbprints stable between calls")

    step("MaxRecords bounds 20 and 100 are accepted")
    for n in (20, 100):
        r = a.describe_certificates(MaxRecords=n)
        eq(len(r["Certificates"]), 3, f"MaxRecords={n} certificate count")

    step("describe one by id in UPPER case")
    r = a.describe_certificates(CertificateIdentifier="RDS-CA-RSA4096-G1")
    eq(len(r["Certificates"]), 1, "describe one: count")
    one = r["Certificates"][0]
    eq(one["CertificateIdentifier"], "rds-ca-rsa4096-g1", "describe one: canonical lowercase id")
    check_cert(one, "us-east-1", None)
    eq(one["Thumbprint"], certs["rds-ca-rsa4096-g1"]["Thumbprint"], "describe one: thumbprint")

    step("unknown id -> CertificateNotFound 404")
    expect_error(a.describe_certificates, "CertificateNotFound", 404, "describe unknown id",
                     message="Certificate rds-ca-nope-g9 not found", CertificateIdentifier="rds-ca-nope-g9")
    try:
        a.describe_certificates(CertificateIdentifier="rds-ca-nope-g9")
    except a.exceptions.CertificateNotFoundFault:
        pass  # botocore maps the code to the modeled fault class
    except ClientError as e2:
        raise Mismatch(f"unknown id raised {type(e2).__name__}, not CertificateNotFoundFault")
    expect_error(a.describe_certificates, "CertificateNotFound", 404, "describe expired rds-ca-2019",
                 message="Certificate rds-ca-2019 not found", CertificateIdentifier="rds-ca-2019")
    expect_error(a.modify_certificates, "CertificateNotFound", 404, "modify to unknown id",
                 CertificateIdentifier="rds-ca-nope-g9")

    step("MaxRecords 19 / 101 -> InvalidParameterValue 400")
    for n in (19, 101):
        expect_error(a.describe_certificates, "InvalidParameterValue", 400, f"MaxRecords={n}", MaxRecords=n)
    step("invalid Marker -> InvalidParameterValue 400")
    expect_error(a.describe_certificates, "InvalidParameterValue", 400, "invalid Marker",
                 Marker="this-is-not-a-marker")

    step("set override (mixed case id)")
    r = a.modify_certificates(CertificateIdentifier="RDS-CA-Ecc384-G1")
    eq(r["ResponseMetadata"]["HTTPStatusCode"], 200, "modify HTTP status")
    cert = r.get("Certificate")
    check(cert, f"ModifyCertificates returned no Certificate: {r!r}")
    eq(cert.get("CertificateIdentifier"), "rds-ca-ecc384-g1", "modify: returned id")
    check_cert(cert, "us-east-1", "rds-ca-ecc384-g1")
    eq(cert["Thumbprint"], certs["rds-ca-ecc384-g1"]["Thumbprint"], "modify: thumbprint")

    step("describe after override: exactly one CustomerOverride=true, default = override")
    check_listing(a, "us-east-1", CURRENT_IDS, "rds-ca-ecc384-g1", "rds-ca-ecc384-g1")
    r = a.describe_certificates(CertificateIdentifier="rds-ca-ecc384-g1")
    check_cert(r["Certificates"][0], "us-east-1", "rds-ca-ecc384-g1")
    eq(r.get("DefaultCertificateForNewLaunches"), "rds-ca-ecc384-g1", "describe one: default after override")

    step("set the same override again (idempotent)")
    r = a.modify_certificates(CertificateIdentifier="rds-ca-ecc384-g1")
    check_cert(r["Certificate"], "us-east-1", "rds-ca-ecc384-g1")
    check_listing(a, "us-east-1", CURRENT_IDS, "rds-ca-ecc384-g1", "rds-ca-ecc384-g1")

    step("both / neither / RemoveCustomerOverride=false alone -> InvalidParameterCombination 400")
    expect_error(a.modify_certificates, "InvalidParameterCombination", 400, "modify with both",
                 CertificateIdentifier="rds-ca-rsa4096-g1", RemoveCustomerOverride=True)
    expect_error(a.modify_certificates, "InvalidParameterCombination", 400, "modify with neither")
    expect_error(a.modify_certificates, "InvalidParameterCombination", 400, "modify RemoveCustomerOverride=false",
                 RemoveCustomerOverride=False)
    check_listing(a, "us-east-1", CURRENT_IDS, "rds-ca-ecc384-g1", "rds-ca-ecc384-g1")

    step(f"isolation between accounts ({PRIMARY} vs {SECOND})")
    b.modify_certificates(RemoveCustomerOverride=True)
    b_certs = check_listing(b, "us-east-1", CURRENT_IDS, "rds-ca-rsa2048-g1", None)
    eq({k: v["Thumbprint"] for k, v in b_certs.items()}, {k: v["Thumbprint"] for k, v in certs.items()},
       "same region, other account: thumbprints (the CAs are regional)")
    r = b.modify_certificates(CertificateIdentifier="rds-ca-rsa4096-g1")
    check_cert(r["Certificate"], "us-east-1", "rds-ca-rsa4096-g1")
    check_listing(b, "us-east-1", CURRENT_IDS, "rds-ca-rsa4096-g1", "rds-ca-rsa4096-g1")
    check_listing(a, "us-east-1", CURRENT_IDS, "rds-ca-ecc384-g1", "rds-ca-ecc384-g1")

    step("isolation between regions (us-east-1 vs eu-west-1)")
    a_eu.modify_certificates(RemoveCustomerOverride=True)
    eu = check_listing(a_eu, "eu-west-1", CURRENT_IDS, "rds-ca-rsa2048-g1", None)
    for cid in CURRENT_IDS:
        check(eu[cid]["Thumbprint"] != certs[cid]["Thumbprint"],
              f"{cid}: eu-west-1 and us-east-1 have the same thumbprint {certs[cid]['Thumbprint']}")
    r = a_eu.modify_certificates(CertificateIdentifier="rds-ca-rsa4096-g1")
    check_cert(r["Certificate"], "eu-west-1", "rds-ca-rsa4096-g1")
    check_listing(a_eu, "eu-west-1", CURRENT_IDS, "rds-ca-rsa4096-g1", "rds-ca-rsa4096-g1")
    check_listing(a, "us-east-1", CURRENT_IDS, "rds-ca-ecc384-g1", "rds-ca-ecc384-g1")

    step("remove override -> system default back, all CustomerOverride=false")
    r = a.modify_certificates(RemoveCustomerOverride=True)
    cert = r.get("Certificate")
    check(cert, f"remove override returned no Certificate: {r!r}")
    eq(cert.get("CertificateIdentifier"), "rds-ca-rsa2048-g1", "remove override: returned id (system default)")
    check_cert(cert, "us-east-1", None)
    check_listing(a, "us-east-1", CURRENT_IDS, "rds-ca-rsa2048-g1", None)
    step("remove override again (no override set) still succeeds")
    r = a.modify_certificates(RemoveCustomerOverride=True)
    eq(r["Certificate"]["CertificateIdentifier"], "rds-ca-rsa2048-g1", "second remove: returned id")
    check_listing(a, "us-east-1", CURRENT_IDS, "rds-ca-rsa2048-g1", None)
    # the other account and region kept theirs
    check_listing(b, "us-east-1", CURRENT_IDS, "rds-ca-rsa4096-g1", "rds-ca-rsa4096-g1")
    check_listing(a_eu, "eu-west-1", CURRENT_IDS, "rds-ca-rsa4096-g1", "rds-ca-rsa4096-g1")

    step("cleanup")
    b.modify_certificates(RemoveCustomerOverride=True)
    a_eu.modify_certificates(RemoveCustomerOverride=True)
    check_listing(b, "us-east-1", CURRENT_IDS, "rds-ca-rsa2048-g1", None)
    check_listing(a_eu, "eu-west-1", CURRENT_IDS, "rds-ca-rsa2048-g1", None)


MSG_MISMATCH = ("The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")


def run_strict():
    """Strict mode refuses what AWS refuses, with AWS's codes, statuses and messages."""
    step("strict: wrong secret -> SignatureDoesNotMatch 403")
    expect_error(client(PRIMARY, "us-east-1", secret=SECRET + "-wrong").describe_certificates,
                 "SignatureDoesNotMatch", 403, "wrong secret", message=MSG_MISMATCH)
    if SECOND_SECRET != SECRET:
        step("strict: the second account's secret with the primary key -> SignatureDoesNotMatch 403")
        expect_error(client(PRIMARY, "eu-west-1", secret=SECOND_SECRET).modify_certificates,
                     "SignatureDoesNotMatch", 403, "second account's secret", message=MSG_MISMATCH,
                     RemoveCustomerOverride=True)
    step("strict: unknown access key -> InvalidClientTokenId 403")
    expect_error(client("AKIARDSCANOSUCHKEY00", "us-east-1").describe_certificates,
                 "InvalidClientTokenId", 403, "unknown key",
                 message="The security token included in the request is invalid.")
    step("strict: unsigned request -> MissingAuthenticationToken 403")
    expect_error(client(PRIMARY, "us-east-1", unsigned=True).describe_certificates,
                 "MissingAuthenticationToken", 403, "unsigned",
                 message="Request is missing Authentication Token")
    step("strict: the right secret still works")
    eq(len(client(PRIMARY, "us-east-1").describe_certificates()["Certificates"]) > 0, True, "certificates listed")


def run_clock_2024():
    eq(REGION, "us-east-1", "AWS_DEFAULT_REGION (expected values are us-east-1's)")
    a = client(PRIMARY, "us-east-1")
    step("clock 2024-01-01: reset")
    r = a.modify_certificates(RemoveCustomerOverride=True)
    eq(r["Certificate"]["CertificateIdentifier"], "rds-ca-2019", "remove override returns the 2024-01-01 system default")
    check_cert(r["Certificate"], "us-east-1", None)
    step("clock 2024-01-01: rds-ca-2019 listed and the default")
    check_listing(a, "us-east-1", CLOCK2024_IDS, "rds-ca-2019", None)
    step("clock 2024-01-01: describe RDS-CA-2019")
    r = a.describe_certificates(CertificateIdentifier="RDS-CA-2019")
    eq([x["CertificateIdentifier"] for x in r["Certificates"]], ["rds-ca-2019"], "describe one rds-ca-2019")
    check_cert(r["Certificates"][0], "us-east-1", None)
    step("clock 2024-01-01: override to rsa2048 and back")
    r = a.modify_certificates(CertificateIdentifier="rds-ca-rsa2048-g1")
    check_cert(r["Certificate"], "us-east-1", "rds-ca-rsa2048-g1")
    check_listing(a, "us-east-1", CLOCK2024_IDS, "rds-ca-rsa2048-g1", "rds-ca-rsa2048-g1")
    a.modify_certificates(RemoveCustomerOverride=True)
    check_listing(a, "us-east-1", CLOCK2024_IDS, "rds-ca-2019", None)


def run():
    if sys.argv[1:] == ["--clock-2024"]:
        run_clock_2024()
    elif sys.argv[1:]:
        print(f"usage: {sys.argv[0]} [--clock-2024]", file=sys.stderr)
        return 2
    else:
        run_current()
    if STRICT:
        run_strict()
    return 0


def banner():
    for var in ("AWS_ENDPOINT_URL",):
        if os.environ.get(var):
            print(f"boto3_check: warning: {var} is set; AWS_ENDPOINT_URL_RDS takes precedence", flush=True)
    return f"accounts {PRIMARY}/{SECOND}"


def main():
    return rdsca_check.main("boto3", "boto3_check", banner, run)


if __name__ == "__main__":
    sys.exit(main())
