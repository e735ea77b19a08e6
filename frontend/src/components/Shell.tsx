// The page frame: header with navigation and the developer's session (and their role in the
// organization, once the platform is known), main content (below the lapsed-plan banner, when
// there is one), footer.

import { type ReactNode, useContext } from "react";
import { rememberReturnTo, useAuth } from "../auth";
import { roleLabel } from "../lib/team";
import { PlatformContext } from "../platformContext";
import { Link, navigate, useLocation } from "../router";
import { PlanBanner } from "./PlanBanner";

export function Logo() {
  return (
    <span className="logo">
      <svg width="26" height="26" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
        <rect width="32" height="32" rx="8" fill="currentColor" />
        <path d="M9 21.5c2.2-6.6 4.6-9.9 7-9.9s3.2 3.3 4.4 5.6c.9 1.7 1.8 2.5 2.6 2.5" fill="none" stroke="#fff" strokeWidth="2.6" strokeLinecap="round" />
        <circle cx="23" cy="11" r="2.2" fill="#fff" />
      </svg>
      <span className="logo-text">dream-api</span>
    </span>
  );
}

function NavLink({ to, children, match }: { to: string; children: ReactNode; match: (path: string) => boolean }) {
  const { pathname } = useLocation();
  const current = match(pathname);
  return (
    <Link to={to} className={`nav-link${current ? " nav-link-current" : ""}`} aria-current={current ? "page" : undefined}>
      {children}
    </Link>
  );
}

export function Shell({ children, wide = false }: { children: ReactNode; wide?: boolean }) {
  const auth = useAuth();
  const platform = useContext(PlatformContext);
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="topbar-inner">
          <Link to={auth.signedIn ? "/dashboard" : "/"} className="brand" aria-label="dream-api home">
            <Logo />
          </Link>
          {auth.signedIn ? (
            <nav className="nav" aria-label="Main">
              <NavLink to="/dashboard" match={(p) => p === "/dashboard"}>
                Get started
              </NavLink>
              <NavLink to="/projects" match={(p) => p.startsWith("/projects")}>
                Projects
              </NavLink>
              <NavLink to="/team" match={(p) => p === "/team"}>
                Team
              </NavLink>
              <NavLink to="/audit-log" match={(p) => p === "/audit-log"}>
                Audit log
              </NavLink>
            </nav>
          ) : null}
          <div className="session">
            {auth.signedIn ? (
              <>
                <span className="session-user" title={auth.label}>
                  {auth.label}
                </span>
                {platform ? (
                  <span className="session-role" data-testid="session-role" title="Your role in this organization">
                    <span className="visually-hidden">Your role: </span>
                    {roleLabel(platform.role)}
                  </span>
                ) : null}
                <button
                  type="button"
                  className="btn btn-ghost btn-small"
                  onClick={async () => {
                    await auth.signOut();
                    navigate("/");
                  }}
                >
                  Sign out
                </button>
              </>
            ) : (
              <button
                type="button"
                className="btn btn-primary btn-small"
                onClick={() => {
                  const here = `${window.location.pathname}${window.location.search}`;
                  rememberReturnTo(here === "/auth/callback" ? "/dashboard" : here);
                  auth.signIn();
                }}
              >
                Sign in
              </button>
            )}
          </div>
        </div>
      </header>
      <main id="main" className={`main${wide ? " main-wide" : ""}`}>
        {auth.signedIn ? <PlanBanner /> : null}
        {children}
      </main>
      <footer className="footer">
        <span>dream-api · usage metering and billing on your own Stripe account</span>
      </footer>
    </div>
  );
}
