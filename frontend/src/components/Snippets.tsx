// Copyable integration snippets for a project: curl and a small server-side JavaScript helper.
// They carry the project's publishable key and the api-multi URL; the secret key appears only
// as a placeholder (it is shown once, when created, and never again).

import { type KeyboardEvent, useId, useRef, useState } from "react";
import type { Mode, ProjectType } from "../api/types";
import { CodeBlock } from "./ui";

export interface SnippetInput {
  apiMultiUrl: string;
  publishableKey: string;
  mode: Mode;
  projectType: ProjectType;
  /** A paid tier name for the checkout example (SaaS). */
  paidTier?: string;
}

export function curlSnippet({ apiMultiUrl, publishableKey, mode, projectType, paidTier = "pro" }: SnippetInput): string {
  const head = `# Project ${publishableKey} (${mode} mode)
# Your secret key was shown once when this key set was created.
export DREAM_SECRET_KEY="sk_${mode}_…"
`;
  if (projectType === "store") {
    return `${head}
# Your products, with price, priceId and what is in stock
curl ${apiMultiUrl}/api/products \\
  -H "Authorization: Bearer $DREAM_SECRET_KEY"

# A cart checkout: stock is held while the buyer pays on Stripe
curl -X POST ${apiMultiUrl}/api/cart/checkout \\
  -H "Authorization: Bearer $DREAM_SECRET_KEY" \\
  -H "Content-Type: application/json" \\
  -d '{"email":"buyer@example.com","items":[{"priceId":"price_…","quantity":1}]}'`;
  }
  return `${head}
# Count one request for one of your users (their plan sets the limit)
curl -X POST ${apiMultiUrl}/api/data \\
  -H "Authorization: Bearer $DREAM_SECRET_KEY" \\
  -H "X-User-Id: user_123"

# Their usage this period, without counting
curl ${apiMultiUrl}/api/usage \\
  -H "Authorization: Bearer $DREAM_SECRET_KEY" \\
  -H "X-User-Id: user_123"

# Upgrade them: a Stripe Checkout URL for a paid tier
curl -X POST ${apiMultiUrl}/api/create-checkout \\
  -H "Authorization: Bearer $DREAM_SECRET_KEY" \\
  -H "X-User-Id: user_123" \\
  -H "Content-Type: application/json" \\
  -d '{"tier":"${paidTier}"}'`;
}

export function jsSnippet({ apiMultiUrl, publishableKey, mode, projectType, paidTier = "pro" }: SnippetInput): string {
  const client = `// dream.js: server-side only. Never ship the secret key to a browser.
const DREAM_API = "${apiMultiUrl}";
const PROJECT = "${publishableKey}"; // ${mode} mode
const SECRET_KEY = process.env.DREAM_SECRET_KEY; // "sk_${mode}_…"

export async function dream(path, { method = "GET", userId, body } = {}) {
  const res = await fetch(DREAM_API + path, {
    method,
    headers: {
      Authorization: \`Bearer \${SECRET_KEY}\`,
      ...(userId && { "X-User-Id": userId }),
      ...(body && { "Content-Type": "application/json" }),
    },
    body: body && JSON.stringify(body),
  });
  const json = await res.json();
  // Errors are { error, code, requestId }: e.g. 429 limit_reached.
  if (!res.ok) throw Object.assign(new Error(json.error), json);
  return json;
}
`;
  if (projectType === "store") {
    return `${client}
const { products } = await dream("/api/products");
const { url } = await dream("/api/cart/checkout", {
  method: "POST",
  body: { items: [{ priceId: products[0].priceId, quantity: 1 }] },
});
// Send the buyer to url (Stripe Checkout).`;
  }
  return `${client}
// In your API handler: count the request, or refuse it at the limit.
const { usage } = await dream("/api/data", { method: "POST", userId: "user_123" });

// When the user upgrades: send them to Stripe Checkout.
const { url } = await dream("/api/create-checkout", {
  method: "POST",
  userId: "user_123",
  body: { tier: "${paidTier}" },
});`;
}

const TABS = [
  { id: "curl", label: "curl" },
  { id: "js", label: "JavaScript" },
] as const;

export function Snippets(props: SnippetInput) {
  const [tab, setTab] = useState<"curl" | "js">("curl");
  const base = useId();
  const refs = useRef<(HTMLButtonElement | null)[]>([]);
  const onKey = (event: KeyboardEvent, index: number) => {
    if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
    event.preventDefault();
    const next = (index + (event.key === "ArrowRight" ? 1 : TABS.length - 1)) % TABS.length;
    setTab(TABS[next]!.id);
    refs.current[next]?.focus();
  };
  return (
    <div className="snippets">
      <div role="tablist" aria-label="Snippet language" className="tabs">
        {TABS.map((t, i) => (
          <button
            key={t.id}
            ref={(el) => {
              refs.current[i] = el;
            }}
            type="button"
            role="tab"
            id={`${base}-${t.id}-tab`}
            aria-selected={tab === t.id}
            aria-controls={`${base}-${t.id}-panel`}
            tabIndex={tab === t.id ? 0 : -1}
            className="tab"
            onClick={() => setTab(t.id)}
            onKeyDown={(e) => onKey(e, i)}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`${base}-${tab}-panel`} aria-labelledby={`${base}-${tab}-tab`}>
        {tab === "curl" ? <CodeBlock label="Shell" code={curlSnippet(props)} /> : <CodeBlock label="Node.js 18+" code={jsSnippet(props)} />}
      </div>
    </div>
  );
}
