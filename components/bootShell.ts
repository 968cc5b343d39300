// The start every Aviary boot script (user data) shares: strict bash, a log file, the region, and a
// bounded retry for the steps that need the network while the instance's network may still come up.
import { InvalidInputError } from "../core/errors";

/** Single-quotes a value for bash, so no config value can inject shell. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export const RETRY_ATTEMPTS = 10;
export const RETRY_DELAY_SECONDS = 10;

// AWS Region names: us-east-1, eu-central-2, ap-southeast-4, us-gov-west-1, cn-north-1.
const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** The region as it goes into Environment=AWS_REGION= lines: a plain token or an error. */
export function awsRegion(value: string): string {
  if (!AWS_REGION.test(value)) throw new InvalidInputError(`boot script: ${JSON.stringify(value)} is not an AWS Region name`);
  return value;
}

/** Shebang, strict mode, log file, REGION and retry(): the first lines of every boot script. */
export function bootScriptPreamble(logFile: string, region: string): string {
  return `#!/bin/bash
set -euo pipefail
exec > >(tee -a ${logFile}) 2>&1
REGION=${shellQuote(awsRegion(region))}

# Package mirrors, S3, SSM and IMDS can fail for a while after boot: retry, but not forever.
retry() {
  local attempt
  for attempt in $(seq 1 ${RETRY_ATTEMPTS}); do
    "$@" && return 0
    echo "attempt $attempt/${RETRY_ATTEMPTS} failed: $*" >&2
    sleep ${RETRY_DELAY_SECONDS}
  done
  return 1
}
`;
}

/** IMDSv2 helpers: a session token first, then imds <path> reads one metadata value. */
export const IMDS_FUNCTIONS = `imds_token=$(retry curl -fsS -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')
imds() { retry curl -fsS -H "X-aws-ec2-metadata-token: $imds_token" "http://169.254.169.254/latest/meta-data/$1"; }`;
