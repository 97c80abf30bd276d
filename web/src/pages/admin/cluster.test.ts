import { describe, expect, it } from 'vitest';
import { fromCluster, fromHealth, leaseState, relativeTime } from './cluster';

const now = Date.parse('2026-01-01T12:00:00Z');

describe('relativeTime', () => {
  it('says how long ago or until', () => {
    expect(relativeTime('2026-01-01T11:59:55Z', now)).toBe('5 s ago');
    expect(relativeTime('2026-01-01T11:57:00Z', now)).toBe('3 min ago');
    expect(relativeTime('2026-01-01T09:00:00Z', now)).toBe('3 h ago');
    expect(relativeTime('2025-12-30T12:00:00Z', now)).toBe('2 d ago');
    expect(relativeTime('2026-01-01T12:00:20Z', now)).toBe('in 20 s');
    expect(relativeTime('garbage', now)).toBe('unknown');
    expect(relativeTime(undefined, now)).toBe('unknown');
  });
});

describe('fromCluster', () => {
  it('lists unhealthy members first and the leases by name', () => {
    const view = fromCluster(
      {
        members: [
          { id: 'b', address: '10.0.0.2:3000', version: '0.1.0', startedAt: '2026-01-01T10:00:00Z', lastHeartbeat: '2026-01-01T11:59:58Z', healthy: true },
          { id: 'a', address: '10.0.0.1:3000', version: '0.1.0', startedAt: '2026-01-01T10:00:00Z', lastHeartbeat: '2026-01-01T11:58:00Z', healthy: false },
        ],
        leases: [
          { name: 'scheduler', holder: 'b', fencingToken: 4, expiresAt: '2026-01-01T12:00:10Z' },
          { name: 'alerting', holder: 'b', fencingToken: 9, expiresAt: '2026-01-01T12:00:10Z' },
        ],
      },
      now,
    );
    expect(view.source).toBe('cluster');
    expect(view.members.map((m) => [m.id, m.healthy, m.detail])).toEqual([
      ['a', false, 'last heartbeat 2 min ago'],
      ['b', true, 'last heartbeat 2 s ago'],
    ]);
    expect(view.leases.map((l) => l.name)).toEqual(['alerting', 'scheduler']);
  });
});

describe('fromHealth', () => {
  it('shows this replica alone', () => {
    const view = fromHealth({ commit: 'abc123', database: 'ok', version: '11.6.0', pharosVersion: '0.1.0' }, 'localhost:3000');
    expect(view).toEqual({
      source: 'health',
      members: [{ id: 'this replica', address: 'localhost:3000', version: '0.1.0 (Grafana API 11.6.0)', healthy: true, detail: 'database ok', commit: 'abc123' }],
      leases: [],
    });
    expect(fromHealth({ database: 'failing' }, 'h').members[0]).toMatchObject({ healthy: false, detail: 'database failing', version: 'unknown' });
  });
});

describe('leaseState', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  it('shows a held lease with its expiry', () => {
    expect(leaseState({ name: 'maintenance', holder: 'b', held: true, fencingToken: 3, expiresAt: '2026-01-01T12:00:10Z' }, now)).toEqual({
      holder: 'b',
      expires: 'in 10 s',
    });
  });
  it('says released instead of an empty holder', () => {
    expect(leaseState({ name: 'provisioning', holder: '', held: false, fencingToken: 7, expiresAt: null }, now)).toEqual({
      holder: '— (released)',
      expires: '—',
    });
  });
  it('marks a lease that ran out', () => {
    expect(leaseState({ name: 'maintenance', holder: 'a', held: false, fencingToken: 2, expiresAt: '2026-01-01T11:59:50Z' }, now)).toEqual({
      holder: 'a (expired)',
      expires: '10 s ago',
    });
  });
});
