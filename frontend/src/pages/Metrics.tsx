// A project's figures (GET /dashboard?publishableKey=), refreshed every few seconds while the
// page is visible: Stripe's webhooks arrive asynchronously, so numbers move on their own.
// Refunds and canceled checkouts only for a role that may change the project in its mode.

import { useState } from "react";
import type { CustomerSummary, Dashboard, Mode, OpenOrder, RecentOrder, SaasDashboard, StoreDashboard } from "../api/types";
import { useAction, useApi, useResource } from "../services";
import { BarChart, ShareBar } from "../components/charts";
import { Dialog } from "../components/Dialog";
import { Checkbox } from "../components/fields";
import { Badge, Card, EmptyState, ErrorNotice, Loading } from "../components/ui";
import { compactMoney, compactNumber, date, dateTime, dayLabel, money, monthLabel, number, percent, plural, time } from "../lib/format";
import { mayChange } from "../lib/team";
import { useCapabilities } from "../platformContext";

export const REFRESH_MS = 5000;

function Stat({ id, label, value, hint }: { id: string; label: string; value: string; hint?: string }) {
  return (
    <div className="stat">
      <dt>{label}</dt>
      <dd data-testid={`stat-${id}`}>{value}</dd>
      {hint ? <dd className="stat-hint">{hint}</dd> : null}
    </div>
  );
}

function ChartPlaceholder({ title, children }: { title: string; children: string }) {
  return (
    <div className="chart chart-empty">
      <p className="chart-title">{title}</p>
      <p className="muted small">{children}</p>
    </div>
  );
}

function statusBadge(c: CustomerSummary) {
  if (c.status === "none") return <Badge tone="neutral">No subscription</Badge>;
  if (c.status === "past_due") return <Badge tone="warning">Past due</Badge>;
  if ((c.status === "active" || c.status === "trialing") && c.cancelAtPeriodEnd) return <Badge tone="warning">Canceling</Badge>;
  if (c.status === "active") return <Badge tone="success">Active</Badge>;
  if (c.status === "trialing") return <Badge tone="info">Trialing</Badge>;
  return <Badge tone="neutral">{c.status.replace(/_/g, " ")}</Badge>;
}

/** The meters' overage revenue added up, exactly (decimal strings, 11 places). */
function overageTotal(d: SaasDashboard): string {
  const scale = 100_000_000_000n;
  const units = d.meters.reduce((sum, m) => {
    const [whole = "0", frac = ""] = m.overageRevenue.split(".");
    return sum + BigInt(whole) * scale + BigInt(frac.padEnd(11, "0").slice(0, 11) || "0");
  }, 0n);
  const frac = (units % scale).toString().padStart(11, "0").replace(/0+$/, "");
  return frac ? `${units / scale}.${frac}` : `${units / scale}`;
}

/** An amount as the API gives it (an exact decimal string of the project's currency), to the cent or finer. */
function dollars(text: string, currency = "usd"): string {
  const [whole = "0", frac = ""] = text.split(".");
  const symbol = money(0, currency).replace(/[\d.,\s]/g, "");
  return `${symbol}${Number(whole).toLocaleString("en-US")}.${frac.padEnd(2, "0")}`;
}

function MeterFigures({ d }: { d: SaasDashboard }) {
  if (d.meters.length === 0 && d.nearCap.length === 0) return null;
  return (
    <div className="chart-grid">
      <Card title="Meters this period" id="meters-title">
        {d.meters.length === 0 ? (
          <EmptyState title="Nothing metered yet">Quantities your app reports with a meter show here.</EmptyState>
        ) : (
          <div className="table-wrap">
            <table className="table table-stack" data-testid="meters-table">
              <thead>
                <tr>
                  <th scope="col">Meter</th>
                  <th scope="col" className="num">
                    Users
                  </th>
                  <th scope="col" className="num">
                    Units
                  </th>
                  <th scope="col" className="num">
                    Overage
                  </th>
                  <th scope="col" className="num">
                    Overage revenue
                  </th>
                </tr>
              </thead>
              <tbody>
                {d.meters.map((m) => (
                  <tr key={m.meter}>
                    <th scope="row">
                      <code>{m.meter}</code>
                    </th>
                    <td data-label="Users" className="num">
                      {number(m.users)}
                    </td>
                    <td data-label="Units" className="num">
                      {number(m.units)}
                    </td>
                    <td data-label="Overage" className="num">
                      {number(m.overageUnits)}
                    </td>
                    <td data-label="Overage revenue" className="num">
                      {dollars(m.overageRevenue, d.currency)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      <Card title="Near their spend cap" id="near-cap-title">
        {d.nearCap.length === 0 ? (
          <EmptyState title="Nobody near a cap">Subscribers whose overage reaches 80 % of their tier's cap show here.</EmptyState>
        ) : (
          <ul className="near-cap" data-testid="near-cap">
            {d.nearCap.map((c) => (
              <li key={c.userId}>
                <code>{c.userId}</code> <span className="muted">({c.plan})</span> {dollars(c.spent, d.currency)} of {dollars(c.cap, d.currency)}
              </li>
            ))}
          </ul>
        )}
      </Card>
    </div>
  );
}

/** What MRR counts: after recurring discounts, and with or without tax by the project's prices. */
function mrrHint(tax: SaasDashboard["tax"]): string {
  if (!tax.automaticTax) return "Monthly recurring revenue, after discounts";
  return tax.taxBehavior === "inclusive" ? "After discounts, tax included (prices include it)" : "After discounts, before tax";
}

function SaasFigures({ d }: { d: SaasDashboard }) {
  const m = d.metrics;
  const usage = d.usageByMonth;
  const mix = d.tierMix;
  const usageTotal = usage?.reduce((s, u) => s + u.requests, 0) ?? 0;
  const busiest = usage?.reduce<{ month: string; requests: number } | null>((best, u) => (!best || u.requests > best.requests ? u : best), null);
  const mixTotal = mix?.reduce((s, t) => s + t.customers, 0) ?? 0;
  return (
    <>
      <dl className="stats">
        <Stat id="activeSubscriptions" label="Active subscriptions" value={number(m.activeSubscriptions)} hint="Paying, past due included" />
        <Stat id="mrr" label="MRR" value={money(m.mrrCents, d.currency)} hint={mrrHint(d.tax)} />
        <Stat id="usageThisPeriod" label="Requests this period" value={number(m.usageThisPeriod)} hint="Across all customers" />
        <Stat id="customers" label="Customers" value={number(m.customers)} />
        <Stat id="canceling" label="Canceling" value={number(m.canceling)} hint="At period end" />
        <Stat id="pastDue" label="Past due" value={number(m.pastDue)} hint="Stripe is retrying" />
        {m.trialing > 0 || m.trialsEnded > 0 ? (
          <>
            <Stat id="trialing" label="In a free trial" value={number(m.trialing)} hint="Counted as active; no MRR yet" />
            <Stat
              id="trialConversion"
              label="Trial conversion"
              value={percent(m.trialsConverted, m.trialsEnded)}
              hint={`${number(m.trialsConverted)} of ${number(m.trialsEnded)} ended trials now pay`}
            />
          </>
        ) : null}
        {d.meters.length > 0 ? (
          <Stat
            id="overageRevenue"
            label="Overage this period"
            value={dollars(overageTotal(d), d.currency)}
            hint="Billed at renewal, through your Stripe"
          />
        ) : null}
      </dl>
      <MeterFigures d={d} />
      <div className="chart-grid">
        <Card>
          {usage && usage.length > 0 ? (
            <BarChart
              title="Requests by month"
              testId="chart-usage"
              summary={
                usageTotal > 0 && busiest
                  ? `${plural(usageTotal, "request")} over the last ${usage.length} months; ${monthLabel(busiest.month, true)} was the busiest with ${number(busiest.requests)}.`
                  : `No requests in the last ${usage.length} months yet.`
              }
              valueName="Requests"
              data={usage.map((u) => ({ key: u.month, label: monthLabel(u.month), longLabel: monthLabel(u.month, true), value: u.requests }))}
              format={number}
              formatAxis={compactNumber}
              showValues
              emptyLabel="No requests yet"
            />
          ) : (
            <ChartPlaceholder title="Requests by month">Monthly usage history will appear here once the API reports it.</ChartPlaceholder>
          )}
        </Card>
        <Card>
          {mix ? (
            <ShareBar
              title="Customers by tier"
              testId="chart-tier-mix"
              summary={
                mixTotal > 0
                  ? `${plural(mixTotal, "customer")}: ${mix.map((t) => `${t.tier} ${number(t.customers)}`).join(", ")}.`
                  : "No customers on a tier yet. The mix appears with your first customer."
              }
              valueName="Customers"
              data={mix.map((t) => ({ key: t.tier, label: t.tier, value: t.customers }))}
              format={number}
              emptyLabel="No customers yet"
            />
          ) : (
            <ChartPlaceholder title="Customers by tier">The tier mix will appear here once the API reports it.</ChartPlaceholder>
          )}
        </Card>
      </div>
      <Card title="Customers" id="customers-title">
        {d.customers.length === 0 ? (
          <EmptyState title="No customers yet">Customers appear when your server creates them (POST /api/customers) or they check out.</EmptyState>
        ) : (
          <div className="table-wrap">
            <table className="table table-stack" data-testid="customers-table">
              <thead>
                <tr>
                  <th scope="col">Customer</th>
                  <th scope="col">Plan</th>
                  <th scope="col">Status</th>
                  <th scope="col" className="num">
                    Requests
                  </th>
                  <th scope="col">Period ends</th>
                  <th scope="col">Since</th>
                </tr>
              </thead>
              <tbody>
                {d.customers.map((c) => (
                  <tr key={c.id}>
                    <th scope="row">
                      <span className="cell-main">{c.email ?? c.id}</span>
                      {c.email ? <code className="muted small block">{c.id}</code> : null}
                    </th>
                    <td data-label="Plan">{c.plan}</td>
                    <td data-label="Status">{statusBadge(c)}</td>
                    <td data-label="Requests" className="num">
                      {number(c.usage)}
                    </td>
                    <td data-label="Period ends">{date(c.currentPeriodEnd)}</td>
                    <td data-label="Since">{date(c.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </>
  );
}

function orderItems(order: RecentOrder | OpenOrder): string {
  if (!Array.isArray(order.items) || order.items.length === 0) return "—";
  return order.items.map((i) => `${i.quantity ?? 1} × ${i.product ?? "item"}`).join(", ");
}

function disputeBadge(status: string | null) {
  if (!status) return null;
  if (status === "won") return <Badge tone="success">Dispute won</Badge>;
  if (status === "lost") return <Badge tone="danger">Dispute lost</Badge>;
  return <Badge tone="warning">Disputed: {status.replace(/^warning_/, "").replace(/_/g, " ")}</Badge>;
}

function refundBadge(o: RecentOrder) {
  if (o.refundedCents <= 0) return null;
  const label = o.refundedCents >= o.amountCents ? "Refunded" : `${money(o.refundedCents, o.currency)} refunded`;
  return (
    <Badge tone="info">
      {label}
      {o.restocked ? " · restocked" : ""}
    </Badge>
  );
}

/** Refunds the rest of a paid order on the developer's Stripe account; the units may go back. */
function RefundDialog({ order, publishableKey, onDone, onClose }: { order: RecentOrder; publishableKey: string; onDone: () => void; onClose: () => void }) {
  const api = useApi();
  const short = order.shortUnits > 0;
  const [restock, setRestock] = useState(!short);
  const left = order.amountCents - order.refundedCents;
  const refund = useAction(async () => {
    await api.refundOrder(publishableKey, order.orderId, restock);
    onDone();
    onClose();
  });
  return (
    <Dialog
      title="Refund this order?"
      description={`${orderItems(order)} for ${order.email ?? "a guest"}. Stripe returns ${money(left, order.currency)} to the buyer's card.`}
      onClose={onClose}
      size="small"
      testId="refund-dialog"
      footer={
        <>
          <button type="button" className="btn btn-ghost" onClick={onClose}>
            Keep the sale
          </button>
          <button type="button" className="btn btn-danger" onClick={() => void refund.run()} disabled={refund.busy}>
            {refund.busy ? "Refunding…" : `Refund ${money(left, order.currency)}`}
          </button>
        </>
      }
    >
      <Checkbox
        checked={restock}
        disabled={short}
        onChange={(e) => setRestock(e.target.checked)}
        label="Put the items back in stock"
        hint={short ? `This order was paid for ${plural(order.shortUnits, "unit")} you did not have: correct the stock by hand.` : "Leave this off if the items were shipped and will not come back."}
      />
      {refund.error ? <ErrorNotice error={refund.error} title="The refund did not finish: try again (it never refunds twice)" compact /> : null}
    </Dialog>
  );
}

/** Checkouts a buyer can still pay: each holds its stock until it expires or is canceled here. */
function OpenOrders({ orders, publishableKey, onChanged, canEdit }: { orders: OpenOrder[]; publishableKey: string; onChanged: () => void; canEdit: boolean }) {
  const api = useApi();
  const cancel = useAction(async (orderId: string) => {
    await api.cancelOrder(publishableKey, orderId);
    onChanged();
  });
  if (orders.length === 0) return null;
  return (
    <Card title="Open checkouts" id="open-orders-title">
      <p className="muted small">Each holds its stock while the buyer pays.{canEdit ? " Cancel one to end its checkout page and free its stock now." : ""}</p>
      {cancel.error ? <ErrorNotice error={cancel.error} title="The checkout was not canceled" compact /> : null}
      <div className="table-wrap">
        <table className="table table-stack" data-testid="open-orders-table">
          <thead>
            <tr>
              <th scope="col">Buyer</th>
              <th scope="col">Items</th>
              <th scope="col" className="num">
                Amount
              </th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {orders.map((o) => (
              <tr key={o.orderId}>
                <th scope="row">
                  <span className="cell-main">{o.email ?? "Guest"}</span>
                  <span className="muted small block">Held until {time(new Date(o.expiresAt))}</span>
                </th>
                <td data-label="Items">{orderItems(o)}</td>
                <td data-label="Amount" className="num">
                  {money(o.amountCents, o.currency)}
                </td>
                <td data-label="Actions" className="num">
                  {canEdit ? (
                    <button type="button" className="btn btn-secondary btn-small" disabled={cancel.busy} onClick={() => void cancel.run(o.orderId)}>
                      Cancel checkout
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  );
}

function StoreFigures({ d, onChanged, canEdit }: { d: StoreDashboard; onChanged: () => void; canEdit: boolean }) {
  const [refunding, setRefunding] = useState<RecentOrder | null>(null);
  const m = d.metrics;
  const series = d.revenueByDay;
  const total = series?.reduce((s, x) => s + x.revenueCents, 0) ?? 0;
  const orders = series?.reduce((s, x) => s + x.orders, 0) ?? 0;
  return (
    <>
      <dl className="stats">
        <Stat
          id="revenue"
          label="Revenue"
          value={money(m.revenueCents, d.currency)}
          hint={m.taxCents > 0 ? `After refunds and lost disputes; includes ${money(m.taxCents, d.currency)} tax` : "After refunds and lost disputes"}
        />
        {m.refundedCents > 0 || m.openDisputes > 0 || m.disputesLostCents > 0 ? (
          <Stat
            id="refunded"
            label="Refunded"
            value={money(m.refundedCents, d.currency)}
            hint={m.openDisputes ? `${plural(m.openDisputes, "open dispute")}` : m.disputesLostCents ? `${money(m.disputesLostCents, d.currency)} lost to disputes` : undefined}
          />
        ) : null}
        <Stat id="totalSales" label="Sales" value={number(m.totalSales)} hint="Paid orders" />
        <Stat id="unitsSold" label="Units sold" value={number(m.unitsSold)} />
        <Stat id="inStock" label="In stock" value={number(m.inStock)} hint={`${plural(m.products, "product")}`} />
        <Stat id="lowStock" label="Low stock" value={number(m.lowStock)} hint="1 to 5 units left" />
        <Stat id="soldOut" label="Sold out" value={number(m.soldOut)} hint={m.openCheckouts ? `${plural(m.openCheckouts, "open checkout")}` : undefined} />
      </dl>
      <Card>
        {series && series.length > 0 ? (
          <BarChart
            title="Revenue by day"
            testId="chart-revenue"
            summary={
              total > 0
                ? `${money(total, d.currency)} from ${plural(orders, "order")} in the last ${series.length} days, after refunds.`
                : orders > 0
                  ? `${plural(orders, "order")} in the last ${series.length} days, all refunded or lost to disputes.`
                  : `No sales in the last ${series.length} days yet.`
            }
            valueName="Revenue"
            data={series.map((x) => ({ key: x.day, label: dayLabel(x.day), longLabel: `${dayLabel(x.day)} (${plural(x.orders, "order")})`, value: x.revenueCents }))}
            format={(v) => money(v, d.currency)}
            formatAxis={(v) => (v >= 100_000 ? compactMoney(v, d.currency) : money(v, d.currency).replace(/\.00$/, ""))}
            emptyLabel="No sales yet"
          />
        ) : (
          <ChartPlaceholder title="Revenue by day">Daily revenue will appear here once the API reports it.</ChartPlaceholder>
        )}
      </Card>
      <div className="two-col">
        <Card title="Stock" id="stock-title">
          {d.products.length === 0 ? (
            <EmptyState title="No products" />
          ) : (
            <div className="table-wrap">
              <table className="table table-stack">
                <thead>
                  <tr>
                    <th scope="col">Product</th>
                    <th scope="col" className="num">
                      Price
                    </th>
                    <th scope="col" className="num">
                      In stock
                    </th>
                    <th scope="col" className="num">
                      Available
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {d.products.map((p) => (
                    <tr key={p.name}>
                      <th scope="row">
                        <span className="cell-main">{p.displayName}</span> {p.soldOut ? <Badge tone="danger">Sold out</Badge> : null}
                      </th>
                      <td data-label="Price" className="num">
                        {money(p.priceCents, p.currency)}
                      </td>
                      <td data-label="In stock" className="num">
                        {p.inventory === null ? "∞" : number(p.inventory)}
                      </td>
                      <td data-label="Available" className="num">
                        {p.available === null ? "∞" : number(p.available)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Card>
        <Card title="Recent orders" id="orders-title">
          {d.recentOrders.length === 0 ? (
            <EmptyState title="No orders yet">Paid carts show up here.</EmptyState>
          ) : (
            <div className="table-wrap">
              <table className="table table-stack" data-testid="orders-table">
                <thead>
                  <tr>
                    <th scope="col">Order</th>
                    <th scope="col">Items</th>
                    <th scope="col" className="num">
                      Amount
                    </th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {d.recentOrders.map((o) => (
                    <tr key={o.orderId}>
                      <th scope="row">
                        <span className="cell-main">{o.email ?? "Guest"}</span>
                        <span className="muted small block">{dateTime(o.paidAt)}</span>
                      </th>
                      <td data-label="Items">
                        {/* One element: the phone layout sets a cell's children side by side. */}
                        <span>
                          {orderItems(o)}
                          {o.shortUnits > 0 ? (
                            <span className="block">
                              <Badge tone="danger">{plural(o.shortUnits, "unit")} short</Badge>{" "}
                              <span className="muted small">restock or refund</span>
                            </span>
                          ) : null}
                          {o.refundedCents > 0 || o.disputeStatus ? (
                            <span className="block">
                              {refundBadge(o)} {disputeBadge(o.disputeStatus)}
                            </span>
                          ) : null}
                        </span>
                      </td>
                      <td data-label="Amount" className="num">
                        {money(o.amountCents, o.currency)}
                      </td>
                      <td data-label="Actions" className="num">
                        {o.refundedCents < o.amountCents && canEdit ? (
                          <button type="button" className="btn btn-ghost btn-small" onClick={() => setRefunding(o)}>
                            Refund…
                          </button>
                        ) : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Card>
      </div>
      <OpenOrders orders={d.openOrders ?? []} publishableKey={d.publishableKey} onChanged={onChanged} canEdit={canEdit} />
      {refunding ? <RefundDialog order={refunding} publishableKey={d.publishableKey} onDone={onChanged} onClose={() => setRefunding(null)} /> : null}
    </>
  );
}

export function ProjectMetrics({ publishableKey, mode }: { publishableKey: string; mode: Mode }) {
  const api = useApi();
  const canEdit = mayChange(useCapabilities(), mode);
  const dashboard = useResource<Dashboard>(`dashboard:${publishableKey}`, () => api.dashboard(publishableKey), { refreshMs: REFRESH_MS });
  const reload = dashboard.reload;

  if (dashboard.status === "loading") return <Loading label="Loading figures…" />;
  const d = dashboard.data;
  return (
    <div className="stack">
      <div className="metrics-bar">
        <p className="muted small">
          {d ? `Updated ${time(new Date(d.generatedAt))}` : null}
          {dashboard.refreshing ? " · refreshing…" : null}
        </p>
        <button type="button" className="btn btn-secondary btn-small" onClick={reload}>
          Refresh
        </button>
      </div>
      {dashboard.status === "error" ? <ErrorNotice error={dashboard.error} title="The figures could not be loaded" onRetry={reload} /> : null}
      {d ? d.projectType === "store" ? <StoreFigures d={d} onChanged={reload} canEdit={canEdit} /> : <SaasFigures d={d} /> : null}
    </div>
  );
}
