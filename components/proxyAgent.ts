// How a new proxy agent bundle reaches running proxies without replacing them: the agent's release
// key lives in an SSM String parameter, an install script on each proxy downloads the key it names,
// and a State Manager association (AWS-RunShellScript) runs that script again whenever the key changes.
//
// Written from the Systems Manager API reference (CreateAssociation / UpdateAssociation: unless
// ApplyOnlyAtCronInterval, an association runs right after it is created or updated, and for tag
// targets whenever a new matching managed node comes online; AWS-RunShellScript's `commands`), and the
// provider's aws_ssm_association (hashicorp/terraform-provider-aws internal/service/ssm/association.go:
// `parameters` is a map of strings, each sent as a one-element list; only `name` is ForceNew, so a new
// command is an UpdateAssociation, i.e. a new association version that State Manager runs).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { bootScriptPreamble, shellQuote } from "./bootShell";

export const PROXY_AGENT_PATH = "/opt/aviary-agent.js";
export const PROXY_AGENT_UNIT = "aviary-agent.service";
export const AGENT_INSTALL_PATH = "/usr/local/sbin/aviary-agent-install";
export const AGENT_INSTALL_LOG = "/var/log/aviary-agent-install.log";
/** The tag State Manager finds a ProxyFleet's proxies by; its value is the deployment, so no other stack's proxies match. */
export const PROXY_AGENT_TARGET_TAG = "aviary:proxy-agent";

/** `/aviary/<stack>/proxy/agent-key`: the S3 key of the agent release the proxies should run. */
export function agentKeyParameterName(stack: string = pulumi.getStack()): string {
  return `/aviary/${stack}/proxy/agent-key`;
}

export interface AgentInstallScriptValues {
  region: string;
  bucket: string;
  agentKeyParameterName: string;
  /** Where the agent's unit runs it from, and the log; tests point them at a temporary directory. */
  agentPath?: string;
  logFile?: string;
}

/**
 * The install script (bash, run as root). It downloads beside the agent and renames the complete
 * file over it, so a failed or partial download leaves the running release in place. With an
 * argument (State Manager's run) it refuses to install anything but that key.
 */
export function renderAgentInstallScript(v: AgentInstallScriptValues): string {
  const q = shellQuote;
  const agentPath = v.agentPath ?? PROXY_AGENT_PATH;
  return `${bootScriptPreamble(v.logFile ?? AGENT_INSTALL_LOG, v.region)}
expected=\${1:-}
key=$(retry aws ssm get-parameter --region "$REGION" --name ${q(v.agentKeyParameterName)} --query Parameter.Value --output text)
case "$key" in
  releases/*/agent.js) ;;
  *) echo "parameter ${v.agentKeyParameterName} holds no agent release key: $key" >&2; exit 1 ;;
esac
if [ -n "$expected" ] && [ "$key" != "$expected" ]; then
  echo "parameter ${v.agentKeyParameterName} holds $key, this run was sent for $expected" >&2
  exit 1
fi
# Same directory, so the rename is atomic: the agent file is always one complete release.
tmp=$(mktemp ${q(`${agentPath}.XXXXXX`)})
trap 'rm -f "$tmp"' EXIT
retry aws s3 cp --region "$REGION" --only-show-errors ${q(`s3://${v.bucket}/`)}"$key" "$tmp"
chmod 644 "$tmp"
mv -f "$tmp" ${q(agentPath)}
trap - EXIT
systemctl restart ${PROXY_AGENT_UNIT}
echo "proxy agent $key installed"
`;
}

/**
 * The association's command: wait until the boot script is done (State Manager can reach a booting
 * proxy before its boot script has written the install script and the agent's unit), then install
 * exactly this key. The key in the command is what makes a new bundle a new association version.
 */
export function agentInstallCommand(agentKey: string): string {
  return `cloud-init status --wait >/dev/null; ${AGENT_INSTALL_PATH} ${shellQuote(agentKey)}`;
}

/** The parameter the install script reads: its value is the release's agent key. */
export function proxyAgentKeyParameter(name: string, agentKey: pulumi.Input<string>, opts: pulumi.CustomResourceOptions): aws.ssm.Parameter {
  return new aws.ssm.Parameter(`${name}-agent-key`, {
    name: agentKeyParameterName(),
    type: "String",
    // Not a secret: `value` would be marked secret in state and hide the key in every diff.
    insecureValue: agentKey,
    description: "Aviary proxy agent release (S3 key in the release bucket)",
  }, opts);
}

export interface ProxyAgentAssociationArgs {
  deployment: pulumi.Input<string>;
  /** The parameter the install script reads; the command carries its value. */
  parameter: aws.ssm.Parameter;
  targets: pulumi.Input<aws.types.input.ssm.AssociationTarget>[];
}

/** State Manager runs the install script on the targets now and after every agent key change, one proxy at a time. */
export function proxyAgentAssociation(name: string, args: ProxyAgentAssociationArgs, opts: pulumi.CustomResourceOptions): aws.ssm.Association {
  return new aws.ssm.Association(`${name}-agent`, {
    name: "AWS-RunShellScript",
    associationName: pulumi.interpolate`${args.deployment}-proxy-agent`,
    targets: args.targets,
    // Read from the parameter's output, so the parameter holds the new key before the association runs.
    parameters: { commands: args.parameter.insecureValue.apply(agentInstallCommand) },
    // One proxy at a time, and the first failure stops the rest: a bad release never reaches all of them.
    maxConcurrency: "1",
    maxErrors: "0",
  }, opts);
}
