// Single Redis 6 instance (AL2023) in a private subnet: password-protected, AOF on an encrypted data volume.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { REDIS_PORT } from "../config/ports";
import { bootScriptPreamble, IMDS_FUNCTIONS, shellQuote } from "./bootShell";
import { InstanceRole } from "./instanceRole";
import { redisParameterPrefix, redisUrlParameter } from "./redisUrlParameter";
import { SecretsKey } from "./secretsKey";
import { al2023Ami, INSTANCE_HARDENING } from "./instanceDefaults";

export interface RedisServerArgs {
  subnetId: pulumi.Input<string>;
  securityGroupId: pulumi.Input<string>;
  instanceType: pulumi.Input<string>;
}

const DATA_DEVICE = "/dev/sdf";

export interface RedisUserDataOptions {
  passwordParameterName: string;
  region: string;
}

/**
 * The cloud-init script. It holds the password parameter's NAME only: the instance reads the
 * SecureString at boot, so the password never sits in user-data or its Pulumi state.
 */
export function redisUserData(o: RedisUserDataOptions): string {
  return `${bootScriptPreamble("/var/log/aviary-redis-init.log", o.region)}
retry dnf install -y redis6

# Data volume: the disk that is not the root disk (Nitro renames ${DATA_DEVICE} to nvme*); wait for the attachment.
root_disk=$(lsblk -no PKNAME "$(findmnt -no SOURCE /)")
data_dev=""
for _ in $(seq 1 120); do
  data_dev=$(lsblk -dpno NAME,TYPE | awk -v root="/dev/$root_disk" '$2 == "disk" && $1 != root {print $1; exit}')
  [ -n "$data_dev" ] && break
  sleep 5
done
[ -n "$data_dev" ] || { echo "data volume never attached" >&2; exit 1; }
# Format only a blank volume: a replaced instance keeps the existing AOF.
blkid "$data_dev" >/dev/null 2>&1 || mkfs.xfs "$data_dev"
mkdir -p /data
uuid=$(blkid -s UUID -o value "$data_dev")
grep -q "$uuid" /etc/fstab || echo "UUID=$uuid /data xfs defaults,nofail 0 2" >> /etc/fstab
mount -a
mkdir -p /data/redis
chown redis6:redis6 /data/redis
chmod 750 /data/redis

${IMDS_FUNCTIONS}
private_ip=$(imds local-ipv4)
password=$(retry aws ssm get-parameter --region "$REGION" --name ${shellQuote(o.passwordParameterName)} --with-decryption --query Parameter.Value --output text)

umask 027
cat > /etc/redis6/redis6.conf <<CONF
bind $private_ip 127.0.0.1
port ${REDIS_PORT}
protected-mode yes
requirepass $password
supervised systemd
daemonize no
dir /data/redis
appendonly yes
appendfsync everysec
logfile ""
CONF
chown root:redis6 /etc/redis6/redis6.conf
chmod 640 /etc/redis6/redis6.conf
unset password

systemctl enable --now redis6
systemctl restart redis6
`;
}

export class RedisServer extends pulumi.ComponentResource {
  public readonly privateIp: pulumi.Output<string>;
  public readonly password: pulumi.Output<string>;
  public readonly url: pulumi.Output<string>;
  public readonly urlParameterName: pulumi.Output<string>;
  public readonly urlParameterArn: pulumi.Output<string>;
  /** Encrypts the URL and password parameters; URL readers need it for kms:Decrypt. */
  public readonly secretsKeyArn: pulumi.Output<string>;
  public readonly instanceId: pulumi.Output<string>;

  constructor(name: string, args: RedisServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aviary:redis:RedisServer", name, {}, opts);
    const parent = { parent: this };
    const prefix = redisParameterPrefix(name);

    // Letters and digits only: the password goes into a URL and a config file unescaped.
    const password = new random.RandomPassword(`${name}-password`, { length: 32, special: false }, parent);

    const secretsKey = new SecretsKey(`${name}-secrets`, { description: `Aviary ${name}: Redis URL and password parameters` }, parent);
    const passwordParameter = new aws.ssm.Parameter(`${name}-password`, {
      name: `${prefix}/password`,
      type: "SecureString",
      keyId: secretsKey.keyArn,
      value: password.result,
      description: "Aviary Redis requirepass; read by the Redis instance at boot",
    }, parent);

    const role = new InstanceRole(`${name}-role`, {
      statements: [{ actions: ["ssm:GetParameter"], resources: [passwordParameter.arn] }],
      secret: { parameterName: passwordParameter.name, parameterArn: passwordParameter.arn, keyArn: secretsKey.keyArn },
    }, parent);

    const region = aws.getRegionOutput({}, parent).region;
    const image = al2023Ami(args.instanceType, parent);
    const userData = pulumi.all([passwordParameter.name, region]).apply(([passwordParameterName, r]) =>
      redisUserData({ passwordParameterName, region: r }));

    // The address every client holds (the URL parameter, read at boot) belongs to this interface,
    // not to the instance, so a replaced Redis answers at the same IP.
    const networkInterface = new aws.ec2.NetworkInterface(name, {
      subnetId: args.subnetId,
      securityGroups: [args.securityGroupId],
      description: "Aviary Redis: its address outlives instance replacement",
      tags: { Name: name, "aviary:role": "redis" },
    }, parent);

    const instance = new aws.ec2.Instance(name, {
      ami: image.ami,
      instanceType: args.instanceType,
      primaryNetworkInterface: { networkInterfaceId: networkInterface.id },
      iamInstanceProfile: role.instanceProfileName,
      ...INSTANCE_HARDENING,
      userData,
      tags: { Name: name, "aviary:role": "redis" },
      volumeTags: { Name: name },
    }, {
      parent: this,
      dependsOn: [passwordParameter],
      // The old instance must let go of the interface and the data volume before the new one
      // can take them: delete (detaching the volume first), then create.
      deleteBeforeReplace: true,
      ...image.singleInstanceOptions,
    });

    // A separate volume outlives instance replacement, so the AOF survives a user-data change. Its
    // zone comes from the subnet, not from the instance: Pulumi plans a delete-before-replace's
    // dependents with the replaced resource's outputs unknown, and an unknown zone (replace-on-change)
    // would recreate the volume empty.
    const dataVolume = new aws.ebs.Volume(`${name}-data`, {
      availabilityZone: aws.ec2.getSubnetOutput({ id: args.subnetId }, parent).availabilityZone,
      size: 20,
      type: "gp3",
      encrypted: true,
      tags: { Name: `${name}-data` },
    }, parent);
    new aws.ec2.VolumeAttachment(`${name}-data`, {
      deviceName: DATA_DEVICE,
      volumeId: dataVolume.id,
      instanceId: instance.id,
      // Redis stops cleanly (AOF flushed) before its disk is detached.
      stopInstanceBeforeDetaching: true,
    }, parent);

    this.privateIp = networkInterface.privateIp;
    this.password = pulumi.secret(password.result);
    this.url = pulumi.secret(pulumi.interpolate`redis://:${password.result}@${networkInterface.privateIp}:${REDIS_PORT}`);

    const urlParameter = redisUrlParameter(name, this.url, secretsKey.keyArn, parent);
    // Only the Redis instance's role may decrypt the password; only URL readers' roles the URL.
    secretsKey.restrictTo([passwordParameter, urlParameter]);

    this.urlParameterName = urlParameter.name;
    this.urlParameterArn = urlParameter.arn;
    this.secretsKeyArn = secretsKey.keyArn;
    this.instanceId = instance.id;
    this.registerOutputs({
      privateIp: this.privateIp,
      password: this.password,
      url: this.url,
      urlParameterName: this.urlParameterName,
      urlParameterArn: this.urlParameterArn,
      secretsKeyArn: this.secretsKeyArn,
      instanceId: this.instanceId,
    });
  }
}
