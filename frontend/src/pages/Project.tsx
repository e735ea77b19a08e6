// One project, opened by its publishable key (the key names the mode too): selector, test/live
// toggle, tabs. Overview: keys and rotation, the tier/product editor, integration snippets and
// the way to go live. Metrics (with the exports) and "Edit & Go Live" have their own views.
// What the caller's role cannot change here is not offered (a developer reads live key sets, a
// viewer reads everything).

import { lazy, Suspense, useEffect, useId, useRef, useState } from "react";
import type { GracePeriod, Mode, PlanHeader, ProjectList, ProjectView, Tier, TierInput, TierList } from "../api/types";
import { useKnownCredentials } from "../credentials";
import { useAction, useApi, useResource, useServices } from "../services";
import { Dialog } from "../components/Dialog";
import { Checkbox, TextField } from "../components/fields";
import { SecretKeyDialog, type SecretToShow } from "../components/SecretKeyDialog";
import { Shell } from "../components/Shell";
import { Snippets } from "../components/Snippets";
import { TierFields } from "../components/TierFields";
import { Badge, Card, CopyField, EmptyState, ErrorNotice, Loading, Notice, PageHeading } from "../components/ui";
import { ProjectExports } from "../components/Exports";
import { dateTime, dollars, number } from "../lib/format";
import { editsBlockedReason } from "../lib/plan";
import { mayChange, readOnlyReason } from "../lib/team";
import { useCapabilities } from "../platformContext";
import { findProject, type OpenProject } from "../lib/projects";
import { editedTier, emptyTier, type TierErrors, type TierForm, tierToForm, validateTier } from "../lib/tiers";
import { Link, navigate, useLocation } from "../router";
import { GoLive } from "./GoLive";
import { TaxCard } from "../components/TaxCard";
import { ProjectPromotions } from "./Promotions";
import { ProjectWebhooks } from "./Webhooks";
import { typeLabel } from "./Projects";

export type ProjectTab = "overview" | "metrics" | "promotions" | "webhooks" | "go-live";

// The figures (their charts) and the exports are a chunk of their own, read when the tab opens.
const ProjectMetrics = lazy(() => import("./Metrics").then((m) => ({ default: m.ProjectMetrics })));

export function ProjectNotFound({ publishableKey }: { publishableKey: string }) {
  return (
    <Shell>
      <PageHeading title="Project not found">Project not found</PageHeading>
      <EmptyState
        title="No project of yours has this key"
        action={
          <Link to="/projects" className="btn btn-primary">
            Back to your projects
          </Link>
        }
      >
        <p>
          <code className="break">{publishableKey}</code> does not belong to any of your projects. Check the key, or sign in with the account that created it.
        </p>
      </EmptyState>
    </Shell>
  );
}

/** The tabs a project's other mode or another project opens on (Go live is the test set's). */
function tabPath(tab: ProjectTab): string {
  return tab === "metrics" || tab === "promotions" || tab === "webhooks" ? `/${tab}` : "";
}

function ProjectHeader({ list, open, tab }: { list: ProjectList; open: OpenProject; tab: ProjectTab }) {
  const { project, mode, publishableKey } = open;
  const base = `/projects/${publishableKey}`;
  const switchTo = (projectId: string) => {
    const target = list.projects.find((p) => p.projectId === projectId);
    const key = (mode === "live" ? target?.live?.publishableKey : undefined) ?? target?.test?.publishableKey ?? target?.live?.publishableKey;
    if (key) navigate(`/projects/${key}${tabPath(tab)}`);
  };
  const modeHref = (m: Mode) => {
    const key = m === "live" ? project.live?.publishableKey : project.test?.publishableKey;
    return key ? `/projects/${key}${tabPath(tab)}` : null;
  };
  return (
    <div className="project-header">
      <div className="project-header-top">
        <div className="field project-select">
          <label htmlFor="project-select">Project</label>
          <select id="project-select" value={project.projectId} onChange={(e) => switchTo(e.target.value)}>
            {list.projects.map((p) => (
              <option key={p.projectId} value={p.projectId}>
                {p.name} ({typeLabel(p.projectType)})
              </option>
            ))}
          </select>
        </div>
        <div className="mode-toggle" role="group" aria-label="Mode">
          {(["test", "live"] as const).map((m) => {
            const href = modeHref(m);
            const label = m === "test" ? "Test" : "Live";
            if (m === mode) {
              return (
                <span key={m} className={`mode-option mode-option-current mode-${m}`} aria-current="page">
                  {label}
                </span>
              );
            }
            return href ? (
              <Link key={m} to={href} className="mode-option">
                {label}
              </Link>
            ) : (
              <span key={m} className="mode-option mode-option-disabled" title="Not live yet: use Edit & Go Live">
                {label}
                <span className="visually-hidden"> (not available yet)</span>
              </span>
            );
          })}
        </div>
      </div>
      <div className="project-title-row">
        <PageHeading title={`${project.name} · ${mode === "live" ? "Live" : "Test"}`}>{project.name}</PageHeading>
        <div className="badges">
          <Badge tone="info">{typeLabel(project.projectType)}</Badge>
          {mode === "live" ? <Badge tone="live">Live mode</Badge> : <Badge tone="neutral">Test mode</Badge>}
        </div>
      </div>
      {tab !== "go-live" ? (
        <nav className="tabs-nav" aria-label="Project sections">
          <Link to={base} className={`tab-link${tab === "overview" ? " tab-link-current" : ""}`} aria-current={tab === "overview" ? "page" : undefined}>
            Overview
          </Link>
          <Link to={`${base}/metrics`} className={`tab-link${tab === "metrics" ? " tab-link-current" : ""}`} aria-current={tab === "metrics" ? "page" : undefined}>
            Metrics
          </Link>
          <Link to={`${base}/promotions`} className={`tab-link${tab === "promotions" ? " tab-link-current" : ""}`} aria-current={tab === "promotions" ? "page" : undefined}>
            Promotions
          </Link>
          <Link to={`${base}/webhooks`} className={`tab-link${tab === "webhooks" ? " tab-link-current" : ""}`} aria-current={tab === "webhooks" ? "page" : undefined}>
            Webhooks
          </Link>
        </nav>
      ) : null}
    </div>
  );
}

export function ProjectPage({ publishableKey, tab }: { publishableKey: string; tab: ProjectTab }) {
  const api = useApi();
  const projects = useResource<ProjectList>("projects", () => api.projects());

  if (projects.status === "loading") {
    return (
      <Shell>
        <Loading label="Loading project…" />
      </Shell>
    );
  }
  if (projects.status === "error" && !projects.data) {
    return (
      <Shell>
        <PageHeading title="Project">Project</PageHeading>
        <ErrorNotice error={projects.error} title="Your projects could not be loaded" onRetry={projects.reload} />
      </Shell>
    );
  }
  const list = projects.data!;
  const open = findProject(list, publishableKey);
  if (!open && projects.refreshing) {
    return (
      <Shell>
        <Loading label="Loading project…" />
      </Shell>
    );
  }
  if (!open) return <ProjectNotFound publishableKey={publishableKey} />;
  return (
    <Shell>
      <p className="breadcrumb">
        <Link to="/projects">Projects</Link> <span aria-hidden="true">/</span> {open.project.name}
      </p>
      <ProjectHeader list={list} open={open} tab={tab} />
      {tab !== "go-live" ? <ReadOnlyNotice open={open} /> : null}
      {tab === "metrics" ? (
        <Suspense fallback={<Loading label="Loading figures…" />}>
          <div className="stack">
            <ProjectMetrics publishableKey={publishableKey} mode={open.mode} />
            <ProjectExports publishableKey={publishableKey} mode={open.mode} projectType={open.project.projectType} />
          </div>
        </Suspense>
      ) : null}
      {tab === "promotions" ? <ProjectPromotions publishableKey={publishableKey} mode={open.mode} /> : null}
      {tab === "webhooks" ? <ProjectWebhooks publishableKey={publishableKey} mode={open.mode} /> : null}
      {tab === "overview" ? <Overview open={open} onChanged={projects.reload} /> : null}
      {tab === "go-live" ? <GoLive open={open} onLive={projects.setData} /> : null}
    </Shell>
  );
}

/** Says so when the caller's role cannot change this key set (the controls are left out). */
function ReadOnlyNotice({ open }: { open: OpenProject }) {
  const reason = readOnlyReason(useCapabilities(), open.mode);
  if (!reason) return null;
  return (
    <div className="notice notice-info read-only" role="note" data-testid="read-only">
      <p className="notice-title">Read-only</p>
      <p className="notice-message">{reason}</p>
    </div>
  );
}

function Overview({ open, onChanged }: { open: OpenProject; onChanged: () => void }) {
  const api = useApi();
  const { config } = useServices();
  const caps = useCapabilities();
  const canEdit = mayChange(caps, open.mode);
  const location = useLocation();
  const tiers = useResource<TierList>(`tiers:${open.publishableKey}`, () => api.tiers(open.publishableKey));
  const justCreated = (location.state as { created?: boolean; promoted?: boolean } | null) ?? null;
  const kind = open.project.projectType;
  const paidTier = tiers.data?.tiers.find((t) => t.price > 0)?.name;
  return (
    <div className="stack">
      {justCreated?.created ? (
        <Notice tone="success" title="Project created">
          Your test keys are ready. Send a first request with the snippets below.
        </Notice>
      ) : null}
      {justCreated?.promoted ? (
        <Notice tone="success" title="You are live">
          Live keys are issued and your {kind === "store" ? "products are" : "tiers are"} on sale in live mode.
        </Notice>
      ) : null}
      {open.mode === "test" && !open.project.live && caps.goLive ? (
        <div className="callout">
          <div>
            <p className="callout-title">Ready for real customers?</p>
            <p className="muted">Review your {kind === "store" ? "products" : "tiers"} and get live keys. Your test project stays as it is.</p>
          </div>
          <Link to={`/projects/${open.publishableKey}/go-live`} className="btn btn-primary">
            Edit &amp; Go Live
          </Link>
        </div>
      ) : null}
      <KeysCard open={open} onRotated={onChanged} canEdit={canEdit} />
      <TiersCard open={open} tiers={tiers} onChanged={onChanged} canEdit={canEdit} />
      {kind === "saas" && tiers.data ? <PlanHeaderCard open={open} policy={tiers.data.planHeader} onSaved={tiers.reload} canEdit={canEdit} /> : null}
      {tiers.data ? <TaxCard publishableKey={open.publishableKey} tax={tiers.data.tax} onSaved={tiers.reload} readOnly={!canEdit} /> : null}
      {kind === "store" && tiers.data ? <CartLimitCard open={open} limit={tiers.data.maxCartUnits ?? null} onSaved={tiers.reload} canEdit={canEdit} /> : null}
      <Card title="Integrate" id="integrate-title">
        <p className="muted">
          Call the API from your server. Keep the secret key out of browsers and repositories; the publishable key identifies this project and mode.
        </p>
        <Snippets apiMultiUrl={config.apiMultiUrl} publishableKey={open.publishableKey} mode={open.mode} projectType={kind} paidTier={paidTier} />
      </Card>
    </div>
  );
}

/** Whether `X-User-Plan` may raise a user above the plan they pay for. */
function PlanHeaderCard({ open, policy, onSaved, canEdit }: { open: OpenProject; policy: PlanHeader; onSaved: () => void; canEdit: boolean }) {
  const api = useApi();
  // Shown at once, until the reloaded setting says the same (or saving failed).
  const [wanted, setWanted] = useState<PlanHeader | null>(null);
  useEffect(() => {
    if (wanted === policy) setWanted(null);
  }, [policy, wanted]);
  const capped = (wanted ?? policy) === "capped";
  const save = useAction(async () => {
    const next = capped ? "trusted" : "capped";
    setWanted(next);
    try {
      await api.savePlanHeader(open.publishableKey, next);
    } catch (error) {
      setWanted(null);
      throw error;
    }
    onSaved();
  });
  return (
    <Card title="Plan header" id="plan-header-title">
      <Checkbox
        checked={capped}
        onChange={() => void save.run()}
        disabled={save.busy || !canEdit}
        label={
          <>
            Never let <code>X-User-Plan</code> raise a user above the plan they pay for
          </>
        }
        hint={
          capped
            ? "On: the header can only lower a user's plan; a pricier plan counts on the one their subscription gives."
            : "Off: your server vouches for the plan it sends, as before. Turn it on if that header could ever be wrong."
        }
      />
      {save.error ? <ErrorNotice error={save.error} title="The setting was not saved" compact /> : null}
    </Card>
  );
}

/** The platform's own bound: 20 lines of at most 99 units. */
const MAX_CART_UNITS = 1980;

/** The most units one cart may hold, so one buyer cannot keep the stock from others. */
function CartLimitCard({ open, limit, onSaved, canEdit }: { open: OpenProject; limit: number | null; onSaved: () => void; canEdit: boolean }) {
  const api = useApi();
  const [text, setText] = useState(limit === null ? "" : String(limit));
  const [saved, setSaved] = useState(false);
  useEffect(() => setText(limit === null ? "" : String(limit)), [limit]);
  const trimmed = text.trim();
  const units = trimmed === "" ? null : Number(trimmed);
  const invalid = units !== null && !(Number.isInteger(units) && units >= 1 && units <= MAX_CART_UNITS);
  const save = useAction(async () => {
    setSaved(false);
    await api.saveMaxCartUnits(open.publishableKey, units);
    setSaved(true);
    onSaved();
  });
  return (
    <Card title="Cart limit" id="cart-limit-title">
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (!invalid && canEdit) void save.run();
        }}
      >
        <TextField
          label="Most units in one cart"
          inputMode="numeric"
          value={text}
          readOnly={!canEdit}
          placeholder={`${MAX_CART_UNITS} (no limit of your own)`}
          onChange={(e) => {
            setText(e.target.value);
            setSaved(false);
          }}
          error={invalid ? `A whole number from 1 to ${MAX_CART_UNITS}, or empty` : undefined}
          hint="A checkout holds its units while the buyer pays: this keeps one buyer from holding your stock. Empty: up to 20 lines of 99."
        />
        {canEdit ? (
          <button type="submit" className="btn btn-secondary" disabled={save.busy || invalid}>
            {save.busy ? "Saving…" : "Save"}
          </button>
        ) : null}
      </form>
      {saved && !save.error ? (
        <p className="muted small" role="status">
          Saved: {limit === null ? "no limit of your own" : `at most ${number(limit)} units per cart`}.
        </p>
      ) : null}
      {save.error ? <ErrorNotice error={save.error} title="The limit was not saved" compact /> : null}
    </Card>
  );
}

const GRACE_OPTIONS: { value: GracePeriod; label: string; hint: string }[] = [
  { value: "none", label: "Immediately", hint: "The current key stops working now. Use this if it leaked." },
  { value: "1h", label: "After 1 hour", hint: "Both keys work for an hour while you deploy the new one." },
  { value: "24h", label: "After 24 hours", hint: "Both keys work for a day." },
];

function KeysCard({ open, onRotated, canEdit }: { open: OpenProject; onRotated: () => void; canEdit: boolean }) {
  const api = useApi();
  const [rotating, setRotating] = useState(false);
  const [grace, setGrace] = useState<GracePeriod>("1h");
  const [secret, setSecret] = useState<SecretToShow | null>(null);
  const rotateButton = useRef<HTMLButtonElement>(null);
  const rotate = useAction(async () => {
    const result = await api.rotateKey(open.publishableKey, grace);
    setRotating(false);
    onRotated();
    const expires = result.previousKeyExpiresAt;
    setSecret({
      secretKey: result.secretKey,
      mode: result.mode,
      title: `Your new ${result.mode} secret key`,
      note: expires ? (
        <p>
          Your previous key keeps working until <strong>{dateTime(expires)}</strong>. Deploy the new key before then.
        </p>
      ) : (
        <p>Your previous key has stopped working. Requests with it are refused.</p>
      ),
    });
  });
  const previousUntil = open.project[open.mode]?.previousKeyExpiresAt;
  const graceActive = previousUntil ? new Date(previousUntil).getTime() > Date.now() : false;
  const [confirmingExpiry, setConfirmingExpiry] = useState(false);
  const expire = useAction(async () => {
    await api.expirePreviousKey(open.publishableKey);
    setConfirmingExpiry(false);
    onRotated();
  });
  return (
    <Card title="API keys" id="keys-title">
      {graceActive ? (
        <Notice tone="info" title="Your previous secret key still works">
          <p>Until {dateTime(previousUntil)}. Deploy the new key before then; after that, requests with the old key are refused.</p>
          {!canEdit ? null : confirmingExpiry ? (
            <div className="inline-confirm" role="group" aria-label="Stop the previous key now">
              <span>Requests with the previous key will be refused at once.</span>
              <button type="button" className="btn btn-danger btn-small" onClick={() => void expire.run()} disabled={expire.busy}>
                {expire.busy ? "Stopping…" : "Stop it now"}
              </button>
              <button type="button" className="btn btn-ghost btn-small" onClick={() => setConfirmingExpiry(false)} disabled={expire.busy}>
                Keep it
              </button>
            </div>
          ) : (
            <button type="button" className="btn btn-secondary btn-small" onClick={() => setConfirmingExpiry(true)}>
              Stop the previous key now
            </button>
          )}
          {expire.error ? <ErrorNotice error={expire.error} title="The previous key still works" compact /> : null}
        </Notice>
      ) : null}
      <div className="keys">
        <CopyField label={`Publishable key (${open.mode})`} value={open.publishableKey} testId="publishable-key" />
        <div className="copy-field">
          <span className="copy-label">Secret key ({open.mode})</span>
          <div className="copy-row">
            <code className="masked" aria-label="Secret key hidden">
              sk_{open.mode}_••••••••••••••••
            </code>
            {canEdit ? (
              <button ref={rotateButton} type="button" className="btn btn-secondary btn-small" onClick={() => setRotating(true)}>
                Rotate key
              </button>
            ) : null}
          </div>
          <span className="field-hint">
            {canEdit ? "Shown once when it was created. Lost it, or leaked it? Rotate to get a new one." : "Shown once when it was created. Someone who may change this project can rotate it."}
          </span>
        </div>
      </div>
      {rotating ? (
        <Dialog
          title={`Rotate the ${open.mode} secret key`}
          description="A new secret key is created and shown once. Choose how long the current key keeps working."
          onClose={() => {
            setRotating(false);
            rotate.clearError();
          }}
          footer={
            <>
              <button type="button" className="btn btn-ghost" onClick={() => setRotating(false)}>
                Cancel
              </button>
              <button type="button" className="btn btn-danger" onClick={() => void rotate.run()} disabled={rotate.busy}>
                {rotate.busy ? "Rotating…" : "Rotate key"}
              </button>
            </>
          }
        >
          <fieldset className="radio-list">
            <legend>The current key stops working</legend>
            {GRACE_OPTIONS.map((o) => (
              <label key={o.value} className={`radio-row${grace === o.value ? " radio-row-selected" : ""}`}>
                <input type="radio" name="grace" value={o.value} checked={grace === o.value} onChange={() => setGrace(o.value)} />
                <span>
                  <span className="radio-title">{o.label}</span>
                  <span className="field-hint">{o.hint}</span>
                </span>
              </label>
            ))}
          </fieldset>
          {rotate.error ? <ErrorNotice error={rotate.error} title="The key was not rotated" compact /> : null}
        </Dialog>
      ) : null}
      {secret ? <SecretKeyDialog secret={secret} onDone={() => setSecret(null)} /> : null}
    </Card>
  );
}

function limitText(tier: Tier, kind: ProjectView["projectType"]): string {
  if (kind === "store") return tier.inventory === null ? "Not tracked" : `${number(tier.inventory)} in stock`;
  return tier.limit === null ? "Unlimited" : `${number(tier.limit)} / month`;
}

/** A tier's meters besides requests, one line each: "tokens: 10,000, then $0.002 per 1,000". */
function meterLines(tier: Tier): string[] {
  return (tier.meters ?? [])
    .filter((m) => m.key !== "requests")
    .map((m) => {
      const included = m.included === null ? "unlimited" : number(m.included);
      if (!m.overage) return `${m.key}: ${included}`;
      const per = m.overage.per ?? 1;
      return `${m.key}: ${included}, then $${m.overage.price} per ${per === 1 ? "unit" : number(per)}`;
    })
    .concat(tier.spendCap ? [`Spend cap $${tier.spendCap} / month`] : []);
}

type Editing = { mode: "add"; form: TierForm } | { mode: "edit"; tier: Tier; form: TierForm };

function TiersCard({ open, tiers, onChanged, canEdit }: { open: OpenProject; tiers: ReturnType<typeof useResource<TierList>>; onChanged: () => void; canEdit: boolean }) {
  const api = useApi();
  const kind = open.project.projectType;
  const store = kind === "store";
  const noun = store ? "product" : "tier";
  const [editing, setEditing] = useState<Editing | null>(null);
  const [errors, setErrors] = useState<TierErrors>({});
  const [deleting, setDeleting] = useState<Tier | null>(null);
  // The API refuses tier edits while the developer's plan is not paid (403): say so up front.
  const locked = editsBlockedReason(useKnownCredentials());
  const lockedId = useId();
  const lockedProps = locked ? { disabled: true, title: locked, "aria-describedby": lockedId } : {};

  const save = useAction(async () => {
    if (!editing) return;
    const checked = validateTier(kind, editing.form);
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    if (editing.mode === "add" && tiers.data?.tiers.some((t) => t.name === checked.value.name)) {
      setErrors({ name: `A ${noun} named “${checked.value.name}” already exists` });
      return;
    }
    setErrors({});
    const input: TierInput = checked.value;
    if (editing.mode === "add") await api.addTier(open.publishableKey, input);
    else await api.updateTier(open.publishableKey, editedTier(kind, editing.tier, editing.form, input));
    setEditing(null);
    tiers.reload();
    onChanged();
  });

  const remove = useAction(async (tier: Tier) => {
    await api.deleteTier(open.publishableKey, tier.name);
    setDeleting(null);
    tiers.reload();
    onChanged();
  });

  const startEdit = (next: Editing) => {
    save.clearError();
    setErrors({});
    setEditing(next);
  };

  const list = tiers.data?.tiers ?? [];
  return (
    <Card
      title={store ? "Products" : "Tiers"}
      id="tiers-title"
      actions={
        canEdit ? (
          <button type="button" className="btn btn-secondary btn-small" onClick={() => startEdit({ mode: "add", form: emptyTier(kind) })} disabled={!tiers.data || list.length >= 20} {...lockedProps}>
            + Add {noun}
          </button>
        ) : undefined
      }
    >
      {locked && canEdit ? (
        <p className="locked-hint" id={lockedId}>
          {locked}
        </p>
      ) : null}
      {tiers.status === "loading" ? <Loading label={`Loading ${noun}s…`} /> : null}
      {tiers.status === "error" ? <ErrorNotice error={tiers.error} title={`The ${noun}s could not be loaded`} onRetry={tiers.reload} /> : null}
      {tiers.data && list.length === 0 ? <EmptyState title={`No ${noun}s`}>Add one to start selling.</EmptyState> : null}
      {list.length > 0 ? (
        <div className="table-wrap">
          <table className="table tier-table">
            <thead>
              <tr>
                {store ? (
                  <th scope="col">
                    <span className="visually-hidden">Image</span>
                  </th>
                ) : null}
                <th scope="col">Name</th>
                <th scope="col">Price</th>
                <th scope="col">{store ? "Stock" : "Limit"}</th>
                {canEdit ? (
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {list.map((tier) => (
                <tr key={tier.name} data-testid={`tier-row-${tier.name}`}>
                  {store ? (
                    <td className="thumb-cell">
                      {tier.features?.imageUrl ? <img className="thumb" src={tier.features.imageUrl} alt={`Image of ${tier.displayName}`} /> : <span className="thumb thumb-empty" aria-hidden="true" />}
                    </td>
                  ) : null}
                  <td className="tier-name-cell">
                    <div className="tier-name">
                      <strong>{tier.displayName}</strong>
                      {tier.popular ? <Badge tone="info">Popular</Badge> : null}
                      {store && tier.soldOut ? <Badge tone="danger">Sold out</Badge> : null}
                    </div>
                    <code className="muted small">{tier.name}</code>
                    {tier.features?.description ? <p className="muted small clamp">{tier.features.description}</p> : null}
                    {!store && (tier.trial || (tier.entitlements ?? []).length > 0) ? (
                      <div className="tier-grants">
                        {tier.trial ? (
                          <Badge tone="info">
                            {tier.trial.days}-day trial{tier.trial.cardRequired ? "" : ", no card"}
                          </Badge>
                        ) : null}
                        {(tier.entitlements ?? []).map((feature) => (
                          <code className="feature-key" key={feature}>
                            {feature}
                          </code>
                        ))}
                      </div>
                    ) : null}
                  </td>
                  <td data-label="Price">
                    {tier.price === 0 ? "Free" : dollars(tier.price, tier.currency)}
                    {!store && tier.price > 0 ? <span className="muted small"> / month</span> : null}
                  </td>
                  <td data-label={store ? "Stock" : "Limit"}>
                    {limitText(tier, kind)}
                    {meterLines(tier).map((line) => (
                      <span className="muted small block" key={line}>
                        {line}
                      </span>
                    ))}
                  </td>
                  {canEdit ? (
                    <td className="row-actions">
                      <button type="button" className="btn btn-ghost btn-small" onClick={() => startEdit({ mode: "edit", tier, form: tierToForm(tier) })} aria-label={`Edit ${tier.name}`} {...lockedProps}>
                        Edit
                      </button>
                      <button
                        type="button"
                        className="btn btn-ghost btn-small btn-danger-text"
                        onClick={() => {
                          remove.clearError();
                          setDeleting(tier);
                        }}
                        disabled={list.length <= 1}
                        title={list.length <= 1 ? `A project keeps at least one ${noun}` : undefined}
                        aria-label={`Delete ${tier.name}`}
                        {...lockedProps}
                      >
                        Delete
                      </button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {editing ? (
        <Dialog
          title={editing.mode === "add" ? `Add a ${noun}` : `Edit ${editing.tier.displayName}`}
          size="large"
          onClose={() => setEditing(null)}
          footer={
            <>
              <button type="button" className="btn btn-ghost" onClick={() => setEditing(null)}>
                Cancel
              </button>
              <button type="submit" form="tier-form" className="btn btn-primary" disabled={save.busy}>
                {save.busy ? "Saving…" : editing.mode === "add" ? `Add ${noun}` : "Save changes"}
              </button>
            </>
          }
        >
          <form
            id="tier-form"
            noValidate
            onSubmit={(e) => {
              e.preventDefault();
              void save.run();
            }}
          >
            {editing.mode === "edit" && editing.form.price !== tierToForm(editing.tier).price && editing.tier.priceId ? (
              <Notice tone="info" title="A new price">
                Changing the price creates a new Stripe price; existing subscribers keep their tier.
              </Notice>
            ) : null}
            <TierFields kind={kind} form={editing.form} currency={tiers.data?.currency} errors={errors} lockName={editing.mode === "edit"} onChange={(patch) => setEditing({ ...editing, form: { ...editing.form, ...patch } })} />
            {save.error ? <ErrorNotice error={save.error} title={`The ${noun} was not saved`} compact /> : null}
          </form>
        </Dialog>
      ) : null}
      {deleting ? (
        <Dialog
          title={`Delete ${deleting.displayName}?`}
          size="small"
          role="alertdialog"
          onClose={() => setDeleting(null)}
          footer={
            <>
              <button type="button" className="btn btn-ghost" onClick={() => setDeleting(null)}>
                Keep it
              </button>
              <button type="button" className="btn btn-danger" onClick={() => void remove.run(deleting)} disabled={remove.busy}>
                {remove.busy ? "Deleting…" : `Delete ${noun}`}
              </button>
            </>
          }
        >
          <p>
            <code>{deleting.name}</code> is removed from this project and its Stripe product is archived. {store ? "Open carts can no longer buy it." : "Your users can no longer subscribe to it."}
          </p>
          {remove.error ? <ErrorNotice error={remove.error} title={`The ${noun} was not deleted`} compact /> : null}
        </Dialog>
      ) : null}
    </Card>
  );
}
