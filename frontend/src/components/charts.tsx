// Hand-written SVG charts. Each is a <figure> with a caption, an SVG with role="img" and a
// one-sentence summary as its name, and the same data as a table behind "Show data", so the
// figures are there for screen readers, keyboards and tests alike. The SVG is drawn at the
// container's real width (no scaling), so labels stay legible on a phone.

import { type ReactNode, useId, useLayoutEffect, useRef, useState } from "react";

function useWidth<T extends HTMLElement>(fallback = 600) {
  const ref = useRef<T>(null);
  const [width, setWidth] = useState(fallback);
  useLayoutEffect(() => {
    const node = ref.current;
    if (!node) return;
    setWidth(node.clientWidth || fallback);
    const observer = new ResizeObserver((entries) => {
      const w = entries[0]?.contentRect.width;
      if (w) setWidth(Math.floor(w));
    });
    observer.observe(node);
    return () => observer.disconnect();
  }, [fallback]);
  return { ref, width };
}

/** A round axis maximum and its step (1, 2 or 5 × 10^k), about four gridlines. */
export function niceScale(max: number, ticks = 4): { max: number; step: number } {
  if (!(max > 0)) return { max: ticks, step: 1 };
  const rough = max / ticks;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  const niceStep = step < 1 ? 1 : step;
  return { max: Math.ceil(max / niceStep) * niceStep, step: niceStep };
}

export interface BarDatum {
  key: string;
  /** Under the bar (short). */
  label: string;
  /** In tooltips and the data table. */
  longLabel: string;
  value: number;
}

interface ChartFrameProps {
  title: string;
  summary: string;
  table: { headers: [string, ...string[]]; rows: string[][] };
  children: ReactNode;
  testId?: string;
}

function ChartFrame({ title, summary, table, children, testId }: ChartFrameProps) {
  const captionId = useId();
  return (
    <figure className="chart" aria-labelledby={captionId} data-testid={testId}>
      <figcaption id={captionId}>
        <span className="chart-title">{title}</span>
        <span className="chart-summary">{summary}</span>
      </figcaption>
      {children}
      <details className="chart-data">
        <summary>Show data</summary>
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                {table.headers.map((h) => (
                  <th key={h} scope="col">
                    {h}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {table.rows.map((row) => (
                <tr key={row.join("|")}>
                  {row.map((cell, i) =>
                    i === 0 ? (
                      <th key={i} scope="row">
                        {cell}
                      </th>
                    ) : (
                      <td key={i}>{cell}</td>
                    ),
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}

export interface BarChartProps {
  title: string;
  summary: string;
  data: BarDatum[];
  valueName: string;
  format: (value: number) => string;
  formatAxis?: (value: number) => string;
  height?: number;
  testId?: string;
  /** Print each bar's value above it (when there is room). */
  showValues?: boolean;
  /** Shown across the plot when every value is 0. */
  emptyLabel?: string;
}

export function BarChart({ title, summary, data, valueName, format, formatAxis = format, height = 220, testId, showValues = false, emptyLabel = "Nothing yet" }: BarChartProps) {
  const { ref, width } = useWidth<HTMLDivElement>();
  const margin = { top: 18, right: 8, bottom: 26, left: 52 };
  const plotW = Math.max(width - margin.left - margin.right, 40);
  const plotH = height - margin.top - margin.bottom;
  const peak = Math.max(0, ...data.map((d) => d.value));
  const scale = niceScale(peak);
  const band = plotW / Math.max(data.length, 1);
  const barW = Math.min(Math.max(band * 0.68, 2), 56);
  // Room for the longest label plus a gap, roughly 6.5 px a character at 11 px.
  const labelWidth = Math.max(...data.map((d) => d.label.length), 1) * 6.5 + 10;
  const labelEvery = Math.max(1, Math.ceil(labelWidth / band));
  const y = (v: number) => margin.top + plotH - (v / scale.max) * plotH;
  const ticks: number[] = [];
  if (peak > 0) for (let v = 0; v <= scale.max + 1e-9; v += scale.step) ticks.push(v);
  else ticks.push(0);
  const valuesFit = showValues && band >= 34;

  return (
    <ChartFrame
      title={title}
      summary={summary}
      testId={testId}
      table={{ headers: ["Period", valueName], rows: data.map((d) => [d.longLabel, format(d.value)]) }}
    >
      <div ref={ref} className="chart-canvas">
        <svg width={width} height={height} role="img" aria-label={`${title}. ${summary}`} className="bar-chart">
          {ticks.map((t) => (
            <g key={t}>
              <line x1={margin.left} x2={margin.left + plotW} y1={y(t)} y2={y(t)} className={t === 0 ? "axis-line" : "grid-line"} />
              <text x={margin.left - 8} y={y(t)} dy="0.32em" textAnchor="end" className="axis-label">
                {formatAxis(t)}
              </text>
            </g>
          ))}
          {peak === 0 ? (
            <text x={margin.left + plotW / 2} y={margin.top + plotH / 2} textAnchor="middle" className="empty-label">
              {emptyLabel}
            </text>
          ) : null}
          {data.map((d, i) => {
            const x = margin.left + i * band + (band - barW) / 2;
            const top = y(d.value);
            const h = Math.max(margin.top + plotH - top, d.value > 0 ? 1.5 : 0);
            return (
              <g key={d.key}>
                <rect x={x} y={margin.top + plotH - h} width={barW} height={h} rx={Math.min(3, barW / 4)} className="bar">
                  <title>{`${d.longLabel}: ${format(d.value)}`}</title>
                </rect>
                {valuesFit && d.value > 0 ? (
                  <text x={x + barW / 2} y={top - 5} textAnchor="middle" className="value-label">
                    {formatAxis(d.value)}
                  </text>
                ) : null}
                {i % labelEvery === 0 || (i === data.length - 1 && labelEvery === 1) ? (
                  <text x={x + barW / 2} y={height - 8} textAnchor="middle" className="axis-label">
                    {d.label}
                  </text>
                ) : null}
              </g>
            );
          })}
        </svg>
      </div>
    </ChartFrame>
  );
}

const PALETTE = ["#4f46e5", "#0d9488", "#d97706", "#db2777", "#0284c7", "#7c3aed", "#65a30d", "#64748b"];

export interface ShareDatum {
  key: string;
  label: string;
  value: number;
}

/** Parts of a whole as one stacked bar with a legend (tier mix). */
export function ShareBar({
  title,
  summary,
  data,
  valueName,
  format,
  testId,
  emptyLabel = "Nothing yet",
}: {
  title: string;
  summary: string;
  data: ShareDatum[];
  valueName: string;
  format: (v: number) => string;
  testId?: string;
  /** Shown across the empty track when there is nothing to share out. */
  emptyLabel?: string;
}) {
  const { ref, width } = useWidth<HTMLDivElement>();
  const total = data.reduce((sum, d) => sum + d.value, 0);
  const height = 28;
  let offset = 0;
  const pct = (v: number) => (total > 0 ? `${Math.round((v / total) * 100)}%` : "0%");
  return (
    <ChartFrame
      title={title}
      summary={summary}
      testId={testId}
      table={{ headers: ["Tier", valueName, "Share"], rows: data.map((d) => [d.label, format(d.value), pct(d.value)]) }}
    >
      <div ref={ref} className="chart-canvas">
        <svg width={width} height={height} role="img" aria-label={`${title}. ${summary}`} className="share-bar">
          <rect x={0} y={0} width={width} height={height} rx={6} className="share-track" />
          {total > 0
            ? data.map((d, i) => {
                const w = (d.value / total) * width;
                const x = offset;
                offset += w;
                return w > 0 ? (
                  <rect key={d.key} x={x} y={0} width={w} height={height} fill={PALETTE[i % PALETTE.length]} className="share-segment">
                    <title>{`${d.label}: ${format(d.value)} (${pct(d.value)})`}</title>
                  </rect>
                ) : null;
              })
            : null}
          {total === 0 ? (
            <text x={width / 2} y={height / 2} dy="0.32em" textAnchor="middle" className="empty-label">
              {emptyLabel}
            </text>
          ) : null}
        </svg>
      </div>
      <ul className="legend">
        {data.map((d, i) => (
          <li key={d.key}>
            <span className="swatch" style={{ background: PALETTE[i % PALETTE.length] }} aria-hidden="true" />
            <span className="legend-label">{d.label}</span>
            <span className="legend-value">
              {format(d.value)} · {pct(d.value)}
            </span>
          </li>
        ))}
      </ul>
    </ChartFrame>
  );
}
