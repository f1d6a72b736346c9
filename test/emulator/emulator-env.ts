// The environment that sends the unchanged AWS SDK to the emulator through its standard variables
// and keeps every other credential source out of the way, so IMDS is what the chain reaches.

const BLANKED = [
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_PROFILE",
  "AWS_DEFAULT_PROFILE",
  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
  "AWS_CONTAINER_AUTHORIZATION_TOKEN",
  "AWS_EC2_METADATA_DISABLED",
  "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
  "AWS_WEB_IDENTITY_TOKEN_FILE",
  "AWS_ROLE_ARN",
  "AWS_ROLE_SESSION_NAME",
  "AWS_ENDPOINT_URL",
  "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
  "AWS_DEFAULT_REGION",
];

// The SDK picks bearer auth when this name exists at all, even empty: it must be deleted.
const DELETED = ["AWS_BEARER_TOKEN_BEDROCK"];

const MISSING_FILE = "/nonexistent/tollgate-emulator/aws-config";

export function emulatorEnv(url: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of BLANKED) env[name] = "";
  return {
    ...env,
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: url,
    AWS_ENDPOINT_URL_STS: url,
    AWS_EC2_METADATA_SERVICE_ENDPOINT: url,
    AWS_REGION: "us-east-1",
    AWS_SHARED_CREDENTIALS_FILE: MISSING_FILE,
    AWS_CONFIG_FILE: MISSING_FILE,
  };
}

export function envFor(base: NodeJS.ProcessEnv, url: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, ...emulatorEnv(url) };
  for (const name of DELETED) delete env[name];
  return env;
}

export function applyEnvTo(target: NodeJS.ProcessEnv, url: string): () => void {
  const changes = emulatorEnv(url);
  const names = [...Object.keys(changes), ...DELETED];
  const saved = new Map(names.map((name) => [name, target[name]]));
  Object.assign(target, changes);
  for (const name of DELETED) delete target[name];
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete target[name];
      else target[name] = value;
    }
  };
}
