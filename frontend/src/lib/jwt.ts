// Reads a JWT's claims for display and expiry. It does not verify anything: the workers do.

export interface SessionClaims {
  sub?: string;
  exp?: number;
  email?: string;
}

function base64UrlDecode(segment: string): string {
  const base64 = segment.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** The payload's `sub`, `exp` and `email`, or null when the token is not a JWT. */
export function decodeClaims(token: string): SessionClaims | null {
  const parts = token.split(".");
  if (parts.length !== 3 || !parts[1]) return null;
  try {
    const payload: unknown = JSON.parse(base64UrlDecode(parts[1]));
    if (typeof payload !== "object" || payload === null) return null;
    const p = payload as Record<string, unknown>;
    return {
      sub: typeof p.sub === "string" ? p.sub : undefined,
      exp: typeof p.exp === "number" ? p.exp : undefined,
      email: typeof p.email === "string" ? p.email : undefined,
    };
  } catch {
    return null;
  }
}
