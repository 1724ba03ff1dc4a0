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
