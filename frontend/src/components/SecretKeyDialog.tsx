// The one place a secret key is ever shown. It lives only in the state of the page that received
// it, is handed here, and is dropped when this dialog closes: never stored, put in a URL or
// logged. The dialog cannot be dismissed until the developer confirms they saved the key.

import { type ReactNode, useId, useRef, useState } from "react";
import type { Mode } from "../api/types";
import { Dialog } from "./Dialog";
import { Checkbox } from "./fields";
import { CopyButton } from "./ui";

export interface SecretToShow {
  secretKey: string;
  mode: Mode;
  title: string;
  /** Extra lines under the key (e.g. until when the previous key keeps working). */
  note?: ReactNode;
  /** What the secret is, when not a project's secret key (a webhook signing secret). */
  label?: string;
  description?: string;
}

export function SecretKeyDialog({ secret, onDone }: { secret: SecretToShow; onDone: () => void }) {
  const [saved, setSaved] = useState(false);
  const keyRef = useRef<HTMLElement>(null);
  const hintId = useId();
  return (
    <Dialog
      title={secret.title}
      description={
        secret.description ??
        "This is the only time the secret key is shown. Store it in your server's secret manager or environment; we keep only a hash and cannot show it again."
      }
      onClose={onDone}
      dismissible={saved}
      role="alertdialog"
      testId="secret-key-dialog"
      footer={
        <button type="button" className="btn btn-primary" disabled={!saved} onClick={onDone} aria-describedby={saved ? undefined : hintId}>
          Done
        </button>
      }
    >
      <div className="secret-box">
        <span className="copy-label">
          {secret.label ?? `${secret.mode === "live" ? "Live" : "Test"} secret key`}
        </span>
        <div className="copy-row">
          <code ref={keyRef} className="secret-value" data-testid="secret-key">
            {secret.secretKey}
          </code>
          <CopyButton text={secret.secretKey} target={() => keyRef.current} label="Copy key" className="btn btn-primary btn-small" />
        </div>
      </div>
      {secret.note ? <div className="secret-note">{secret.note}</div> : null}
      <Checkbox label={`I have saved this ${secret.label ? secret.label.toLowerCase() : "secret key"} somewhere safe`} checked={saved} onChange={(e) => setSaved(e.target.checked)} />
      {!saved ? (
        <p className="field-hint" id={hintId}>
          Confirm you saved the key to close this dialog.
        </p>
      ) : null}
    </Dialog>
  );
}
