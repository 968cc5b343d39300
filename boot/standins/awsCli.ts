// A stand-in for the AWS CLI v2 at /usr/local/bin/aws inside boot-test containers. It serves the
// calls Aviary's boot scripts make (components/appUserData.ts, proxy.ts, proxyAgent.ts,
// redisServer.ts, fleetLifecycle.ts) from a directory tree the test writes from the program's own
// outputs, answers as the CLI documents (messages and exit codes), refuses any other call by name,
// and records every call with its exit status in <dataDir>/calls.log (one JSON line per call).
//
// Written from the AWS CLI user guide, "Command line return codes"
// (https://docs.aws.amazon.com/cli/latest/userguide/cli-usage-returncodes.html): 1 an S3 transfer
// failed, 252 invalid syntax or an unknown parameter, 253 invalid environment or configuration
// (no region: none given, none in AWS_REGION / AWS_DEFAULT_REGION, and none from instance metadata,
// which the CLI v2 reads on EC2 unless AWS_EC2_METADATA_DISABLED=true, cf. aws/aws-cli#5234), 254 the service returned an error, 255 anything else; the CLI's `s3 cp` message for a
// missing object (`fatal error: An error occurred (404) when calling the HeadObject operation: Key
// "<key>" does not exist`, as in seaweedfs/seaweedfs#1917), the SSM API reference for GetParameter
// (ParameterNotFound; WithDecryption "is ignored for String and StringList parameter types", so a
// SecureString read without it is its ciphertext), EC2 DescribeTags (a missing tag is null, which
// `--output text` prints as None) and Auto Scaling CompleteLifecycleAction (CONTINUE | ABANDON, a
// ValidationError when the instance has no pending lifecycle action for that hook).
import * as fs from "node:fs";
import * as path from "node:path";
import { shellQuote } from "../../components/bootShell";
import { readCallLog, renderCallRecorder, type RecordedCall } from "./callLog";

export const AWS_CLI_PATH = "/usr/local/bin/aws";
/** Where the stand-in reads S3 objects, parameters and tags inside the container. */
export const AWS_DATA_DIR = "/var/lib/aws-standin";
export const AWS_CALLS_LOG = "calls.log";

export type ParameterType = "String" | "StringList" | "SecureString";

/** The AWS side of one deployment, as the program's outputs say it is. */
export interface AwsData {
  /** The region every regional resource below lives in (parameters, tags, lifecycle actions). */
  region: string;
  objects?: { bucket: string; key: string; body: string | Buffer }[];
  parameters?: { name: string; value: string; type: ParameterType }[];
  tags?: { resourceId: string; key: string; value: string }[];
  /** Lifecycle actions Auto Scaling is waiting on (a launch or terminate hook of an instance). */
  pendingLifecycleActions?: { group: string; hook: string; instanceId: string }[];
}

/** Names as single path components: `/aviary/prod/redis/url` -> `%2Faviary%2Fprod%2Fredis%2Furl`. */
export function encodeName(name: string): string {
  return name.replace(/%/g, "%25").replace(/\//g, "%2F");
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

function safeKey(key: string): string {
  if (key === "" || key.split("/").some((part) => part === ".." || part === ".")) throw new Error(`aws data: S3 key ${JSON.stringify(key)} cannot be stored as a file`);
  return key;
}

/** Writes the data tree the stand-in serves (a host path: the container's <root>/var/lib/aws-standin). */
export function writeAwsData(dataDir: string, data: AwsData): void {
  if (!REGION.test(data.region)) throw new Error(`aws data: ${JSON.stringify(data.region)} is not an AWS Region name`);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const write = (file: string, body: string | Buffer) => {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, body, { mode: 0o600 });
  };
  for (const o of data.objects ?? []) {
    if (!BUCKET.test(o.bucket)) throw new Error(`aws data: ${JSON.stringify(o.bucket)} is not an S3 bucket name`);
    write(path.join(dataDir, "s3", o.bucket, safeKey(o.key)), o.body);
  }
  for (const p of data.parameters ?? []) {
    const dir = path.join(dataDir, "ssm", data.region, encodeName(p.name));
    write(path.join(dir, "value"), p.value);
    write(path.join(dir, "type"), p.type);
  }
  for (const t of data.tags ?? []) write(path.join(dataDir, "ec2", data.region, "tags", encodeName(t.resourceId), encodeName(t.key)), t.value);
  for (const a of data.pendingLifecycleActions ?? []) {
    write(path.join(dataDir, "autoscaling", data.region, "pending", encodeName(a.group), encodeName(a.hook), encodeName(a.instanceId)), "");
  }
  if (!fs.existsSync(path.join(dataDir, AWS_CALLS_LOG))) write(path.join(dataDir, AWS_CALLS_LOG), "");
}

/** The calls the stand-in recorded (arguments after `aws`, exit status), in order. */
export function readAwsCalls(dataDir: string): RecordedCall[] {
  return readCallLog(path.join(dataDir, AWS_CALLS_LOG));
}

/** Lifecycle actions completed so far: `group hook instance-id result` lines. */
export function readCompletedLifecycleActions(dataDir: string, region: string): string[] {
  const file = path.join(dataDir, "autoscaling", region, "completed.log");
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
}

export interface AwsCliOptions {
  /** The data tree as the container sees it; AWS_DATA_DIR unless a test runs the script on the host. */
  dataDir?: string;
  /** Where the instance metadata service answers (the region fallback); tests use a server on 127.0.0.1. */
  imdsUrl?: string;
}

/** The bash script installed as /usr/local/bin/aws. */
export function renderAwsCli(o: AwsCliOptions = {}): string {
  const dataDir = o.dataDir ?? AWS_DATA_DIR;
  const imds = shellQuote(o.imdsUrl ?? "http://169.254.169.254");
  return `#!/bin/bash
# Stand-in for the AWS CLI v2 (boot tests; rendered by boot/standins/awsCli.ts). Serves only the calls
# Aviary's boot scripts make, from ${dataDir}; any other call fails naming itself.
set -uo pipefail
DATA=${shellQuote(dataDir)}
${renderCallRecorder(`${dataDir}/${AWS_CALLS_LOG}`)}

fail() { local code=$1; shift; printf '%s\\n' "$*" >&2; exit "$code"; }
unsupported() { fail 252 "aws stand-in: unsupported call: aws \${CALL_ARGS[*]} ($*). It serves: s3 cp s3://BUCKET/KEY DEST; ssm get-parameter --name N [--with-decryption] --query Parameter.Value --output text; ec2 describe-tags --filters Name=resource-id,Values=ID Name=key,Values=KEY --query 'Tags[0].Value' --output text; autoscaling complete-lifecycle-action."; }
service_error() { fail 254 "
An error occurred ($1) when calling the $2 operation: $3"; }
encode() { local s=\${1//%/%25}; printf '%s' "\${s//\\//%2F}"; }

[ $# -ge 2 ] || unsupported "no service and operation"
service=$1 operation=$2
shift 2
case "$service $operation" in
  "s3 cp") allowed="region:1 output:1 only-show-errors:0" ;;
  "ssm get-parameter") allowed="region:1 output:1 query:1 name:1 with-decryption:0 no-with-decryption:0" ;;
  "ec2 describe-tags") allowed="region:1 output:1 query:1 filters:n" ;;
  "autoscaling complete-lifecycle-action") allowed="region:1 output:1 query:1 auto-scaling-group-name:1 lifecycle-hook-name:1 instance-id:1 lifecycle-action-result:1" ;;
  *) unsupported "no such service operation in the stand-in" ;;
esac

declare -A opt=()
positional=()
while [ $# -gt 0 ]; do
  case "$1" in
    --*)
      name=\${1#--}
      arity=""
      for a in $allowed; do [ "\${a%%:*}" = "$name" ] && arity=\${a#*:}; done
      [ -n "$arity" ] || fail 252 "
usage: aws [options] <command> <subcommand> [<subcommand> ...] [parameters]
To see help text, you can run:

  aws help
  aws <command> help
  aws <command> <subcommand> help

Unknown options: $1"
      shift
      case "$arity" in
        0) opt[$name]=1 ;;
        1) [ $# -gt 0 ] || fail 252 "aws: error: argument --$name: expected one argument"; opt[$name]=$1; shift ;;
        n) values=""; while [ $# -gt 0 ] && [ "\${1#--}" = "$1" ]; do values+="$1"$'\\n'; shift; done
           [ -n "$values" ] || fail 252 "aws: error: argument --$name: expected at least one argument"; opt[$name]=$values ;;
      esac
      ;;
    *) positional+=("$1"); shift ;;
  esac
done

region=\${opt[region]:-\${AWS_REGION:-\${AWS_DEFAULT_REGION:-}}}
# On EC2 the CLI v2 falls back to the instance's region from IMDS (unless AWS_EC2_METADATA_DISABLED).
if [ -z "$region" ] && [ "\${AWS_EC2_METADATA_DISABLED:-false}" != true ]; then
  token=$(curl -fsS -m 1 -X PUT ${imds}/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 21600' 2>/dev/null) \\
    && region=$(curl -fsS -m 1 -H "X-aws-ec2-metadata-token: $token" ${imds}/latest/meta-data/placement/region 2>/dev/null) || region=""
fi
[ -n "$region" ] || fail 253 'You must specify a region. You can also configure your region by running "aws configure".'
[[ "$region" =~ ^[a-z]{2}(-[a-z]+)+-[0-9]+$ ]] || fail 255 "Provided region_name '$region' doesn't match a supported format."
output=\${opt[output]:-json}
case "$output" in json|text|table|yaml|yaml-stream) ;; *) fail 252 "aws: error: argument --output: Invalid choice, valid choices are: json | text | table | yaml | yaml-stream" ;; esac
require() { local n; for n in "$@"; do [ -n "\${opt[$n]:-}" ] || fail 252 "aws: error: the following arguments are required: --$n"; done; }
text_query() { [ "\${opt[query]:-}" = "$1" ] && [ "$output" = text ] || unsupported "only --query '$1' --output text"; }

case "$service $operation" in
  "s3 cp")
    [ \${#positional[@]} -eq 2 ] || fail 252 "aws: error: the following arguments are required: paths"
    src=\${positional[0]} dest=\${positional[1]}
    [[ "$src" == s3://* && "$dest" != s3://* ]] || unsupported "only downloads, s3://BUCKET/KEY to a local path"
    rest=\${src#s3://}
    bucket=\${rest%%/*}
    key=""; [ "$rest" != "$bucket" ] && key=\${rest#*/}
    object="$DATA/s3/$bucket/$key"
    case "/$key/" in */../*|*/./*) unsupported "a key with . or .. segments" ;; esac
    [ -n "$key" ] && [ -f "$object" ] || fail 1 "fatal error: An error occurred (404) when calling the HeadObject operation: Key \\"$key\\" does not exist"
    if [ "$dest" = - ]; then cat "$object"; exit 0; fi
    if [[ "$dest" == */ ]] || [ -d "$dest" ]; then dest="\${dest%/}/\${key##*/}"; fi
    mkdir -p "$(dirname "$dest")" && cp "$object" "$dest" || fail 1 "download failed: $src to $dest"
    [ -n "\${opt[only-show-errors]:-}" ] || echo "download: $src to $dest"
    ;;
  "ssm get-parameter")
    require name
    text_query Parameter.Value
    name=\${opt[name]}
    [[ "$name" != *:* ]] || unsupported "ARNs, versions and labels in --name"
    dir="$DATA/ssm/$region/$(encode "$name")"
    [ -f "$dir/value" ] || service_error ParameterNotFound GetParameter ""
    if [ "$(cat "$dir/type")" = SecureString ] && [ -z "\${opt[with-decryption]:-}" ]; then
      # Without --with-decryption a SecureString comes back encrypted: an opaque blob, never the value.
      printf 'AQICAH%s\\n' "$(sha256sum "$dir/value" | cut -c1-64 | tr -d '\\n' | base64 -w0)"
    else
      cat "$dir/value"; echo
    fi
    ;;
  "ec2 describe-tags")
    require filters
    text_query 'Tags[0].Value'
    resource="" tagkey=""
    while IFS= read -r f; do
      [ -n "$f" ] || continue
      case "$f" in
        Name=resource-id,Values=*) resource=\${f#Name=resource-id,Values=} ;;
        Name=key,Values=*) tagkey=\${f#Name=key,Values=} ;;
        *) unsupported "filter $f" ;;
      esac
    done <<< "\${opt[filters]}"
    [ -n "$resource" ] && [ -n "$tagkey" ] && [[ "$resource$tagkey" != *,* ]] || unsupported "exactly one resource-id and one key value"
    tag="$DATA/ec2/$region/tags/$(encode "$resource")/$(encode "$tagkey")"
    if [ -f "$tag" ]; then cat "$tag"; echo; else echo None; fi
    ;;
  "autoscaling complete-lifecycle-action")
    require auto-scaling-group-name lifecycle-hook-name lifecycle-action-result instance-id
    result=\${opt[lifecycle-action-result]}
    case "$result" in CONTINUE|ABANDON) ;; *) service_error ValidationError CompleteLifecycleAction "Valid values for LifecycleActionResult are CONTINUE and ABANDON" ;; esac
    group=\${opt[auto-scaling-group-name]} hook=\${opt[lifecycle-hook-name]} id=\${opt[instance-id]}
    pending="$DATA/autoscaling/$region/pending/$(encode "$group")/$(encode "$hook")/$(encode "$id")"
    [ -f "$pending" ] || service_error ValidationError CompleteLifecycleAction "No active Lifecycle Action found with instance ID $id"
    rm -f "$pending"
    printf '%s %s %s %s\\n' "$group" "$hook" "$id" "$result" >> "$DATA/autoscaling/$region/completed.log"
    ;;
esac
exit 0
`;
}
