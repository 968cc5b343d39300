// IAM actions with no resource-level permissions: Resource "*" is the only resource they can be
// granted on. The one list both InstanceRole's statement check and the policy pack's IAM rule use.
// Written from the Service Authorization Reference, whose "Resource types" column is empty for these
// (read in a machine-readable copy, iann0036/iam-dataset aws/iam_definition.json: ssm:ListAssociations,
// ssm:PutInventory; cloudwatch:PutMetricData; ec2:DescribeTags; autoscaling:DescribeAutoScalingGroups),
// and from Systems Manager's "Reference: ec2messages, ssmmessages, and other API operations" plus the
// AWS managed policies AmazonSSMManagedInstanceCore and AWSCloud9SSMInstanceProfile, which grant the
// agent's ssmmessages/ec2messages calls on "*". ssm:UpdateInstanceAssociationStatus is an agent-only
// call that the reference lists no resource type for.
import { ASSOCIATION_STATUS_ACTIONS, RUN_COMMAND_ACTIONS, SESSION_MANAGER_ACTIONS } from "./ssmAgentPermissions";

const ACTIONS = [
  "autoscaling:DescribeAutoScalingGroups",
  "cloudwatch:PutMetricData",
  "ec2:DescribeTags",
  ...SESSION_MANAGER_ACTIONS,
  ...RUN_COMMAND_ACTIONS,
  ...ASSOCIATION_STATUS_ACTIONS,
];

export const RESOURCELESS_ACTIONS: readonly string[] = ACTIONS;

const LOWER = new Set(ACTIONS.map((a) => a.toLowerCase()));

/** true when `action` (exact name, IAM action names are case-insensitive) has no resource-level permissions. */
export function isResourcelessAction(action: string): boolean {
  return LOWER.has(action.toLowerCase());
}
