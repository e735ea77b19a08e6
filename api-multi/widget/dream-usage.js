// <dream-usage>: a signed-in customer's plan, this period's usage per meter, and upgrade
// buttons, for a developer's own pages. No dependencies; the styles live in its shadow root.
//
//   <script src="https://<api-multi>/widget.js" defer></script>
//   <dream-usage token="wt_…" upgrade-url="/pricing"></dream-usage>
//
// `token` comes from your server (POST /api/widget/tokens with your secret key) and only reads
// that user's figures. Events: `dream-upgrade` ({detail: {tier}}; cancel it to handle the
// upgrade yourself instead of following `upgrade-url?tier=`) and `dream-error` ({detail:
// {status, code, message}}; on 401 mint a new token and set the attribute again).
(() => {
  const scriptOrigin = document.currentScript ? new URL(document.currentScript.src).origin : "";

  const styles = `
    :host { display: block; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #111827; }
    .card { border: 1px solid #e5e7eb; border-radius: 12px; padding: 16px; background: #fff; max-width: 480px; }
    h2 { font-size: 16px; margin: 0; display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
    .badge { font-size: 12px; font-weight: 600; padding: 2px 8px; border-radius: 999px; background: #eef2ff; color: #3730a3; }
    .note { color: #6b7280; font-size: 13px; margin: 4px 0 0; }
    .meter { margin-top: 14px; }
    .row { display: flex; justify-content: space-between; gap: 8px; font-size: 13px; }
    .bar { height: 8px; border-radius: 999px; background: #f3f4f6; margin-top: 6px; overflow: hidden; }
    .fill { height: 100%; background: #4f46e5; }
    .fill.high { background: #d97706; }
    .fill.full { background: #dc2626; }
    .upgrades { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 16px; }
    button { font: inherit; font-weight: 600; border: 0; border-radius: 8px; padding: 8px 12px; cursor: pointer; background: #4f46e5; color: #fff; }
    button.secondary { background: #fff; color: #3730a3; border: 1px solid #c7d2fe; }
    .error { color: #991b1b; background: #fef2f2; border-radius: 8px; padding: 10px; }
  `;

  const text = (value) => String(value ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const number = (n) => new Intl.NumberFormat().format(n);
  const money = (amount, currency) => {
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency: currency.toUpperCase() }).format(amount);
    } catch {
      return `${amount} ${currency}`;
    }
  };
  const day = (iso) => (iso ? new Date(iso).toLocaleDateString(undefined, { dateStyle: "medium" }) : "");

  function meterRow(report) {
    const unlimited = report.limit === null || report.limit === undefined;
    const share = unlimited ? 0 : Math.min(1, report.count / Math.max(1, report.limit));
    const level = share >= 1 ? "full" : share >= 0.8 ? "high" : "";
    const of = unlimited ? "unlimited" : `of ${number(report.limit)}`;
    return `<div class="meter" part="meter">
      <div class="row"><strong>${text(report.meter)}</strong><span>${number(report.count)} ${of}</span></div>
      ${unlimited ? "" : `<div class="bar" role="progressbar" aria-label="${text(report.meter)}" aria-valuemin="0" aria-valuemax="${text(report.limit)}" aria-valuenow="${text(report.count)}"><div class="fill ${level}" style="width:${(share * 100).toFixed(1)}%"></div></div>`}
    </div>`;
  }

  class DreamUsage extends HTMLElement {
    static get observedAttributes() {
      return ["token", "api"];
    }

    constructor() {
      super();
      this.attachShadow({ mode: "open" });
      this.data = null;
    }

    connectedCallback() {
      this.refresh();
    }

    attributeChangedCallback() {
      if (this.isConnected) this.refresh();
    }

    /** Reads the figures again (after a token change, or when your page knows usage moved). */
    async refresh() {
      const token = this.getAttribute("token");
      if (!token) return this.fail({ status: 0, code: "missing_token", message: "No token: set the token attribute" });
      const api = (this.getAttribute("api") || scriptOrigin).replace(/\/$/, "");
      try {
        const response = await fetch(`${api}/api/widget?token=${encodeURIComponent(token)}`);
        const body = await response.json().catch(() => ({}));
        if (!response.ok) return this.fail({ status: response.status, code: body.code, message: body.error });
        this.data = body;
        this.render();
      } catch (error) {
        this.fail({ status: 0, code: "network", message: String(error) });
      }
    }

    fail(detail) {
      this.shadowRoot.innerHTML = `<style>${styles}</style><div class="card"><div class="error" role="alert">Usage is unavailable right now.</div></div>`;
      this.dispatchEvent(new CustomEvent("dream-error", { detail, bubbles: true, composed: true }));
    }

    render() {
      const d = this.data;
      const plan = d.plan;
      const status =
        d.status === "trialing" && d.trialEndsAt
          ? `Trial until ${day(d.trialEndsAt)}`
          : d.cancelAtPeriodEnd && d.currentPeriodEnd
            ? `Ends ${day(d.currentPeriodEnd)}`
            : d.status === "past_due"
              ? "Payment due"
              : d.currentPeriodEnd
                ? `Renews ${day(d.currentPeriodEnd)}`
                : d.usage[0]?.periodEnd
                  ? `Usage resets ${day(d.usage[0].periodEnd)}`
                  : "";
      const upgrades = d.tiers.filter((t) => t.price > plan.price);
      this.shadowRoot.innerHTML = `<style>${styles}</style>
        <section class="card" part="card" aria-label="Your plan and usage">
          <h2><span>${text(plan.displayName)}</span><span class="badge">${plan.price > 0 ? `${money(plan.price, plan.currency)}/mo` : "Current plan"}</span></h2>
          ${status ? `<p class="note">${text(status)}</p>` : ""}
          ${d.usage.map(meterRow).join("")}
          ${
            upgrades.length
              ? `<div class="upgrades">${upgrades
                  .map(
                    (t, i) =>
                      `<button type="button" class="${i === 0 || t.popular ? "" : "secondary"}" data-tier="${text(t.name)}">Upgrade to ${text(t.displayName)} · ${money(t.price, t.currency)}/mo</button>`,
                  )
                  .join("")}</div>`
              : ""
          }
        </section>`;
      for (const button of this.shadowRoot.querySelectorAll("button[data-tier]")) {
        button.addEventListener("click", () => this.upgrade(button.dataset.tier));
      }
    }

    upgrade(tier) {
      const event = new CustomEvent("dream-upgrade", { detail: { tier }, bubbles: true, composed: true, cancelable: true });
      const proceed = this.dispatchEvent(event);
      const target = this.getAttribute("upgrade-url");
      if (!proceed || !target) return;
      const url = new URL(target, window.location.href);
      // Only a page to go to: never a `javascript:` URL from an attribute a page may have filled.
      if (url.protocol !== "https:" && url.protocol !== "http:") return;
      url.searchParams.set("tier", tier);
      window.location.assign(url.toString());
    }
  }

  if (!customElements.get("dream-usage")) customElements.define("dream-usage", DreamUsage);
})();
