import { describe, expect, it } from "vitest";
import type { Tier } from "../api/types";
import {
  checkProjectName,
  checkTierName,
  editedTier,
  emptyTier,
  MAX_TIERS,
  parseDollars,
  type TierForm,
  tierToForm,
  tierToInput,
  validateTier,
  validateTiers,
} from "./tiers";

const saas = (over: Partial<TierForm>): TierForm => ({ ...emptyTier("saas"), name: "pro", price: "9.99", limit: "10000", ...over });
const store = (over: Partial<TierForm>): TierForm => ({ ...emptyTier("store"), name: "mug", price: "12", inventory: "5", ...over });

describe("tier names", () => {
  it("accepts lowercase slugs, as TierName::parse does", () => {
    for (const ok of ["free", "pro", "pro-annual", "tier_2", "9", "a".repeat(40)]) expect(checkTierName(ok), ok).toBeNull();
  });
  it("refuses anything else", () => {
    for (const bad of ["", "Pro", "pro plan", "-pro", "_x", "pro!", "ü", "a".repeat(41)]) expect(checkTierName(bad), bad).not.toBeNull();
  });
});

describe("prices", () => {
  it("parses cent precision like Cents::parse_dollars", () => {
    const cases: [string, number][] = [["0", 0], ["10", 1000], ["9.9", 990], ["9.99", 999], ["0.01", 1], ["15.00", 1500], ["999999.99", 99_999_999], ["1.500", 150]];
    for (const [text, cents] of cases) expect(parseDollars(text), text).toEqual({ cents });
  });
  it("refuses what the API refuses", () => {
    for (const text of ["-1", "9.999", "1e3", "", ".5", "5.", "abc", "1000000", "NaN", "0x10", "1,5"]) {
      expect("error" in parseDollars(text), text).toBe(true);
    }
  });
});

describe("a SaaS tier", () => {
  it("becomes the API's JSON", () => {
    const result = validateTier("saas", saas({ displayName: " Pro plan ", features: "API access\n\n  Email support ", popular: true }));
    expect(result).toEqual({
      ok: true,
      value: {
        name: "pro",
        displayName: "Pro plan",
        price: 9.99,
        limit: 10000,
        features: ["API access", "Email support"],
        popular: true,
        meters: [],
        spendCap: null,
        entitlements: [],
        trial: null,
      },
    });
  });
  it("sends its boolean features and trial, checked like the API checks them", () => {
    const ok = validateTier("saas", saas({ entitlements: "sso, priority_support  api-v2", trialDays: "14", trialCardRequired: false }));
    expect(ok.ok && ok.value.entitlements).toEqual(["sso", "priority_support", "api-v2"]);
    expect(ok.ok && ok.value.trial).toEqual({ days: 14, cardRequired: false });
    const cases: [Partial<TierForm>, keyof TierForm, RegExp][] = [
      [{ entitlements: "SSO" }, "entitlements", /a-z/],
      [{ entitlements: "sso sso" }, "entitlements", /twice/],
      [{ entitlements: "requests" }, "entitlements", /name of a meter/],
      [{ trialDays: "0" }, "trialDays", /1-730/],
      [{ trialDays: "731" }, "trialDays", /at most 730/],
      [{ trialDays: "7", price: "0" }, "trialDays", /free tier/],
    ];
    for (const [patch, field, message] of cases) {
      const result = validateTier("saas", saas(patch));
      expect(result.ok ? {} : result.errors[field]).toMatch(message);
    }
  });
  it("may be free and unlimited (limit null), never with inventory", () => {
    const result = validateTier("saas", saas({ price: "0", unlimited: true, limit: "", inventory: "7" }));
    expect(result).toEqual({
      ok: true,
      value: { name: "pro", price: 0, limit: null, meters: [], spendCap: null, entitlements: [], trial: null },
    });
  });
  it("needs a whole, bounded limit unless unlimited", () => {
    for (const [limit, message] of [["", "Enter"], ["-5", "whole number"], ["1.5", "whole number"], ["1000000000001", "at most"]] as const) {
      const result = validateTier("saas", saas({ limit }));
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.errors.limit).toContain(message);
    }
    expect(validateTier("saas", saas({ limit: "0" })).ok).toBe(true);
    expect(validateTier("saas", saas({ limit: "1000000000000" })).ok).toBe(true);
  });
  it("names each wrong field", () => {
    const result = validateTier("saas", saas({ name: "Pro", price: "9.999", displayName: "x".repeat(101), imageUrl: "javascript:alert(1)" }));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(Object.keys(result.errors).sort()).toEqual(["displayName", "imageUrl", "name", "price"]);
  });
  it("limits features to 20 of at most 200 characters", () => {
    const many = Array.from({ length: 21 }, (_, i) => `f${i}`).join("\n");
    expect(validateTier("saas", saas({ features: many })).ok).toBe(false);
    expect(validateTier("saas", saas({ features: "x".repeat(201) })).ok).toBe(false);
  });
});

describe("a Store product", () => {
  it("has a price above 0, inventory and presentation", () => {
    const result = validateTier("store", store({ description: "A mug", imageUrl: "http://127.0.0.1:8787/api/assets/plt_a/1-mug.png" }));
    expect(result).toEqual({
      ok: true,
      value: { name: "mug", price: 12, inventory: 5, description: "A mug", imageUrl: "http://127.0.0.1:8787/api/assets/plt_a/1-mug.png" },
    });
  });
  it("never costs 0 and never has a limit", () => {
    const result = validateTier("store", store({ price: "0", limit: "100" }));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors).toEqual({ price: "A product must cost more than 0" });
    const ok = validateTier("store", store({ limit: "100" }));
    expect(ok.ok && "limit" in ok.value).toBe(false);
  });
  it("has stock between 0 and a billion, or untracked", () => {
    expect(validateTier("store", store({ inventory: "0" })).ok).toBe(true);
    expect(validateTier("store", store({ inventory: "-1" })).ok).toBe(false);
    expect(validateTier("store", store({ inventory: "1000000001" })).ok).toBe(false);
    expect(validateTier("store", store({ inventory: "" })).ok).toBe(false);
    expect(validateTier("store", store({ inventory: "", unlimited: true }))).toEqual({ ok: true, value: { name: "mug", price: 12 } });
  });
  it("refuses descriptions with line breaks or over 1000 characters", () => {
    expect(validateTier("store", store({ description: "a\nb" })).ok).toBe(false);
    expect(validateTier("store", store({ description: "d".repeat(1001) })).ok).toBe(false);
    expect(validateTier("store", store({ description: "d".repeat(1000) })).ok).toBe(true);
  });
  it("accepts only http(s) image URLs without spaces or quotes", () => {
    for (const url of ["ftp://x/a.png", "https://x/a b.png", 'https://x/"a.png', "data:image/png;base64,AAAA"]) {
      expect(validateTier("store", store({ imageUrl: url })).ok, url).toBe(false);
    }
  });
});

describe("a tier list", () => {
  it("needs 1 to 20 tiers", () => {
    const none = validateTiers("saas", []);
    expect(none.ok).toBe(false);
    if (!none.ok) expect(none.errors.list).toContain("1-20");
    const many = Array.from({ length: MAX_TIERS + 1 }, (_, i) => saas({ name: `t${i}` }));
    expect(validateTiers("saas", many).ok).toBe(false);
    expect(validateTiers("saas", many.slice(0, MAX_TIERS)).ok).toBe(true);
  });
  it("refuses a name used twice, at the second one", () => {
    const result = validateTiers("saas", [saas({ name: "free", price: "0" }), saas({ name: "free" })]);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors.tiers[0]).toEqual({});
      expect(result.errors.tiers[1]?.name).toContain("used twice");
    }
  });
});

describe("project names", () => {
  it("are 1-100 characters of one line", () => {
    expect(checkProjectName("My API")).toBeNull();
    expect(checkProjectName("   ")).not.toBeNull();
    expect(checkProjectName("x".repeat(101))).not.toBeNull();
    expect(checkProjectName("a\u0000b")).not.toBeNull();
  });
});

describe("stored tiers", () => {
  const stored: Tier = {
    name: "pro",
    displayName: "Pro",
    price: 9.9,
    currency: "usd",
    limit: null,
    priceId: "price_1",
    productId: "prod_1",
    features: { description: "Best", features: ["A", "B"] },
    popular: true,
    inventory: null,
    soldOut: false,
    meters: [
      { key: "requests", included: null, overage: null, stripeMeterId: null, eventName: null, priceId: null },
      {
        key: "tokens",
        included: 10000,
        overage: { price: "0.002", per: 1000 },
        stripeMeterId: "mtr_1",
        eventName: "tokens_x",
        priceId: "price_2",
      },
    ],
    spendCap: 50,
    entitlements: ["sso"],
    trial: { days: 14, cardRequired: false },
    taxBehavior: "exclusive",
  };
  it("keep their meters and spend cap through an edit", () => {
    const input = tierToInput("saas", stored);
    expect(input.meters).toEqual([{ key: "tokens", included: 10000, overage: { price: "0.002", per: 1000 } }]);
    expect(input.spendCap).toBe(50);
  });
  it("round-trip through the form", () => {
    const form = tierToForm(stored);
    expect(form).toMatchObject({ price: "9.90", unlimited: true, features: "A\nB", description: "Best" });
    expect(tierToInput("saas", stored)).toEqual({
      name: "pro",
      displayName: "Pro",
      price: 9.9,
      limit: null,
      description: "Best",
      features: ["A", "B"],
      popular: true,
      meters: [{ key: "tokens", included: 10000, overage: { price: "0.002", per: 1000 } }],
      spendCap: 50,
      entitlements: ["sso"],
      trial: { days: 14, cardRequired: false },
    });
  });
  it("keep a product's stock", () => {
    const mug: Tier = { ...stored, name: "mug", limit: null, inventory: 3, popular: false, features: { features: [] } };
    expect(tierToInput("store", mug)).toEqual({ name: "mug", displayName: "Pro", price: 9.9, inventory: 3 });
  });
});

describe("an edit of a product", () => {
  const mug: Tier = { name: "mug", displayName: "Mug", price: 12, currency: "usd", limit: null, priceId: "price_1", productId: "prod_1", features: {}, popular: false, inventory: 5, soldOut: false, meters: [], spendCap: null, entitlements: [], trial: null, taxBehavior: null };
  const edit = (over: Partial<TierForm>) => {
    const form = { ...tierToForm(mug), ...over };
    const checked = validateTier("store", form);
    if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
    return editedTier("store", mug, form, checked.value);
  };
  it("leaves the stock out when it was not changed, so sales meanwhile stay sold", () => {
    expect("inventory" in edit({ description: "Holds tea" })).toBe(false);
  });
  it("sends a changed stock, and null when it is no longer tracked", () => {
    expect(edit({ inventory: "9" }).inventory).toBe(9);
    expect(edit({ unlimited: true }).inventory).toBeNull();
  });
});
