// The create wizard: basics (name and type, fixed once created), then tiers or products, then
// the new test key set, whose secret key is shown once.

import { useState } from "react";
import type { ProjectType } from "../api/types";
import { useFreshCredentials } from "../credentials";
import { useAction, useApi } from "../services";
import { SelectField, TextField } from "../components/fields";
import { SecretKeyDialog, type SecretToShow } from "../components/SecretKeyDialog";
import { Shell } from "../components/Shell";
import { TierListEditor } from "../components/TierFields";
import { ErrorNotice, Loading, Notice, PageHeading } from "../components/ui";
import { roleLabel } from "../lib/team";
import { checkProjectName, emptyTier, type TierForm, type TierListErrors, validateTiers } from "../lib/tiers";
import { useCapabilities } from "../platformContext";
import { Link, navigate } from "../router";

/** What a project may be priced in (shared/core/src/money.rs `CURRENCIES`). */
const CURRENCIES = ["usd", "eur", "gbp", "cad", "aud", "nzd", "chf", "sek", "nok", "dkk", "pln", "czk", "sgd", "hkd", "inr", "brl", "mxn", "jpy", "krw"];

const DEFAULT_TIERS: Record<ProjectType, TierForm[]> = {
  saas: [
    { ...emptyTier("saas"), name: "free", price: "0", limit: "1000" },
    { ...emptyTier("saas"), name: "pro", price: "19", limit: "100000", popular: true },
  ],
  store: [{ ...emptyTier("store") }],
};

const TYPES: { value: ProjectType; title: string; body: string }[] = [
  { value: "saas", title: "SaaS", body: "Plans with a monthly price and a request limit. Your users subscribe; every API call is metered." },
  { value: "store", title: "Store", body: "Products with a price and stock. Buyers check out a cart; stock is held while they pay." },
];

export function NewProject() {
  const api = useApi();
  const credentials = useFreshCredentials();
  const caps = useCapabilities();
  const [step, setStep] = useState<1 | 2>(1);
  const [name, setName] = useState("");
  const [nameError, setNameError] = useState<string | null>(null);
  const [type, setType] = useState<ProjectType>("saas");
  const [currency, setCurrency] = useState("usd");
  const [tiers, setTiers] = useState<Record<ProjectType, TierForm[]>>(DEFAULT_TIERS);
  const [errors, setErrors] = useState<TierListErrors | null>(null);
  const [secret, setSecret] = useState<(SecretToShow & { publishableKey: string }) | null>(null);

  const create = useAction(async () => {
    const checked = validateTiers(type, tiers[type]);
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    setErrors(null);
    const { project } = await api.createProject({ name: name.trim(), projectType: type, tiers: checked.value, currency });
    setSecret({ secretKey: project.secretKey, mode: project.mode, title: "Your test secret key", publishableKey: project.publishableKey });
  });

  const next = () => {
    const problem = checkProjectName(name);
    setNameError(problem);
    if (!problem) setStep(2);
  };

  const c = credentials.data;
  const ready = c ? c.plan === "paid" && c.stripeConnected && caps.changeTest : false;
  const noun = type === "store" ? "products" : "tiers";

  return (
    <Shell>
      <p className="breadcrumb">
        <Link to="/projects">Projects</Link> <span aria-hidden="true">/</span> New
      </p>
      <PageHeading title="New project">New project</PageHeading>
      {credentials.status === "loading" ? <Loading label="Checking your plan…" /> : null}
      {credentials.status === "error" ? <ErrorNotice error={credentials.error} title="Your plan could not be checked" onRetry={credentials.reload} /> : null}
      {!caps.changeTest ? (
        <Notice tone="warning" title="Your role cannot create projects">
          You are a {roleLabel(caps.role).toLowerCase()} in this organization. An owner, admin or developer creates projects. <Link to="/projects">Back to the projects</Link>
        </Notice>
      ) : c && !ready ? (
        <Notice tone="warning" title="Finish setting up first">
          Creating a project needs {c.plan !== "paid" ? "the $15/month plan" : ""}
          {c.plan !== "paid" && !c.stripeConnected ? " and " : ""}
          {!c.stripeConnected ? "a connected Stripe account" : ""}. <Link to="/dashboard">Go to Get started</Link>
        </Notice>
      ) : null}

      <ol className="wizard-steps" aria-label="Steps">
        <li aria-current={step === 1 ? "step" : undefined} className={step === 1 ? "active" : "complete"}>
          <span className="wizard-num" aria-hidden="true">1</span> Basics
        </li>
        <li aria-current={step === 2 ? "step" : undefined} className={step === 2 ? "active" : ""}>
          <span className="wizard-num" aria-hidden="true">2</span> {type === "store" ? "Products" : "Tiers"}
        </li>
      </ol>

      {step === 1 ? (
        <form
          className="card form-card"
          onSubmit={(e) => {
            e.preventDefault();
            next();
          }}
          noValidate
        >
          <TextField label="Project name" hint="Shown in your dashboard and on Stripe products." value={name} error={nameError ?? undefined} onChange={(e) => setName(e.target.value)} required autoFocus />
          <fieldset className="choice-group">
            <legend>What are you selling?</legend>
            <p className="field-hint">The type is fixed once the project is created.</p>
            <div className="choice-grid">
              {TYPES.map((t) => (
                <label key={t.value} className={`choice${type === t.value ? " choice-selected" : ""}`}>
                  <input type="radio" name="projectType" value={t.value} checked={type === t.value} onChange={() => setType(t.value)} />
                  <span className="choice-title">{t.title}</span>
                  <span className="choice-body">{t.body}</span>
                </label>
              ))}
            </div>
          </fieldset>
          <SelectField label="Currency" hint="Your prices, checkouts and figures are in it. It cannot change later." value={currency} onChange={(e) => setCurrency(e.target.value)}>
            {CURRENCIES.map((c) => (
              <option key={c} value={c}>
                {c.toUpperCase()}
              </option>
            ))}
          </SelectField>
          <div className="form-actions">
            <Link to="/projects" className="btn btn-ghost">
              Cancel
            </Link>
            <button type="submit" className="btn btn-primary">
              Next: {type === "store" ? "products" : "tiers"}
            </button>
          </div>
        </form>
      ) : (
        <form
          className="form-card-plain"
          onSubmit={(e) => {
            e.preventDefault();
            void create.run();
          }}
          noValidate
        >
          <div className="card summary-card">
            <div>
              <span className="muted small">Project</span>
              <p className="summary-name">{name.trim()}</p>
            </div>
            <div>
              <span className="muted small">Type</span>
              <p className="summary-name">{type === "store" ? "Store" : "SaaS"}</p>
            </div>
            <button type="button" className="btn btn-ghost btn-small" onClick={() => setStep(1)}>
              Change
            </button>
          </div>
          <h2 className="section-heading">{type === "store" ? "Products" : "Tiers"}</h2>
          <p className="muted">
            {type === "store"
              ? "Each product needs a price above $0; track its stock or leave it untracked."
              : "Each tier has a monthly price (0 for free) and a request limit per user per billing period."}
          </p>
          <TierListEditor kind={type} currency={currency} forms={tiers[type]} errors={errors} onChange={(forms) => setTiers({ ...tiers, [type]: forms })} />
          {errors ? (
            <p className="field-error" role="alert">
              Some {noun} need attention: see the highlighted fields.
            </p>
          ) : null}
          {create.error ? <ErrorNotice error={create.error} title="The project was not created" /> : null}
          <div className="form-actions">
            <button type="button" className="btn btn-ghost" onClick={() => setStep(1)}>
              Back
            </button>
            <button type="submit" className="btn btn-primary" disabled={create.busy || !ready}>
              {create.busy ? "Creating…" : "Create project"}
            </button>
          </div>
        </form>
      )}
      {secret ? (
        <SecretKeyDialog
          secret={secret}
          onDone={() => {
            const key = secret.publishableKey;
            setSecret(null);
            navigate(`/projects/${key}`, { state: { created: true } });
          }}
        />
      ) : null}
    </Shell>
  );
}
