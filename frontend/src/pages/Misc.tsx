// Small pages: the sign-in hand-off, "sign in first", and not found.

import { useEffect } from "react";
import { rememberReturnTo, takeReturnTo, useAuth } from "../auth";
import { Shell } from "../components/Shell";
import { EmptyState, Loading, PageHeading } from "../components/ui";
import { Link, navigate } from "../router";

/** Where the sign-in page sends the browser back; the session was already taken by `auth`. */
export function AuthCallback() {
  const auth = useAuth();
  useEffect(() => {
    if (auth.ready && auth.signedIn) navigate(takeReturnTo("/dashboard"), { replace: true });
  }, [auth.ready, auth.signedIn]);
  if (!auth.ready || auth.signedIn) {
    return (
      <Shell>
        <Loading label="Signing you in…" />
      </Shell>
    );
  }
  return (
    <Shell>
      <PageHeading title="Sign-in did not complete">Sign-in did not complete</PageHeading>
      <EmptyState
        title="No session came back from the sign-in page"
        action={
          <button type="button" className="btn btn-primary" onClick={() => auth.signIn()}>
            Try again
          </button>
        }
      >
        The session may have expired on the way. Signing in again usually fixes it.
      </EmptyState>
    </Shell>
  );
}

export function SignInRequired({ path }: { path: string }) {
  const auth = useAuth();
  return (
    <Shell>
      <PageHeading title="Sign in">Sign in to continue</PageHeading>
      <EmptyState
        title="This page is part of your dashboard"
        action={
          <button
            type="button"
            className="btn btn-primary"
            onClick={() => {
              rememberReturnTo(path);
              auth.signIn();
            }}
          >
            Sign in
          </button>
        }
      >
        Sign in, and you will come straight back here.
      </EmptyState>
    </Shell>
  );
}

export function NotFound() {
  const auth = useAuth();
  return (
    <Shell>
      <PageHeading title="Page not found">Page not found</PageHeading>
      <EmptyState
        title="There is nothing at this address"
        action={
          <Link to={auth.signedIn ? "/dashboard" : "/"} className="btn btn-primary">
            {auth.signedIn ? "Go to your dashboard" : "Go to the home page"}
          </Link>
        }
      />
    </Shell>
  );
}
