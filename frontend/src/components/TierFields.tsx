// The form of one tier (SaaS) or product (Store), shared by the create wizard, the tier editor
// and "Edit & Go Live"; and a list of them. Product images are uploaded to R2 through
// front-auth-api and the returned URL is stored as the product's imageUrl.

import { useEffect, useId, useRef, useState } from "react";
import { type ApiError, asApiError } from "../api/client";
import type { ProjectType } from "../api/types";
import { useApi } from "../services";
import { emptyTier, MAX_TIERS, type TierErrors, type TierForm, type TierListErrors } from "../lib/tiers";
import { Checkbox, TextArea, TextField } from "./fields";
import { MeterFields } from "./MeterFields";
import { ErrorNotice } from "./ui";

const NO_ERRORS: TierErrors = {};

export const MAX_UPLOAD_BYTES = 5 * 1024 * 1024;
const IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp", "image/gif"];

/** The upload rules the API applies, checked before sending (it sniffs the bytes itself). */
export function checkImageFile(file: { type: string; size: number }): string | null {
  if (!IMAGE_TYPES.includes(file.type)) return "Choose a PNG, JPEG, WebP or GIF image";
  if (file.size > MAX_UPLOAD_BYTES) return "Images are limited to 5 MB";
  if (file.size === 0) return "That file is empty";
  return null;
}

function ImageField({ form, error, onChange }: { form: TierForm; error?: string; onChange: (patch: Partial<TierForm>) => void }) {
  const api = useApi();
  const input = useRef<HTMLInputElement>(null);
  const id = useId();
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [apiError, setApiError] = useState<ApiError | null>(null);

  const upload = async (file: File) => {
    setProblem(null);
    setApiError(null);
    const local = checkImageFile(file);
    if (local) {
      setProblem(local);
      return;
    }
    setBusy(true);
    try {
      const uploaded = await api.uploadAsset(file);
      onChange({ imageUrl: uploaded.url });
    } catch (e) {
      setApiError(asApiError(e));
    } finally {
      setBusy(false);
      if (input.current) input.current.value = "";
    }
  };

  return (
    <div className="field image-field">
      <span className="field-label" id={`${id}-label`}>
        Image
      </span>
      <div className="image-row">
        <div className="image-preview">
          {form.imageUrl ? <img src={form.imageUrl} alt={`Image of ${form.displayName || form.name || "the product"}`} /> : <span aria-hidden="true">No image</span>}
        </div>
        <div className="image-actions">
          <label className="btn btn-secondary btn-small file-button" htmlFor={`${id}-file`}>
            {busy ? "Uploading…" : form.imageUrl ? "Replace image" : "Upload image"}
          </label>
          <input
            ref={input}
            id={`${id}-file`}
            type="file"
            accept={IMAGE_TYPES.join(",")}
            className="visually-hidden-file"
            disabled={busy}
            aria-describedby={`${id}-hint`}
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (file) void upload(file);
            }}
          />
          {form.imageUrl ? (
            <button type="button" className="btn btn-ghost btn-small" onClick={() => onChange({ imageUrl: "" })}>
              Remove
            </button>
          ) : null}
          <span className="field-hint" id={`${id}-hint`}>
            PNG, JPEG, WebP or GIF, up to 5 MB.
          </span>
        </div>
      </div>
      {busy ? (
        <span className="field-hint" role="status">
          Uploading image…
        </span>
      ) : null}
      {problem ? (
        <span className="field-error" role="alert">
          {problem}
        </span>
      ) : null}
      {apiError ? <ErrorNotice error={apiError} title="The image was not uploaded" compact /> : null}
      <TextField
        label="Image URL"
        hint="Filled in by the upload, or paste an http(s) URL."
        value={form.imageUrl}
        error={error}
        onChange={(e) => onChange({ imageUrl: e.target.value })}
        inputMode="url"
        spellCheck={false}
      />
    </div>
  );
}

export interface TierFieldsProps {
  kind: ProjectType;
  form: TierForm;
  errors: TierErrors;
  onChange: (patch: Partial<TierForm>) => void;
  /** Editing an existing tier: its name is the key and cannot change. */
  lockName?: boolean;
  /** The project's currency (lowercase ISO code). */
  currency?: string;
}

export function TierFields({ kind, form, errors: reported, onChange: report, lockName, currency = "usd" }: TierFieldsProps) {
  const code = currency.toUpperCase();
  const store = kind === "store";
  // A field's error disappears once the field is edited; the next check reports it again.
  const [edited, setEdited] = useState<Set<string>>(new Set());
  useEffect(() => setEdited(new Set()), [reported]);
  const errors: TierErrors = Object.fromEntries(Object.entries(reported).filter(([field]) => !edited.has(field)));
  const onChange = (patch: Partial<TierForm>) => {
    const fields = Object.keys(patch);
    if (patch.unlimited !== undefined) fields.push("limit", "inventory");
    setEdited((prev) => new Set([...prev, ...fields]));
    report(patch);
  };
  return (
    <div className="tier-fields">
      <div className="grid-2">
        <TextField
          label="Name"
          hint={lockName ? "A tier's name cannot change." : "Lowercase slug, e.g. pro or mug-large. Your app refers to it."}
          value={form.name}
          error={errors.name}
          readOnly={lockName}
          required
          autoCapitalize="none"
          spellCheck={false}
          onChange={(e) => onChange({ name: e.target.value })}
        />
        <TextField label="Display name" hint="Optional; shown on Stripe's checkout." value={form.displayName} error={errors.displayName} onChange={(e) => onChange({ displayName: e.target.value })} />
      </div>
      <div className="grid-2">
        <TextField
          label={store ? `Price (${code})` : `Monthly price (${code})`}
          hint={store ? "More than 0, with at most two decimals." : "0 for a free tier."}
          prefix={code === "USD" ? "$" : code}
          inputMode="decimal"
          value={form.price}
          error={errors.price}
          required
          onChange={(e) => onChange({ price: e.target.value })}
        />
        {store ? (
          <div className="field-group">
            <TextField
              label="In stock"
              hint="Units you can sell."
              inputMode="numeric"
              value={form.unlimited ? "" : form.inventory}
              disabled={form.unlimited}
              error={errors.inventory}
              onChange={(e) => onChange({ inventory: e.target.value })}
            />
            <Checkbox label="Don't track stock" checked={form.unlimited} onChange={(e) => onChange({ unlimited: e.target.checked })} />
          </div>
        ) : (
          <div className="field-group">
            <TextField
              label="Monthly request limit"
              hint="Requests per user per billing period."
              inputMode="numeric"
              value={form.unlimited ? "" : form.limit}
              disabled={form.unlimited}
              error={errors.limit}
              onChange={(e) => onChange({ limit: e.target.value })}
            />
            <Checkbox label="Unlimited requests" checked={form.unlimited} onChange={(e) => onChange({ unlimited: e.target.checked })} />
          </div>
        )}
      </div>
      <TextField label="Description" hint="Optional, one line." value={form.description} error={errors.description} onChange={(e) => onChange({ description: e.target.value })} />
      {store ? (
        <ImageField form={form} error={errors.imageUrl} onChange={onChange} />
      ) : (
        <>
          <TextArea label="Features" hint="Optional; one per line, shown on your pricing page." rows={3} value={form.features} error={errors.features} onChange={(e) => onChange({ features: e.target.value })} />
          <Checkbox label="Highlight as the most popular tier" checked={form.popular} onChange={(e) => onChange({ popular: e.target.checked })} />
          <TextField
            label="Feature flags"
            hint="Optional; e.g. sso, priority_support. Your app checks them with POST /api/check."
            value={form.entitlements}
            error={errors.entitlements}
            autoCapitalize="none"
            spellCheck={false}
            onChange={(e) => onChange({ entitlements: e.target.value })}
          />
          <div className="grid-2">
            <TextField
              label="Free trial (days)"
              hint="Optional; 1-730. One trial per customer."
              inputMode="numeric"
              value={form.trialDays}
              error={errors.trialDays}
              onChange={(e) => onChange({ trialDays: e.target.value })}
            />
            <div className="field-group">
              <Checkbox
                label="Require a card to start the trial"
                hint="Without one, the subscription ends with the trial unless the customer adds a card."
                checked={form.trialCardRequired}
                disabled={!form.trialDays.trim()}
                onChange={(e) => onChange({ trialCardRequired: e.target.checked })}
              />
            </div>
          </div>
          <MeterFields form={form} errors={errors} onChange={onChange} />
        </>
      )}
    </div>
  );
}

export function TierListEditor({
  kind,
  forms,
  errors,
  onChange,
  currency,
}: {
  kind: ProjectType;
  forms: TierForm[];
  errors: TierListErrors | null;
  onChange: (forms: TierForm[]) => void;
  currency?: string;
}) {
  const noun = kind === "store" ? "Product" : "Tier";
  const update = (index: number, patch: Partial<TierForm>) => onChange(forms.map((f, i) => (i === index ? { ...f, ...patch } : f)));
  const remove = (index: number) => onChange(forms.filter((_, i) => i !== index));
  return (
    <div className="tier-list">
      {errors?.list ? (
        <p className="field-error" role="alert">
          {errors.list}
        </p>
      ) : null}
      {forms.map((form, index) => (
        <fieldset className="tier-panel" key={index}>
          <legend>
            {noun} {index + 1}
            {form.name ? <span className="legend-name"> · {form.name}</span> : null}
          </legend>
          <div className="tier-panel-actions">
            <button type="button" className="btn btn-ghost btn-small" onClick={() => remove(index)} disabled={forms.length <= 1} aria-label={`Remove ${noun.toLowerCase()} ${index + 1}${form.name ? ` (${form.name})` : ""}`}>
              Remove
            </button>
          </div>
          <TierFields kind={kind} form={form} currency={currency} errors={errors?.tiers[index] ?? NO_ERRORS} onChange={(patch) => update(index, patch)} />
        </fieldset>
      ))}
      <button
        type="button"
        className="btn btn-secondary"
        disabled={forms.length >= MAX_TIERS}
        onClick={() => onChange([...forms, emptyTier(kind)])}
      >
        + Add {noun.toLowerCase()}
      </button>
    </div>
  );
}

