// Every stand-in at the AWS boundary, put into one container root in one call: the aws CLI and its
// data (from the program's outputs), dnf, and the CloudWatch agent's ctl (which dnf installs).
// The IMDS server runs on the host: startImds (./imds).
import * as fs from "node:fs";
import * as path from "node:path";
import { AWS_CLI_PATH, AWS_DATA_DIR, renderAwsCli, writeAwsData, type AwsData } from "./awsCli";
import { CLOUDWATCH_AGENT_PAYLOAD, CLOUDWATCH_AGENT_RECORD_DIR, renderCloudWatchAgentCtl } from "./cloudwatchAgent";
import { DNF_CALLS_LOG, DNF_PATH, renderDnf } from "./dnf";

export { startImds, type ImdsInstance, type ImdsServer } from "./imds";
export { readAwsCalls, readCompletedLifecycleActions, type AwsData, type ParameterType } from "./awsCli";
export { readCloudWatchAgentRecord } from "./cloudwatchAgent";
export { readCallLog } from "./callLog";
export { DNF_PACKAGES, debianPackagesFor } from "./dnf";

/**
 * Units Debian's packages bring that an AL2023 instance does not have before its boot script runs
 * `dnf install`: masked, so a script that starts them without installing fails, as on AL2023. dnf
 * unmasks the ones it installs.
 */
export const NOT_YET_INSTALLED_UNITS = ["haproxy.service", "redis-server.service"] as const;

export interface StandinOptions {
  /** The AWS side this instance sees: S3 objects, SSM parameters, tags, pending lifecycle actions. */
  aws: AwsData;
}

/** Host paths of what the stand-ins record, for the test's assertions. */
export interface InstalledStandins {
  awsDataDir: string;
  dnfCallsLog: string;
  cloudWatchAgentRecordDir: string;
}

const inRoot = (rootDir: string, p: string) => path.join(rootDir, p);

function writeExecutable(file: string, body: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, body, { mode: 0o755 });
  fs.chmodSync(file, 0o755);
}

/** Writes every stand-in into the container root at rootDir (a host path), mode 0755, and its data. */
export function installStandins(rootDir: string, opts: StandinOptions): InstalledStandins {
  if (!fs.existsSync(path.join(rootDir, "etc", "passwd"))) throw new Error(`installStandins: ${rootDir} is not a system root (no etc/passwd)`);
  writeExecutable(inRoot(rootDir, AWS_CLI_PATH), renderAwsCli());
  writeExecutable(inRoot(rootDir, DNF_PATH), renderDnf());
  writeExecutable(inRoot(rootDir, CLOUDWATCH_AGENT_PAYLOAD), renderCloudWatchAgentCtl());
  writeAwsData(inRoot(rootDir, AWS_DATA_DIR), opts.aws);
  const unitDir = inRoot(rootDir, "etc/systemd/system");
  fs.mkdirSync(unitDir, { recursive: true });
  for (const unit of NOT_YET_INSTALLED_UNITS) {
    fs.rmSync(path.join(unitDir, unit), { force: true });
    fs.symlinkSync("/dev/null", path.join(unitDir, unit));
  }
  return {
    awsDataDir: inRoot(rootDir, AWS_DATA_DIR),
    dnfCallsLog: inRoot(rootDir, DNF_CALLS_LOG),
    cloudWatchAgentRecordDir: inRoot(rootDir, CLOUDWATCH_AGENT_RECORD_DIR),
  };
}
