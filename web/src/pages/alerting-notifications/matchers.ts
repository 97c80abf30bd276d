// Label matchers in their three spellings: the text people type (`team=~"ops|dev"`), a policy's
// `object_matchers` entry (`["team", "=~", "ops|dev"]`) and a silence's Alertmanager matcher
// (`{name, value, isRegex, isEqual}`).
import type { ObjectMatcher, SilenceMatcher } from '../../api/alertingNotifications';

export type MatchOperator = '=' | '!=' | '=~' | '!~';
export const MATCH_OPERATORS: readonly MatchOperator[] = ['=', '!=', '=~', '!~'];

export interface Matcher {
  name: string;
  operator: MatchOperator;
  value: string;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export const isMatchOperator = (op: string): op is MatchOperator => (MATCH_OPERATORS as readonly string[]).includes(op);

/**
 * `name<op>value`, the value optionally in double quotes (with `\"` and `\\` escapes), spaces
 * around the operator allowed. Throws with a message naming what is wrong.
 */
export function parseMatcher(text: string): Matcher {
  const trimmed = text.trim();
  const at = trimmed.search(/[=!]/);
  if (at <= 0) throw new Error(`"${text}" is not a matcher: write label=value, label!=value, label=~regex or label!~regex`);
  const name = trimmed.slice(0, at).trim();
  const rest = trimmed.slice(at);
  const operator = (['!=', '=~', '!~', '='] as const).find((op) => rest.startsWith(op));
  if (!operator) throw new Error(`"${text}" has no operator (=, !=, =~, !~)`);
  if (!LABEL_NAME.test(name)) throw new Error(`"${name}" is not a label name`);
  let value = rest.slice(operator.length).trim();
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    value = value.slice(1, -1).replace(/\\(["\\])/g, '$1');
  }
  return { name, operator, value };
}

/** The text form, quoting the value when it is empty or has spaces, quotes or commas. */
export function formatMatcher(m: Matcher): string {
  const plain = /^[^\s",{}]+$/.test(m.value);
  const value = plain ? m.value : `"${m.value.replace(/(["\\])/g, '\\$1')}"`;
  return `${m.name}${m.operator}${value}`;
}

export const toObjectMatcher = (m: Matcher): ObjectMatcher => [m.name, m.operator, m.value];

export function fromObjectMatcher([name, operator, value]: ObjectMatcher): Matcher {
  return { name, operator: isMatchOperator(operator) ? operator : '=', value };
}

export const toSilenceMatcher = (m: Matcher): SilenceMatcher => ({
  name: m.name,
  value: m.value,
  isRegex: m.operator.endsWith('~'),
  isEqual: !m.operator.startsWith('!'),
});

export function fromSilenceMatcher(m: SilenceMatcher): Matcher {
  const operator: MatchOperator = m.isRegex ? (m.isEqual ? '=~' : '!~') : m.isEqual ? '=' : '!=';
  return { name: m.name, operator, value: m.value };
}

/** Whether a row of a matcher editor says anything (a blank row is left out, not an error). */
export const isBlankMatcher = (m: Matcher) => m.name.trim() === '' && m.value === '';

/** The problem with one row of a matcher editor, or undefined when it is fine. */
export function matcherProblem(m: Matcher): string | undefined {
  if (!LABEL_NAME.test(m.name.trim())) return m.name.trim() ? `"${m.name}" is not a label name` : 'a matcher needs a label name';
  if (m.operator.endsWith('~')) {
    try {
      new RegExp(`^(?:${m.value})$`);
    } catch {
      return `"${m.value}" is not a regular expression`;
    }
  }
  return undefined;
}
