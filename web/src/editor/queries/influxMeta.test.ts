import { describe, expect, it } from 'vitest';
import { metaQueries, namesFromResponse } from './influxMeta';

describe('namesFromResponse', () => {
  it('takes the first column, sorted and unique', () => {
    const response = { results: [{ series: [{ values: [['mem'], ['cpu']] }, { values: [['cpu'], ['disk']] }] }] };
    expect(namesFromResponse(response)).toEqual(['cpu', 'disk', 'mem']);
  });
  it('takes tag values from the second column', () => {
    expect(namesFromResponse({ results: [{ series: [{ values: [['host', 'b'], ['host', 'a']] }] }] }, 1)).toEqual(['a', 'b']);
  });
  it('answers nothing for an empty result and throws the database error', () => {
    expect(namesFromResponse({ results: [{}] })).toEqual([]);
    expect(() => namesFromResponse({ results: [{ error: 'database not found: x' }] })).toThrow('database not found: x');
  });
});

describe('metaQueries', () => {
  it('quotes names and leaves out the default policy', () => {
    expect(metaQueries.fieldKeys('cpu "x"', 'default')).toBe('SHOW FIELD KEYS FROM "cpu \\"x\\""');
    expect(metaQueries.tagValues('cpu', 'week', 'host')).toBe('SHOW TAG VALUES FROM "week"."cpu" WITH KEY = "host" LIMIT 500');
  });
});
