// rdsca CA rotation rehearsal with the AWS SDK for JavaScript v3 (@aws-sdk/client-rds).
//
// A whole rotation through a real client, against a FRESH rdsca started with
// --transition-delay 1s (the clock is moved with POST /_rdsca/clock/advance, so the
// server must be this rehearsal's alone):
//
//   override rds-ca-rsa4096-g1 -> create a postgres instance (it gets the override)
//   -> waitUntilDBInstanceAvailable -> defer a rotation to rds-ca-ecc384-g1
//   (ApplyImmediately false) -> reboot (the CA does not change, the rotation stays
//   pending) -> advance the clock 8 days, past the maintenance window -> the CA is
//   rotated, its server certificate valid a year from the window start
//   -> DescribeDBEngineVersions -> delete -> waitUntilDBInstanceDeleted.
//
// Usage: npm ci --prefix conformance/js && node conformance/js/rehearsal.mjs
// Environment:
//   RDSCA_ENDPOINT      the server (the client's `endpoint` option and the admin base URL;
//                       falls back to AWS_ENDPOINT_URL_RDS)
//   AWS_ACCESS_KEY_ID   the account (a 12-digit key is the account id); default 202020202020
//   AWS_SECRET_ACCESS_KEY  any value (open mode), the key's secret (strict mode)
//   RDSCA_ACCOUNT       the account the instance ARN must name; default AWS_ACCESS_KEY_ID
//                       (open mode); in strict mode the credentials file's account of the key
//   AWS_DEFAULT_REGION  must be us-east-1
//   RDSCA_TRANSITION_DELAY  seconds the server's --transition-delay is; default 1
//   RDSCA_STRICT        1: the server runs --auth strict: the admin calls are signed with
//                       @smithy/signature-v4 (service "rds", the client's credentials), and
//                       unsigned and wrongly signed admin calls are checked to be refused
//
// Exits 0 when every assertion holds, 1 with a FAIL line on the first mismatch.

import {
  RDSClient,
  CreateDBInstanceCommand,
  DeleteDBInstanceCommand,
  DescribeCertificatesCommand,
  DescribeDBEngineVersionsCommand,
  DescribeDBInstancesCommand,
  DescribePendingMaintenanceActionsCommand,
  ModifyCertificatesCommand,
  ModifyDBInstanceCommand,
  RebootDBInstanceCommand,
  DBInstanceAlreadyExistsFault,
  DBInstanceNotFoundFault,
  paginateDescribeDBEngineVersions,
  waitUntilDBInstanceAvailable,
  waitUntilDBInstanceDeleted,
} from "@aws-sdk/client-rds";
// @smithy/signature-v4 is @aws-sdk/client-rds's own signer (a dependency of it, pinned
// by package-lock.json); its SHA-256 is the client's (client.config.sha256).
import { SignatureV4 } from "@smithy/signature-v4";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const sdkVersion = require("@aws-sdk/client-rds/package.json").version;

const endpoint = (process.env.RDSCA_ENDPOINT || process.env.AWS_ENDPOINT_URL_RDS || "").replace(/\/+$/, "");
const region = process.env.AWS_DEFAULT_REGION || process.env.AWS_REGION || "us-east-1";
const accessKeyId = process.env.AWS_ACCESS_KEY_ID || "202020202020";
const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY || "secret";
const account = process.env.RDSCA_ACCOUNT || accessKeyId;
const delaySec = Number(process.env.RDSCA_TRANSITION_DELAY || "1");
const strict = process.env.RDSCA_STRICT === "1";
const DB = "rehearsal-js";
const G1 = ["rds-ca-ecc384-g1", "rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1"];
const DAY = 24 * 3600 * 1000;

let STEP = "setup";
class Mismatch extends Error {}
function step(name) {
  STEP = name;
  console.log(`--- js rehearsal: ${name}`);
}
function check(cond, msg) {
  if (!cond) throw new Mismatch(msg);
}
const show = (v) => (v instanceof Date ? `Date(${v.toISOString()})` : JSON.stringify(v));
function eq(got, want, what) {
  const g = got instanceof Date ? got.getTime() : JSON.stringify(got);
  const w = want instanceof Date ? want.getTime() : JSON.stringify(want);
  if (g !== w) throw new Mismatch(`${what}: got ${show(got)}, want ${show(want)}`);
}
function addYears(d, n) {
  const r = new Date(d.getTime());
  r.setUTCFullYear(r.getUTCFullYear() + n);
  return r;
}

// adminSend sends an admin request, signed with SigV4 (service "rds") when credentials
// are given, and returns the status, Content-Type and body text.
async function adminSend(method, path, body, credentials) {
  const url = new URL(endpoint + path);
  const text = body === undefined ? undefined : JSON.stringify(body);
  let headers = { "content-type": "application/json" };
  if (credentials) {
    const signer = new SignatureV4({ credentials, region, service: "rds", sha256: client.config.sha256 });
    const signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query: {},
      headers: { ...headers, host: url.host },
      body: text,
    });
    // fetch sends the URL's host itself: the one signed.
    const { host, ...rest } = signed.headers;
    headers = rest;
  }
  const res = await fetch(url, { method, headers, body: text });
  return { status: res.status, contentType: res.headers.get("content-type"), text: await res.text() };
}

// admin is an admin call that must succeed, signed with the client's credentials
// against a strict server; it returns the clock the server answers.
async function admin(method, path, body) {
  const res = await adminSend(method, path, body, strict ? { accessKeyId, secretAccessKey } : undefined);
  eq(res.status, 200, `${method} ${path} status (${res.text})`);
  eq(res.contentType, "application/json", `${method} ${path} Content-Type`);
  const d = new Date(JSON.parse(res.text).now);
  check(!Number.isNaN(d.getTime()), `${method} ${path}: bad now in ${res.text}`);
  return d;
}
const clockNow = () => admin("GET", "/_rdsca/clock");

async function expectAdminRefused(method, path, body, credentials, code, status) {
  const res = await adminSend(method, path, body, credentials);
  let v = {};
  try {
    v = JSON.parse(res.text);
  } catch {
    throw new Mismatch(`${method} ${path}: body is not JSON: ${res.text}`);
  }
  eq([res.status, v.code], [status, code], `${method} ${path}: status and code (${res.text})`);
  eq(res.contentType, "application/json", `${method} ${path} Content-Type`);
  check(v.error, `${method} ${path}: no error message in ${res.text}`);
  console.log(`    ok: ${method} ${path} -> ${code} (${status})`);
}

// strictAdminRefusals checks that a strict server's admin endpoints refuse unsigned
// and wrongly signed calls, and that those change nothing.
async function strictAdminRefusals() {
  const before = await clockNow();
  await expectAdminRefused("GET", "/_rdsca/clock", undefined, undefined, "MissingAuthenticationToken", 403);
  await expectAdminRefused("POST", "/_rdsca/clock/advance", { days: 8 }, undefined, "MissingAuthenticationToken", 403);
  await expectAdminRefused("POST", "/_rdsca/reset", undefined, undefined, "MissingAuthenticationToken", 403);
  await expectAdminRefused("POST", "/moto-api/reset", undefined, undefined, "MissingAuthenticationToken", 403);
  await expectAdminRefused("POST", "/_rdsca/clock/advance", { days: 8 }, { accessKeyId, secretAccessKey: secretAccessKey + "-wrong" },
    "SignatureDoesNotMatch", 403);
  await expectAdminRefused("POST", "/_rdsca/reset", undefined, { accessKeyId: "AKIARDSCANOSUCHKEY00", secretAccessKey },
    "InvalidClientTokenId", 403);
  const after = await clockNow();
  check(after - before >= 0 && after - before < 30_000, `refused calls moved the clock from ${before.toISOString()} to ${after.toISOString()}`);
  const r = await send(new DescribeCertificatesCommand({}));
  eq(r.DefaultCertificateForNewLaunches, "rds-ca-rsa4096-g1", "DefaultCertificateForNewLaunches after refused resets");
}

// nextWindowStart is the first start of ddd:hh24:mi-ddd:hh24:mi strictly after `after`.
function nextWindowStart(window, after) {
  const m = /^(\w{3}):(\d\d):(\d\d)-(\w{3}):(\d\d):(\d\d)$/.exec(window);
  check(m, `PreferredMaintenanceWindow ${show(window)} is not ddd:hh24:mi-ddd:hh24:mi`);
  const wd = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"].indexOf(m[1]);
  for (let d = 0; d <= 7; d++) {
    const day = new Date(Date.UTC(after.getUTCFullYear(), after.getUTCMonth(), after.getUTCDate() + d, +m[2], +m[3]));
    if (day.getUTCDay() === wd && day > after) return day;
  }
  throw new Mismatch(`no start of ${window} after ${after.toISOString()}`);
}

const client = new RDSClient({
  region,
  endpoint,
  credentials: { accessKeyId, secretAccessKey },
  maxAttempts: 1,
  requestHandler: { requestTimeout: 60_000, connectionTimeout: 60_000 },
});
const send = (cmd) => client.send(cmd);

async function describe() {
  const r = await send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: DB }));
  eq(r.DBInstances.length, 1, "number of instances");
  return r.DBInstances[0];
}

function checkInstance(d, status, ca, pendingCA) {
  eq(d.DBInstanceIdentifier, DB, "DBInstanceIdentifier");
  eq(d.DBInstanceStatus, status, "DBInstanceStatus");
  eq(d.Engine, "postgres", "Engine");
  eq(d.DBInstanceArn, `arn:aws:rds:us-east-1:${account}:db:${DB}`, "DBInstanceArn");
  check(/^db-[A-Z2-7]{26}$/.test(d.DbiResourceId ?? ""), `DbiResourceId ${show(d.DbiResourceId)}`);
  eq(d.CACertificateIdentifier, ca, "CACertificateIdentifier");
  check(d.PendingModifiedValues, "no PendingModifiedValues");
  eq(d.PendingModifiedValues.CACertificateIdentifier, pendingCA, "PendingModifiedValues.CACertificateIdentifier");
  if (status === "creating") {
    check(d.Endpoint === undefined, `creating: Endpoint ${show(d.Endpoint)}`);
    check(d.InstanceCreateTime === undefined, "creating: InstanceCreateTime present");
    eq(d.CertificateDetails, { CAIdentifier: ca }, "creating: CertificateDetails (CAIdentifier only)");
    eq(d.PendingModifiedValues.MasterUserPassword, "****", "creating: PendingModifiedValues.MasterUserPassword");
  } else if (status === "deleting") {
    check(d.CertificateDetails === undefined, `deleting: CertificateDetails ${show(d.CertificateDetails)}`);
    check(d.Endpoint?.Address, "deleting: no Endpoint");
  } else {
    const e = d.Endpoint ?? {};
    check(new RegExp(`^${DB}\\.c[a-z0-9]{11}\\.us-east-1\\.rds\\.amazonaws\\.com$`).test(e.Address ?? ""), `Endpoint.Address ${show(e.Address)}`);
    eq(e.Port, 5432, "Endpoint.Port");
    eq(e.HostedZoneId, "Z2R2ITUGPM61AM", "Endpoint.HostedZoneId");
    check(d.InstanceCreateTime instanceof Date && !Number.isNaN(d.InstanceCreateTime.getTime()), `InstanceCreateTime ${show(d.InstanceCreateTime)}`);
    eq(d.CertificateDetails?.CAIdentifier, ca, "CertificateDetails.CAIdentifier");
    check(d.CertificateDetails?.ValidTill instanceof Date, `CertificateDetails.ValidTill ${show(d.CertificateDetails?.ValidTill)}`);
  }
  return d;
}

async function wait(fn, name) {
  const t = Date.now();
  const r = await fn({ client, maxWaitTime: 60, minDelay: 0.2, maxDelay: 1 }, { DBInstanceIdentifier: DB });
  eq(r.state, "SUCCESS", `${name} state`);
  console.log(`    ${name} done in ${((Date.now() - t) / 1000).toFixed(1)}s`);
}

async function expectError(fn, cls, name, status, what) {
  let res;
  try {
    res = await fn();
  } catch (e) {
    if (e instanceof Mismatch) throw e;
    eq(e.name, name, `${what}: error name`);
    check(e instanceof cls, `${what}: error is not an instance of ${cls.name}`);
    eq(e.$metadata?.httpStatusCode, status, `${what}: HTTP status`);
    console.log(`    ok: ${e.name} (${status})`);
    return e;
  }
  throw new Mismatch(`${what}: expected ${name}, call succeeded: ${JSON.stringify(res)}`);
}

const createInput = {
  DBInstanceIdentifier: DB,
  DBInstanceClass: "db.t3.micro",
  Engine: "postgres",
  MasterUsername: "admin",
  MasterUserPassword: "secret-password",
  AllocatedStorage: 20,
};

async function main() {
  check(endpoint, "set RDSCA_ENDPOINT (or AWS_ENDPOINT_URL_RDS) to the server URL");
  eq(region, "us-east-1", "region");
  console.log(`js: @aws-sdk/client-rds ${sdkVersion} on node ${process.version}; endpoint ${endpoint}; key ${accessKeyId}, account ${account}${strict ? "; strict (signed admin calls)" : ""}`);

  step("override rds-ca-rsa4096-g1");
  let r = await send(new ModifyCertificatesCommand({ CertificateIdentifier: "rds-ca-rsa4096-g1" }));
  eq(r.Certificate?.CustomerOverride, true, "CustomerOverride");
  r = await send(new DescribeCertificatesCommand({}));
  eq(r.DefaultCertificateForNewLaunches, "rds-ca-rsa4096-g1", "DefaultCertificateForNewLaunches");

  if (strict) {
    step("strict: admin calls unsigned or wrongly signed are refused and change nothing");
    await strictAdminRefusals();
  }

  step("CreateDBInstance postgres: creating, on the override");
  const tCreate = await clockNow();
  r = await send(new CreateDBInstanceCommand(createInput));
  checkInstance(r.DBInstance, "creating", "rds-ca-rsa4096-g1", undefined);
  await expectError(() => send(new CreateDBInstanceCommand(createInput)), DBInstanceAlreadyExistsFault, "DBInstanceAlreadyExistsFault", 400, "create again");

  step("waitUntilDBInstanceAvailable");
  await wait(waitUntilDBInstanceAvailable, "waitUntilDBInstanceAvailable");
  let d = checkInstance(await describe(), "available", "rds-ca-rsa4096-g1", undefined);
  let till = d.CertificateDetails.ValidTill;
  const lo = new Date(addYears(tCreate, 1).getTime() - 1000);
  const hi = addYears(await clockNow(), 1);
  check(lo <= till && till <= hi, `ValidTill ${show(till)} not a year after creation, in [${lo.toISOString()}, ${hi.toISOString()}]`);
  const window = d.PreferredMaintenanceWindow;

  step("defer a rotation to rds-ca-ecc384-g1 (ApplyImmediately false)");
  const tModify = await clockNow();
  r = await send(new ModifyDBInstanceCommand({ DBInstanceIdentifier: DB, CACertificateIdentifier: "rds-ca-ecc384-g1", ApplyImmediately: false }));
  checkInstance(r.DBInstance, "available", "rds-ca-rsa4096-g1", "rds-ca-ecc384-g1");
  checkInstance(await describe(), "available", "rds-ca-rsa4096-g1", "rds-ca-ecc384-g1");
  r = await send(new DescribePendingMaintenanceActionsCommand({}));
  eq(r.PendingMaintenanceActions, [], "pending maintenance actions (a deferred change is not one)");

  step("reboot: the CA does not change, the rotation stays pending");
  r = await send(new RebootDBInstanceCommand({ DBInstanceIdentifier: DB }));
  checkInstance(r.DBInstance, "rebooting", "rds-ca-rsa4096-g1", "rds-ca-ecc384-g1");
  await wait(waitUntilDBInstanceAvailable, "waitUntilDBInstanceAvailable");
  checkInstance(await describe(), "available", "rds-ca-rsa4096-g1", "rds-ca-ecc384-g1");

  step("advance the clock 8 days, past the maintenance window");
  const before = await clockNow();
  const after = await admin("POST", "/_rdsca/clock/advance", { days: 8 });
  const moved = after - before;
  check(moved >= 8 * DAY && moved < 8 * DAY + 30_000, `clock moved from ${before.toISOString()} to ${after.toISOString()}`);
  d = checkInstance(await describe(), "available", "rds-ca-ecc384-g1", undefined);
  const start = nextWindowStart(window, tModify);
  check(start <= after, `window start ${start.toISOString()} not passed at ${after.toISOString()}`);
  const want = addYears(start, 1);
  till = d.CertificateDetails.ValidTill;
  check(want <= till && till <= new Date(want.getTime() + (delaySec + 2) * 1000),
    `ValidTill ${show(till)}, want a year after the window start ${start.toISOString()} (+ the ${delaySec}s rotation)`);
  console.log(`    window ${window}: started ${start.toISOString()}, ValidTill ${till.toISOString()}`);

  step("DescribeDBEngineVersions postgres");
  const versions = [];
  for await (const page of paginateDescribeDBEngineVersions({ client, pageSize: 20 }, { Engine: "postgres" })) {
    versions.push(...(page.DBEngineVersions ?? []));
  }
  check(versions.length > 0, "no postgres versions");
  check(versions.some((v) => v.EngineVersion === d.EngineVersion), `instance's version ${d.EngineVersion} not listed`);
  for (const v of versions) {
    eq(v.Engine, "postgres", "Engine");
    eq(v.SupportedCACertificateIdentifiers, G1, `postgres ${v.EngineVersion} SupportedCACertificateIdentifiers`);
    eq(v.SupportsCertificateRotationWithoutRestart, true, `postgres ${v.EngineVersion} SupportsCertificateRotationWithoutRestart`);
  }
  r = await send(new DescribeDBEngineVersionsCommand({ Engine: "mysql", EngineVersion: "5.7" }));
  check(r.DBEngineVersions.length > 0, "no mysql 5.7");
  for (const v of r.DBEngineVersions) {
    eq(v.SupportsCertificateRotationWithoutRestart, false, `mysql ${v.EngineVersion} SupportsCertificateRotationWithoutRestart`);
  }

  step("DeleteDBInstance SkipFinalSnapshot: deleting, then gone");
  r = await send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: DB, SkipFinalSnapshot: true }));
  checkInstance(r.DBInstance, "deleting", "", undefined);
  await wait(waitUntilDBInstanceDeleted, "waitUntilDBInstanceDeleted");
  await expectError(() => describe(), DBInstanceNotFoundFault, "DBInstanceNotFoundFault", 404, "describe after deletion");

  step("cleanup: remove the override");
  await send(new ModifyCertificatesCommand({ RemoveCustomerOverride: true }));

  console.log(`PASS js rehearsal (@aws-sdk/client-rds ${sdkVersion})`);
}

main().then(
  () => process.exit(0),
  (e) => {
    if (e instanceof Mismatch) console.error(`FAIL js rehearsal [${STEP}]: ${e.message}`);
    else console.error(`FAIL js rehearsal [${STEP}]: unexpected ${e?.name}: ${e?.message} (HTTP ${e?.$metadata?.httpStatusCode})\n${e?.stack}`);
    process.exit(1);
  },
);
