// rdsca conformance check with the AWS SDK for JavaScript v3 (@aws-sdk/client-rds).
//
// Usage: npm ci --prefix conformance/js && node conformance/js/check.mjs
// Environment:
//   RDSCA_ENDPOINT      the server, e.g. http://127.0.0.1:8080 (passed as the client's
//                       `endpoint` option; falls back to AWS_ENDPOINT_URL_RDS)
//   AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
//                       open mode: a 12-digit access key id is the account id; any secret
//                       works. strict mode: a key of the server's credentials file and its secret
//   RDSCA_STRICT        1: the server runs --auth strict; also check that a wrong secret, an
//                       unknown key and an unsigned request are refused as AWS refuses them
//   AWS_DEFAULT_REGION  must be us-east-1 (the expected dates are us-east-1's); default us-east-1
//
// Exits 0 when every assertion holds, 1 with a FAIL line on the first mismatch.

import {
  RDSClient,
  DescribeCertificatesCommand,
  ModifyCertificatesCommand,
  CertificateNotFoundFault,
  paginateDescribeCertificates,
} from "@aws-sdk/client-rds";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const sdkVersion = require("@aws-sdk/client-rds/package.json").version;

const endpoint = process.env.RDSCA_ENDPOINT || process.env.AWS_ENDPOINT_URL_RDS || "";
const region = process.env.AWS_DEFAULT_REGION || process.env.AWS_REGION || "us-east-1";
const accessKeyId = process.env.AWS_ACCESS_KEY_ID || "555555555555";
const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY || "secret";

const W = {
  "rds-ca-ecc384-g1": ["2021-05-25T22:41:55Z", "2121-05-25T23:41:55Z"],
  "rds-ca-rsa2048-g1": ["2021-05-25T22:34:57Z", "2061-05-25T23:34:57Z"],
  "rds-ca-rsa4096-g1": ["2021-05-25T22:38:35Z", "2121-05-25T23:38:35Z"],
};
const IDS = Object.keys(W).sort();

let STEP = "setup";
class Mismatch extends Error {}
function step(name) {
  STEP = name;
  console.log(`--- js: ${name}`);
}
function check(cond, msg) {
  if (!cond) throw new Mismatch(msg);
}
const show = (v) => (v instanceof Date ? `Date(${v.toISOString()})` : JSON.stringify(v));
function eq(got, want, what) {
  const g = got instanceof Date ? got.getTime() : got;
  const w = want instanceof Date ? want.getTime() : want;
  if (g !== w) throw new Mismatch(`${what}: got ${show(got)}, want ${show(want)}`);
}
function date(v, what) {
  check(v instanceof Date, `${what} is not a Date: ${show(v)}`);
  check(!Number.isNaN(v.getTime()), `${what} is an invalid Date`);
  return v;
}

const client = new RDSClient({
  region,
  endpoint,
  credentials: { accessKeyId, secretAccessKey },
  maxAttempts: 1, // no retries hiding errors
  requestHandler: { requestTimeout: 60_000, connectionTimeout: 60_000 },
});
const describe = (input = {}) => client.send(new DescribeCertificatesCommand(input));
const modify = (input) => client.send(new ModifyCertificatesCommand(input));

function checkCert(c, override) {
  const id = c.CertificateIdentifier;
  check(id in W, `unexpected certificate ${show(id)}`);
  eq(c.CertificateType, "CA", `${id} CertificateType`);
  check(/^[0-9a-f]{40}$/.test(c.Thumbprint ?? ""), `${id} Thumbprint ${show(c.Thumbprint)} is not 40 lowercase hex`);
  eq(c.CertificateArn, `arn:aws:rds:us-east-1::cert:${id}`, `${id} CertificateArn`);
  eq(date(c.ValidFrom, `${id} ValidFrom`), new Date(W[id][0]), `${id} ValidFrom`);
  eq(date(c.ValidTill, `${id} ValidTill`), new Date(W[id][1]), `${id} ValidTill`);
  eq(c.CustomerOverride, id === override, `${id} CustomerOverride`);
  if (id === override) {
    date(c.CustomerOverrideValidTill, `${id} CustomerOverrideValidTill`);
    eq(c.CustomerOverrideValidTill, c.ValidTill, `${id} CustomerOverrideValidTill (must equal ValidTill)`);
  } else {
    check(
      c.CustomerOverrideValidTill === undefined,
      `${id} is not overridden but has CustomerOverrideValidTill ${show(c.CustomerOverrideValidTill)}`,
    );
  }
}

async function listing(override, def) {
  // Paginator with page size 20 (MaxRecords=20).
  const certs = [];
  const defaults = new Set();
  let pages = 0;
  for await (const page of paginateDescribeCertificates({ client, pageSize: 20 }, {})) {
    pages++;
    eq(page.$metadata.httpStatusCode, 200, "describe page HTTP status");
    check(page.$metadata.requestId, "describe page has no $metadata.requestId");
    certs.push(...(page.Certificates ?? []));
    defaults.add(page.DefaultCertificateForNewLaunches);
  }
  eq(pages, 1, "number of pages for 3 certificates with pageSize 20");
  eq(defaults.size, 1, "DefaultCertificateForNewLaunches differs between pages");
  eq([...defaults][0], def, "DefaultCertificateForNewLaunches");
  eq(JSON.stringify(certs.map((c) => c.CertificateIdentifier)), JSON.stringify(IDS), "certificate ids (sorted)");
  for (const c of certs) checkCert(c, override);
  eq(certs.filter((c) => c.CustomerOverride).length, override ? 1 : 0, "number of CustomerOverride=true");
  eq(new Set(certs.map((c) => c.Thumbprint)).size, certs.length, "distinct thumbprints");
  return Object.fromEntries(certs.map((c) => [c.CertificateIdentifier, c]));
}

async function expectError(fn, name, status, what, message) {
  let res;
  try {
    res = await fn();
  } catch (e) {
    if (e instanceof Mismatch) throw e;
    eq(e.name, name, `${what}: error name`);
    eq(e.$metadata?.httpStatusCode, status, `${what}: $metadata.httpStatusCode`);
    check(e.$metadata?.requestId, `${what}: error has no $metadata.requestId`);
    if (message !== undefined) eq(e.message, message, `${what}: error message`);
    console.log(`    ok: ${e.name} (${e.$metadata.httpStatusCode})`);
    return e;
  }
  throw new Mismatch(`${what}: expected ${name} (${status}), call succeeded: ${JSON.stringify(res)}`);
}

async function main() {
  check(endpoint, "set RDSCA_ENDPOINT (or AWS_ENDPOINT_URL_RDS) to the server URL");
  eq(region, "us-east-1", "region (expected dates are us-east-1's)");
  console.log(`js: @aws-sdk/client-rds ${sdkVersion} on node ${process.version}; endpoint ${endpoint}; account ${accessKeyId}`);

  step("reset: remove any override left by an earlier run");
  await modify({ RemoveCustomerOverride: true });

  step("describe all (paginator, pageSize 20)");
  const certs = await listing(undefined, "rds-ca-rsa2048-g1");

  step("describe all (single call): no Marker, same thumbprints");
  let r = await describe();
  check(r.Marker === undefined, `unexpected Marker ${show(r.Marker)}`);
  eq(r.DefaultCertificateForNewLaunches, "rds-ca-rsa2048-g1", "single-call default");
  eq(
    JSON.stringify(r.Certificates.map((c) => [c.CertificateIdentifier, c.Thumbprint])),
    JSON.stringify(IDS.map((id) => [id, certs[id].Thumbprint])),
    "single-call ids and thumbprints",
  );
  for (const n of [20, 100]) {
    r = await describe({ MaxRecords: n });
    eq(r.Certificates.length, 3, `MaxRecords=${n} count`);
  }

  step("describe one by id in UPPER case");
  r = await describe({ CertificateIdentifier: "RDS-CA-RSA4096-G1" });
  eq(r.Certificates.length, 1, "count");
  eq(r.Certificates[0].CertificateIdentifier, "rds-ca-rsa4096-g1", "canonical lowercase id");
  checkCert(r.Certificates[0], undefined);
  eq(r.Certificates[0].Thumbprint, certs["rds-ca-rsa4096-g1"].Thumbprint, "thumbprint");

  step("unknown id -> CertificateNotFoundFault 404");
  const e = await expectError(
    () => describe({ CertificateIdentifier: "rds-ca-nope-g9" }),
    "CertificateNotFoundFault", 404, "describe unknown id", "Certificate rds-ca-nope-g9 not found",
  );
  check(e instanceof CertificateNotFoundFault, "unknown id error is not an instance of CertificateNotFoundFault");
  await expectError(
    () => describe({ CertificateIdentifier: "rds-ca-2019" }),
    "CertificateNotFoundFault", 404, "describe expired rds-ca-2019", "Certificate rds-ca-2019 not found",
  );
  await expectError(
    () => modify({ CertificateIdentifier: "rds-ca-nope-g9" }),
    "CertificateNotFoundFault", 404, "modify to unknown id",
  );

  step("MaxRecords 19 / 101 -> InvalidParameterValue 400");
  for (const n of [19, 101]) {
    await expectError(() => describe({ MaxRecords: n }), "InvalidParameterValue", 400, `MaxRecords=${n}`);
  }

  step("set override (mixed-case id)");
  r = await modify({ CertificateIdentifier: "RDS-CA-Ecc384-G1" });
  eq(r.$metadata.httpStatusCode, 200, "modify HTTP status");
  check(r.Certificate, `ModifyCertificates returned no Certificate: ${JSON.stringify(r)}`);
  eq(r.Certificate.CertificateIdentifier, "rds-ca-ecc384-g1", "returned id");
  checkCert(r.Certificate, "rds-ca-ecc384-g1");
  eq(r.Certificate.Thumbprint, certs["rds-ca-ecc384-g1"].Thumbprint, "thumbprint");

  step("describe after override: exactly one CustomerOverride=true, default = override");
  await listing("rds-ca-ecc384-g1", "rds-ca-ecc384-g1");

  step("set the same override again (idempotent)");
  r = await modify({ CertificateIdentifier: "rds-ca-ecc384-g1" });
  checkCert(r.Certificate, "rds-ca-ecc384-g1");
  await listing("rds-ca-ecc384-g1", "rds-ca-ecc384-g1");

  step("both / neither -> InvalidParameterCombination 400");
  await expectError(
    () => modify({ CertificateIdentifier: "rds-ca-rsa4096-g1", RemoveCustomerOverride: true }),
    "InvalidParameterCombination", 400, "modify with both",
  );
  await expectError(() => modify({}), "InvalidParameterCombination", 400, "modify with neither");
  await expectError(
    () => modify({ RemoveCustomerOverride: false }),
    "InvalidParameterCombination", 400, "modify RemoveCustomerOverride=false",
  );
  await listing("rds-ca-ecc384-g1", "rds-ca-ecc384-g1");

  step("remove override -> default rds-ca-rsa2048-g1, all CustomerOverride=false");
  r = await modify({ RemoveCustomerOverride: true });
  check(r.Certificate, `remove returned no Certificate: ${JSON.stringify(r)}`);
  eq(r.Certificate.CertificateIdentifier, "rds-ca-rsa2048-g1", "returned id (system default)");
  checkCert(r.Certificate, undefined);
  await listing(undefined, "rds-ca-rsa2048-g1");

  step("remove again with no override set still succeeds");
  r = await modify({ RemoveCustomerOverride: true });
  eq(r.Certificate?.CertificateIdentifier, "rds-ca-rsa2048-g1", "returned id");
  await listing(undefined, "rds-ca-rsa2048-g1");

  if (process.env.RDSCA_STRICT === "1") await strict();

  console.log(`PASS js (@aws-sdk/client-rds ${sdkVersion})`);
}

// Strict mode refuses what AWS refuses, with AWS's codes, statuses and messages.
async function strict() {
  const other = (credentials, extra = {}) =>
    new RDSClient({ region, endpoint, credentials, maxAttempts: 1, ...extra });
  const MISMATCH =
    "The request signature we calculated does not match the signature you provided. " +
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

  step("strict: wrong secret -> SignatureDoesNotMatch 403");
  await expectError(
    () => other({ accessKeyId, secretAccessKey: secretAccessKey + "-wrong" }).send(new DescribeCertificatesCommand({})),
    "SignatureDoesNotMatch", 403, "wrong secret", MISMATCH,
  );
  step("strict: unknown access key -> InvalidClientTokenId 403");
  await expectError(
    () => other({ accessKeyId: "AKIARDSCANOSUCHKEY00", secretAccessKey }).send(new DescribeCertificatesCommand({})),
    "InvalidClientTokenId", 403, "unknown key", "The security token included in the request is invalid.",
  );
  step("strict: unsigned request -> MissingAuthenticationToken 403");
  await expectError(
    () =>
      other({ accessKeyId, secretAccessKey }, { signer: { sign: async (request) => request } }).send(
        new DescribeCertificatesCommand({}),
      ),
    "MissingAuthenticationToken", 403, "unsigned", "Request is missing Authentication Token",
  );
}

main().then(
  () => process.exit(0),
  (e) => {
    if (e instanceof Mismatch) console.error(`FAIL js [${STEP}]: ${e.message}`);
    else console.error(`FAIL js [${STEP}]: unexpected ${e?.name}: ${e?.message} (HTTP ${e?.$metadata?.httpStatusCode})\n${e?.stack}`);
    process.exit(1);
  },
);
