// Display formatting: one place for money, counts and dates (US English, UTC for periods).

const usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
const count = new Intl.NumberFormat("en-US");
const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });

/** Formatters by currency, with how many of Stripe's units make one (100; 1 for JPY, KRW). */
const formats = new Map<string, { format: Intl.NumberFormat; perUnit: number }>();

function formatOf(currency: string) {
  const code = currency.toUpperCase();
  let known = formats.get(code);
  if (!known) {
    const format = code === "USD" ? usd : new Intl.NumberFormat("en-US", { style: "currency", currency: code });
    known = { format, perUnit: 10 ** (format.resolvedOptions().maximumFractionDigits ?? 2) };
    formats.set(code, known);
  }
  return known;
}

/** An amount in Stripe's unit (`*Cents`: cents, or whole yen for JPY). */
export function money(cents: number, currency = "usd"): string {
  const { format, perUnit } = formatOf(currency);
  return format.format(cents / perUnit);
}

/** A large amount of cents, short: "$1.2K", "€34K". */
export function compactMoney(cents: number, currency = "usd"): string {
  const { perUnit } = formatOf(currency);
  return new Intl.NumberFormat("en-US", { style: "currency", currency: currency.toUpperCase(), notation: "compact", maximumFractionDigits: 1 }).format(cents / perUnit);
}

/** A tier price as the API sends it (9.99), in its currency. */
export function dollars(price: number, currency = "usd"): string {
  if (currency.toLowerCase() === "usd") return usd.format(price);
  return new Intl.NumberFormat("en-US", { style: "currency", currency: currency.toUpperCase() }).format(price);
}

export function number(value: number): string {
  return count.format(value);
}

export function compactNumber(value: number): string {
  return compact.format(value);
}

export function date(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleDateString("en-US", { year: "numeric", month: "short", day: "numeric" });
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? iso
    : d.toLocaleString("en-US", { year: "numeric", month: "short", day: "numeric", hour: "numeric", minute: "2-digit" });
}

export function time(d: Date): string {
  return d.toLocaleTimeString("en-US", { hour: "numeric", minute: "2-digit", second: "2-digit" });
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "2026-11" → "Nov 2026" (long) or "Nov" (short). */
export function monthLabel(month: string, long = false): string {
  const [year, m] = month.split("-");
  const name = MONTHS[Number(m) - 1] ?? month;
  return long ? `${name} ${year}` : name;
}

/** "2026-11-29" → "Nov 29". */
export function dayLabel(day: string): string {
  const [, m, d] = day.split("-");
  const name = MONTHS[Number(m) - 1];
  return name && d ? `${name} ${Number(d)}` : day;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${number(n)} ${n === 1 ? one : many}`;
}

/** `part` of `whole` as a whole percentage; an em dash while there is nothing to divide. */
export function percent(part: number, whole: number): string {
  return whole > 0 ? `${Math.round((100 * part) / whole)} %` : "—";
}
