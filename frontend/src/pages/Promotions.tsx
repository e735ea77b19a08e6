// A project's promotion codes: coupons on the developer's connected Stripe account that its
// checkouts accept (as `promotionCode`, or typed by the customer with `allowPromotionCodes`).
// Making and switching codes only for a role that may change the project in its mode.

import { type FormEvent, useState } from "react";
import type { Mode, PromotionCodeList, PromotionCodeView } from "../api/types";
import { SelectField, TextField } from "../components/fields";
import { Badge, Card, EmptyState, ErrorNotice, Loading } from "../components/ui";
import { date, number } from "../lib/format";
import { discountLabel, emptyPromotion, type PromotionErrors, type PromotionForm, validatePromotion } from "../lib/promotions";
import { mayChange } from "../lib/team";
import { useCapabilities } from "../platformContext";
import { useAction, useApi, useResource } from "../services";

export function ProjectPromotions({ publishableKey, mode }: { publishableKey: string; mode: Mode }) {
  const api = useApi();
  const codes = useResource<PromotionCodeList>(`promotion-codes:${publishableKey}`, () => api.promotionCodes(publishableKey));
  const canEdit = mayChange(useCapabilities(), mode);
  if (codes.status === "loading") return <Loading label="Loading promotion codes…" />;
  if (codes.status === "error" && !codes.data) {
    return <ErrorNotice error={codes.error} title="Your promotion codes could not be loaded" onRetry={codes.reload} />;
  }
  const list = codes.data!;
  return (
    <div className="stack">
      <Card title="Promotion codes" id="promotion-codes-title">
        <p className="muted">
          Codes live on your connected Stripe account ({mode} mode). Pass one as <code>promotionCode</code> when you start a checkout, or send{" "}
          <code>allowPromotionCodes: true</code> and your customers type it on Stripe&apos;s page. MRR counts what customers pay after them.
        </p>
        {list.codes.length === 0 ? (
          <EmptyState title="No promotion codes yet">{canEdit ? "Make one below, e.g. 20 % off for your launch." : null}</EmptyState>
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="promotion-codes">
              <thead>
                <tr>
                  <th scope="col">Code</th>
                  <th scope="col">Discount</th>
                  <th scope="col">Redeemed</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Status</th>
                  {canEdit ? (
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  ) : null}
                </tr>
              </thead>
              <tbody>
                {list.codes.map((code) => (
                  <CodeRow key={code.id} publishableKey={publishableKey} code={code} onChanged={codes.reload} canEdit={canEdit} />
                ))}
              </tbody>
            </table>
          </div>
        )}
        {!canEdit ? null : list.codes.length < list.max ? (
          <AddCode publishableKey={publishableKey} currency={list.currency} onCreated={codes.reload} />
        ) : (
          <p className="muted small">This project has {list.max} promotion codes in this mode, its most.</p>
        )}
      </Card>
    </div>
  );
}

function redeemed(code: PromotionCodeView): string {
  const count = code.timesRedeemed === null || code.timesRedeemed === undefined ? "—" : number(code.timesRedeemed);
  return code.maxRedemptions ? `${count} of ${number(code.maxRedemptions)}` : count;
}

function CodeRow({ publishableKey, code, onChanged, canEdit }: { publishableKey: string; code: PromotionCodeView; onChanged: () => void; canEdit: boolean }) {
  const api = useApi();
  const toggle = useAction((active: boolean) => api.setPromotionCodeActive(publishableKey, code.id, active));
  return (
    <tr data-testid={`promotion-${code.code}`}>
      <td>
        <code>{code.code}</code>
        {code.firstTimeOnly ? <span className="muted small block">First purchase only</span> : null}
      </td>
      <td>{discountLabel(code)}</td>
      <td>{redeemed(code)}</td>
      <td>{code.expiresAt ? date(code.expiresAt) : "Never"}</td>
      <td>{code.active ? <Badge tone="success">Active</Badge> : <Badge tone="neutral">Inactive</Badge>}</td>
      {canEdit ? (
        <td className="row-actions">
          <button
            type="button"
            className="btn btn-ghost btn-small"
            disabled={toggle.busy}
            aria-label={`${code.active ? "Deactivate" : "Activate"} ${code.code}`}
            onClick={async () => {
              if (await toggle.run(!code.active)) onChanged();
            }}
          >
            {code.active ? "Deactivate" : "Activate"}
          </button>
          {toggle.error ? <ErrorNotice error={toggle.error} compact /> : null}
        </td>
      ) : null}
    </tr>
  );
}

function AddCode({ publishableKey, currency, onCreated }: { publishableKey: string; currency: string; onCreated: () => void }) {
  const code = currency.toUpperCase();
  const api = useApi();
  const [form, setForm] = useState<PromotionForm>(emptyPromotion());
  const [errors, setErrors] = useState<PromotionErrors>({});
  const create = useAction(api.createPromotionCode);
  const set = (patch: Partial<PromotionForm>) => {
    setForm({ ...form, ...patch });
    setErrors({});
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const checked = validatePromotion(publishableKey, form, new Date());
    if (!checked.ok) {
      setErrors(checked.errors);
      return;
    }
    if (await create.run(checked.value)) {
      setForm(emptyPromotion());
      onCreated();
    }
  };
  return (
    <form className="stack add-endpoint" onSubmit={submit} aria-labelledby="add-code-title" noValidate>
      <h3 id="add-code-title">New promotion code</h3>
      <div className="grid-2">
        <TextField label="Code" hint="What customers type: 3-30 letters and digits." value={form.code} error={errors.code} autoCapitalize="characters" spellCheck={false} onChange={(e) => set({ code: e.target.value })} />
        <SelectField label="Discount" value={form.kind} onChange={(e) => set({ kind: e.target.value as PromotionForm["kind"] })}>
          <option value="percent">Percent off</option>
          <option value="amount">Amount off ({code})</option>
        </SelectField>
      </div>
      <div className="grid-2">
        <TextField
          label={form.kind === "percent" ? "Percent off" : `Amount off (${code})`}
          prefix={form.kind === "amount" ? (code === "USD" ? "$" : code) : undefined}
          inputMode="decimal"
          value={form.value}
          error={errors.value}
          onChange={(e) => set({ value: e.target.value })}
        />
        <SelectField label="Applies to" value={form.duration} onChange={(e) => set({ duration: e.target.value as PromotionForm["duration"] })}>
          <option value="once">The first invoice</option>
          <option value="repeating">Several months</option>
          <option value="forever">Every invoice</option>
        </SelectField>
      </div>
      <div className="grid-2">
        {form.duration === "repeating" ? (
          <TextField label="Months" inputMode="numeric" value={form.months} error={errors.months} onChange={(e) => set({ months: e.target.value })} />
        ) : null}
        <TextField label="Redemptions (optional)" hint="How many times it can be used in all." inputMode="numeric" value={form.maxRedemptions} error={errors.maxRedemptions} onChange={(e) => set({ maxRedemptions: e.target.value })} />
        <TextField label="Expires (optional)" hint="Accepted until the end of that day (UTC)." type="date" value={form.expires} error={errors.expires} onChange={(e) => set({ expires: e.target.value })} />
      </div>
      {create.error ? <ErrorNotice error={create.error} compact /> : null}
      <div className="actions">
        <button type="submit" className="btn btn-primary" disabled={create.busy}>
          Create code
        </button>
      </div>
    </form>
  );
}
