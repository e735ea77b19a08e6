import { describe, expect, it } from "vitest";
import { clerkFrontendApi, headersFile, securityHeaders } from "../scripts/security-headers.mjs";

const workers = {
  frontAuthApiUrl: "https://auth.example.com/",
  oauthApiUrl: "https://oauth.example.com",
  apiMultiUrl: "https://api.example.com/v",
};
// pk_live_ + base64("clerk.example.com$"), as Clerk issues them.
const clerkKey = `pk_live_${btoa("clerk.example.com$")}`;

const directive = (csp: string | undefined, name: string) => (csp ?? "").split("; ").find((d) => d.startsWith(`${name} `));

describe("the dashboard's security headers", () => {
  it("name exactly this deployment's origins and Clerk's Frontend API", () => {
    const headers = securityHeaders({ ...workers, auth: { kind: "clerk", publishableKey: clerkKey } });
    const csp = headers["Content-Security-Policy"];
    expect(directive(csp, "connect-src")).toBe(
      "connect-src 'self' https://auth.example.com https://oauth.example.com https://api.example.com https://clerk.example.com",
    );
    expect(directive(csp, "script-src")).toBe("script-src 'self' https://clerk.example.com https://challenges.cloudflare.com");
    expect(directive(csp, "frame-ancestors")).toBe("frame-ancestors 'none'");
    expect(headers["X-Content-Type-Options"]).toBe("nosniff");
    expect(headers["Strict-Transport-Security"]).toMatch(/^max-age=/);
  });

  it("allow no inline style, frame or third-party script without Clerk", () => {
    const csp = securityHeaders({ ...workers, auth: { kind: "emulator", signInUrl: "http://127.0.0.1:1/x" } })["Content-Security-Policy"];
    expect(directive(csp, "style-src")).toBe("style-src 'self'");
    expect(directive(csp, "script-src")).toBe("script-src 'self'");
    expect(directive(csp, "frame-src")).toBe("frame-src 'none'");
  });

  it("refuse a publishable key that names no host", () => {
    expect(clerkFrontendApi(clerkKey)).toBe("https://clerk.example.com");
    expect(() => clerkFrontendApi(`pk_live_${btoa("not a host; script-src *$")}`)).toThrow();
  });

  it("write Workers static assets' _headers format", () => {
    const file = headersFile({ ...workers, auth: { kind: "clerk", publishableKey: clerkKey } });
    expect(file.split("\n")[0]).toBe("/*");
    expect(file).toContain("\n  X-Frame-Options: DENY\n");
  });
});
