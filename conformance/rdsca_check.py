"""Shared helpers of the boto3 conformance scripts (boto3_check.py, rehearsal_boto3.py,
isolation_boto3.py): step reporting, assertions, an rds client configured only through
AWS_ENDPOINT_URL_RDS whose every request URL is checked, error expectations and the
scripts' common main.

The scripts run as `python3 conformance/<script>.py`, so this module is importable
from the script's own directory.
"""

import os
import sys

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ.get("AWS_ENDPOINT_URL_RDS", "").rstrip("/")
STEP = ["start"]
SEEN_URLS = []
LABEL = ["boto3"]  # the prefix of step and FAIL lines; set by main()


class Mismatch(Exception):
    pass


def step(name):
    STEP[0] = name
    print(f"--- {LABEL[0]}: {name}", flush=True)


def check(cond, msg):
    if not cond:
        raise Mismatch(msg)


def eq(got, want, what):
    if got != want:
        raise Mismatch(f"{what}: got {got!r}, want {want!r}")


def record_url(request, **_):
    SEEN_URLS.append(request.url)
    if not request.url.startswith(ENDPOINT):
        raise Mismatch(f"request went to {request.url!r}, not to AWS_ENDPOINT_URL_RDS={ENDPOINT!r}")


def session(key, secret, region):
    return boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret, region_name=region)


def rds_client(sess, unsigned=False):
    """An rds client of the session, one attempt per call, its endpoint from
    AWS_ENDPOINT_URL_RDS alone (no endpoint_url); every request URL is recorded and
    checked against that variable."""
    cfg = Config(
        retries={"max_attempts": 1, "mode": "standard"},
        connect_timeout=60,
        read_timeout=60,
        signature_version=botocore.UNSIGNED if unsigned else None,
    )
    c = sess.client("rds", config=cfg)
    c.meta.events.register("before-send.rds", record_url)
    return c


def expect_error(fn, code, status, what, message=None, request_id=False, say_ok=False, **kwargs):
    """Calls fn(**kwargs), which must fail with the error code and HTTP status (and the
    message when given, a RequestId when request_id); returns the ClientError."""
    try:
        resp = fn(**kwargs)
    except ClientError as e:
        err = e.response.get("Error", {})
        eq(err.get("Code"), code, f"{what}: error code")
        eq(e.response.get("ResponseMetadata", {}).get("HTTPStatusCode"), status, f"{what}: HTTP status")
        if request_id:
            check(e.response.get("ResponseMetadata", {}).get("RequestId"), f"{what}: error response has no RequestId")
        if message is not None:
            eq(err.get("Message"), message, f"{what}: error message")
        if say_ok:
            print(f"    ok: {code} ({status})", flush=True)
        return e
    raise Mismatch(f"{what}: expected {code} ({status}), call succeeded: {resp!r}")


def main(label, script, banner, run, check_urls=True, passed=None):
    """Runs run() and reports PASS or the first failure as FAIL <label> [<step>]: ...
    Returns the exit code: 2 without AWS_ENDPOINT_URL_RDS, 1 on a failure (or, with
    check_urls, when no request or one not to AWS_ENDPOINT_URL_RDS was sent), 0 otherwise.
    banner and passed are callables, evaluated after the endpoint check and after run()."""
    LABEL[0] = label
    if not ENDPOINT:
        print(f"{script}: AWS_ENDPOINT_URL_RDS is not set", file=sys.stderr)
        return 2
    print(f"boto3 {boto3.__version__}, botocore {botocore.__version__}; AWS_ENDPOINT_URL_RDS={ENDPOINT}; {banner()}",
          flush=True)
    try:
        code = run()
        if code:
            return code
    except Mismatch as e:
        print(f"FAIL {label} [{STEP[0]}]: {e}", file=sys.stderr)
        return 1
    except ClientError as e:
        print(f"FAIL {label} [{STEP[0]}]: unexpected error {e.response.get('Error')} "
              f"HTTP {e.response.get('ResponseMetadata', {}).get('HTTPStatusCode')}: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # parse errors, KeyErrors from a malformed response, connection errors
        print(f"FAIL {label} [{STEP[0]}]: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    if check_urls:
        bad = [u for u in SEEN_URLS if not u.startswith(ENDPOINT)]
        if not SEEN_URLS or bad:
            print(f"FAIL {label}: requests not sent to AWS_ENDPOINT_URL_RDS: {bad or 'none sent'}", file=sys.stderr)
            return 1
    print(f"PASS {label} ({passed() if passed else f'{len(SEEN_URLS)} requests, all to AWS_ENDPOINT_URL_RDS'})",
          flush=True)
    return 0
