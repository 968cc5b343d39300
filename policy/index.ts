// CrossGuard pack entry: `pulumi preview --policy-pack policy` loads this. Never imported by tests
// (new PolicyPack starts the policy server); the rules live in ./policies and ./awsguard and are
// tested via ./check. awsguard's rules that Aviary disables, and why: ./awsguard DISABLED_AWSGUARD_RULES.
import { PolicyPack } from "@pulumi/policy";
import { awsguardPolicies } from "./awsguard";
import { policies, stackPolicies } from "./policies";

new PolicyPack("aviary-security", { policies: [...policies, ...stackPolicies, ...awsguardPolicies] });
