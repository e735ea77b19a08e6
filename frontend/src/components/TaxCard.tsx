// A project's tax settings: Stripe Tax on its checkouts and invoices, and whether its prices
// include tax. Changing the latter makes every paid tier's Stripe price again (subscribers keep
// theirs), so it is saved with a button, not on click. Read-only for a role that cannot change
// the project.

import { useEffect, useState } from "react";
import type { TaxBehavior, TaxSettings } from "../api/types";
import { useAction, useApi } from "../services";
import { Checkbox, SelectField } from "./fields";
import { Card, ErrorNotice } from "./ui";

export function TaxCard({ publishableKey, tax, onSaved, readOnly = false }: { publishableKey: string; tax: TaxSettings; onSaved: () => void; readOnly?: boolean }) {
  const api = useApi();
  const [wanted, setWanted] = useState<TaxSettings>(tax);
  useEffect(() => setWanted(tax), [tax]);
  const changed = wanted.automaticTax !== tax.automaticTax || wanted.taxBehavior !== tax.taxBehavior;
  const save = useAction(async () => {
    await api.saveTax(publishableKey, wanted);
    onSaved();
  });
  return (
    <Card title="Tax" id="tax-title">
      <Checkbox
        label="Collect sales tax with Stripe Tax"
        checked={wanted.automaticTax}
        disabled={readOnly}
        onChange={(e) => setWanted({ ...wanted, automaticTax: e.target.checked })}
        hint="Checkout asks for the customer's address; Stripe computes and collects the tax where your Stripe account is registered, on every invoice of the subscriptions started from then on."
      />
      <SelectField
        label="Prices"
        value={wanted.taxBehavior}
        disabled={readOnly}
        onChange={(e) => setWanted({ ...wanted, taxBehavior: e.target.value as TaxBehavior })}
        hint="Changing this makes each paid tier's Stripe price again; current subscribers keep theirs."
      >
        <option value="exclusive">Tax is added to my prices</option>
        <option value="inclusive">My prices include tax</option>
      </SelectField>
      {readOnly ? null : (
        <div className="actions">
          <button type="button" className="btn btn-secondary" disabled={!changed || save.busy} onClick={() => void save.run()}>
            {save.busy ? "Saving…" : "Save tax settings"}
          </button>
        </div>
      )}
      {save.error ? <ErrorNotice error={save.error} title="The tax settings were not saved" compact /> : null}
    </Card>
  );
}
