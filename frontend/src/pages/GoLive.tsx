// "Edit & Go Live": the test project's tiers or products, editable, become live Stripe products
// and a live key pair (POST /promote-to-live, once per project). The live secret is shown once.

import { useEffect, useId, useState } from "react";
import type { ProjectList, TierList } from "../api/types";
import { useKnownCredentials } from "../credentials";
import { useAction, useApi, useResource } from "../services";
import { SecretKeyDialog, type SecretToShow } from "../components/SecretKeyDialog";
import { TierListEditor } from "../components/TierFields";
import { Card, ErrorNotice, Loading, Notice } from "../components/ui";
import { editsBlockedReason } from "../lib/plan";
import { roleLabel } from "../lib/team";
import { useCapabilities } from "../platformContext";
import { type TierForm, type TierListErrors, tierToForm, validateTiers } from "../lib/tiers";
import { Link, navigate } from "../router";
import type { OpenProject } from "../lib/projects";

export function GoLive({ open, onLive }: { open: OpenProject; onLive: (list: ProjectList) => void }) {
  const api = useApi();
  const kind = open.project.projectType;
  const noun = kind === "store" ? "products" : "tiers";
  const tiers = useResource<TierList>(`tiers:${open.publishableKey}`, () => api.tiers(open.publishableKey));
  const [forms, setForms] = useState<TierForm[] | null>(null);
  const [errors, setErrors] = useState<TierListErrors | null>(null);
  const [secret, setSecret] = useState<(SecretToShow & { publishableKey: string; list: ProjectList | null }) | null>(null);
  // Going live needs the paid plan (the API answers 403 otherwise).
  const locked = editsBlockedReason(useKnownCredentials());
  const lockedId = useId();
  const caps = useCapabilities();

  useEffect(() => {
    if (tiers.data && forms === null) setForms(tiers.data.tiers.map(tierToForm));
  }, [tiers.data, forms]);

  const promote = useAction(async () => {
    if (!forms) return;
    const checked = validateTiers(kind, forms);
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    setErrors(null);
    const { project } = await api.promoteToLive(open.publishableKey, checked.value);
    // The project list is read again while the key is on screen, so the live view opens at once.
    const list = await api.projects().catch(() => null);
    setSecret({ secretKey: project.secretKey, mode: "live", title: "Your live secret key", publishableKey: project.publishableKey, list });
  });

  if (open.mode === "live" || open.project.live) {
    const liveKey = open.project.live?.publishableKey ?? open.publishableKey;
    return (
      <Notice tone="info" title="This project is already live">
        A project goes live once; edit the live {noun} in <Link to={`/projects/${liveKey}`}>the live project</Link>.
      </Notice>
    );
  }

  if (!caps.goLive) {
    return (
      <Notice tone="info" title="Going live needs the admin role">
        You are a {roleLabel(caps.role).toLowerCase()} in this organization: an admin or owner takes projects live.{" "}
        <Link to={`/projects/${open.publishableKey}`}>Back to the project</Link>
      </Notice>
    );
  }

  return (
    <div className="stack">
      <Card title="Edit & Go Live" id="golive-title">
        <p>
          Going live creates your {noun} as <strong>live</strong> Stripe products on your connected account and a live key pair. Real cards are charged from then on. Your test
          project stays as it is. Adjust anything below first; the {kind === "store" ? "stock" : "limits"} and prices you set here are what live customers get.
        </p>
      </Card>
      {tiers.status === "loading" ? <Loading label={`Loading ${noun}…`} /> : null}
      {tiers.status === "error" ? <ErrorNotice error={tiers.error} title={`The ${noun} could not be loaded`} onRetry={tiers.reload} /> : null}
      {forms ? (
        <form
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            void promote.run();
          }}
        >
          <TierListEditor kind={kind} currency={tiers.data?.currency} forms={forms} errors={errors} onChange={setForms} />
          {errors ? (
            <p className="field-error" role="alert">
              Some {noun} need attention: see the highlighted fields.
            </p>
          ) : null}
          {promote.error ? <ErrorNotice error={promote.error} title="The project did not go live" /> : null}
          {locked ? (
            <p className="locked-hint form-locked-hint" id={lockedId}>
              {locked}
            </p>
          ) : null}
          <div className="form-actions">
            <Link to={`/projects/${open.publishableKey}`} className="btn btn-ghost">
              Cancel
            </Link>
            <button type="submit" className="btn btn-primary" disabled={promote.busy || locked !== null} aria-describedby={locked ? lockedId : undefined}>
              {promote.busy ? "Going live…" : "Go live"}
            </button>
          </div>
        </form>
      ) : null}
      {secret ? (
        <SecretKeyDialog
          secret={secret}
          onDone={() => {
            const { publishableKey, list } = secret;
            setSecret(null);
            if (list) onLive(list);
            navigate(`/projects/${publishableKey}`, { state: { promoted: true } });
          }}
        />
      ) : null}
    </div>
  );
}
