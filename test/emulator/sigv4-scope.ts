// Who signed a request and for which region, read from the SigV4 credential scope. Signatures are
// not verified: the point is to prove which credentials the SDK's chain produced.

export interface SigV4Scope {
  accessKeyId: string | undefined;
  region: string | undefined;
  service: string | undefined;
}

const CREDENTIAL = /Credential=([^/,\s]+)\/\d{8}\/([^/,\s]+)\/([^/,\s]+)\/aws4_request/;

export function sigV4Scope(authorization: string | undefined): SigV4Scope {
  const match = authorization === undefined ? null : CREDENTIAL.exec(authorization);
  return { accessKeyId: match?.[1], region: match?.[2], service: match?.[3] };
}
