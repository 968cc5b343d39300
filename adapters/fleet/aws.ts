// Fleet port on an EC2 Auto Scaling group.
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from "@aws-sdk/client-auto-scaling";
import type { FleetState } from "../../core/controller/decide";
import type { Fleet } from "../../controller/ports";
import { NotFoundError } from "../../core/errors";

// Instances on their way out no longer count as capacity the controller could remove.
const LEAVING = /^(Terminating|Terminated|Detaching|Detached|Standby|EnteringStandby)/;

export class AwsFleet implements Fleet {
  constructor(private readonly client: AutoScalingClient, private readonly groupName: string) {}

  async describe(): Promise<FleetState> {
    const out = await this.client.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [this.groupName] }));
    const group = out.AutoScalingGroups?.[0];
    if (!group || group.DesiredCapacity === undefined || group.MinSize === undefined || group.MaxSize === undefined) {
      throw new NotFoundError(`Auto Scaling group ${this.groupName} not found`);
    }
    // The Auto Scaling API does not date instances; the controller dates them from the registry.
    const instances = (group.Instances ?? [])
      .filter((i) => i.InstanceId && !LEAVING.test(i.LifecycleState ?? ""))
      .map((i) => ({ id: i.InstanceId as string }));
    return { desired: group.DesiredCapacity, min: group.MinSize, max: group.MaxSize, instances };
  }

  async setDesired(desired: number): Promise<void> {
    // The controller applies its own cooldowns; the group's must not veto them.
    await this.client.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: this.groupName, DesiredCapacity: desired, HonorCooldown: false }));
  }

  async terminate(instanceId: string): Promise<void> {
    await this.client.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: instanceId, ShouldDecrementDesiredCapacity: true }));
  }
}
