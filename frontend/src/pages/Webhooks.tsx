// A project's webhooks to the developer's app: endpoints (add, test, rotate the secret, enable
// or disable, delete) and the event log (every event, its deliveries and attempts, replay).
// The log refreshes every few seconds: deliveries and retries happen on their own. Every change
// (endpoints, tests, replays) only for a role that may change the project in its mode.

import { type FormEvent, useState } from "react";
import type { DeliveryView, EndpointList, EndpointView, EventList, EventSummary, Mode } from "../api/types";
import { Dialog } from "../components/Dialog";
import { Checkbox, SelectField, TextField } from "../components/fields";
import { SecretKeyDialog, type SecretToShow } from "../components/SecretKeyDialog";
import { Badge, Card, EmptyState, ErrorNotice, Loading, Notice } from "../components/ui";
import { dateTime, number, plural } from "../lib/format";
import { mayChange } from "../lib/team";
import { useCapabilities } from "../platformContext";
import { useAction, useApi, useResource } from "../services";

const REFRESH_MS = 5000;

/** What the event log's filters can say (the API's delivery states). */
const STATUSES = ["pending", "delivered", "failed"] as const;

function webhookSecret(endpoint: EndpointView, secret: string, mode: Mode, title: string, note?: string): SecretToShow {
  return {
    secretKey: secret,
    mode,
    title,
    label: "Signing secret",
    description:
      "This is the only time the signing secret is shown. Put it in your app's environment and verify every delivery with it (the standardwebhooks library of your language).",
    note: note ?? `Endpoint ${endpoint.url}`,
  };
}

export function ProjectWebhooks({ publishableKey, mode }: { publishableKey: string; mode: Mode }) {
  const api = useApi();
  // Refreshed like the log: a delivery moves "last delivered", a run of failures disables.
  const endpoints = useResource<EndpointList>(`webhook-endpoints:${publishableKey}`, () => api.webhookEndpoints(publishableKey), { refreshMs: REFRESH_MS });
  const [secret, setSecret] = useState<SecretToShow | null>(null);
  const canEdit = mayChange(useCapabilities(), mode);
  if (endpoints.status === "loading") return <Loading label="Loading webhooks…" />;
  if (endpoints.status === "error" && !endpoints.data) {
    return <ErrorNotice error={endpoints.error} title="Your webhook endpoints could not be loaded" onRetry={endpoints.reload} />;
  }
  const list = endpoints.data!;
  return (
    <div className="stack">
      <Card title="Endpoints" id="webhook-endpoints-title">
        <p className="muted">
          Your app is told what happened (a customer subscribed, a payment failed, a user reached 80 % of a meter, a product sold out), signed in the Standard
          Webhooks format. Deliveries that fail are retried for about three days; an endpoint that keeps failing is disabled.
        </p>
        {list.endpoints.length === 0 ? (
          <EmptyState title="No endpoints yet">{canEdit ? "Add the URL of your app that should receive events." : null}</EmptyState>
        ) : (
          <ul className="endpoint-list" data-testid="webhook-endpoints">
            {list.endpoints.map((endpoint) => (
              <EndpointRow key={endpoint.id} publishableKey={publishableKey} mode={mode} endpoint={endpoint} onChanged={endpoints.reload} onSecret={setSecret} canEdit={canEdit} />
            ))}
          </ul>
        )}
        {!canEdit ? null : list.endpoints.length < list.maxEndpoints ? (
          <AddEndpoint publishableKey={publishableKey} mode={mode} types={list.eventTypes} onCreated={(endpoint, s) => {
            endpoints.reload();
            setSecret(webhookSecret(endpoint, s, mode, "Endpoint added"));
          }} />
        ) : (
          <p className="muted small">This project has {list.maxEndpoints} endpoints in this mode, its most.</p>
        )}
      </Card>
      <EventLog publishableKey={publishableKey} endpoints={list.endpoints} types={list.eventTypes} canEdit={canEdit} />
      {secret ? <SecretKeyDialog secret={secret} onDone={() => setSecret(null)} /> : null}
    </div>
  );
}

function typesLabel(types: string[]): string {
  return types.includes("*") ? "All events" : types.join(", ");
}

function EndpointRow({
  publishableKey,
  mode,
  endpoint,
  onChanged,
  onSecret,
  canEdit,
}: {
  publishableKey: string;
  mode: Mode;
  endpoint: EndpointView;
  onChanged: () => void;
  onSecret: (secret: SecretToShow) => void;
  canEdit: boolean;
}) {
  const api = useApi();
  const [sentTest, setSentTest] = useState<string | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [rotating, setRotating] = useState(false);
  const test = useAction(() => api.sendTestEvent(publishableKey, endpoint.id));
  const toggle = useAction((enabled: boolean) => api.updateWebhookEndpoint(publishableKey, endpoint.id, { enabled }));
  const remove = useAction(() => api.deleteWebhookEndpoint(publishableKey, endpoint.id));
  const error = test.error ?? toggle.error ?? remove.error;
  return (
    <li className="endpoint" data-testid={`endpoint-${endpoint.id}`}>
      <div className="endpoint-head">
        <code className="break endpoint-url">{endpoint.url}</code>
        {endpoint.enabled ? <Badge tone="success">Enabled</Badge> : <Badge tone="danger">Disabled</Badge>}
        {endpoint.enabled && endpoint.failureStreak > 0 ? <Badge tone="warning">{plural(endpoint.failureStreak, "failed attempt")} in a row</Badge> : null}
      </div>
      {endpoint.description ? <p className="small">{endpoint.description}</p> : null}
      <p className="muted small">
        {typesLabel(endpoint.eventTypes)} · <code>{endpoint.id}</code> · last delivered {endpoint.lastSuccessAt ? dateTime(endpoint.lastSuccessAt) : "never"}
        {endpoint.previousSecretExpiresAt ? ` · the previous secret signs too until ${dateTime(endpoint.previousSecretExpiresAt)}` : ""}
      </p>
      {!endpoint.enabled && endpoint.disabledReason ? (
        <Notice tone="error" title="Disabled by dream-api">
          {endpoint.disabledReason}. Fix the endpoint, enable it, then replay the failed events below.
        </Notice>
      ) : null}
      {canEdit ? (
        <div className="actions">
          <button type="button" className="btn btn-secondary btn-small" disabled={test.busy || !endpoint.enabled} onClick={async () => {
            const sent = await test.run();
            if (sent) setSentTest(sent.eventId);
          }}>
            Send test event
          </button>
          <button type="button" className="btn btn-secondary btn-small" onClick={() => setRotating(true)}>
            Rotate secret
          </button>
          <button type="button" className="btn btn-secondary btn-small" disabled={toggle.busy} onClick={async () => {
            if (await toggle.run(!endpoint.enabled)) onChanged();
          }}>
            {endpoint.enabled ? "Disable" : "Enable"}
          </button>
          <button type="button" className="btn btn-ghost btn-small" onClick={() => setConfirmDelete(true)}>
            Delete
          </button>
        </div>
      ) : null}
      {sentTest ? (
        <Notice tone="success" title="Test event sent" onDismiss={() => setSentTest(null)}>
          <code className="break">{sentTest}</code>: see it in the event log below.
        </Notice>
      ) : null}
      {error ? <ErrorNotice error={error} compact /> : null}
      {rotating ? (
        <RotateDialog publishableKey={publishableKey} endpoint={endpoint} onClose={() => setRotating(false)} onRotated={(s, until) => {
          setRotating(false);
          onChanged();
          onSecret(webhookSecret(endpoint, s, mode, "Secret rotated", until ? `The previous secret also signs until ${dateTime(until)}: deploy the new one before then.` : "The previous secret no longer signs."));
        }} />
      ) : null}
      {confirmDelete ? (
        <Dialog title="Delete this endpoint?" description={`${endpoint.url} stops receiving events; what it had still to receive fails (the events stay in the log).`} onClose={() => setConfirmDelete(false)} footer={
          <>
            <button type="button" className="btn btn-secondary" onClick={() => setConfirmDelete(false)}>
              Keep it
            </button>
            <button type="button" className="btn btn-danger" disabled={remove.busy} onClick={async () => {
              if (await remove.run()) {
                setConfirmDelete(false);
                onChanged();
              }
            }}>
              Delete endpoint
            </button>
          </>
        }>
          {remove.error ? <ErrorNotice error={remove.error} compact /> : null}
        </Dialog>
      ) : null}
    </li>
  );
}

function RotateDialog({ publishableKey, endpoint, onClose, onRotated }: { publishableKey: string; endpoint: EndpointView; onClose: () => void; onRotated: (secret: string, previousUntil: string | null) => void }) {
  const api = useApi();
  const [hours, setHours] = useState("24");
  const rotate = useAction(() => api.rotateWebhookSecret(publishableKey, endpoint.id, Number(hours)));
  return (
    <Dialog title="Rotate the signing secret" description="A new secret signs every delivery from now on. Keep the old one signing beside it while you deploy the new one." onClose={onClose} footer={
      <>
        <button type="button" className="btn btn-secondary" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="btn btn-primary" disabled={rotate.busy} onClick={async () => {
          const rotated = await rotate.run();
          if (rotated) onRotated(rotated.secret, rotated.endpoint.previousSecretExpiresAt);
        }}>
          Rotate secret
        </button>
      </>
    }>
      <SelectField label="The old secret keeps signing for" value={hours} onChange={(e) => setHours(e.target.value)}>
        <option value="0">No time: it stops now</option>
        <option value="1">1 hour</option>
        <option value="24">24 hours</option>
        <option value="168">7 days</option>
      </SelectField>
      {rotate.error ? <ErrorNotice error={rotate.error} compact /> : null}
    </Dialog>
  );
}

function AddEndpoint({ publishableKey, mode, types, onCreated }: { publishableKey: string; mode: Mode; types: string[]; onCreated: (endpoint: EndpointView, secret: string) => void }) {
  const api = useApi();
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [all, setAll] = useState(true);
  const [chosen, setChosen] = useState<string[]>([]);
  const create = useAction(() => api.createWebhookEndpoint(publishableKey, { url: url.trim(), eventTypes: all ? ["*"] : chosen, description: description.trim() || undefined }));
  const selectable = types.filter((t) => t !== "endpoint.test");
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const created = await create.run();
    if (created) {
      setUrl("");
      setDescription("");
      onCreated(created.endpoint, created.secret);
    }
  };
  return (
    <form className="stack add-endpoint" onSubmit={submit} aria-labelledby="add-endpoint-title">
      <h3 id="add-endpoint-title">Add an endpoint</h3>
      <TextField label="URL" type="url" required placeholder={mode === "live" ? "https://app.example.com/webhooks" : "https://app.example.com/webhooks (http works in test mode)"} value={url} onChange={(e) => setUrl(e.target.value)} hint={mode === "live" ? "https only in live mode. Redirects are not followed." : "Redirects are not followed."} />
      <TextField label="Description (optional)" value={description} maxLength={200} onChange={(e) => setDescription(e.target.value)} />
      <Checkbox label="All event types (including ones added later)" checked={all} onChange={(e) => setAll(e.target.checked)} />
      {!all ? (
        <fieldset className="event-types">
          <legend>Event types</legend>
          {selectable.map((t) => (
            <Checkbox key={t} label={<code>{t}</code>} checked={chosen.includes(t)} onChange={(e) => setChosen(e.target.checked ? [...chosen, t] : chosen.filter((c) => c !== t))} />
          ))}
        </fieldset>
      ) : null}
      {create.error ? <ErrorNotice error={create.error} compact /> : null}
      <div className="actions">
        <button type="submit" className="btn btn-primary" disabled={create.busy || (!all && chosen.length === 0)}>
          Add endpoint
        </button>
      </div>
    </form>
  );
}

function deliverySummary(deliveries: DeliveryView[]) {
  if (deliveries.length === 0) return <Badge tone="neutral">No endpoint</Badge>;
  const count = (status: string) => deliveries.filter((d) => d.status === status).length;
  return (
    <span className="badges">
      {count("delivered") ? <Badge tone="success">{count("delivered")} delivered</Badge> : null}
      {count("pending") ? <Badge tone="warning">{count("pending")} retrying</Badge> : null}
      {count("failed") ? <Badge tone="danger">{count("failed")} failed</Badge> : null}
    </span>
  );
}

function EventLog({ publishableKey, endpoints, types, canEdit }: { publishableKey: string; endpoints: EndpointView[]; types: string[]; canEdit: boolean }) {
  const api = useApi();
  const [type, setType] = useState("");
  const [status, setStatus] = useState("");
  const [before, setBefore] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [since, setSince] = useState(() => new Date(Date.now() - 24 * 3600 * 1000).toISOString().slice(0, 16));
  const [notice, setNotice] = useState<string | null>(null);
  const query = { type, status, before: before ?? "" };
  const events = useResource<EventList>(`events:${publishableKey}:${JSON.stringify(query)}`, () => api.events(publishableKey, query), { refreshMs: REFRESH_MS });
  const replay = useAction((id: string) => api.replayEvent(publishableKey, id));
  const replayFailed = useAction(() => api.replayFailed(publishableKey, `${since}:00Z`));
  const urlOf = (id: string) => endpoints.find((e) => e.id === id)?.url ?? id;
  return (
    <Card title="Event log" id="event-log-title">
      <div className="filters">
        <SelectField label="Type" value={type} onChange={(e) => { setType(e.target.value); setBefore(null); }}>
          <option value="">All types</option>
          {types.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </SelectField>
        <SelectField label="Delivery" value={status} onChange={(e) => { setStatus(e.target.value); setBefore(null); }}>
          <option value="">Any</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </SelectField>
        {canEdit ? (
          <form className="inline-form" onSubmit={async (e) => {
            e.preventDefault();
            const done = await replayFailed.run();
            if (done) {
              setNotice(`${plural(done.deliveries, "failed delivery", "failed deliveries")} scheduled again.`);
              events.reload();
            }
          }}>
            <TextField label="Replay failed since (UTC)" type="datetime-local" value={since} onChange={(e) => setSince(e.target.value)} />
            <button type="submit" className="btn btn-secondary btn-small" disabled={replayFailed.busy}>
              Replay failed
            </button>
          </form>
        ) : null}
      </div>
      {notice ? <Notice tone="success" title={notice} onDismiss={() => setNotice(null)} /> : null}
      {replayFailed.error ? <ErrorNotice error={replayFailed.error} compact /> : null}
      {replay.error ? <ErrorNotice error={replay.error} compact /> : null}
      {events.status === "loading" ? <Loading label="Loading events…" /> : null}
      {events.status === "error" && !events.data ? <ErrorNotice error={events.error} title="The event log could not be loaded" onRetry={events.reload} /> : null}
      {events.data && events.data.events.length === 0 ? <EmptyState title="No events yet">Events appear here as they happen: a customer created, a subscription changed, a sale.</EmptyState> : null}
      {events.data && events.data.events.length > 0 ? (
        <div className="table-wrap">
          <table className="table table-stack" data-testid="event-log">
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">When</th>
                <th scope="col">Deliveries</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {events.data.events.map((event) => (
                <EventRow key={event.id} event={event} open={open === event.id} onToggle={() => setOpen(open === event.id ? null : event.id)} publishableKey={publishableKey} urlOf={urlOf} onReplay={async () => {
                  const done = await replay.run(event.id);
                  if (done) {
                    setNotice(`${event.type} sent again to ${plural(done.deliveries, "endpoint")}.`);
                    events.reload();
                  }
                }} replaying={replay.busy} canEdit={canEdit} />
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <div className="actions">
        {before ? (
          <button type="button" className="btn btn-ghost btn-small" onClick={() => setBefore(null)}>
            Newest events
          </button>
        ) : null}
        {events.data?.nextBefore ? (
          <button type="button" className="btn btn-secondary btn-small" onClick={() => setBefore(events.data!.nextBefore ?? null)}>
            Older events
          </button>
        ) : null}
      </div>
    </Card>
  );
}

function EventRow({ event, open, onToggle, publishableKey, urlOf, onReplay, replaying, canEdit }: { event: EventSummary; open: boolean; onToggle: () => void; publishableKey: string; urlOf: (id: string) => string; onReplay: () => void; replaying: boolean; canEdit: boolean }) {
  return (
    <>
      <tr data-testid={`event-${event.id}`}>
        <th scope="row">
          <code className="cell-main">{event.type}</code>
          <code className="muted small block">{event.id}</code>
        </th>
        <td data-label="When">{dateTime(event.created)}</td>
        <td data-label="Deliveries">{deliverySummary(event.deliveries)}</td>
        <td data-label="Actions" className="row-actions">
          <button type="button" className="btn btn-ghost btn-small" aria-expanded={open} onClick={onToggle}>
            {open ? "Hide attempts" : "Attempts"}
          </button>
          {canEdit ? (
            <button type="button" className="btn btn-secondary btn-small" disabled={replaying || event.deliveries.length === 0} onClick={onReplay}>
              Replay
            </button>
          ) : null}
        </td>
      </tr>
      {open ? (
        <tr className="detail-row">
          <td colSpan={4}>
            <EventDetailView publishableKey={publishableKey} id={event.id} urlOf={urlOf} />
          </td>
        </tr>
      ) : null}
    </>
  );
}

function EventDetailView({ publishableKey, id, urlOf }: { publishableKey: string; id: string; urlOf: (id: string) => string }) {
  const api = useApi();
  const detail = useResource(`event:${publishableKey}:${id}`, () => api.event(publishableKey, id), { refreshMs: REFRESH_MS });
  if (detail.status === "loading") return <Loading label="Loading attempts…" />;
  if (detail.status === "error" && !detail.data) return <ErrorNotice error={detail.error} compact onRetry={detail.reload} />;
  const d = detail.data!;
  return (
    <div className="stack" data-testid="event-detail">
      {d.attempts.length === 0 ? <p className="muted small">No attempt yet.</p> : (
        <table className="table attempts">
          <thead>
            <tr>
              <th scope="col">Endpoint</th>
              <th scope="col">Attempt</th>
              <th scope="col">When</th>
              <th scope="col">Answer</th>
              <th scope="col" className="num">Latency</th>
              <th scope="col">First bytes</th>
            </tr>
          </thead>
          <tbody>
            {d.attempts.map((a) => (
              <tr key={`${a.endpointId}-${a.attempt}`}>
                <td data-label="Endpoint"><code className="break small">{urlOf(a.endpointId)}</code></td>
                <td data-label="Attempt">#{a.attempt}</td>
                <td data-label="When">{dateTime(a.attemptedAt)}</td>
                <td data-label="Answer">{a.statusCode === null ? <Badge tone="danger">no answer</Badge> : <Badge tone={a.statusCode >= 200 && a.statusCode < 300 ? "success" : "danger"}>{a.statusCode}</Badge>}</td>
                <td data-label="Latency" className="num">{number(a.latencyMs)} ms</td>
                <td data-label="First bytes"><code className="small break">{a.response || "—"}</code></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <details>
        <summary>Payload</summary>
        <pre className="code-block small">{JSON.stringify(d.event, null, 2)}</pre>
      </details>
    </div>
  );
}
