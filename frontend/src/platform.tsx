// The signed-in developer's platform: created (or fetched) once per visit with
// POST /generate-platform-id before any page that needs it renders.

import { useQuery } from "@tanstack/react-query";
import { createContext, type ReactNode, useContext } from "react";
import { asApiError } from "./api/client";
import type { PlatformId } from "./api/types";
import { useApi } from "./services";
import { Shell } from "./components/Shell";
import { ErrorNotice, Loading } from "./components/ui";

const PlatformContext = createContext<PlatformId | null>(null);

export function usePlatform(): PlatformId {
  const platform = useContext(PlatformContext);
  if (!platform) throw new Error("usePlatform outside PlatformGate");
  return platform;
}

export function PlatformGate({ children }: { children: ReactNode }) {
  const api = useApi();
  const platform = useQuery({ queryKey: ["platform"], queryFn: () => api.generatePlatformId(), staleTime: Infinity });
  if (platform.data) {
    return <PlatformContext.Provider value={platform.data}>{children}</PlatformContext.Provider>;
  }
  return (
    <Shell>
      {platform.error ? (
        <ErrorNotice error={asApiError(platform.error)} title="Your account could not be loaded" onRetry={() => void platform.refetch()} />
      ) : (
        <Loading label="Loading your account…" />
      )}
    </Shell>
  );
}
