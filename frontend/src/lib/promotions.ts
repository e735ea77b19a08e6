// Promotion codes as the dashboard builds and shows them: the rules the API applies
// (shared/core/src/api/promotions.rs), checked before a request so the field says what is wrong.

import type { CreatePromotionCode, PromotionCodeView } from "../api/types";
import { dollars } from "./format";
import { parseDollars } from "./tiers";

export interface PromotionForm {
  code: string;
  kind: "percent" | "amount";
  /** Percent (0.01-100) or dollars, as typed. */
  value: string;
  duration: "once" | "repeating" | "forever";
  months: string;
  maxRedemptions: string;
  /** yyyy-mm-dd from a date input; the code stops at the end of that day (UTC). */
  expires: string;
}

export type PromotionErrors = Partial<Record<keyof PromotionForm, string>>;

export function emptyPromotion(): PromotionForm {
  return { code: "", kind: "percent", value: "", duration: "once", months: "3", maxRedemptions: "", expires: "" };
}

const CODE = /^[A-Za-z0-9]{3,30}$/;

/** The form as the API takes it, or what is wrong with it. */
export function validatePromotion(
  publishableKey: string,
  form: PromotionForm,
  today: Date,
): { ok: true; value: CreatePromotionCode } | { ok: false; errors: PromotionErrors } {
  const errors: PromotionErrors = {};
  const code = form.code.trim();
  if (!CODE.test(code)) errors.code = "3-30 letters and digits, e.g. LAUNCH20";
  const input: CreatePromotionCode = { publishableKey, code, duration: form.duration };
  const value = parseDollars(form.value);
  if ("error" in value) errors.value = form.kind === "percent" ? "Enter a percent like 20 or 12.5" : value.error;
  else if (form.kind === "percent") {
    if (value.cents < 1 || value.cents > 10_000) errors.value = "A percent more than 0 and at most 100";
    else input.percentOff = value.cents / 100;
  } else if (value.cents < 1) errors.value = "An amount more than 0";
  else input.amountOff = value.cents / 100;
  if (form.duration === "repeating") {
    const months = Number(form.months);
    if (!/^\d+$/.test(form.months.trim()) || months < 1 || months > 36) errors.months = "1-36 months";
    else input.durationInMonths = months;
  }
  if (form.maxRedemptions.trim()) {
    const n = Number(form.maxRedemptions);
    if (!/^\d+$/.test(form.maxRedemptions.trim()) || n < 1 || n > 1_000_000) errors.maxRedemptions = "A whole number from 1 to 1,000,000";
    else input.maxRedemptions = n;
  }
  if (form.expires) {
    const end = new Date(`${form.expires}T23:59:59Z`);
    if (Number.isNaN(end.getTime()) || end.getTime() <= today.getTime()) errors.expires = "A day from today on";
    else input.expiresAt = end.toISOString().replace(".000Z", "Z");
  }
  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, value: input };
}

/** "20 % off, forever", "$5.00 off, 3 months", "10 % off the first invoice". */
export function discountLabel(code: PromotionCodeView): string {
  const off = code.percentOff !== null && code.percentOff !== undefined ? `${code.percentOff} % off` : `${dollars(code.amountOff ?? 0, code.currency)} off`;
  switch (code.duration) {
    case "once":
      return `${off} the first invoice`;
    case "repeating":
      return `${off}, ${code.durationInMonths ?? 0} months`;
    default:
      return `${off}, forever`;
  }
}
