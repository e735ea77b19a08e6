// The public front page: what the platform does, the one plan, sign in.

import { useEffect } from "react";
import { rememberReturnTo, useAuth } from "../auth";
import { Logo } from "../components/Shell";
import { useServices } from "../services";
import { Link } from "../router";

const sample = (apiMultiUrl: string) => `curl -X POST ${apiMultiUrl}/api/data \\
  -H "Authorization: Bearer $DREAM_SECRET_KEY" \\
  -H "X-User-Id: user_123"

{
  "success": true,
  "usage": {
    "count": 42, "limit": 10000,
    "plan": "pro", "remaining": 9958
  }
}`;

const FEATURES = [
  {
    title: "Metering that never overcounts",
    body: "Every request is counted and checked against the user's plan in one atomic step. 200 concurrent calls at a limit of 100 give exactly 100 successes.",
  },
  {
    title: "Subscriptions on your Stripe",
    body: "Connect your own Stripe account. Your customers subscribe through Stripe Checkout, upgrade, and manage billing in Stripe's portal; the money is yours.",
  },
  {
    title: "A store with real stock",
    body: "Sell products with inventory. Carts hold their stock while the checkout is open, so you never sell what you don't have.",
  },
  {
    title: "Test and live keys",
    body: "Build against test mode, go live with one click, and rotate a leaked key with a grace period so nothing breaks.",
  },
];

export function Landing() {
  const auth = useAuth();
  const { config } = useServices();
  useEffect(() => {
    document.title = "dream-api · usage billing for your API";
  }, []);
  const start = () => {
    rememberReturnTo("/dashboard");
    auth.signIn();
  };
  return (
    <div className="landing">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="landing-top">
        <div className="landing-top-inner">
          <Logo />
          <nav aria-label="Landing" className="landing-nav">
            <a href="#how">How it works</a>
            <a href="#pricing">Pricing</a>
            {auth.signedIn ? (
              <Link to="/dashboard" className="btn btn-primary btn-small">
                Open dashboard
              </Link>
            ) : (
              <button type="button" className="btn btn-secondary btn-small" onClick={start} disabled={!auth.ready}>
                Sign in
              </button>
            )}
          </nav>
        </div>
      </header>
      <main id="main">
        <section className="hero">
          <div className="hero-copy">
            <p className="eyebrow">API-as-a-Service billing</p>
            <h1>Charge for your API by the request, on your own Stripe account.</h1>
            <p className="lead">
              dream-api meters every call, enforces your plans' limits, runs subscriptions and store checkouts through Stripe, and shows you who pays for what. One secret key, no
              billing code to write.
            </p>
            <div className="hero-actions">
              {auth.signedIn ? (
                <Link to="/dashboard" className="btn btn-primary btn-large">
                  Open dashboard
                </Link>
              ) : (
                <button type="button" className="btn btn-primary btn-large" onClick={start} disabled={!auth.ready}>
                  Sign in to get started
                </button>
              )}
              <a className="btn btn-ghost btn-large" href="#pricing">
                $15/month, all included
              </a>
            </div>
          </div>
          <div className="hero-code" aria-label="Example request and response">
            <div className="code-head">
              <span>Count a request</span>
            </div>
            <pre tabIndex={0}>
              <code>{sample(config.apiMultiUrl)}</code>
            </pre>
          </div>
        </section>

        <section className="features" aria-labelledby="features-title">
          <h2 id="features-title" className="section-title">
            Everything between your API and your revenue
          </h2>
          <div className="feature-grid">
            {FEATURES.map((f) => (
              <article key={f.title} className="feature">
                <h3>{f.title}</h3>
                <p>{f.body}</p>
              </article>
            ))}
          </div>
        </section>

        <section id="how" className="how" aria-labelledby="how-title">
          <h2 id="how-title" className="section-title">
            Live in four steps
          </h2>
          <ol className="steps">
            <li>
              <strong>Subscribe</strong>
              <span>Sign in and start the $15/month plan.</span>
            </li>
            <li>
              <strong>Connect Stripe</strong>
              <span>Link your Stripe account with Stripe Connect.</span>
            </li>
            <li>
              <strong>Create a project</strong>
              <span>SaaS tiers with monthly limits, or Store products with stock.</span>
            </li>
            <li>
              <strong>Call the API</strong>
              <span>Send requests with your secret key; watch usage and revenue here.</span>
            </li>
          </ol>
        </section>

        <section id="pricing" className="pricing" aria-labelledby="pricing-title">
          <h2 id="pricing-title" className="section-title">
            One plan
          </h2>
          <div className="price-card">
            <p className="price">
              <span className="price-amount">$15</span>
              <span className="price-period">/month</span>
            </p>
            <ul className="checks">
              <li>Projects with test and live keys</li>
              <li>Usage metering with per-plan limits</li>
              <li>Subscriptions, plan changes and billing portal</li>
              <li>Store products, inventory and carts</li>
              <li>Product image hosting</li>
              <li>Metrics: MRR, usage, sales and stock</li>
            </ul>
            <p className="fine-print">Payments from your customers go to your own Stripe account; Stripe's fees apply to them.</p>
            {auth.signedIn ? (
              <Link to="/dashboard" className="btn btn-primary btn-block">
                Continue to your dashboard
              </Link>
            ) : (
              <button type="button" className="btn btn-primary btn-block" onClick={start} disabled={!auth.ready}>
                Sign in and subscribe
              </button>
            )}
          </div>
        </section>
      </main>
      <footer className="footer">
        <span>dream-api · usage metering and billing on your own Stripe account</span>
      </footer>
    </div>
  );
}
