// Grafana's InfluxQL builder target: reading and editing the parts the simple builder shows, and
// the InfluxQL text it stands for (the same text the server builds, shown as a preview).

import { text, type Target } from './types';

/** One builder part, e.g. `{type: 'mean', params: []}` or `{type: 'field', params: ['value']}`. */
export interface Part {
  type: string;
  params: (string | number)[];
}

/** A WHERE condition; `condition` (AND/OR) joins it to the one before. */
export interface TagFilter {
  key: string;
  operator?: string;
  value: string;
  condition?: string;
}

export const AGGREGATIONS = ['mean', 'sum', 'max', 'min', 'count', 'last'] as const;
export const FILLS = ['null', 'none', '0', 'previous', 'linear'] as const;
export const OPERATORS = ['=', '!=', '=~', '!~', '<', '>'] as const;

/** What Grafana's editor fills in for a new query: mean(value) by $__interval, fill(null). */
export const DEFAULT_BUILDER: Target = {
  policy: 'default',
  resultFormat: 'time_series',
  orderByTime: 'ASC',
  tags: [],
  groupBy: [
    { type: 'time', params: ['$__interval'] },
    { type: 'fill', params: ['null'] },
  ],
  select: [
    [
      { type: 'field', params: ['value'] },
      { type: 'mean', params: [] },
    ],
  ],
};

/** The target with the builder's defaults for the builder keys it lacks (a new, empty query). */
export function withBuilderDefaults(target: Target): Target {
  const next = { ...target };
  for (const [key, value] of Object.entries(DEFAULT_BUILDER)) if (next[key] === undefined) next[key] = value;
  return next;
}

function parts(value: unknown): Part[] {
  if (!Array.isArray(value)) return [];
  return value
    .filter((p): p is Record<string, unknown> => !!p && typeof p === 'object' && typeof (p as Part).type === 'string')
    .map((p) => ({ type: p.type as string, params: Array.isArray(p.params) ? (p.params as (string | number)[]) : [] }));
}

export function selects(target: Target): Part[][] {
  return Array.isArray(target.select) ? target.select.map(parts) : [];
}

export function tagFilters(target: Target): TagFilter[] {
  if (!Array.isArray(target.tags)) return [];
  return target.tags.filter((t): t is TagFilter => !!t && typeof t === 'object');
}

export function groupByParts(target: Target): Part[] {
  return parts(target.groupBy);
}

/** The first select's field and aggregation: the part of the select the simple builder edits. */
export function selectedField(target: Target): { field: string; aggregation: string } {
  const first = selects(target)[0] ?? [];
  const field = first.find((p) => p.type === 'field');
  const aggregation = first.find((p) => (AGGREGATIONS as readonly string[]).includes(p.type));
  return { field: String(field?.params[0] ?? ''), aggregation: aggregation?.type ?? '' };
}

/**
 * Sets the first select's field and aggregation ('' for none), keeping its other parts (math,
 * alias, a second function) and the other selects.
 */
export function withSelectedField(target: Target, field: string, aggregation: string): Target {
  const all = selects(target);
  const first = all[0] ?? [];
  const rest = first.filter((p) => p.type !== 'field' && !(AGGREGATIONS as readonly string[]).includes(p.type));
  const head: Part[] = [{ type: 'field', params: [field] }];
  if (aggregation) head.push({ type: aggregation, params: [] });
  return { ...target, select: [[...head, ...rest], ...all.slice(1)] };
}

/** GROUP BY as the simple builder shows it: a time interval, tag keys and a fill. */
export interface GroupBy {
  /** `''` for no time grouping. */
  time: string;
  tags: string[];
  /** `''` for no fill. */
  fill: string;
}

export function groupBy(target: Target): GroupBy {
  const all = groupByParts(target);
  return {
    time: String(all.find((p) => p.type === 'time')?.params[0] ?? ''),
    tags: all.filter((p) => p.type === 'tag').map((p) => String(p.params[0] ?? '')),
    fill: String(all.find((p) => p.type === 'fill')?.params[0] ?? ''),
  };
}

/** Writes GROUP BY in Grafana's order: time, tags, fill (fill only with a time grouping). */
export function withGroupBy(target: Target, group: GroupBy): Target {
  const next: Part[] = [];
  if (group.time) next.push({ type: 'time', params: [group.time] });
  for (const tag of group.tags) if (tag) next.push({ type: 'tag', params: [tag] });
  if (group.time && group.fill) next.push({ type: 'fill', params: [group.fill] });
  return { ...target, groupBy: next };
}

// ---- InfluxQL text, as the server renders the builder (crates/datasource/src/influxdb.rs). ----

const quoteIdent = (name: string) => `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
const quoteString = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
const isRegex = (value: string) => value.length >= 2 && value.startsWith('/') && value.endsWith('/');

/** A field or tag key, quoted, with a `::tag`/`::field` suffix kept outside the quotes. */
function renderKey(key: string): string {
  if (key === '*') return '*';
  for (const suffix of ['::tag', '::field']) if (key.endsWith(suffix)) return quoteIdent(key.slice(0, -suffix.length)) + suffix;
  return quoteIdent(key);
}

/** `/^v$/` (a single-valued variable in a regex) as the bare value between `wrapper`s. */
function removeRegexWrappers(value: string, wrapper: string): string {
  return value.startsWith('/^') && value.endsWith('$/') ? wrapper + value.slice(2, -2) + wrapper : value;
}

function renderPart(part: Part, inner: string): string {
  const first = String(part.params[0] ?? '');
  switch (part.type) {
    case 'field':
    case 'tag':
      return renderKey(first);
    case 'math':
      return `${inner} ${first}`;
    case 'alias':
      return `${inner} AS ${quoteIdent(first)}`;
    default: {
      const args = inner ? [inner] : [];
      for (const p of part.params) args.push(part.type === 'time' && p === 'auto' ? '$__interval' : String(p));
      return `${part.type}(${args.join(', ')})`;
    }
  }
}

function renderCondition(tag: TagFilter, index: number): string {
  const value = tag.value ?? '';
  let operator = tag.operator || (isRegex(value) ? '=~' : '=');
  let rendered: string;
  if (operator === '=~' || operator === '!~') rendered = value;
  else if (['<', '>', '<=', '>='].includes(operator)) rendered = removeRegexWrappers(value, "'");
  else if (operator === 'Is' || operator === 'Is Not') {
    operator = operator === 'Is' ? '=' : '!=';
    const lower = value.toLowerCase();
    if (tag.key.endsWith('::tag')) rendered = quoteString(value);
    else if (lower === 'true' || lower === 'false') rendered = lower;
    else if (/^-?\d+(\.\d+)?$/.test(value)) rendered = value;
    else rendered = quoteString(value);
  } else rendered = quoteString(removeRegexWrappers(value, ''));
  const prefix = index === 0 ? '' : `${tag.condition || 'AND'} `;
  return `${prefix}${renderKey(tag.key)} ${operator} ${rendered}`;
}

/** The InfluxQL of a builder target: `SELECT … FROM … WHERE … AND $timeFilter GROUP BY …`. */
export function renderInfluxQL(target: Target): string {
  const measurement = text(target, 'measurement').trim();
  const selectText = selects(target)
    .map((select) => select.reduce((inner, part) => renderPart(part, inner), ''))
    .filter(Boolean)
    .join(', ');
  const policy = text(target, 'policy').trim();
  const from = `${policy && policy !== 'default' ? `${quoteIdent(policy)}.` : ''}${
    !measurement ? 'measurement' : isRegex(measurement) ? measurement : quoteIdent(measurement)
  }`;
  let q = `SELECT ${selectText || '*'} FROM ${from} WHERE `;
  const conditions = tagFilters(target)
    .filter((t) => t.key)
    .map(renderCondition);
  if (conditions.length === 1) q += `${conditions[0]} AND `;
  else if (conditions.length > 1) q += `(${conditions.join(' ')}) AND `;
  q += '$timeFilter';
  groupByParts(target).forEach((part, i) => {
    q += i === 0 ? ' GROUP BY ' : part.type === 'fill' ? ' ' : ', ';
    q += renderPart(part, '');
  });
  const order = text(target, 'orderByTime').trim();
  if (order) q += ` ORDER BY time ${order}`;
  const limit = text(target, 'limit').trim();
  if (limit) q += ` limit ${limit}`;
  const slimit = text(target, 'slimit').trim();
  if (slimit) q += ` slimit ${slimit}`;
  const tz = text(target, 'tz').trim();
  if (tz) q += ` tz(${quoteString(tz)})`;
  return q;
}
