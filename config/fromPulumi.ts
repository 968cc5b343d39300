// Reads the `aviary:*` keys of the running stack and validates them before any resource exists.
import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE, parseStackConfig, type RawConfig, type StackConfig } from "./stackConfig";

export function loadStackConfig(): StackConfig {
  const prefix = `${CONFIG_NAMESPACE}:`;
  const raw: Record<string, string> = {};
  // allConfig() rather than one get() per known key, so a misspelt key is reported, not ignored.
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (key.startsWith(prefix)) raw[key.slice(prefix.length)] = value;
  }
  return parseStackConfig(raw as RawConfig);
}
