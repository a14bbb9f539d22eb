# Shared helpers of the AWS CLI conformance scripts (cli.sh, rehearsal_cli.sh), sourced
# by them from their own directory. Before sourcing, a script sets:
#   LABEL     the prefix of its step, FAIL and banner lines ("cli", "cli rehearsal")
#   AWS_BIN, ENDPOINT, REGION
#   CLI_REQUIRE_OUTPUT=1 to have `ok` also require output on stdout (optional)
# Sourcing checks the setup (endpoint, region, aws binary, python3), configures the CLI
# environment, sets VERSION and MAJOR, prints the banner and defines fail, step, run,
# ok, fails_with, pycheck and pyprint.

fail() { echo "FAIL $LABEL ($AWS_BIN) [$STEP]: $*" >&2; exit 1; }
STEP=setup
step() { STEP=$1; echo "--- $LABEL: $1"; }

[ -n "$ENDPOINT" ] || fail "set RDSCA_ENDPOINT (or AWS_ENDPOINT_URL_RDS) to the server URL"
[ "$REGION" = us-east-1 ] || fail "AWS_DEFAULT_REGION must be us-east-1, is $REGION"
command -v "$AWS_BIN" >/dev/null 2>&1 || fail "aws binary '$AWS_BIN' not found"
command -v python3 >/dev/null 2>&1 || fail "python3 not found (used to parse the JSON output)"

# No pager (v2), one attempt only (so retries cannot hide errors), generous timeouts
# (the first request for a region generates RSA-4096 keys).
export AWS_PAGER="" AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard
unset AWS_PROFILE AWS_DEFAULT_PROFILE || true

VERSION=$("$AWS_BIN" --version 2>&1 | head -n1)
case "$VERSION" in
  aws-cli/1.*) MAJOR=1 ;;
  aws-cli/2.*) MAJOR=2 ;;
  *) fail "cannot tell the CLI version from: $VERSION" ;;
esac
echo "$LABEL: $AWS_BIN is $VERSION (major $MAJOR); endpoint $ENDPOINT; account ${AWS_ACCESS_KEY_ID:-<unset>}"

ERRF=$(mktemp)
trap 'rm -f "$ERRF"' EXIT
OUT="" ERR="" RC=0

# run ARGS...: aws rds ARGS with the common options; sets OUT, ERR, RC.
run() {
  set +e
  OUT=$("$AWS_BIN" --endpoint-url "$ENDPOINT" --region "$REGION" --output json \
        --cli-read-timeout 60 --cli-connect-timeout 60 rds "$@" 2>"$ERRF")
  RC=$?
  set -e
  ERR=$(cat "$ERRF")
}
# ok ARGS...: the call must succeed (and print something with CLI_REQUIRE_OUTPUT=1).
ok() {
  run "$@"
  [ "$RC" -eq 0 ] || fail "aws rds $* exited $RC: $ERR"
  if [ "${CLI_REQUIRE_OUTPUT:-}" = 1 ]; then
    [ -n "$OUT" ] || fail "aws rds $* printed nothing on stdout"
  fi
}
# fails_with CODE [MESSAGE] -- ARGS...: the call must fail with that error code (and message),
# read from the CLI's stderr ("An error occurred (Code) when calling ...").
fails_with() {
  local code=$1 msg=""
  shift
  if [ "$1" != "--" ]; then msg=$1; shift; fi
  shift # --
  run "$@"
  [ "$RC" -ne 0 ] || fail "aws rds $*: expected error $code, but it succeeded: $OUT"
  grep -qF "($code)" <<<"$ERR" || fail "aws rds $*: expected error code ($code) in stderr, got (exit $RC): $ERR"
  if [ -n "$msg" ]; then
    grep -qF ": $msg" <<<"$ERR" || fail "aws rds $*: expected message '$msg' in stderr, got: $ERR"
  fi
  echo "    ok: $code (exit $RC)"
}

# Python prelude of the JSON assertions: the JSON is in $RDSCA_JSON, `d` is the parsed
# value (None for no output); the script's own $PRELUDE follows it.
PRELUDE_COMMON='
import datetime, json, os, re, sys
d = json.loads(os.environ["RDSCA_JSON"]) if os.environ["RDSCA_JSON"].strip() else None
MAJOR = int(os.environ["RDSCA_CLI_MAJOR"])
STEP = os.environ["RDSCA_STEP"]
class Mismatch(Exception): pass
def check(c, m):
    if not c: raise Mismatch(m)
def eq(g, w, what):
    if g != w: raise Mismatch("%s: got %r, want %r" % (what, g, w))
def ts(s):
    check(isinstance(s, str), "timestamp %r is not a string" % (s,))
    v = datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
    check(v.tzinfo is not None and v.utcoffset() == datetime.timedelta(0), "timestamp %r is not UTC" % s)
    return v
'
PRELUDE=${PRELUDE:-}

# pycheck CODE: run python assertions on $OUT; fail on the first mismatch.
pycheck() {
  if ! RDSCA_JSON=$OUT RDSCA_CLI_MAJOR=$MAJOR RDSCA_STEP=$STEP python3 -c "$PRELUDE_COMMON$PRELUDE
try:
$(sed 's/^/    /' <<<"$1")
except Mismatch as e:
    print(e, file=sys.stderr); sys.exit(1)
except Exception as e:
    print(\"%s: %s\" % (type(e).__name__, e), file=sys.stderr); sys.exit(1)
"; then
    fail "assertion failed on output: $OUT"
  fi
}

# pyprint EXPR: print the python expression EXPR over `d`, the JSON of $OUT.
pyprint() {
  RDSCA_JSON=$OUT python3 -c 'import json, os, sys; d = json.loads(os.environ["RDSCA_JSON"]); print(eval(sys.argv[1]))' "$1"
}
