// The signed-in developer's platform: created (or fetched) once per visit with
// POST /generate-platform-id before any page that needs it renders. Its credentials are then
// shared by the pages below (credentials.tsx).

import { createContext, type ReactNode, useContext, useEffect, useState } from "react";
import { type ApiError, asApiError } from "./api/client";
import type { PlatformId } from "./api/types";
import { CredentialsProvider } from "./credentials";
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
  const [platform, setPlatform] = useState<PlatformId | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let live = true;
    setError(null);
    api.generatePlatformId().then(
      (p) => live && setPlatform(p),
      (e: unknown) => live && setError(asApiError(e)),
    );
    return () => {
      live = false;
    };
  }, [api, attempt]);
  if (platform) {
    return (
      <PlatformContext.Provider value={platform}>
        <CredentialsProvider>{children}</CredentialsProvider>
      </PlatformContext.Provider>
    );
  }
  return (
    <Shell>
      {error ? <ErrorNotice error={error} title="Your account could not be loaded" onRetry={() => setAttempt((a) => a + 1)} /> : <Loading label="Loading your account…" />}
    </Shell>
  );
}
