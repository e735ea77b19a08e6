// Production sign-in with Clerk's React SDK. This module is only ever imported dynamically
// (see `./index.tsx`), so the local build does not load Clerk at all.

import { ClerkProvider, useAuth as useClerkAuth, useClerk, useUser } from "@clerk/react";
import { type ReactNode, useEffect } from "react";
import { type Auth, CALLBACK_PATH, Listeners } from "./types";

type TokenGetter = (options: { template: string }) => Promise<string | null>;

interface ClerkHandles {
  getToken: TokenGetter;
  redirectToSignIn: (options: { signInForceRedirectUrl: string }) => Promise<unknown>;
  signOut: () => Promise<unknown>;
}

/** Mirrors Clerk's hook state; the bridge component below keeps it current. */
class ClerkAuth implements Auth {
  ready = false;
  signedIn = false;
  email: string | undefined = undefined;
  userId: string | undefined = undefined;
  handles: ClerkHandles | null = null;
  private readonly listeners = new Listeners();

  constructor(private readonly template: string) {}

  get label(): string | undefined {
    return this.email ?? this.userId;
  }

  async getToken(): Promise<string | null> {
    if (!this.handles || !this.signedIn) return null;
    return this.handles.getToken({ template: this.template });
  }

  signIn(): void {
    void this.handles?.redirectToSignIn({ signInForceRedirectUrl: `${window.location.origin}${CALLBACK_PATH}` });
  }

  async signOut(): Promise<void> {
    await this.handles?.signOut();
  }

  subscribe(listener: () => void): () => void {
    return this.listeners.add(listener);
  }

  update(next: { ready: boolean; signedIn: boolean; email: string | undefined; userId: string | undefined }): void {
    if (next.ready === this.ready && next.signedIn === this.signedIn && next.email === this.email && next.userId === this.userId) return;
    Object.assign(this, next);
    this.listeners.notify();
  }
}

function Bridge({ auth }: { auth: ClerkAuth }) {
  const { isLoaded, isSignedIn, getToken, userId } = useClerkAuth();
  const { user } = useUser();
  const clerk = useClerk();
  auth.handles = {
    getToken: (options) => getToken(options),
    redirectToSignIn: (options) => clerk.redirectToSignIn(options),
    signOut: () => clerk.signOut(),
  };
  const email = user?.primaryEmailAddress?.emailAddress;
  useEffect(() => {
    auth.update({ ready: isLoaded, signedIn: Boolean(isSignedIn), email, userId: userId ?? undefined });
  }, [auth, isLoaded, isSignedIn, email, userId]);
  return null;
}

export function createClerkAuth(publishableKey: string, template: string) {
  const auth = new ClerkAuth(template);
  function Wrapper({ children }: { children: ReactNode }) {
    return (
      <ClerkProvider publishableKey={publishableKey} afterSignOutUrl="/">
        <Bridge auth={auth} />
        {children}
      </ClerkProvider>
    );
  }
  return { auth, Wrapper };
}
