// Where an invitation lands: the sign-in service's accept page sends the invited person to
// `/join?invitation=inv_…&__clerk_status=complete`, signed in (locally the session rides in
// the `#__session=` fragment, which `auth` takes at boot as it does on /auth/callback). The
// invitation is accepted here (POST /team/invitations/{id}/accept) before anything asks for a
// platform: someone new must join the organization, not get a platform of their own. Then the
// organization's projects open.

import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import type { ApiError } from "../api/client";
import { rememberReturnTo, useAuth } from "../auth";
import { Shell } from "../components/Shell";
import { EmptyState, ErrorNotice, Loading, PageHeading } from "../components/ui";
import { PLATFORM_QUERY } from "../platformContext";
import { Link, navigate, useLocation } from "../router";
import { useAction, useApi } from "../services";

/** What the joined member is told on the projects page. */
export interface Joined {
  role: string;
}

/** The title of a refused invitation: whose it is, or why it cannot be used any more. */
export function refusalTitle(error: ApiError): string {
  if (error.status === 403) return "This invitation is for another account";
  if (error.status === 409) return "This invitation can no longer be used";
  if (error.status === 404) return "This invitation does not exist";
  return "You could not join the organization";
}

export function Join() {
  const auth = useAuth();
  const api = useApi();
  const client = useQueryClient();
  const { search } = useLocation();
  const invitation = search.get("invitation");
  const accept = useAction((id: string) => api.acceptInvitation(id));
  const run = accept.run;
  // Once per page: accepting twice would answer 409 to a member.
  const started = useRef(false);

  useEffect(() => {
    if (!auth.signedIn || !invitation || started.current) return;
    started.current = true;
    void run(invitation).then((joined) => {
      if (!joined) return;
      // A platform read before joining (another tab's, another page's) is not this one.
      client.removeQueries({ queryKey: PLATFORM_QUERY });
      navigate("/projects", { replace: true, state: { joined: { role: joined.member.role } satisfies Joined } });
    });
  }, [auth.signedIn, invitation, run, client]);

  const heading = <PageHeading title="Join an organization">Join an organization</PageHeading>;
  if (!invitation) {
    return (
      <Shell>
        {heading}
        <EmptyState
          title="This link has no invitation in it"
          action={
            <Link to={auth.signedIn ? "/projects" : "/"} className="btn btn-primary">
              {auth.signedIn ? "Go to your projects" : "Go to the home page"}
            </Link>
          }
        >
          Open the link from the invitation email again, or ask the person who invited you for a new one.
        </EmptyState>
      </Shell>
    );
  }
  if (!auth.signedIn) {
    return (
      <Shell>
        {heading}
        <EmptyState
          title="Sign in to accept the invitation"
          action={
            <button
              type="button"
              className="btn btn-primary"
              onClick={() => {
                rememberReturnTo(`/join?invitation=${encodeURIComponent(invitation)}`);
                auth.signIn();
              }}
            >
              Sign in
            </button>
          }
        >
          Use the email address the invitation was sent to.
        </EmptyState>
      </Shell>
    );
  }
  if (accept.error) {
    const wrongAccount = accept.error.status === 403;
    return (
      <Shell>
        {heading}
        <ErrorNotice error={accept.error} title={refusalTitle(accept.error)} />
        <p className="muted">
          {wrongAccount ? "Sign in with the email address the invitation was sent to." : "Ask an owner of the organization to invite you again."}
        </p>
        <div className="actions">
          {wrongAccount ? (
            <button
              type="button"
              className="btn btn-primary"
              onClick={async () => {
                rememberReturnTo(`/join?invitation=${encodeURIComponent(invitation)}`);
                await auth.signOut();
                auth.signIn();
              }}
            >
              Sign in with another account
            </button>
          ) : (
            <Link to="/projects" className="btn btn-secondary">
              Go to your projects
            </Link>
          )}
        </div>
      </Shell>
    );
  }
  return (
    <Shell>
      {heading}
      <Loading label="Joining the organization…" />
    </Shell>
  );
}
