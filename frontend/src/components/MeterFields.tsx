// A SaaS tier's meters besides requests (tokens, GB, minutes): the included amount per period
// and, optionally, the overage billed past it through the developer's Stripe, with a preview
// of what a customer would pay; and the tier's spend cap on that overage.

import { emptyMeter, MAX_METERS, type MeterForm, overagePreview } from "../lib/meters";
import { parseDollars, type TierForm } from "../lib/tiers";
import { Checkbox, TextField } from "./fields";

export function MeterFields({
  form,
  errors,
  onChange,
}: {
  form: TierForm;
  errors: { meters?: string | undefined; spendCap?: string | undefined };
  onChange: (patch: Partial<TierForm>) => void;
}) {
  const update = (index: number, patch: Partial<MeterForm>) =>
    onChange({ meters: form.meters.map((m, i) => (i === index ? { ...m, ...patch } : m)) });
  const remove = (index: number) => onChange({ meters: form.meters.filter((_, i) => i !== index) });
  const price = parseDollars(form.price);
  const tierCents = "cents" in price ? price.cents : 0;
  const billsOverage = form.meters.some((m) => m.billOverage);
  return (
    <div className="meter-fields">
      <div className="meter-fields-head">
        <span className="field-label">Meters</span>
        <span className="field-hint">
          Quantities your app reports with <code>{'{"meter": "tokens", "quantity": 1234}'}</code>. Without overage a meter is a hard limit.
        </span>
      </div>
      {form.meters.map((meter, index) => {
        const preview = overagePreview(meter, tierCents);
        return (
          <fieldset className="meter-row" key={index} aria-label={`Meter ${index + 1}${meter.key ? ` (${meter.key})` : ""}`}>
            <div className="grid-3">
              <TextField
                label="Meter"
                hint="e.g. tokens or storage_gb"
                value={meter.key}
                autoCapitalize="none"
                spellCheck={false}
                onChange={(e) => update(index, { key: e.target.value })}
              />
              <div className="field-group">
                <TextField
                  label="Included per month"
                  inputMode="numeric"
                  value={meter.unlimited ? "" : meter.included}
                  disabled={meter.unlimited}
                  onChange={(e) => update(index, { included: e.target.value })}
                />
                <Checkbox
                  label="Unlimited"
                  checked={meter.unlimited}
                  onChange={(e) => update(index, { unlimited: e.target.checked, billOverage: e.target.checked ? false : meter.billOverage })}
                />
              </div>
              <div className="meter-row-actions">
                <button type="button" className="btn btn-ghost btn-small" onClick={() => remove(index)} aria-label={`Remove meter ${meter.key || index + 1}`}>
                  Remove
                </button>
              </div>
            </div>
            <Checkbox
              label="Bill overage past the included amount"
              hint={tierCents > 0 ? "Billed in arrears on the customer's next invoice, through your Stripe." : "Needs a paid tier: overage is billed on its subscription."}
              checked={meter.billOverage}
              disabled={meter.unlimited || tierCents === 0}
              onChange={(e) => update(index, { billOverage: e.target.checked })}
            />
            {meter.billOverage ? (
              <div className="grid-2">
                <TextField
                  label="Price per package (USD)"
                  hint="Up to 11 decimals, e.g. 0.002"
                  prefix="$"
                  inputMode="decimal"
                  value={meter.overagePrice}
                  onChange={(e) => update(index, { overagePrice: e.target.value })}
                />
                <TextField
                  label="Units per package"
                  hint="A started package is billed whole."
                  inputMode="numeric"
                  value={meter.overagePer}
                  onChange={(e) => update(index, { overagePer: e.target.value })}
                />
              </div>
            ) : null}
            {preview ? (
              <p className="meter-preview" role="status">
                {preview}
              </p>
            ) : null}
          </fieldset>
        );
      })}
      {errors.meters ? (
        <p className="field-error" role="alert">
          {errors.meters}
        </p>
      ) : null}
      <button type="button" className="btn btn-secondary btn-small" disabled={form.meters.length >= MAX_METERS - 1} onClick={() => onChange({ meters: [...form.meters, emptyMeter()] })}>
        + Add meter
      </button>
      {billsOverage ? (
        <TextField
          label="Spend cap per customer per month (USD)"
          hint="Optional: usage that would take a customer's overage past it is refused."
          prefix="$"
          inputMode="decimal"
          value={form.spendCap}
          error={errors.spendCap}
          onChange={(e) => onChange({ spendCap: e.target.value })}
        />
      ) : null}
    </div>
  );
}
