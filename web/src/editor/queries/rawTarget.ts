// The raw JSON editor's parsing: the text must be a JSON object to become the target.

import type { Target } from './types';

export function formatTarget(target: Target): string {
  return JSON.stringify(target, null, 2);
}

/**
 * The edited text as a target, or why not. A `refId` left out is carried over from `previous`,
 * since the panel tells its queries apart by it.
 */
export function parseTarget(input: string, previous: Target): { target: Target } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(input);
  } catch (e) {
    return { error: `Invalid JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { error: 'The query must be a JSON object, like {"refId": "A"}' };
  const target = value as Target;
  if (target.refId === undefined && previous.refId !== undefined) return { target: { refId: previous.refId, ...target } };
  return { target };
}
