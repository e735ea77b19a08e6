import { describe, expect, it } from "vitest";
import { percent } from "./format";

describe("percent", () => {
  it("rounds to a whole percentage, and says nothing of an empty whole", () => {
    expect(percent(1, 3)).toBe("33 %");
    expect(percent(2, 3)).toBe("67 %");
    expect(percent(0, 4)).toBe("0 %");
    expect(percent(0, 0)).toBe("—");
  });
});
