// The Redis instance's EBS data volume cannot be attached to a container (nspawn shows no block
// device of its own, and its root is an overlay, not a disk): the one part of redisUserData the
// harness replaces is the block that finds, formats and mounts that volume, by /data as a directory
// of the container's root. Everything after it (ownership, redis6.conf with dir /data/redis) runs as written.
export const DATA_VOLUME_START = "# Data volume:";
export const DATA_VOLUME_END = "mount -a\n";

export class DataVolumeBlockNotFound extends Error {}

/** The script with its data-volume block replaced by `mkdir -p /data`; throws when the block moved. */
export function withDataVolumeAsDirectory(script: string): string {
  const start = script.indexOf(DATA_VOLUME_START);
  const end = script.indexOf(DATA_VOLUME_END, start);
  if (start < 0 || end < 0) throw new DataVolumeBlockNotFound("redis user data: the data-volume block (\"# Data volume:\" .. \"mount -a\") is not there any more");
  return `${script.slice(0, start)}# Data volume: a directory in the boot harness (no EBS volume in a container).\nmkdir -p /data\n${script.slice(end + DATA_VOLUME_END.length)}`;
}
