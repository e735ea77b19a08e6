// The signed-in developer's platform: created (or fetched) once per visit with
// POST /generate-platform-id before any page that needs it renders.

import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { asApiError } from "./api/client";
import { PLATFORM_QUERY, PlatformContext } from "./platformContext";
import { useApi } from "./services";
import { Shell } from "./components/Shell";
import { ErrorNotice, Loading } from "./components/ui";

export function PlatformGate({ children }: { children: ReactNode }) {
  const api = useApi();
  const platform = useQuery({ queryKey: PLATFORM_QUERY, queryFn: () => api.generatePlatformId(), staleTime: Infinity });
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
