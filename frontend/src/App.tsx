// Routes. Public: the landing page and the sign-in hand-off. The invitation landing (/join) needs
// a session but must not ask for a platform before it has accepted the invitation. Everything
// else needs a session and the developer's platform.

import { lazy, type ReactNode, Suspense } from "react";
import { Outlet, type RouteObject, useParams } from "react-router";
import { CALLBACK_PATH, useAuth } from "./auth";
import { Loading } from "./components/ui";
import { PlatformGate } from "./platform";
import { ConnectCallback } from "./pages/ConnectCallback";
import { Landing } from "./pages/Landing";
import { AuthCallback, NotFound, SignInRequired } from "./pages/Misc";
import { NewProject } from "./pages/NewProject";
import { Onboarding } from "./pages/Onboarding";
import { ProjectPage, type ProjectTab } from "./pages/Project";
import { Projects } from "./pages/Projects";
import { Shell } from "./components/Shell";
import { useLocation } from "./router";

// The team pages are their own chunks: most visits never open them.
const Join = lazy(() => import("./pages/Join").then((m) => ({ default: m.Join })));
const Team = lazy(() => import("./pages/Team").then((m) => ({ default: m.Team })));
const AuditLog = lazy(() => import("./pages/AuditLog").then((m) => ({ default: m.AuditLog })));

function Deferred({ children }: { children: ReactNode }) {
  return (
    <Suspense
      fallback={
        <Shell>
          <Loading label="Loading…" />
        </Shell>
      }
    >
      {children}
    </Suspense>
  );
}

/** Every page but the landing waits until the session is known. */
function WhenAuthKnown() {
  const auth = useAuth();
  if (!auth.ready) {
    return (
      <div className="boot">
        <Loading label="Loading…" />
      </div>
    );
  }
  return <Outlet />;
}

/** Signed-in pages: a session and the developer's platform first. */
function SignedIn() {
  const auth = useAuth();
  const { pathname } = useLocation();
  if (!auth.signedIn) return <SignInRequired path={`${pathname}${window.location.search}`} />;
  return (
    <PlatformGate>
      <Outlet />
    </PlatformGate>
  );
}

/** One project page for its three tabs (the same component, so switching tabs keeps its state). */
function ProjectRoute({ tab }: { tab: ProjectTab }) {
  const { pk } = useParams();
  return <ProjectPage key="project" publishableKey={pk ?? ""} tab={tab} />;
}

export const routes: RouteObject[] = [
  { path: "/", element: <Landing /> },
  {
    element: <WhenAuthKnown />,
    children: [
      { path: CALLBACK_PATH, element: <AuthCallback /> },
      {
        path: "/join",
        element: (
          <Deferred>
            <Join />
          </Deferred>
        ),
      },
      {
        element: <SignedIn />,
        children: [
          { path: "/dashboard", element: <Onboarding /> },
          { path: "/connect/callback", element: <ConnectCallback /> },
          { path: "/projects", element: <Projects /> },
          { path: "/projects/new", element: <NewProject /> },
          { path: "/projects/:pk", element: <ProjectRoute tab="overview" /> },
          { path: "/projects/:pk/metrics", element: <ProjectRoute tab="metrics" /> },
          { path: "/projects/:pk/promotions", element: <ProjectRoute tab="promotions" /> },
          { path: "/projects/:pk/webhooks", element: <ProjectRoute tab="webhooks" /> },
          { path: "/projects/:pk/go-live", element: <ProjectRoute tab="go-live" /> },
          {
            path: "/team",
            element: (
              <Deferred>
                <Team />
              </Deferred>
            ),
          },
          {
            path: "/audit-log",
            element: (
              <Deferred>
                <AuditLog />
              </Deferred>
            ),
          },
        ],
      },
      { path: "*", element: <NotFound /> },
    ],
  },
];
