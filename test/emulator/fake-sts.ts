// STS AssumeRole over the query protocol (form body in, XML out), enough for the SDK's
// fromTemporaryCredentials and role profiles. Records who assumed what; can refuse per role.

import { randomBytes, randomUUID } from "node:crypto";
import type { Exchange } from "./exchange.js";
import { randomKeyChars } from "./fake-imds.js";
import { sigV4Scope } from "./sigv4-scope.js";
import type { AssumeRoleCall } from "./types.js";

const XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/";
const DEFAULT_DURATION_SECONDS = 3600;
const KEPT_CALLS = 1000;

export class FakeSts {
  readonly calls: AssumeRoleCall[] = [];
  private readonly refusedRoles = new Set<string>();
  /** When set, sessions last this long whatever was asked (to exercise clients' refresh). */
  sessionSecondsOverride: number | undefined;

  static handles(method: string, path: string): boolean {
    return method === "POST" && (path === "/" || path.startsWith("/?"));
  }

  refuse(roleArn: string, refuse: boolean): void {
    if (refuse) this.refusedRoles.add(roleArn);
    else this.refusedRoles.delete(roleArn);
  }

  async serve(exchange: Exchange): Promise<void> {
    const form = new URLSearchParams((await exchange.readBody()).toString("utf8"));
    const requestId = randomUUID();
    const action = form.get("Action");
    if (action !== "AssumeRole") {
      return sendXml(exchange, 400, errorXml("InvalidAction", `Could not find operation ${action ?? ""} for version 2011-06-15`, requestId), requestId);
    }
    const roleArn = form.get("RoleArn") ?? "";
    const roleSessionName = form.get("RoleSessionName") ?? "";
    const duration = Number(form.get("DurationSeconds") ?? DEFAULT_DURATION_SECONDS);
    const externalId = form.get("ExternalId");
    const call: AssumeRoleCall = {
      roleArn,
      roleSessionName,
      ...(externalId === null ? {} : { externalId }),
      ...(form.has("DurationSeconds") ? { durationSeconds: duration } : {}),
      callerAccessKeyId: sigV4Scope(exchange.header("authorization")).accessKeyId,
      issuedAccessKeyId: undefined,
      receivedAt: Date.now(),
    };
    this.calls.push(call);
    if (this.calls.length > KEPT_CALLS) this.calls.shift();

    if (this.refusedRoles.has(roleArn)) {
      const message = `User: ${call.callerAccessKeyId ?? "anonymous"} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`;
      return sendXml(exchange, 403, errorXml("AccessDenied", message, requestId), requestId);
    }
    const account = accountOf(roleArn);
    const accessKeyId = `ASIASTS${account}${randomKeyChars(4)}`;
    call.issuedAccessKeyId = accessKeyId;
    const roleName = roleArn.split("/").pop() ?? "role";
    const seconds = this.sessionSecondsOverride ?? (Number.isFinite(duration) ? duration : DEFAULT_DURATION_SECONDS);
    const expiration = new Date(Date.now() + seconds * 1000);
    sendXml(exchange, 200, `<AssumeRoleResponse xmlns="${XMLNS}">
  <AssumeRoleResult>
    <Credentials>
      <AccessKeyId>${accessKeyId}</AccessKeyId>
      <SecretAccessKey>${randomBytes(30).toString("base64")}</SecretAccessKey>
      <SessionToken>${randomBytes(96).toString("base64")}</SessionToken>
      <Expiration>${expiration.toISOString()}</Expiration>
    </Credentials>
    <AssumedRoleUser>
      <Arn>${escapeXml(`arn:aws:sts::${account}:assumed-role/${roleName}/${roleSessionName}`)}</Arn>
      <AssumedRoleId>${escapeXml(`AROA${randomKeyChars(17)}:${roleSessionName}`)}</AssumedRoleId>
    </AssumedRoleUser>
    <PackedPolicySize>6</PackedPolicySize>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>
</AssumeRoleResponse>`, requestId);
  }

  reset(): void {
    this.calls.length = 0;
    this.refusedRoles.clear();
    this.sessionSecondsOverride = undefined;
  }
}

/** The 12-digit account of `arn:aws:iam::123456789012:role/Name`. */
function accountOf(roleArn: string): string {
  const account = roleArn.split(":")[4] ?? "";
  return /^\d{12}$/.test(account) ? account : "000000000000";
}

function errorXml(code: string, message: string, requestId: string): string {
  return `<ErrorResponse xmlns="${XMLNS}">
  <Error><Type>Sender</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>
  <RequestId>${requestId}</RequestId>
</ErrorResponse>`;
}

function sendXml(exchange: Exchange, status: number, xml: string, requestId: string): void {
  exchange.respond(status, { "content-type": "text/xml", "x-amzn-requestid": requestId }, xml);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}
