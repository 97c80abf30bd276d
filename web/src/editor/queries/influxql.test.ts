import { describe, expect, it } from 'vitest';
import { DEFAULT_BUILDER, groupBy, renderInfluxQL, selectedField, withBuilderDefaults, withGroupBy, withSelectedField } from './influxql';

describe('renderInfluxQL', () => {
  it('renders the server test target the same way', () => {
    const target = {
      policy: 'default',
      measurement: 'cpu',
      select: [
        [
          { type: 'field', params: ['usage'] },
          { type: 'mean', params: [] },
          { type: 'math', params: ['* 100'] },
          { type: 'alias', params: ['pct'] },
        ],
        [
          { type: 'field', params: ['count'] },
          { type: 'percentile', params: [95] },
        ],
      ],
      tags: [
        { key: 'host', operator: '=', value: 'a' },
        { key: 'region', value: '/^e.*/', condition: 'OR' },
        { key: 'dc::tag', operator: '=', value: '/^x$/' },
      ],
      groupBy: [
        { type: 'time', params: ['auto'] },
        { type: 'tag', params: ['host'] },
        { type: 'fill', params: ['null'] },
      ],
      orderByTime: 'DESC',
      limit: '10',
      tz: 'Europe/Paris',
    };
    expect(renderInfluxQL(target)).toBe(
      'SELECT mean("usage") * 100 AS "pct", percentile("count", 95) FROM "cpu" ' +
        `WHERE ("host" = 'a' OR "region" =~ /^e.*/ AND "dc"::tag = 'x') AND $timeFilter ` +
        `GROUP BY time($__interval), "host" fill(null) ORDER BY time DESC limit 10 tz('Europe/Paris')`,
    );
  });

  it('renders a policy, a regex measurement and no conditions', () => {
    expect(renderInfluxQL({ policy: 'week', measurement: '/^cpu.*/', select: [[{ type: 'field', params: ['*'] }]] })).toBe(
      'SELECT * FROM "week"./^cpu.*/ WHERE $timeFilter',
    );
  });

  it('renders the default builder target', () => {
    expect(renderInfluxQL({ ...DEFAULT_BUILDER, measurement: 'mem' })).toBe(
      'SELECT mean("value") FROM "mem" WHERE $timeFilter GROUP BY time($__interval) fill(null) ORDER BY time ASC',
    );
  });

  it('quotes values and one condition without parentheses', () => {
    expect(renderInfluxQL({ measurement: 'm', select: [[{ type: 'field', params: ['v'] }]], tags: [{ key: 'h', operator: '!=', value: "it's" }] })).toBe(
      `SELECT "v" FROM "m" WHERE "h" != 'it\\'s' AND $timeFilter`,
    );
  });
});

describe('builder edits', () => {
  it('reads and sets field and aggregation, keeping other parts and selects', () => {
    const target = {
      refId: 'A',
      select: [
        [
          { type: 'field', params: ['usage'] },
          { type: 'mean', params: [] },
          { type: 'alias', params: ['x'] },
        ],
        [{ type: 'field', params: ['other'] }],
      ],
    };
    expect(selectedField(target)).toEqual({ field: 'usage', aggregation: 'mean' });
    const next = withSelectedField(target, 'idle', 'max');
    expect(next.select).toEqual([
      [
        { type: 'field', params: ['idle'] },
        { type: 'max', params: [] },
        { type: 'alias', params: ['x'] },
      ],
      [{ type: 'field', params: ['other'] }],
    ]);
    expect(next.refId).toBe('A');
    expect(selectedField(withSelectedField(target, 'v', '')).aggregation).toBe('');
  });

  it('reads and writes group by in time, tags, fill order', () => {
    expect(groupBy(DEFAULT_BUILDER)).toEqual({ time: '$__interval', tags: [], fill: 'null' });
    expect(withGroupBy({}, { time: '1m', tags: ['host', ''], fill: 'none' }).groupBy).toEqual([
      { type: 'time', params: ['1m'] },
      { type: 'tag', params: ['host'] },
      { type: 'fill', params: ['none'] },
    ]);
    // fill needs a time grouping
    expect(withGroupBy({}, { time: '', tags: ['host'], fill: 'null' }).groupBy).toEqual([{ type: 'tag', params: ['host'] }]);
  });

  it('fills defaults only where missing', () => {
    const t = withBuilderDefaults({ refId: 'B', measurement: 'cpu', policy: 'week' });
    expect(t.policy).toBe('week');
    expect(t.select).toEqual(DEFAULT_BUILDER.select);
    expect(t.refId).toBe('B');
  });
});
