// Alert annotations on time series panels: which ones a panel draws, and in which colour.
import type { AlertAnnotation } from '../api/alerting';

/** Grafana's annotation colours by the state an alert went to. */
export function annotationColor(newState: string): string {
  const state = newState.split(/[\s(]/)[0].toLowerCase();
  if (state === 'alerting') return '#f2495c';
  if (state === 'normal' || state === 'ok') return '#73bf69';
  if (state === 'pending') return '#fade2a';
  if (state === 'error') return '#ff9830';
  return '#8e8e8e';
}

/** The annotations by the panel they belong to; those without a panel are left out. */
export function annotationsByPanel(list: readonly AlertAnnotation[]): Map<number, AlertAnnotation[]> {
  const out = new Map<number, AlertAnnotation[]>();
  for (const a of list) {
    if (typeof a.panelId !== 'number' || typeof a.time !== 'number') continue;
    const mine = out.get(a.panelId) ?? [];
    mine.push(a);
    out.set(a.panelId, mine);
  }
  for (const mine of out.values()) mine.sort((a, b) => a.time - b.time);
  return out;
}

/** Those that overlap the range (a region from `time` to `timeEnd`, or a point). */
export function annotationsInRange(list: readonly AlertAnnotation[], from: number, to: number): AlertAnnotation[] {
  return list.filter((a) => a.time <= to && Math.max(a.time, a.timeEnd ?? a.time) >= from);
}

/** `Normal → Alerting`, as the tooltip says it. */
export function transitionText(a: Pick<AlertAnnotation, 'prevState' | 'newState'>): string {
  return a.prevState ? `${a.prevState} → ${a.newState}` : a.newState;
}

/** Annotations close enough on the x axis to share one marker (one per instance of a rule, say). */
export interface MarkerGroup {
  x: number;
  items: AlertAnnotation[];
  /** The colour-deciding state: Alerting if any went there, else the newest one's. */
  state: string;
}

/**
 * Groups annotations (sorted by time) whose markers would overlap: each within `gapPx` of the
 * group's first marker joins it. `xOf` gives a time's position in pixels (undefined: not drawn).
 */
export function markerGroups(list: readonly AlertAnnotation[], xOf: (time: number) => number | undefined, gapPx = 8): MarkerGroup[] {
  const groups: MarkerGroup[] = [];
  for (const a of [...list].sort((p, q) => p.time - q.time)) {
    const x = xOf(a.time);
    if (x === undefined) continue;
    const last = groups[groups.length - 1];
    if (last && x - last.x < gapPx) last.items.push(a);
    else groups.push({ x, items: [a], state: a.newState });
  }
  for (const g of groups) {
    const alerting = g.items.find((a) => a.newState.startsWith('Alerting'));
    g.state = (alerting ?? g.items[g.items.length - 1]).newState;
  }
  return groups;
}
