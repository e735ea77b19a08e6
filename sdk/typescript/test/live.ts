// What the integration tests need from the environment: a running api-multi and two test
// projects' secret keys. Without them the tests are skipped with a message saying so.

import { randomUUID } from "node:crypto";

export const API_URL = process.env["DREAM_API_MULTI_URL"]?.trim() || undefined;
/** A SaaS test project with tiers `free` (limit 3, price 0) and `pro` (limit 1000, price 9.99). */
export const SAAS_KEY = process.env["DREAM_SDK_SAAS_SECRET_KEY"]?.trim() || undefined;
/** A Store test project with a product named `mug` that has stock. */
export const STORE_KEY = process.env["DREAM_SDK_STORE_SECRET_KEY"]?.trim() || undefined;

/** A SaaS test project of its own developer, whose Stripe account the tests break on purpose. */
export const FAULTS_KEY = process.env["DREAM_SDK_FAULTS_SECRET_KEY"]?.trim() || undefined;
export const FAULTS_STRIPE_ACCOUNT = process.env["DREAM_SDK_FAULTS_STRIPE_ACCOUNT"]?.trim() || undefined;
/** The local Stripe emulator, whose `/_emulator/faults` makes Stripe fail. */
export const EMULATOR_URL = process.env["DREAM_EMULATOR_URL"]?.trim() || undefined;

const HOW =
  "(`make test` provides them); see sdk/typescript/README.md";

/** `false` when the SaaS tests can run, else why they are skipped. */
export const skipSaas: string | false =
  API_URL && SAAS_KEY
    ? false
    : `needs DREAM_API_MULTI_URL and DREAM_SDK_SAAS_SECRET_KEY (a SaaS test project: free limit 3, pro limit 1000 at 9.99) ${HOW}`;

/** `false` when the Store tests can run, else why they are skipped. */
export const skipStore: string | false =
  API_URL && STORE_KEY
    ? false
    : `needs DREAM_API_MULTI_URL and DREAM_SDK_STORE_SECRET_KEY (a Store test project with a product \`mug\` in stock) ${HOW}`;

/** `false` when the Stripe-fault tests can run, else why they are skipped. */
export const skipFaults: string | false =
  API_URL && FAULTS_KEY && FAULTS_STRIPE_ACCOUNT && EMULATOR_URL
    ? false
    : `needs DREAM_API_MULTI_URL, DREAM_EMULATOR_URL, DREAM_SDK_FAULTS_SECRET_KEY and DREAM_SDK_FAULTS_STRIPE_ACCOUNT (a SaaS test project with a pro tier, alone on its Stripe account) ${HOW}`;

/** A user id no earlier run used, so every run starts from a count of 0. */
export function freshUserId(label: string): string {
  return `sdk-${label}-${randomUUID()}`;
}

// `make test` sets this: there, a skipped test would hide a broken setup, so it fails instead.
if (process.env["DREAM_SDK_REQUIRE_STACK"] && (skipSaas || skipStore || skipFaults)) {
  throw new Error(`DREAM_SDK_REQUIRE_STACK is set but: ${skipSaas || skipStore || skipFaults}`);
}
