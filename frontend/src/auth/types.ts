// The one auth interface the app knows. Two implementations: Clerk's React SDK in production
// (`clerk.tsx`, loaded on demand) and the local emulator's sign-in hand-off (`emulator.ts`).

export interface Auth {
  /** False until the implementation knows whether someone is signed in. */
  readonly ready: boolean;
  readonly signedIn: boolean;
  /** For display only; absent when the session does not carry it. */
  readonly email: string | undefined;
  /** A display name for the signed-in developer: the email, else the user id. */
  readonly label: string | undefined;
  /** The session token for `Authorization: Bearer`; null when signed out or expired. */
  getToken(): Promise<string | null>;
  /** Leaves the app for the sign-in page; the browser comes back to `/auth/callback`. */
  signIn(): void;
  signOut(): Promise<void>;
  /** Called after any change of `ready`, `signedIn` or `email`. */
  subscribe(listener: () => void): () => void;
}

/** Where every implementation sends the browser back after signing in. */
export const CALLBACK_PATH = "/auth/callback";

/** A small listener set the implementations share. */
export class Listeners {
  private readonly set = new Set<() => void>();

  add(listener: () => void): () => void {
    this.set.add(listener);
    return () => this.set.delete(listener);
  }

  notify(): void {
    for (const listener of [...this.set]) listener();
  }
}
