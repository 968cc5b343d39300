// The controller's Fleet port in local mode: the production fleet is N sample-app processes.
// Instance ids are the registry ids the apps register with, as EC2 instance ids are on AWS.
import type { FleetInstance, FleetState } from "../../core/controller/decide";
import type { Fleet } from "../../controller/ports";
import { freePort } from "../../harness/freePort";
import { describeExit, nextStart, SYSTEMD_RESTART } from "../../local/keepAlive";
import type { Managed } from "../../local/processes";
import { InvalidInputError, NotFoundError } from "../../core/errors";

export interface LocalFleetOptions {
  min: number;
  max: number;
  /** Starts one app process with this instance id on this port. */
  launch(instanceId: string, port: number): Managed;
  /** Resolves once the instance answers its health check. */
  ready(instanceId: string, port: number): Promise<void>;
  /** A lost instance was replaced (or could not be): for the activity feed and the log. */
  onReplace?(lost: string, how: string, outcome: { replacement: string } | { error: string }): void;
}

interface Instance extends FleetInstance {
  port: number;
  process: Managed;
  launchedAt: string;
}

export class LocalFleet implements Fleet {
  private readonly instances: Instance[] = [];
  private desired = 0;
  private serial = 0;
  private halted = false;
  private readonly replacements: number[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: LocalFleetOptions) {}

  async describe(): Promise<FleetState> {
    return {
      desired: this.desired,
      min: this.options.min,
      max: this.options.max,
      instances: this.instances.map(({ id, launchedAt }) => ({ id, launchedAt })),
    };
  }

  desiredCapacity(): number {
    return this.desired;
  }

  /** Like an Auto Scaling group: launches or removes (newest first) until `desired` run. */
  async setDesired(desired: number): Promise<void> {
    if (!Number.isInteger(desired) || desired < this.options.min || desired > this.options.max) {
      throw new InvalidInputError(`desired capacity ${desired} is outside min ${this.options.min} / max ${this.options.max}`);
    }
    this.desired = desired;
    while (this.instances.length < desired) await this.launchOne();
    while (this.instances.length > desired) await this.remove(this.instances[this.instances.length - 1]);
  }

  async terminate(instanceId: string): Promise<void> {
    const i = this.instances.find((x) => x.id === instanceId);
    if (!i) throw new NotFoundError(`no local instance ${instanceId}`);
    this.desired = Math.max(this.options.min, this.desired - 1);
    await this.remove(i);
  }

  /**
   * Replaces every instance, one at a time, the new one serving before the old one goes, as an EC2
   * Auto Scaling instance refresh with a minimum healthy percentage of 100 % does: capacity never
   * drops. `launch` decides what the new ones run (a promotion changes the version it starts).
   */
  async replaceAll(): Promise<string[]> {
    const old = [...this.instances];
    const started: string[] = [];
    for (const i of old) {
      started.push(await this.launchOne());
      await this.remove(i);
    }
    return started;
  }

  /** pid of each running instance, for the CPU collector. */
  pids(): Map<string, number> {
    return new Map(this.instances.flatMap((i) => (i.process.proc.pid === undefined ? [] : [[i.id, i.process.proc.pid] as [string, number]])));
  }

  ports(): Map<string, number> {
    return new Map(this.instances.map((i) => [i.id, i.port]));
  }

  /** Stops replacing lost instances: the runner is about to stop every process itself. */
  halt(): void {
    this.halted = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private async launchOne(): Promise<string> {
    this.serial += 1;
    const id = `prod-${this.serial}`;
    const port = await freePort();
    const process = this.options.launch(id, port);
    const instance: Instance = { id, port, process, launchedAt: new Date().toISOString() };
    this.instances.push(instance);
    // Still listed when it exits: nobody removed it (scale-in and terminate unlist first), so it was lost.
    void process.exited.then((code) => {
      const at = this.instances.indexOf(instance);
      if (at < 0) return;
      this.instances.splice(at, 1);
      this.replaceLost(id, describeExit(code, process.proc.signalCode));
    });
    await this.options.ready(id, port);
    return id;
  }

  /**
   * As an Auto Scaling group replaces an instance that became unhealthy or terminated on its own, to keep
   * `desired` (docs.aws.amazon.com/autoscaling/ec2/userguide/healthcheck.html).
   */
  private replaceLost(lost: string, how: string): void {
    if (this.halted) return;
    // The processes' delay and limit, so a fleet whose app crashes at once backs off and stops instead of spinning.
    const next = nextStart(this.replacements, Date.now(), SYSTEMD_RESTART);
    if (!next.restart) return this.options.onReplace?.(lost, how, { error: `not replaced: ${next.reason}` });
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.halted || this.instances.length >= this.desired) return;
      this.replacements.push(Date.now());
      this.launchOne().then(
        (replacement) => this.options.onReplace?.(lost, how, { replacement }),
        (err: Error) => this.options.onReplace?.(lost, how, { error: err.message }),
      );
    }, next.delayMs);
    this.timers.add(timer);
  }

  private async remove(i: Instance): Promise<void> {
    const at = this.instances.indexOf(i);
    if (at >= 0) this.instances.splice(at, 1);
    // SIGTERM: the app deregisters, drains its in-flight requests and exits.
    await i.process.stop();
  }
}
