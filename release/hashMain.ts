// Prints the content hashes of the bundles this work tree builds ({"appHash","agentHash"}), the
// same ones AppRelease puts in the release keys: promote compares them with the canary's outputs.
import { AGENT_ENTRY, bundleApp, contentHash } from "./bundles";

process.stdout.write(`${JSON.stringify({ appHash: contentHash(bundleApp()), agentHash: contentHash(bundleApp(AGENT_ENTRY)) })}\n`);
