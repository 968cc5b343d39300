// A stand-in for amazon-cloudwatch-agent-ctl, the CloudWatch agent's control script: it takes the
// one call Aviary's app boot script makes, `-a fetch-config -m ec2 -s -c file:PATH`, checks its
// arguments and that the configuration is a JSON object of the agent's sections, keeps the
// configuration and the call under a record directory, and exits 0; no agent runs, no metric is
// sent. Wrong usage fails as the real script does (usage text, exit 1).
//
// Written from the CloudWatch agent user guide, "Start the CloudWatch agent using the command line"
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/install-CloudWatch-Agent-commandline-fleet.html:
// `amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:configuration-file-path`; -m is
// ec2 | onPremise | auto, -c is file:PATH or ssm:PARAMETER, -s restarts the agent with the new
// configuration) and "Manually create or edit the CloudWatch agent configuration file" (the
// sections agent, metrics, logs, traces; metrics_collected under metrics).
import * as fs from "node:fs";
import * as path from "node:path";
import { shellQuote } from "../../components/bootShell";
import { readCallLog, renderCallRecorder, type RecordedCall } from "./callLog";

export const CLOUDWATCH_AGENT_CTL_PATH = "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl";
/** Where the ctl waits until `dnf install amazon-cloudwatch-agent` puts it in place. */
export const CLOUDWATCH_AGENT_PAYLOAD = "/var/lib/dnf-standin/payload/amazon-cloudwatch-agent-ctl";
/** What the stand-in recorded: calls.log, config.json (the last configuration), status. */
export const CLOUDWATCH_AGENT_RECORD_DIR = "/var/lib/cloudwatch-agent-standin";

export interface CloudWatchAgentCtlOptions {
  /** The record directory as the script sees it; CLOUDWATCH_AGENT_RECORD_DIR in a container. */
  recordDir?: string;
}

/** The bash script installed as amazon-cloudwatch-agent-ctl. */
export function renderCloudWatchAgentCtl(o: CloudWatchAgentCtlOptions = {}): string {
  const dir = o.recordDir ?? CLOUDWATCH_AGENT_RECORD_DIR;
  return `#!/bin/bash
# Stand-in for amazon-cloudwatch-agent-ctl (boot tests; rendered by boot/standins/cloudwatchAgent.ts):
# records the configuration it is given; only -a fetch-config -m ec2 [-s] -c file:PATH is served.
set -uo pipefail
REC=${shellQuote(dir)}
${renderCallRecorder(`${dir}/calls.log`)}
USAGE='
        usage:  amazon-cloudwatch-agent-ctl -a
                stop|start|status|status-with-workloads|fetch-config|append-config|remove-config|set-log-level|set-env
                [-m ec2|onPremise|onPrem|auto]
                [-c default|all|ssm:<parameter-store-name>|file:<file-path>]
                [-s]
                [-d]
                [-l INFO|DEBUG|WARN|ERROR|OFF]
                [-e KEY=VALUE]'
action="" mode=ec2 config="" restart=""
OPTIND=1
while getopts ":hsa:c:m:l:de:" opt; do
  case "$opt" in
    h) echo "$USAGE"; exit 0 ;;
    s) restart=1 ;;
    a) action=$OPTARG ;;
    c) config=$OPTARG ;;
    m) mode=$OPTARG ;;
    l|d|e) ;;
    # As the real script: an unknown option is reported, and the run goes on.
    \\?) echo "Invalid option: -$OPTARG $USAGE" >&2 ;;
    :) echo "Option -$OPTARG requires an argument $USAGE" >&2; exit 1 ;;
  esac
done
shift $((OPTIND - 1))
case "$mode" in
  ec2) ;;
  onPremise|onPrem|auto) echo "cloudwatch agent stand-in: unsupported mode -m $mode (the boot scripts run on EC2)" >&2; exit 1 ;;
  *) echo "Invalid mode: $mode $USAGE" >&2; exit 1 ;;
esac
case "$action" in
  fetch-config) ;;
  stop|start|status|status-with-workloads|append-config|remove-config|set-log-level|set-env|prep-restart|cond-restart|preun)
    echo "cloudwatch agent stand-in: unsupported action -a $action (only fetch-config is served)" >&2; exit 1 ;;
  *) echo "Invalid action: $action $USAGE" >&2; exit 1 ;;
esac
case "\${config:-default}" in
  file:?*) file=\${config#file:} ;;
  *) echo "cloudwatch agent stand-in: unsupported configuration -c \${config:-default} (only file:PATH is served)" >&2; exit 1 ;;
esac
echo "****** processing amazon-cloudwatch-agent ******"
[ -f "$file" ] || { echo "E! config file $file does not exist" >&2; exit 1; }
jq -e 'type == "object" and (keys - ["agent", "metrics", "logs", "traces"] | length == 0)
  and ((.metrics // {}) | type == "object" and ((.metrics_collected // {}) | type == "object"))' "$file" >/dev/null 2>&1 \\
  || { echo "E! $file is not a CloudWatch agent configuration (a JSON object of agent, metrics, logs, traces)" >&2; exit 1; }
mkdir -p "$REC"
cp "$file" "$REC/config.json"
echo "Configuration validation succeeded"
if [ -n "$restart" ]; then echo running > "$REC/status"; else echo stopped > "$REC/status"; fi
exit 0
`;
}

export interface CloudWatchAgentRecord {
  calls: RecordedCall[];
  /** The last configuration fetched, parsed; undefined when none was. */
  config: unknown;
  /** running after a fetch-config with -s (the agent restarted on it), stopped without. */
  status: string | undefined;
}

/** What the stand-in recorded (recordDir as seen from the host). */
export function readCloudWatchAgentRecord(recordDir: string): CloudWatchAgentRecord {
  const read = (name: string) => {
    const file = path.join(recordDir, name);
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
  };
  const config = read("config.json");
  return { calls: readCallLog(path.join(recordDir, "calls.log")), config: config === undefined ? undefined : JSON.parse(config), status: read("status")?.trim() };
}
