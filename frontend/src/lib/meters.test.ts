import { describe, expect, it } from "vitest";
import { emptyMeter, type MeterForm, overageCost, overagePreview, priceUnits, unitsToDollars, validateMeters } from "./meters";

const tokens = (patch: Partial<MeterForm> = {}): MeterForm => ({
  ...emptyMeter(),
  key: "tokens",
  included: "10000",
  billOverage: true,
  overagePrice: "0.002",
  overagePer: "1000",
  ...patch,
});

describe("meters", () => {
  it("price overage exactly, a started package whole", () => {
    const price = priceUnits("0.002")!;
    expect(unitsToDollars(overageCost(15_000, price, 1000))).toBe("0.03");
    expect(overageCost(15_001, price, 1000)).toBe(overageCost(16_000, price, 1000));
    expect(priceUnits("0")).toBeNull();
    expect(priceUnits("0.000000000001")).toBeNull();
    expect(priceUnits("-1")).toBeNull();
  });

  it("preview what a customer would pay", () => {
    expect(overagePreview(tokens(), 2000)).toBe(
      "A customer using 25,000 tokens pays $20.03: $20.00 + $0.03 for 15,000 over the included 10,000.",
    );
    expect(overagePreview(tokens({ billOverage: false }), 2000)).toBeNull();
  });

  it("become the API's input, or say which meter is wrong", () => {
    expect(validateMeters([tokens()], true)).toEqual({ value: [{ key: "tokens", included: 10000, overage: { price: "0.002", per: 1000 } }] });
    expect(validateMeters([tokens({ billOverage: false, unlimited: true })], false)).toEqual({ value: [{ key: "tokens", included: null }] });
    const problems: [MeterForm[], boolean, string][] = [
      [[tokens()], false, "give the tier a price"],
      [[tokens({ key: "Tokens" })], true, "a name of a-z"],
      [[tokens({ key: "requests" })], true, "request limit"],
      [[tokens(), tokens()], true, "used twice"],
      [[tokens({ overagePrice: "0" })], true, "more than 0"],
      [[tokens({ overagePer: "0" })], true, "package size"],
      [[tokens({ included: "x" })], true, "whole number"],
    ];
    for (const [forms, paid, message] of problems) {
      const result = validateMeters(forms, paid);
      expect("error" in result && result.error).toContain(message);
    }
  });
});
