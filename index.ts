// Aviary: one program, two stacks. `role` picks which half this stack is; config is validated
// first, so an invalid stack file fails before any resource is registered.
import { loadStackConfig } from "./config/fromPulumi";
import { canaryStack } from "./stacks/canary";
import { prodStack } from "./stacks/prod";

const config = loadStackConfig();

export = config.role === "prod" ? prodStack(config) : canaryStack(config);
