import { describe, expect, it } from 'vitest';
import { formatTarget, parseTarget } from './rawTarget';

describe('parseTarget', () => {
  it('reads an object and keeps every key', () => {
    expect(parseTarget('{"refId":"B","q":{"a":[1]}}', { refId: 'A' })).toEqual({ target: { refId: 'B', q: { a: [1] } } });
  });
  it('carries the refId over when it is left out', () => {
    expect(parseTarget('{"x":1}', { refId: 'A' })).toEqual({ target: { refId: 'A', x: 1 } });
  });
  it('refuses invalid JSON and non-objects', () => {
    expect(parseTarget('{x', {})).toHaveProperty('error', expect.stringMatching(/^Invalid JSON/));
    expect(parseTarget('[1]', {})).toHaveProperty('error', expect.stringMatching(/JSON object/));
    expect(parseTarget('null', {})).toHaveProperty('error', expect.stringMatching(/JSON object/));
  });
  it('round-trips the formatted text', () => {
    const t = { refId: 'A', expr: 'up' };
    expect(parseTarget(formatTarget(t), {})).toEqual({ target: t });
  });
});
