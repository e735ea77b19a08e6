// Small shared pieces: states (loading, empty, error), notices, badges, copy and code blocks.

import { navigatedInApp } from "../router";
import { type ReactNode, useEffect, useId, useRef, useState } from "react";
import type { ApiError } from "../api/client";
import { rememberReturnTo, useAuth } from "../auth";

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="state state-loading" role="status">
      <span className="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

export function EmptyState({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="state state-empty">
      <p className="state-title">{title}</p>
      {children ? <div className="state-body">{children}</div> : null}
      {action ? <div className="state-action">{action}</div> : null}
    </div>
  );
}

/** An API error with everything support needs: message, code, HTTP status and request id. */
export function ErrorNotice({ error, title, onRetry, compact }: { error: ApiError; title?: string; onRetry?: () => void; compact?: boolean }) {
  const auth = useAuth();
  const stripe = error.details.stripe as { message?: string } | undefined;
  const sessionEnded = error.status === 401;
  return (
    <div className={`notice notice-error${compact ? " notice-compact" : ""}`} role="alert">
      <p className="notice-title">{title ?? (sessionEnded ? "You are signed out" : "Something went wrong")}</p>
      <p className="notice-message">{error.message}</p>
      {stripe?.message && stripe.message !== error.message ? <p className="notice-message">Stripe: {stripe.message}</p> : null}
      <ErrorMeta code={error.code} status={error.status} requestId={error.requestId} />
      {sessionEnded || onRetry ? (
        <div className="notice-actions">
          {sessionEnded ? (
            <button
              type="button"
              className="btn btn-secondary btn-small"
              onClick={() => {
                rememberReturnTo(`${window.location.pathname}${window.location.search}`);
                auth.signIn();
              }}
            >
              Sign in again
            </button>
          ) : null}
          {onRetry ? (
            <button type="button" className="btn btn-secondary btn-small" onClick={onRetry}>
              Try again
            </button>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}

/** Code, HTTP status and request id of an API error, for support. */
export function ErrorMeta({ code, status, requestId }: { code: string; status: number; requestId: string | undefined; message?: string }) {
  return (
    <dl className="error-meta">
      <div>
        <dt>Code</dt>
        <dd>
          <code>{code}</code>
        </dd>
      </div>
      {status ? (
        <div>
          <dt>Status</dt>
          <dd>{status}</dd>
        </div>
      ) : null}
      {requestId ? (
        <div>
          <dt>Request ID</dt>
          <dd>
            <code>{requestId}</code>
          </dd>
        </div>
      ) : null}
    </dl>
  );
}

export type NoticeTone = "success" | "info" | "warning" | "error";

export function Notice({ tone, title, children, onDismiss }: { tone: NoticeTone; title: string; children?: ReactNode; onDismiss?: () => void }) {
  return (
    <div className={`notice notice-${tone}`} role={tone === "error" || tone === "warning" ? "alert" : "status"}>
      <div className="notice-row">
        <div>
          <p className="notice-title">{title}</p>
          {children ? <div className="notice-message">{children}</div> : null}
        </div>
        {onDismiss ? (
          <button type="button" className="btn btn-ghost btn-small" onClick={onDismiss} aria-label="Dismiss notice">
            ✕
          </button>
        ) : null}
      </div>
    </div>
  );
}

/** An email (or another long id) that wraps after its @ first, and anywhere only if it must. */
export function Wrappable({ text, className = "" }: { text: string; className?: string }) {
  const at = text.indexOf("@");
  return (
    <span className={`wrap ${className}`}>
      {at > 0 ? (
        <>
          {text.slice(0, at + 1)}
          <wbr />
          {text.slice(at + 1)}
        </>
      ) : (
        text
      )}
    </span>
  );
}

export function Badge({ tone = "neutral", children }: { tone?: "neutral" | "success" | "warning" | "danger" | "info" | "live"; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

async function copyText(text: string, fallbackNode: HTMLElement | null): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (!fallbackNode) return false;
    const range = document.createRange();
    range.selectNodeContents(fallbackNode);
    const selection = window.getSelection();
    selection?.removeAllRanges();
    selection?.addRange(range);
    // The deprecated command is the only fallback where the async clipboard is refused.
    const ok = document.execCommand("copy");
    return ok;
  }
}

/** Copies `text`; `target` is selected instead when the clipboard is not available. */
export function CopyButton({ text, label = "Copy", target, className = "btn btn-secondary btn-small" }: { text: string; label?: string; target?: () => HTMLElement | null; className?: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  useEffect(() => {
    if (state === "idle") return;
    const id = window.setTimeout(() => setState("idle"), 2000);
    return () => window.clearTimeout(id);
  }, [state]);
  return (
    <button type="button" className={className} onClick={async () => setState((await copyText(text, target?.() ?? null)) ? "copied" : "failed")}>
      <span aria-live="polite">{state === "copied" ? "Copied" : state === "failed" ? "Select and copy" : label}</span>
    </button>
  );
}

export function CodeBlock({ code, label }: { code: string; label: string }) {
  const ref = useRef<HTMLPreElement>(null);
  const id = useId();
  return (
    <div className="code-block">
      <div className="code-head">
        <span id={id}>{label}</span>
        <CopyButton text={code} target={() => ref.current} label="Copy" />
      </div>
      <pre ref={ref} aria-labelledby={id} tabIndex={0}>
        <code>{code}</code>
      </pre>
    </div>
  );
}

/** A value that can be copied, shown in a monospaced box (publishable keys, ids). */
export function CopyField({ label, value, testId }: { label: string; value: string; testId?: string }) {
  const ref = useRef<HTMLElement>(null);
  const id = useId();
  return (
    <div className="copy-field">
      <span className="copy-label" id={id}>
        {label}
      </span>
      <div className="copy-row">
        <code ref={ref} aria-labelledby={id} data-testid={testId}>
          {value}
        </code>
        <CopyButton text={value} target={() => ref.current} />
      </div>
    </div>
  );
}

export function Card({ title, actions, children, className = "", headingLevel = 2, id }: { title?: ReactNode; actions?: ReactNode; children: ReactNode; className?: string; headingLevel?: 2 | 3; id?: string }) {
  const Heading = headingLevel === 2 ? "h2" : "h3";
  return (
    <section className={`card ${className}`} aria-labelledby={title && id ? id : undefined}>
      {title || actions ? (
        <div className="card-head">
          {title ? (
            <Heading className="card-title" id={id}>
              {title}
            </Heading>
          ) : null}
          {actions ? <div className="card-actions">{actions}</div> : null}
        </div>
      ) : null}
      {children}
    </section>
  );
}

/** Sets the document title and gives the page's heading focus after in-app navigation. */
export function PageHeading({ children, title, lead }: { children: ReactNode; title: string; lead?: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · dream-api`;
    // The first page of a visit keeps the browser's own focus; later ones announce themselves.
    if (navigatedInApp() && document.activeElement === document.body) ref.current?.focus({ preventScroll: true });
  }, [title]);
  return (
    <div className="page-heading">
      <h1 ref={ref} tabIndex={-1}>
        {children}
      </h1>
      {lead ? <p className="lead">{lead}</p> : null}
    </div>
  );
}
