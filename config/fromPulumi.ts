// Reads the `aviary:*` keys of the running stack and validates them before any resource exists.
import * as pulumi from "@pulumi/pulumi";
import { aviaryKeys, parseStackConfig, type StackConfig } from "../core/config/stackConfig";

export function loadStackConfig(): StackConfig {
  // allConfig() rather than one get() per known key, so a misspelt key is reported, not ignored.
  return parseStackConfig(aviaryKeys(pulumi.runtime.allConfig()));
}
