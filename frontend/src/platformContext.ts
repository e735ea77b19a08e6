// The signed-in developer's platform, once PlatformGate has it (null above it): its own module so
// what reads it (credentials.tsx) and what provides it (platform.tsx) never import each other.
// It carries the caller's role in the platform's organization: the one source of what the
// pages offer them (kept current by GET /team and by any refusal that names another role).

import { createContext, useContext } from "react";
import type { PlatformId } from "./api/types";
import { type Capabilities, capabilities } from "./lib/team";

export const PlatformContext = createContext<PlatformId | null>(null);

/** The query key the platform is cached under (POST /generate-platform-id, once per visit). */
export const PLATFORM_QUERY = ["platform"];

/** The platform; only below PlatformGate. */
export function usePlatform(): PlatformId {
  const platform = useContext(PlatformContext);
  if (!platform) throw new Error("usePlatform outside PlatformGate");
  return platform;
}

/** What the caller's role lets them do. Above PlatformGate (no platform yet): nothing. */
export function useCapabilities(): Capabilities {
  const platform = useContext(PlatformContext);
  return capabilities(platform?.role ?? "viewer");
}
