/**
 * A line chart (uPlot) of one hourly series. The series is also left on the element as `data-series` (JSON:
 * `[[unix seconds…], [values…]]`), so tests check what is drawn from the data, not from pixels.
 */
import { html, uPlot, useEffect, useRef } from "./deps.ts";

export function LineChart(
  props: { id: string; label: string; unit: string; x: number[]; y: Array<number | null> },
) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const plot = new uPlot(
      {
        width: Math.max(el.clientWidth, 320),
        height: 180,
        series: [{}, {
          label: `${props.label} (${props.unit})`,
          stroke: "#2563eb",
          width: 2,
          spanGaps: true,
        }],
        axes: [{}, { label: props.unit }],
        // Always the last 24 hours, so one busy hour is a point in a day, not a line across years.
        scales: {
          x: {
            time: true,
            range: (): [number, number] => {
              const last = props.x.length > 0
                ? props.x[props.x.length - 1]
                : Math.floor(Date.now() / 3.6e6) * 3600;
              return [last - 23 * 3600, last + 3600];
            },
          },
        },
      },
      [props.x, props.y],
      el,
    );
    return () => plot.destroy();
  }, [props.x, props.y]);
  return html`
    <figure class="chart">
      <figcaption id=${`${props.id}-caption`}>${props.label}</figcaption>
      <div id=${props.id} ref=${box} role="img" aria-labelledby=${`${props.id}-caption`}
        data-series=${JSON.stringify([props.x, props.y])}></div>
    </figure>
  `;
}
