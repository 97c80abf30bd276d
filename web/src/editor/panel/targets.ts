// The panel editor's query list: refIds, adding, removing, duplicating and hiding targets, and
// what happens to the targets when the panel's datasource changes.

import type { DatasourceRef } from '../../api/query';
import type { PanelModel } from '../../dashboard/model';

export type Target = Record<string, unknown>;

/** Grafana's "-- Mixed --" datasource: each target names its own. */
export const MIXED_UID = '-- Mixed --';
export const MIXED_REF = { type: 'datasource', uid: MIXED_UID };

export interface DatasourceInfo {
  uid: string;
  name: string;
  type: string;
  isDefault?: boolean;
}

/** A, B, ..., Z, AA, AB, ... (spreadsheet column names). */
function refIdAt(n: number): string {
  let id = '';
  for (let i = n + 1; i > 0; i = Math.floor((i - 1) / 26)) id = String.fromCharCode(65 + ((i - 1) % 26)) + id;
  return id;
}

/** The first refId, in A, B, C order, no target uses. */
export function nextRefId(targets: readonly Target[]): string {
  const used = new Set(targets.map((t) => t.refId));
  for (let n = 0; ; n++) if (!used.has(refIdAt(n))) return refIdAt(n);
}

/** Gives a refId to targets missing one and renames repeats, keeping the first of each. */
export function uniqueRefIds(targets: readonly Target[]): Target[] {
  const out: Target[] = [];
  const seen = new Set<unknown>();
  for (const t of targets) {
    const ok = typeof t.refId === 'string' && t.refId !== '' && !seen.has(t.refId);
    // Allocate against everything already kept and every refId still to come, so no later target clashes.
    const next = ok ? t : { ...t, refId: nextRefId([...out, ...targets.filter((o) => o !== t)]) };
    seen.add(next.refId);
    out.push(next);
  }
  return out;
}

export function addTarget(targets: readonly Target[], datasource?: DatasourceRef): Target[] {
  const target: Target = { refId: nextRefId(targets) };
  if (datasource) target.datasource = datasource;
  return [...targets, target];
}

export function removeTarget(targets: readonly Target[], index: number): Target[] {
  return targets.filter((_, i) => i !== index);
}

/** A copy right after the original, with the next free refId. */
export function duplicateTarget(targets: readonly Target[], index: number): Target[] {
  const source = targets[index];
  if (!source) return [...targets];
  const copy = { ...structuredClone(source), refId: nextRefId(targets) };
  return [...targets.slice(0, index + 1), copy, ...targets.slice(index + 1)];
}

export function replaceTarget(targets: readonly Target[], index: number, target: Target): Target[] {
  return targets.map((t, i) => (i === index ? target : t));
}

/** Hidden targets stay in the panel but are not sent (`hide: true`); showing removes the key. */
export function setHidden(targets: readonly Target[], index: number, hide: boolean): Target[] {
  return targets.map((t, i) => {
    if (i !== index) return t;
    const { hide: _old, ...rest } = t; // eslint-disable-line @typescript-eslint/no-unused-vars
    return hide ? { ...rest, hide: true } : rest;
  });
}

export function isMixed(ref: DatasourceRef): boolean {
  return (typeof ref === 'string' ? ref : ref?.uid) === MIXED_UID;
}

/**
 * The datasource a reference means: by uid, by name (old dashboards store the name as a string),
 * the default one when there is no reference. Undefined when it is not in the list (a variable such
 * as `${DS}`, or a deleted datasource).
 */
export function findDatasource(ref: DatasourceRef, list: readonly DatasourceInfo[]): DatasourceInfo | undefined {
  if (ref === null || ref === undefined || ref === '' || (typeof ref === 'object' && !ref.uid)) {
    const byType = typeof ref === 'object' && ref?.type ? list.find((d) => d.type === ref.type && d.isDefault) ?? list.find((d) => d.type === ref.type) : undefined;
    return byType ?? list.find((d) => d.isDefault) ?? list[0];
  }
  const key = typeof ref === 'string' ? ref : ref.uid;
  return list.find((d) => d.uid === key) ?? list.find((d) => d.name === key);
}

export const refOf = (ds: DatasourceInfo) => ({ type: ds.type, uid: ds.uid });

/**
 * The panel with another datasource, as Grafana's picker changes it. Going to Mixed keeps every query
 * and pins each to the datasource it used. Going to one datasource keeps the queries when they
 * were all written for its type (they are pointed at it); otherwise they could not run there, so
 * one empty query replaces them.
 */
export function changePanelDatasource(panel: PanelModel, next: DatasourceInfo | 'mixed', list: readonly DatasourceInfo[]): PanelModel {
  const targets = panel.targets ?? [];
  const panelDs = isMixed(panel.datasource) ? undefined : findDatasource(panel.datasource, list);
  const targetDs = (t: Target) => (t.datasource ? findDatasource(t.datasource as DatasourceRef, list) : panelDs);
  if (next === 'mixed') {
    const pinned = targets.map((t) => {
      if (t.datasource) return t;
      const ds = targetDs(t);
      return ds ? { ...t, datasource: refOf(ds) } : t;
    });
    return { ...panel, datasource: MIXED_REF, targets: pinned };
  }
  const ref = refOf(next);
  const sameType = targets.every((t) => targetDs(t)?.type === next.type);
  const kept = sameType && targets.length > 0 ? targets.map((t) => ({ ...t, datasource: ref })) : [{ refId: 'A', datasource: ref }];
  return { ...panel, datasource: ref, targets: kept };
}
