// What SSM Agent on an instance needs from its role for Session Manager, Run Command and State
// Manager associations, instead of AmazonSSMManagedInstanceCore (which also grants ssm:GetParameter(s)
// on every parameter in the account). Written from:
// - Session Manager, "Step 2: Verify or add instance permissions" (ssmmessages:*Channel and
//   ssm:UpdateInstanceInformation) and the managed policy AmazonSSMManagedInstanceCore (its agent calls);
// - Systems Manager, "Reference: ec2messages, ssmmessages, and other API operations" (Run Command
//   uses ec2messages; State Manager uses ListInstanceAssociations, DescribeAssociation, GetDocument,
//   UpdateInstanceAssociationStatus);
// - the Service Authorization Reference: UpdateInstanceInformation and ListInstanceAssociations take an
//   `instance` resource (arn:${Partition}:ec2:${Region}:${Account}:instance/${InstanceId}),
//   DescribeAssociation an association/document/instance, GetDocument and DescribeDocument a document;
//   the rest have no resource type (awsRules/resourcelessActions.ts).
// Patching and inventory (GetDeployablePatchSnapshotForInstance, PutInventory, PutComplianceItems,
// GetManifest, PutConfigurePackageResult) are left out: Aviary uses neither.
export interface AgentStatement {
  Sid: string;
  actions: string[];
  resources: string[];
}

export const SESSION_MANAGER_ACTIONS = [
  "ssmmessages:CreateControlChannel",
  "ssmmessages:CreateDataChannel",
  "ssmmessages:OpenControlChannel",
  "ssmmessages:OpenDataChannel",
];
export const RUN_COMMAND_ACTIONS = [
  "ec2messages:AcknowledgeMessage",
  "ec2messages:DeleteMessage",
  "ec2messages:FailMessage",
  "ec2messages:GetEndpoint",
  "ec2messages:GetMessages",
  "ec2messages:SendReply",
];
export const ASSOCIATION_STATUS_ACTIONS = ["ssm:ListAssociations", "ssm:UpdateInstanceAssociationStatus"];
export const INSTANCE_SCOPED_ACTIONS = ["ssm:UpdateInstanceInformation", "ssm:ListInstanceAssociations", "ssm:DescribeAssociation"];
export const DOCUMENT_SCOPED_ACTIONS = ["ssm:GetDocument", "ssm:DescribeDocument", "ssm:DescribeAssociation"];

/** The agent's statements for instances in one account and region. */
export function ssmAgentStatements(partition: string, region: string, account: string): AgentStatement[] {
  // All three have no resource-level permissions (they are part of awsRules/resourcelessActions.ts).
  const resourceless = [...SESSION_MANAGER_ACTIONS, ...RUN_COMMAND_ACTIONS, ...ASSOCIATION_STATUS_ACTIONS];
  return [
    { Sid: "SsmAgentChannels", actions: resourceless, resources: ["*"] },
    { Sid: "SsmAgentInstance", actions: INSTANCE_SCOPED_ACTIONS, resources: [`arn:${partition}:ec2:${region}:${account}:instance/*`] },
    {
      Sid: "SsmAgentDocuments",
      actions: DOCUMENT_SCOPED_ACTIONS,
      resources: [
        // AWS-owned documents (AWS-RunShellScript, AWS-UpdateSSMAgent) have no account in their ARN.
        `arn:${partition}:ssm:${region}::document/*`,
        `arn:${partition}:ssm:${region}:${account}:document/*`,
        `arn:${partition}:ssm:${region}:${account}:association/*`,
      ],
    },
  ];
}
