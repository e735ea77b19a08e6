import { describe, expect, it } from "vitest";
import type { PromotionCodeView } from "../api/types";
import { discountLabel, emptyPromotion, validatePromotion } from "./promotions";

const TODAY = new Date("2026-12-07T12:00:00Z");
const form = (over: Partial<ReturnType<typeof emptyPromotion>>) => ({ ...emptyPromotion(), code: "LAUNCH20", value: "20", ...over });

describe("a promotion code form", () => {
  it("becomes the API's JSON", () => {
    expect(validatePromotion("pk", form({ duration: "forever" }), TODAY)).toEqual({
      ok: true,
      value: { publishableKey: "pk", code: "LAUNCH20", duration: "forever", percentOff: 20 },
    });
    const amount = validatePromotion("pk", form({ kind: "amount", value: "5", duration: "repeating", months: "3", maxRedemptions: "50", expires: "2027-01-31" }), TODAY);
    expect(amount).toEqual({
      ok: true,
      value: { publishableKey: "pk", code: "LAUNCH20", duration: "repeating", amountOff: 5, durationInMonths: 3, maxRedemptions: 50, expiresAt: "2027-01-31T23:59:59Z" },
    });
  });
  it("says what the API would refuse, by field", () => {
    const cases: [Partial<ReturnType<typeof emptyPromotion>>, string][] = [
      [{ code: "no spaces" }, "code"],
      [{ value: "120" }, "value"],
      [{ value: "0" }, "value"],
      [{ duration: "repeating", months: "40" }, "months"],
      [{ maxRedemptions: "0" }, "maxRedemptions"],
      [{ expires: "2026-12-06" }, "expires"],
    ];
    for (const [patch, field] of cases) {
      const result = validatePromotion("pk", form(patch), TODAY);
      expect(result.ok ? [] : Object.keys(result.errors)).toEqual([field]);
    }
  });
  it("labels a discount", () => {
    const base = { percentOff: 20, amountOff: null, currency: "usd", duration: "forever", durationInMonths: null } as unknown as PromotionCodeView;
    expect(discountLabel(base)).toBe("20 % off, forever");
    expect(discountLabel({ ...base, percentOff: null, amountOff: 5, duration: "repeating", durationInMonths: 3 })).toBe("$5.00 off, 3 months");
    expect(discountLabel({ ...base, duration: "once" })).toBe("20 % off the first invoice");
    expect(discountLabel({ ...base, percentOff: null, amountOff: 2, currency: "eur" })).toBe("€2.00 off, forever");
  });
});
