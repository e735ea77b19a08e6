import { describe, expect, it } from "vitest";
import { compactMoney, dollars, money, percent } from "./format";

describe("percent", () => {
  it("rounds to a whole percentage, and says nothing of an empty whole", () => {
    expect(percent(1, 3)).toBe("33 %");
    expect(percent(2, 3)).toBe("67 %");
    expect(percent(0, 4)).toBe("0 %");
    expect(percent(0, 0)).toBe("—");
  });
});

describe("money in a project's currency", () => {
  it("formats cents and prices in the currency given", () => {
    expect(money(1999, "eur")).toBe("€19.99");
    expect(money(1999)).toBe("$19.99");
    expect(dollars(9.5, "gbp")).toBe("£9.50");
    expect(compactMoney(1_234_500, "eur")).toBe("€12.3K");
    expect(money(1500, "jpy")).toBe("¥1,500");
    expect(dollars(1500, "jpy")).toBe("¥1,500");
  });
});
