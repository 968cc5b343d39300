// CrossGuard pack entry: `pulumi preview --policy-pack policy` loads this. Never imported by tests
// (new PolicyPack starts the policy server); the rules live in ./policies and are tested via ./check.
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

new PolicyPack("aviary-security", { policies });
