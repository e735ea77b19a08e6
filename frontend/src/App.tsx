// Routes. Public: the landing page and the sign-in hand-off. Everything else needs a session and
// the developer's platform.

import { useAuth } from "./auth";
import { CALLBACK_PATH } from "./auth";
import { Loading } from "./components/ui";
import { PlatformGate } from "./platform";
import { ConnectCallback } from "./pages/ConnectCallback";
import { Landing } from "./pages/Landing";
import { AuthCallback, NotFound, SignInRequired } from "./pages/Misc";
import { NewProject } from "./pages/NewProject";
import { Onboarding } from "./pages/Onboarding";
import { ProjectPage } from "./pages/Project";
import { Projects } from "./pages/Projects";
import { match, useLocation } from "./router";

function signedInRoute(pathname: string) {
  if (pathname === "/dashboard") return <Onboarding />;
  if (pathname === "/connect/callback") return <ConnectCallback />;
  if (pathname === "/projects") return <Projects />;
  if (pathname === "/projects/new") return <NewProject />;
  let params = match("/projects/:pk", pathname);
  if (params?.pk) return <ProjectPage key="project" publishableKey={params.pk} tab="overview" />;
  params = match("/projects/:pk/metrics", pathname);
  if (params?.pk) return <ProjectPage key="project" publishableKey={params.pk} tab="metrics" />;
  params = match("/projects/:pk/go-live", pathname);
  if (params?.pk) return <ProjectPage key="project" publishableKey={params.pk} tab="go-live" />;
  return null;
}

export function App() {
  const auth = useAuth();
  const location = useLocation();
  const { pathname } = location;
  if (pathname === "/") return <Landing />;
  if (!auth.ready) {
    return (
      <div className="boot">
        <Loading label="Loading…" />
      </div>
    );
  }
  if (pathname === CALLBACK_PATH) return <AuthCallback />;
  const page = signedInRoute(pathname);
  if (!page) return <NotFound />;
  if (!auth.signedIn) return <SignInRequired path={`${pathname}${window.location.search}`} />;
  return <PlatformGate>{page}</PlatformGate>;
}
