// Tier and product validation: the same rules the API applies (README "A tier:",
// shared/core/src/tiers/input.rs, money.rs, tiers/mod.rs), checked before a request so a developer sees what
// is wrong next to the field. The API stays the authority; its errors are shown too.

import type { ProjectType, Tier, TierInput } from "../api/types";
import { type MeterForm, metersToForm, validateMeters } from "./meters";

export const TIER_NAME_MAX = 40;
export const MAX_TIERS = 20;
export const MAX_PROJECT_NAME = 100;
export const MAX_DISPLAY_NAME = 100;
export const MAX_DESCRIPTION = 1000;
export const MAX_FEATURES = 20;
export const MAX_FEATURE_LEN = 200;
export const MAX_URL_LEN = 2048;
export const MAX_INVENTORY = 1_000_000_000;
export const MAX_LIMIT = 1_000_000_000_000;
export const MAX_CENTS = 99_999_999;
export const MAX_FEATURE_KEYS = 30;
export const MAX_TRIAL_DAYS = 730;

/** A tier or product as typed into the form (every number still text). */
export interface TierForm {
  name: string;
  displayName: string;
  price: string;
  /** SaaS: no request limit. Store: stock is not tracked. */
  unlimited: boolean;
  limit: string;
  inventory: string;
  description: string;
  imageUrl: string;
  /** SaaS: one feature per line. */
  features: string;
  popular: boolean;
  /** SaaS: the meters besides requests. */
  meters: MeterForm[];
  /** SaaS: the most one user's overage may cost per period, in dollars; empty: no cap. */
  spendCap: string;
  /** SaaS: the boolean features the tier grants, separated by commas or spaces. */
  entitlements: string;
  /** SaaS: days of free trial on checkout; empty: none. */
  trialDays: string;
  /** SaaS: the trial needs a card (else it starts without one and lapses if none is added). */
  trialCardRequired: boolean;
}

export type TierField = keyof TierForm;
export type TierErrors = Partial<Record<TierField, string>>;

export type Checked<T, E> = { ok: true; value: T } | { ok: false; errors: E };

const SLUG = /^[a-z0-9][a-z0-9_-]*$/;
const FEATURE_KEY = /^[a-z][a-z0-9_-]{0,39}$/;

/** The feature keys typed into the form, in order. */
export function featureKeys(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((key) => key.trim())
    .filter((key) => key.length > 0);
}

/** A tier's boolean features: slugs, at most 30, none twice, none named like a meter. */
function checkFeatureKeys(keys: string[], meterKeys: string[]): string | null {
  if (keys.length > MAX_FEATURE_KEYS) return `At most ${MAX_FEATURE_KEYS} features`;
  const bad = keys.find((key) => !FEATURE_KEY.test(key));
  if (bad !== undefined) return `“${bad}”: use 1-40 characters of a-z, 0-9, - or _, starting with a letter`;
  const twice = keys.find((key, i) => keys.indexOf(key) !== i);
  if (twice !== undefined) return `“${twice}” is listed twice`;
  const meter = keys.find((key) => key === "requests" || meterKeys.includes(key));
  if (meter !== undefined) return `“${meter}” is the name of a meter; features and meters need different names`;
  return null;
}
// Rust's char::is_control: the C0 and C1 control characters.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

const length = (text: string) => [...text].length;

/** A tier name: a lowercase slug of 1-40 characters starting with a letter or digit. */
export function checkTierName(name: string): string | null {
  if (!name) return "Enter a name";
  if (name.length > TIER_NAME_MAX || !SLUG.test(name)) {
    return `Use 1-${TIER_NAME_MAX} characters of a-z, 0-9, - or _, starting with a letter or digit`;
  }
  return null;
}

/** Dollars with at most two decimals, as the API parses them, in integer cents. */
export function parseDollars(text: string): { cents: number } | { error: string } {
  const trimmed = text.trim();
  if (!trimmed) return { error: "Enter a price" };
  if (trimmed.startsWith("-")) return { error: "Price must not be negative" };
  const match = /^(\d+)(?:\.(\d+))?$/.exec(trimmed);
  if (!match) return { error: "Enter a number like 9 or 9.99" };
  const whole = match[1] ?? "";
  const frac = (match[2] ?? "").replace(/0+$/, "");
  if (frac.length > 2) return { error: "Use at most 2 decimals (cents)" };
  const cents = Number(whole) * 100 + Number(frac.padEnd(2, "0"));
  if (whole.length > 7 || cents > MAX_CENTS) return { error: "Price must be at most 999999.99" };
  return { cents };
}

function checkText(text: string, max: number, what: string, required: boolean): string | null {
  const trimmed = text.trim();
  if (!trimmed) return required ? `Enter ${what}` : null;
  if (length(trimmed) > max) return `${capitalize(what)} must be at most ${max} characters`;
  if (CONTROL.test(trimmed)) return `${capitalize(what)} must be a single line without control characters`;
  return null;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** An http(s) URL the API accepts for `imageUrl`. */
export function checkImageUrl(url: string): string | null {
  const ok =
    (url.startsWith("https://") || url.startsWith("http://")) &&
    url.length <= MAX_URL_LEN &&
    !/[\s"<>]/.test(url) &&
    !CONTROL.test(url);
  return ok ? null : "Enter an http(s) URL";
}

function wholeNumber(text: string, max: number, what: string): { value: number } | { error: string } {
  const trimmed = text.trim();
  if (!trimmed) return { error: `Enter ${what}` };
  if (!/^\d+$/.test(trimmed)) return { error: `${capitalize(what)} must be a whole number of 0 or more` };
  const value = Number(trimmed);
  if (value > max) return { error: `${capitalize(what)} must be at most ${max.toLocaleString("en-US")}` };
  return { value };
}

export function featureLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/** One tier (SaaS) or product (Store), from the form to the JSON the API takes. */
export function validateTier(kind: ProjectType, form: TierForm): Checked<TierInput, TierErrors> {
  const errors: TierErrors = {};
  const name = form.name.trim();
  const nameError = checkTierName(name);
  if (nameError) errors.name = nameError;

  const tier: TierInput = { name, price: 0 };

  const displayError = checkText(form.displayName, MAX_DISPLAY_NAME, "a display name", false);
  if (displayError) errors.displayName = displayError;
  else if (form.displayName.trim()) tier.displayName = form.displayName.trim();

  const price = parseDollars(form.price);
  if ("error" in price) errors.price = price.error;
  else if (kind === "store" && price.cents === 0) errors.price = "A product must cost more than 0";
  else tier.price = price.cents / 100;

  if (kind === "saas") {
    if (!form.unlimited) {
      const limit = wholeNumber(form.limit, MAX_LIMIT, "a monthly request limit");
      if ("error" in limit) errors.limit = limit.error;
      else tier.limit = limit.value;
    } else {
      tier.limit = null;
    }
    const features = featureLines(form.features);
    if (features.length > MAX_FEATURES) errors.features = `At most ${MAX_FEATURES} features`;
    else {
      const long = features.find((f) => length(f) > MAX_FEATURE_LEN || CONTROL.test(f));
      if (long !== undefined) errors.features = `Each feature must be at most ${MAX_FEATURE_LEN} characters`;
      else if (features.length > 0) tier.features = features;
    }
    if (form.popular) tier.popular = true;
    const paid = "cents" in price && price.cents > 0;
    const meters = validateMeters(form.meters, paid);
    // Always sent for SaaS: an edit that sends none keeps the tier's meters, so removing the
    // last one must say so.
    if ("error" in meters) errors.meters = meters.error;
    else tier.meters = meters.value;
    // Both always sent: an edit that sends neither keeps the tier's, so clearing must say so.
    const keys = featureKeys(form.entitlements);
    const keysError = checkFeatureKeys(
      keys,
      form.meters.map((m) => m.key.trim()),
    );
    if (keysError) errors.entitlements = keysError;
    else tier.entitlements = keys;
    tier.trial = null;
    if (form.trialDays.trim()) {
      const days = wholeNumber(form.trialDays, MAX_TRIAL_DAYS, "the trial's days");
      if ("error" in days) errors.trialDays = days.error;
      else if (days.value < 1) errors.trialDays = `A trial lasts 1-${MAX_TRIAL_DAYS} days; leave it empty for none`;
      else if (!paid) errors.trialDays = "A free tier has nothing to try: give the tier a price";
      else tier.trial = { days: days.value, cardRequired: form.trialCardRequired };
    }
    tier.spendCap = null;
    if (form.spendCap.trim()) {
      const cap = parseDollars(form.spendCap);
      if ("error" in cap) errors.spendCap = cap.error;
      else if (cap.cents === 0 || !form.meters.some((m) => m.billOverage)) {
        errors.spendCap = "A spend cap must be more than 0, on a tier with a meter that bills overage";
      } else tier.spendCap = cap.cents / 100;
    }
  } else if (!form.unlimited) {
    const stock = wholeNumber(form.inventory, MAX_INVENTORY, "the stock");
    if ("error" in stock) errors.inventory = stock.error;
    else tier.inventory = stock.value;
  }

  const descriptionError = checkText(form.description, MAX_DESCRIPTION, "a description", false);
  if (descriptionError) errors.description = descriptionError;
  else if (form.description.trim()) tier.description = form.description.trim();

  const imageUrl = form.imageUrl.trim();
  if (imageUrl) {
    const urlError = checkImageUrl(imageUrl);
    if (urlError) errors.imageUrl = urlError;
    else tier.imageUrl = imageUrl;
  }

  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, value: tier };
}

export interface TierListErrors {
  /** About the list as a whole (count). */
  list?: string;
  /** Per tier, at the same index. */
  tiers: TierErrors[];
}

/** A whole tier list: 1-20 entries, each valid, names unique within the project. */
export function validateTiers(kind: ProjectType, forms: TierForm[]): Checked<TierInput[], TierListErrors> {
  const errors: TierListErrors = { tiers: forms.map(() => ({})) };
  let failed = false;
  if (forms.length === 0 || forms.length > MAX_TIERS) {
    errors.list = `A project needs 1-${MAX_TIERS} ${kind === "store" ? "products" : "tiers"}`;
    failed = true;
  }
  const seen = new Set<string>();
  const tiers: TierInput[] = [];
  forms.forEach((form, i) => {
    const result = validateTier(kind, form);
    const name = form.name.trim();
    if (result.ok) tiers.push(result.value);
    else {
      errors.tiers[i] = result.errors;
      failed = true;
    }
    if (name && seen.has(name) && !errors.tiers[i]?.name) {
      errors.tiers[i] = { ...errors.tiers[i], name: `“${name}” is used twice` };
      failed = true;
    }
    seen.add(name);
  });
  return failed ? { ok: false, errors } : { ok: true, value: tiers };
}

export function checkProjectName(name: string): string | null {
  return checkText(name, MAX_PROJECT_NAME, "a project name", true);
}

export function emptyTier(kind: ProjectType): TierForm {
  return {
    name: "",
    displayName: "",
    price: kind === "store" ? "" : "0",
    unlimited: false,
    limit: "",
    inventory: "",
    description: "",
    imageUrl: "",
    features: "",
    popular: false,
    meters: [],
    spendCap: "",
    entitlements: "",
    trialDays: "",
    trialCardRequired: true,
  };
}

/** A stored tier back into the form, for editing (and for "Edit & Go Live"). */
export function tierToForm(tier: Tier): TierForm {
  const presentation = tier.features ?? {};
  return {
    name: tier.name,
    displayName: tier.displayName ?? "",
    price: centsToText(Math.round(tier.price * 100)),
    unlimited: tier.inventory === null && tier.limit === null,
    limit: tier.limit === null ? "" : String(tier.limit),
    inventory: tier.inventory === null ? "" : String(tier.inventory),
    description: presentation.description ?? "",
    imageUrl: presentation.imageUrl ?? "",
    features: (presentation.features ?? []).join("\n"),
    popular: tier.popular,
    meters: metersToForm(tier.meters ?? []),
    spendCap: tier.spendCap === null || tier.spendCap === undefined ? "" : centsToText(Math.round(tier.spendCap * 100)),
    entitlements: (tier.entitlements ?? []).join(", "),
    trialDays: tier.trial ? String(tier.trial.days) : "",
    trialCardRequired: tier.trial?.cardRequired ?? true,
  };
}

/**
 * An edit as `PUT /tiers` takes it: the stock only when the developer changed it (null when they
 * stopped tracking it). Sales move the stock while the form is open, and the API leaves a stock
 * that was not sent as the sales left it.
 */
export function editedTier(kind: ProjectType, original: Tier, form: TierForm, input: TierInput): TierInput {
  if (kind !== "store") return input;
  const loaded = tierToForm(original);
  const stockChanged = loaded.unlimited !== form.unlimited || loaded.inventory.trim() !== form.inventory.trim();
  if (stockChanged) return { ...input, inventory: input.inventory ?? null };
  const unchanged = { ...input };
  delete unchanged.inventory;
  return unchanged;
}

/** A stored tier as the API takes it again (for promote-to-live without edits). */
export function tierToInput(kind: ProjectType, tier: Tier): TierInput {
  const result = validateTier(kind, tierToForm(tier));
  if (result.ok) return result.value;
  // Stored tiers were valid when written; fall back to the raw fields rather than hide one.
  return { name: tier.name, price: tier.price };
}

export function centsToText(cents: number): string {
  const whole = Math.floor(cents / 100);
  const rest = cents % 100;
  return rest === 0 ? String(whole) : `${whole}.${String(rest).padStart(2, "0")}`;
}
