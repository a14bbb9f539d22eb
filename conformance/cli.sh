#!/usr/bin/env bash
# rdsca conformance check with the AWS CLI (v1 or v2).
#
# Usage: conformance/cli.sh [AWS_BINARY]
#   AWS_BINARY        the aws executable to test (else $AWS_CLI, else `aws` on PATH)
# Environment:
#   RDSCA_ENDPOINT    the server, e.g. http://127.0.0.1:8080 (falls back to AWS_ENDPOINT_URL_RDS);
#                     passed with --endpoint-url
#   AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
#                     open mode: a 12-digit access key id is the account id; any secret works.
#                     strict mode: a key of the server's credentials file and its secret
#   RDSCA_STRICT      1: the server runs --auth strict; also check that a wrong secret, an
#                     unknown key and an unsigned request are refused as AWS refuses them
#   AWS_DEFAULT_REGION
#                     must be us-east-1 (the expected dates are us-east-1's); default us-east-1
#
# Output is requested with --output json and parsed with python3; the script stops with a
# non-zero exit and a FAIL line on the first mismatch. Error codes of failing calls are
# read from the CLI's stderr ("An error occurred (Code) when calling ...").
set -euo pipefail

AWS_BIN=${1:-${AWS_CLI:-aws}}
ENDPOINT=${RDSCA_ENDPOINT:-${AWS_ENDPOINT_URL_RDS:-}}
REGION=${AWS_DEFAULT_REGION:-us-east-1}

LABEL=cli
CLI_REQUIRE_OUTPUT=1
# shellcheck source=cli_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli_lib.sh"

# Python assertions on the certificates (after cli_lib.sh's prelude: d, check, eq, ts).
PRELUDE='
W = {
  "rds-ca-ecc384-g1": ("2021-05-25T22:41:55Z", "2121-05-25T23:41:55Z"),
  "rds-ca-rsa2048-g1": ("2021-05-25T22:34:57Z", "2061-05-25T23:34:57Z"),
  "rds-ca-rsa4096-g1": ("2021-05-25T22:38:35Z", "2121-05-25T23:38:35Z"),
}
IDS = sorted(W)
def cert(c, override):
    cid = c.get("CertificateIdentifier")
    check(cid in W, "unexpected certificate %r" % cid)
    eq(c.get("CertificateType"), "CA", cid + " CertificateType")
    check(re.fullmatch("[0-9a-f]{40}", c.get("Thumbprint") or ""), "%s Thumbprint %r is not 40 lowercase hex" % (cid, c.get("Thumbprint")))
    eq(c.get("CertificateArn"), "arn:aws:rds:us-east-1::cert:" + cid, cid + " CertificateArn")
    eq(ts(c.get("ValidFrom")), ts(W[cid][0]), cid + " ValidFrom")
    eq(ts(c.get("ValidTill")), ts(W[cid][1]), cid + " ValidTill")
    eq(c.get("CustomerOverride"), cid == override, cid + " CustomerOverride")
    if cid == override:
        check("CustomerOverrideValidTill" in c, cid + " is overridden but has no CustomerOverrideValidTill")
        eq(ts(c["CustomerOverrideValidTill"]), ts(c["ValidTill"]), cid + " CustomerOverrideValidTill (must equal ValidTill)")
    else:
        check("CustomerOverrideValidTill" not in c, "%s is not overridden but has CustomerOverrideValidTill %r" % (cid, c.get("CustomerOverrideValidTill")))
def listing(d, override, default, need_default=True):
    cs = d.get("Certificates")
    check(isinstance(cs, list), "no Certificates list in %r" % d)
    eq([c.get("CertificateIdentifier") for c in cs], IDS, "certificate ids (sorted)")
    for c in cs: cert(c, override)
    eq(sum(1 for c in cs if c["CustomerOverride"]), 1 if override else 0, "number of CustomerOverride=true")
    eq(len({c["Thumbprint"] for c in cs}), len(cs), "distinct thumbprints")
    if need_default:
        if "DefaultCertificateForNewLaunches" in d or MAJOR == 1:
            eq(d.get("DefaultCertificateForNewLaunches"), default, "DefaultCertificateForNewLaunches")
        else:
            print("    SKIP DefaultCertificateForNewLaunches assertion: this CLI v2 model does not output the field (AWS CLI v2 < 2.13 predates it)")
    check("Marker" not in d, "unexpected Marker %r" % d.get("Marker"))
'
# describe_all OVERRIDE DEFAULT: paginated (--page-size 20) and single-call listings.
describe_all() {
  local override=$1 default=$2
  # Paginated: the CLI follows Markers itself and merges Certificates; the merged output keeps
  # only the paginator's result key, so the default is checked on the single call below.
  ok describe-certificates --page-size 20
  pycheck "listing(d, $override, '$default', need_default=False)"
  # Single call: giving MaxRecords turns the CLI's automatic pagination off.
  ok describe-certificates --max-records 100
  pycheck "listing(d, $override, '$default')"
}

step "reset: remove any override left by an earlier run"
ok modify-certificates --remove-customer-override

step "describe all: ids, default, fields, thumbprints, dates, ARNs"
describe_all None rds-ca-rsa2048-g1
THUMBS=$(pyprint 'json.dumps({c["CertificateIdentifier"]: c["Thumbprint"] for c in d["Certificates"]}, sort_keys=True)')
ok describe-certificates --no-paginate
pycheck "listing(d, None, 'rds-ca-rsa2048-g1')"

step "MaxRecords bounds 20 and 100 accepted"
ok describe-certificates --max-records 20
pycheck "eq(len(d['Certificates']), 3, 'count with --max-records 20')"

step "describe one by id in UPPER case"
ok describe-certificates --certificate-identifier RDS-CA-RSA4096-G1
pycheck "eq([c['CertificateIdentifier'] for c in d['Certificates']], ['rds-ca-rsa4096-g1'], 'ids')
cert(d['Certificates'][0], None)
eq(d['Certificates'][0]['Thumbprint'], json.loads('''$THUMBS''')['rds-ca-rsa4096-g1'], 'thumbprint')"

step "unknown id -> CertificateNotFound"
fails_with CertificateNotFound "Certificate rds-ca-nope-g9 not found" -- describe-certificates --certificate-identifier rds-ca-nope-g9
fails_with CertificateNotFound "Certificate rds-ca-2019 not found" -- describe-certificates --certificate-identifier rds-ca-2019
fails_with CertificateNotFound -- modify-certificates --certificate-identifier rds-ca-nope-g9

step "MaxRecords 19 / 101 -> InvalidParameterValue"
fails_with InvalidParameterValue -- describe-certificates --max-records 19
fails_with InvalidParameterValue -- describe-certificates --max-records 101

step "set override (mixed-case id)"
ok modify-certificates --certificate-identifier RDS-CA-Ecc384-G1
pycheck "c = d.get('Certificate')
check(c, 'no Certificate in the response')
eq(c.get('CertificateIdentifier'), 'rds-ca-ecc384-g1', 'returned id')
cert(c, 'rds-ca-ecc384-g1')
eq(c['Thumbprint'], json.loads('''$THUMBS''')['rds-ca-ecc384-g1'], 'thumbprint')"

step "describe after override: exactly one CustomerOverride=true, default = override"
describe_all "'rds-ca-ecc384-g1'" rds-ca-ecc384-g1

step "set the same override again (idempotent)"
ok modify-certificates --certificate-identifier rds-ca-ecc384-g1
pycheck "cert(d['Certificate'], 'rds-ca-ecc384-g1')"
describe_all "'rds-ca-ecc384-g1'" rds-ca-ecc384-g1

step "both / neither -> InvalidParameterCombination"
fails_with InvalidParameterCombination -- modify-certificates --certificate-identifier rds-ca-rsa4096-g1 --remove-customer-override
fails_with InvalidParameterCombination -- modify-certificates
fails_with InvalidParameterCombination -- modify-certificates --no-remove-customer-override
describe_all "'rds-ca-ecc384-g1'" rds-ca-ecc384-g1

step "remove override -> default rds-ca-rsa2048-g1, all CustomerOverride=false"
ok modify-certificates --remove-customer-override
pycheck "c = d.get('Certificate')
check(c, 'no Certificate in the response')
eq(c.get('CertificateIdentifier'), 'rds-ca-rsa2048-g1', 'returned id (system default)')
cert(c, None)"
describe_all None rds-ca-rsa2048-g1

step "remove again with no override set still succeeds"
ok modify-certificates --remove-customer-override
pycheck "eq(d['Certificate']['CertificateIdentifier'], 'rds-ca-rsa2048-g1', 'returned id')"
describe_all None rds-ca-rsa2048-g1

if [ "${RDSCA_STRICT:-}" = 1 ]; then
  MISMATCH="The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
  GOOD_KEY=${AWS_ACCESS_KEY_ID:-} GOOD_SECRET=${AWS_SECRET_ACCESS_KEY:-}

  step "strict: wrong secret -> SignatureDoesNotMatch"
  export AWS_SECRET_ACCESS_KEY="$GOOD_SECRET-wrong"
  fails_with SignatureDoesNotMatch "$MISMATCH" -- describe-certificates
  export AWS_SECRET_ACCESS_KEY="$GOOD_SECRET"

  step "strict: unknown access key -> InvalidClientTokenId"
  export AWS_ACCESS_KEY_ID=AKIARDSCANOSUCHKEY00
  fails_with InvalidClientTokenId "The security token included in the request is invalid." -- describe-certificates
  export AWS_ACCESS_KEY_ID="$GOOD_KEY"

  step "strict: unsigned (--no-sign-request) -> MissingAuthenticationToken"
  fails_with MissingAuthenticationToken "Request is missing Authentication Token" -- describe-certificates --no-sign-request

  step "strict: the right secret still works"
  ok describe-certificates
fi

echo "PASS cli ($VERSION)"
