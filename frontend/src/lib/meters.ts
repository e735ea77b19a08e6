// A tier's meters in the editor: what each counts, how much a period includes, and what a unit
// past that costs (shared/core/src/tiers/meters.rs and input.rs are the authority). The
// `requests` meter is the tier's request limit, edited as before; the others are listed here.

import type { MeterInput } from "../api/types";

export const MAX_METERS = 10;
export const MAX_PACKAGE = 1_000_000_000;
const MAX_INCLUDED = 1_000_000_000_000;
const METER_KEY = /^[a-z][a-z0-9_-]{0,39}$/;
// Dollars with up to 11 decimals: billionths of a cent, as the API holds them.
const PRICE = /^(\d{1,6})(?:\.(\d{1,11}))?$/;
const PRICE_SCALE = 100_000_000_000n;

/** One meter as typed into the form. */
export interface MeterForm {
  key: string;
  included: string;
  /** No included amount: the meter only counts. */
  unlimited: boolean;
  billOverage: boolean;
  /** Dollars per package, e.g. 0.002. */
  overagePrice: string;
  /** Units per package, e.g. 1000. */
  overagePer: string;
}

export function emptyMeter(): MeterForm {
  return { key: "", included: "", unlimited: false, billOverage: false, overagePrice: "", overagePer: "1" };
}

/** Dollars as exact units of 10⁻¹¹ dollar; null when the text is not a price the API takes. */
export function priceUnits(text: string): bigint | null {
  const match = PRICE.exec(text.trim());
  if (!match) return null;
  const units = BigInt(match[1] ?? "0") * PRICE_SCALE + BigInt((match[2] ?? "").padEnd(11, "0"));
  return units > 0n ? units : null;
}

/** Units of 10⁻¹¹ dollar as dollars, at least to the cent, exact beyond it. */
export function unitsToDollars(units: bigint): string {
  const whole = units / PRICE_SCALE;
  const frac = (units % PRICE_SCALE).toString().padStart(11, "0").replace(/0+$/, "").padEnd(2, "0");
  return `${whole}.${frac}`;
}

/** What `units` past the included amount cost: whole packages, a started one billed whole. */
export function overageCost(units: number, price: bigint, per: number): bigint {
  const packages = BigInt(Math.ceil(Math.max(0, units) / Math.max(1, per)));
  return packages * price;
}

/** The editor's preview: what a customer using 2.5× the included amount pays for it. */
export function overagePreview(form: MeterForm, tierPriceCents: number): string | null {
  const price = priceUnits(form.overagePrice);
  const included = Number(form.included);
  const per = Number(form.overagePer || "1");
  if (!form.billOverage || price === null || !Number.isSafeInteger(included) || included <= 0 || !(per >= 1)) return null;
  const used = Math.round(included * 2.5);
  const overage = overageCost(used - included, price, per);
  const flat = BigInt(tierPriceCents) * (PRICE_SCALE / 100n);
  const name = form.key || "units";
  return `A customer using ${used.toLocaleString("en-US")} ${name} pays $${unitsToDollars(flat + overage)}: $${unitsToDollars(flat)} + $${unitsToDollars(overage)} for ${(used - included).toLocaleString("en-US")} over the included ${included.toLocaleString("en-US")}.`;
}

/** The meters as the API takes them, or the first problem, naming the meter. */
export function validateMeters(forms: MeterForm[], tierIsPaid: boolean): { value: MeterInput[] } | { error: string } {
  if (forms.length > MAX_METERS - 1) return { error: `At most ${MAX_METERS - 1} meters besides requests` };
  const seen = new Set<string>();
  const meters: MeterInput[] = [];
  for (const [i, form] of forms.entries()) {
    const key = form.key.trim();
    const which = `Meter ${i + 1}${key ? ` (${key})` : ""}`;
    if (!METER_KEY.test(key)) return { error: `${which}: a name of a-z, 0-9, - or _, starting with a letter` };
    if (key === "requests") return { error: `${which}: requests are the tier's request limit above` };
    if (seen.has(key)) return { error: `${which}: “${key}” is used twice` };
    seen.add(key);
    const meter: MeterInput = { key, included: null };
    if (!form.unlimited) {
      const text = form.included.trim();
      if (!/^\d+$/.test(text) || Number(text) > MAX_INCLUDED) {
        return { error: `${which}: the included amount must be a whole number up to ${MAX_INCLUDED.toLocaleString("en-US")}` };
      }
      meter.included = Number(text);
    }
    if (form.billOverage) {
      if (form.unlimited) return { error: `${which}: an unlimited meter has no overage` };
      if (!tierIsPaid) return { error: `${which}: overage is billed on the tier's subscription; give the tier a price` };
      if (priceUnits(form.overagePrice) === null) {
        return { error: `${which}: the overage price must be more than 0 dollars, at most 11 decimals (e.g. 0.002)` };
      }
      const per = form.overagePer.trim() || "1";
      if (!/^\d+$/.test(per) || Number(per) < 1 || Number(per) > MAX_PACKAGE) {
        return { error: `${which}: the package size must be a whole number from 1 to ${MAX_PACKAGE.toLocaleString("en-US")}` };
      }
      meter.overage = { price: form.overagePrice.trim(), per: Number(per) };
    }
    meters.push(meter);
  }
  return { value: meters };
}

/** A stored tier's meters (all but requests) back into the form. */
export function metersToForm(meters: readonly { key: string; included: number | null; overage?: { price: string; per?: number | undefined } | null }[]): MeterForm[] {
  return meters
    .filter((m) => m.key !== "requests")
    .map((m) => ({
      key: m.key,
      included: m.included === null ? "" : String(m.included),
      unlimited: m.included === null,
      billOverage: Boolean(m.overage),
      overagePrice: m.overage?.price ?? "",
      overagePer: String(m.overage?.per ?? 1),
    }));
}
