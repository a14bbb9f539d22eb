#!/usr/bin/env bash
# rdsca CA rotation rehearsal with the AWS CLI (v1 or v2).
#
# A whole rotation through a real client, against a FRESH rdsca started with
# --transition-delay 1s (the clock is moved with POST /_rdsca/clock/advance, so the
# server must be this rehearsal's alone):
#
#   override rds-ca-rsa4096-g1 -> create-db-instance postgres (it gets the override)
#   -> wait db-instance-available -> modify-db-instance --ca-certificate-identifier
#   rds-ca-ecc384-g1 --no-apply-immediately -> reboot-db-instance (the CA does not
#   change, the rotation stays pending) -> advance the clock 8 days, past the
#   maintenance window -> the CA is rotated, its server certificate valid a year from
#   the window start -> describe-db-engine-versions -> delete-db-instance
#   --skip-final-snapshot -> wait db-instance-deleted.
#
# The CLI's waiters check at once and then every 30 s, so each wait is preceded by a
# sleep longer than the transition delay: the first check succeeds.
#
# Usage: conformance/rehearsal_cli.sh [AWS_BINARY]
# Environment:
#   RDSCA_ENDPOINT    the server, e.g. http://127.0.0.1:8080 (falls back to AWS_ENDPOINT_URL_RDS);
#                     passed with --endpoint-url, and the admin endpoint's base URL
#   AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
#                     open mode: a 12-digit access key id is the account id; any secret works.
#                     strict mode: a key of the server's credentials file and its secret
#   RDSCA_ACCOUNT     the account the instance ARN must name; default AWS_ACCESS_KEY_ID
#   AWS_DEFAULT_REGION  must be us-east-1
#   RDSCA_TRANSITION_DELAY  seconds the server's --transition-delay is; default 1
#   RDSCA_STRICT      1: the server runs --auth strict: the admin calls are signed (SigV4,
#                     service rds) with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY
#
# Output is requested with --output json and parsed with python3; the script stops
# with a non-zero exit and a FAIL line on the first mismatch.
set -euo pipefail

AWS_BIN=${1:-${AWS_CLI:-aws}}
ENDPOINT=${RDSCA_ENDPOINT:-${AWS_ENDPOINT_URL_RDS:-}}
ENDPOINT=${ENDPOINT%/}
REGION=${AWS_DEFAULT_REGION:-us-east-1}
DELAY=${RDSCA_TRANSITION_DELAY:-1}
DB=rehearsal-cli

export RDSCA_DB=$DB RDSCA_DELAY=$DELAY # for the python assertions

LABEL="cli rehearsal"
# shellcheck source=cli_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

# wait_for WAITER: sleep past the transition delay, then `aws rds wait WAITER`.
wait_for() {
  local t0=$SECONDS
  sleep "$(python3 -c "print($DELAY + 1)")"
  run wait "$1" --db-instance-identifier "$DB"
  [ "$RC" -eq 0 ] || fail "aws rds wait $1 exited $RC: $ERR"
  echo "    wait $1 done in $((SECONDS - t0))s"
}
# admin METHOD PATH [JSON]: call the admin endpoint; prints the clock reading. With
# RDSCA_STRICT=1 the call is signed with SigV4 (service rds), here with the standard
# library alone: the CLI's own Python need not be this python3.
admin() {
  python3 - "$ENDPOINT" "$@" <<'EOF'
import datetime, hashlib, hmac, json, os, sys, urllib.parse, urllib.request
base, method, path = sys.argv[1:4]
body = sys.argv[4].encode() if len(sys.argv) > 4 else b""
headers = {"Content-Type": "application/json"}
if os.environ.get("RDSCA_STRICT") == "1":
    key, secret = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
    region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    url = urllib.parse.urlsplit(base + path)
    signed = {"content-type": "application/json", "host": url.netloc, "x-amz-date": amz_date}
    names = ";".join(sorted(signed))
    canonical = "\n".join([method, url.path or "/", ""] + [k + ":" + signed[k] for k in sorted(signed)]
                          + ["", names, hashlib.sha256(body).hexdigest()])
    scope = f"{day}/{region}/rds/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    k = ("AWS4" + secret).encode()
    for part in (day, region, "rds", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["X-Amz-Date"] = amz_date
    headers["Authorization"] = f"AWS4-HMAC-SHA256 Credential={key}/{scope}, SignedHeaders={names}, Signature={signature}"
req = urllib.request.Request(base + path, data=body or None, method=method, headers=headers)
with urllib.request.urlopen(req, timeout=30) as r:
    assert r.status == 200, r.status
    assert r.headers.get("Content-Type") == "application/json", r.headers.get("Content-Type")
    print(json.loads(r.read())["now"])
EOF
}

# Python assertions on the instances (after cli_lib.sh's prelude: d, check, eq, ts).
PRELUDE='
DB = os.environ["RDSCA_DB"]
ACCOUNT = os.environ.get("RDSCA_ACCOUNT") or os.environ.get("AWS_ACCESS_KEY_ID", "")
DELAY = float(os.environ["RDSCA_DELAY"])
def add_years(t, n):
    try: return t.replace(year=t.year + n)
    except ValueError: return t.replace(year=t.year + n, month=3, day=1)
def skip(what):
    print("    SKIP %s: this AWS CLI v2 model does not output it" % what)
def member(o, key, what):
    """o[key], or None after saying so when an older CLI v2 model lacks the member."""
    if key not in o and MAJOR == 2:
        skip(what)
        return None
    check(key in o, "no %s in %r" % (what, o))
    return o[key]
def instance(d, status, ca, pending_ca=None):
    eq(d.get("DBInstanceIdentifier"), DB, "DBInstanceIdentifier")
    eq(d.get("DBInstanceStatus"), status, "DBInstanceStatus")
    eq(d.get("Engine"), "postgres", "Engine")
    eq(d.get("DBInstanceArn"), "arn:aws:rds:us-east-1:%s:db:%s" % (ACCOUNT, DB), "DBInstanceArn")
    check(re.fullmatch("db-[A-Z2-7]{26}", d.get("DbiResourceId", "")), "DbiResourceId %r" % d.get("DbiResourceId"))
    eq(d.get("CACertificateIdentifier"), ca, "CACertificateIdentifier")
    pmv = d.get("PendingModifiedValues")
    check(isinstance(pmv, dict), "no PendingModifiedValues")
    eq(pmv.get("CACertificateIdentifier"), pending_ca, "PendingModifiedValues.CACertificateIdentifier")
    if status == "creating":
        check("Endpoint" not in d, "creating: Endpoint %r" % d.get("Endpoint"))
        check("InstanceCreateTime" not in d, "creating: InstanceCreateTime present")
        cd = member(d, "CertificateDetails", "CertificateDetails")
        if cd is not None: eq(cd, {"CAIdentifier": ca}, "creating: CertificateDetails (CAIdentifier only)")
        eq(pmv.get("MasterUserPassword"), "****", "creating: PendingModifiedValues.MasterUserPassword")
    elif status == "deleting":
        check("CertificateDetails" not in d, "deleting: CertificateDetails %r" % d.get("CertificateDetails"))
        check(d.get("Endpoint", {}).get("Address"), "deleting: no Endpoint")
    else:
        e = d.get("Endpoint") or {}
        check(re.fullmatch(DB + r"\.c[a-z0-9]{11}\.us-east-1\.rds\.amazonaws\.com", e.get("Address", "")), "Endpoint.Address %r" % e.get("Address"))
        eq(e.get("Port"), 5432, "Endpoint.Port")
        eq(e.get("HostedZoneId"), "Z2R2ITUGPM61AM", "Endpoint.HostedZoneId")
        ts(d.get("InstanceCreateTime"))
        cd = member(d, "CertificateDetails", "CertificateDetails")
        if cd is not None:
            eq(cd.get("CAIdentifier"), ca, "CertificateDetails.CAIdentifier")
            ts(cd.get("ValidTill"))
    return d
def one(d):
    eq(len(d.get("DBInstances", [])), 1, "number of instances")
    return d["DBInstances"][0]
'
step "override rds-ca-rsa4096-g1"
ok modify-certificates --certificate-identifier rds-ca-rsa4096-g1
pycheck "eq(d['Certificate']['CertificateIdentifier'], 'rds-ca-rsa4096-g1', 'id'); eq(d['Certificate']['CustomerOverride'], True, 'CustomerOverride')"
ok describe-certificates --max-records 100
pycheck "v = member(d, 'DefaultCertificateForNewLaunches', 'DefaultCertificateForNewLaunches')
if v is not None: eq(v, 'rds-ca-rsa4096-g1', 'DefaultCertificateForNewLaunches')"

step "create-db-instance postgres: creating, on the override"
T_CREATE=$(admin GET /_rdsca/clock)
CREATE=(create-db-instance --db-instance-identifier "$DB" --db-instance-class db.t3.micro --engine postgres
        --master-username admin --master-user-password secret-password --allocated-storage 20)
ok "${CREATE[@]}"
pycheck "instance(d['DBInstance'], 'creating', 'rds-ca-rsa4096-g1')"
fails_with DBInstanceAlreadyExists -- "${CREATE[@]}"

step "wait db-instance-available"
wait_for db-instance-available
ok describe-db-instances --db-instance-identifier "$DB"
T_NOW=$(admin GET /_rdsca/clock)
pycheck "i = instance(one(d), 'available', 'rds-ca-rsa4096-g1')
if 'CertificateDetails' in i:
    till = ts(i['CertificateDetails']['ValidTill'])
    lo, hi = add_years(ts('$T_CREATE'), 1) - datetime.timedelta(seconds=1), add_years(ts('$T_NOW'), 1)
    check(lo <= till <= hi, 'ValidTill %s not a year after creation, in [%s, %s]' % (till, lo, hi))"
WINDOW=$(pyprint 'd["DBInstances"][0]["PreferredMaintenanceWindow"]')

step "modify-db-instance --ca-certificate-identifier rds-ca-ecc384-g1 --no-apply-immediately"
T_MODIFY=$(admin GET /_rdsca/clock)
ok modify-db-instance --db-instance-identifier "$DB" --ca-certificate-identifier rds-ca-ecc384-g1 --no-apply-immediately
pycheck "instance(d['DBInstance'], 'available', 'rds-ca-rsa4096-g1', 'rds-ca-ecc384-g1')"
ok describe-db-instances --db-instance-identifier "$DB"
pycheck "instance(one(d), 'available', 'rds-ca-rsa4096-g1', 'rds-ca-ecc384-g1')"
ok describe-pending-maintenance-actions
pycheck "eq(d.get('PendingMaintenanceActions'), [], 'pending maintenance actions (a deferred change is not one)')"

step "reboot-db-instance: the CA does not change, the rotation stays pending"
ok reboot-db-instance --db-instance-identifier "$DB"
pycheck "instance(d['DBInstance'], 'rebooting', 'rds-ca-rsa4096-g1', 'rds-ca-ecc384-g1')"
wait_for db-instance-available
ok describe-db-instances --db-instance-identifier "$DB"
pycheck "instance(one(d), 'available', 'rds-ca-rsa4096-g1', 'rds-ca-ecc384-g1')"

step "advance the clock 8 days, past the maintenance window ($WINDOW)"
BEFORE=$(admin GET /_rdsca/clock)
AFTER=$(admin POST /_rdsca/clock/advance '{"days":8}')
ok describe-db-instances --db-instance-identifier "$DB"
pycheck "moved = ts('$AFTER') - ts('$BEFORE')
check(datetime.timedelta(days=8) <= moved < datetime.timedelta(days=8, seconds=30), 'clock moved from $BEFORE to $AFTER')
i = instance(one(d), 'available', 'rds-ca-ecc384-g1')
m = re.fullmatch(r'(\w{3}):(\d\d):(\d\d)-.*', '$WINDOW')
wd = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].index(m.group(1))
t = ts('$T_MODIFY')
start = next(s for s in ((t + datetime.timedelta(days=k)).replace(hour=int(m.group(2)), minute=int(m.group(3)), second=0, microsecond=0) for k in range(8)) if s.weekday() == wd and s > t)
check(start <= ts('$AFTER'), 'window start %s not passed' % start)
if 'CertificateDetails' in i:
    till, want = ts(i['CertificateDetails']['ValidTill']), add_years(start, 1)
    check(want <= till <= want + datetime.timedelta(seconds=DELAY + 2), 'ValidTill %s, want a year after the window start %s (+ the rotation)' % (till, start))
    print('    window started %s, ValidTill %s' % (start, till))"

step "describe-db-engine-versions postgres"
ok describe-db-engine-versions --engine postgres
pycheck "vs = d.get('DBEngineVersions')
check(vs, 'no postgres versions')
for v in vs:
    eq(v.get('Engine'), 'postgres', 'Engine')
    s = member(v, 'SupportedCACertificateIdentifiers', 'SupportedCACertificateIdentifiers')
    if s is not None: eq(s, ['rds-ca-ecc384-g1', 'rds-ca-rsa2048-g1', 'rds-ca-rsa4096-g1'], 'postgres %s SupportedCACertificateIdentifiers' % v.get('EngineVersion'))
    r = member(v, 'SupportsCertificateRotationWithoutRestart', 'SupportsCertificateRotationWithoutRestart')
    if r is not None: eq(r, True, 'postgres %s SupportsCertificateRotationWithoutRestart' % v.get('EngineVersion'))"
ok describe-db-engine-versions --engine mysql --engine-version 5.7
pycheck "vs = d.get('DBEngineVersions')
check(vs, 'no mysql 5.7')
for v in vs:
    r = member(v, 'SupportsCertificateRotationWithoutRestart', 'SupportsCertificateRotationWithoutRestart')
    if r is not None: eq(r, False, 'mysql %s SupportsCertificateRotationWithoutRestart' % v.get('EngineVersion'))"

step "delete-db-instance --skip-final-snapshot: deleting, then gone"
ok delete-db-instance --db-instance-identifier "$DB" --skip-final-snapshot
pycheck "instance(d['DBInstance'], 'deleting', '')"
wait_for db-instance-deleted
fails_with DBInstanceNotFound -- describe-db-instances --db-instance-identifier "$DB"

step "cleanup: remove the override"
ok modify-certificates --remove-customer-override

echo "PASS cli rehearsal ($VERSION)"
