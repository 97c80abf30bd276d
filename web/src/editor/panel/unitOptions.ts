// The units the options pane offers: the ids lib/units.ts formats, grouped and named as in
// Grafana's unit picker. Any other text is kept as a custom unit (shown as a suffix).

export interface UnitOption {
  id: string;
  label: string;
  group: string;
}

export const UNIT_OPTIONS: readonly UnitOption[] = [
  { id: 'none', label: 'Number', group: 'Misc' },
  { id: 'short', label: 'Short', group: 'Misc' },
  { id: 'percent', label: 'Percent (0-100)', group: 'Misc' },
  { id: 'percentunit', label: 'Percent (0.0-1.0)', group: 'Misc' },
  { id: 'bytes', label: 'bytes(IEC)', group: 'Data' },
  { id: 'decbytes', label: 'bytes(SI)', group: 'Data' },
  { id: 'bits', label: 'bits(IEC)', group: 'Data' },
  { id: 'decbits', label: 'bits(SI)', group: 'Data' },
  { id: 'kbytes', label: 'kibibytes', group: 'Data' },
  { id: 'deckbytes', label: 'kilobytes', group: 'Data' },
  { id: 'bps', label: 'bits/sec(SI)', group: 'Data rate' },
  { id: 'Bps', label: 'bytes/sec(SI)', group: 'Data rate' },
  { id: 'binbps', label: 'bits/sec(IEC)', group: 'Data rate' },
  { id: 'binBps', label: 'bytes/sec(IEC)', group: 'Data rate' },
  { id: 'ms', label: 'milliseconds (ms)', group: 'Time' },
  { id: 's', label: 'seconds (s)', group: 'Time' },
  { id: 'dateTimeAsIso', label: 'Datetime ISO', group: 'Date & time' },
  { id: 'reqps', label: 'requests/sec (rps)', group: 'Throughput' },
  { id: 'ops', label: 'ops/sec (ops)', group: 'Throughput' },
  { id: 'rps', label: 'reads/sec (rps)', group: 'Throughput' },
  { id: 'wps', label: 'writes/sec (wps)', group: 'Throughput' },
  { id: 'iops', label: 'I/O ops/sec (iops)', group: 'Throughput' },
  { id: 'hertz', label: 'Hertz (1/s)', group: 'Frequency' },
  { id: 'celsius', label: 'Celsius (°C)', group: 'Temperature' },
];

/** The label shown for a unit id: its name, or the id itself for a custom unit. */
export function unitLabel(id: string | undefined): string {
  if (!id) return '';
  return UNIT_OPTIONS.find((u) => u.id === id)?.label ?? id;
}

/** Units whose id, name or group contains every word of the query (case-insensitive). */
export function searchUnits(query: string): UnitOption[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  return UNIT_OPTIONS.filter((u) => {
    const haystack = `${u.id} ${u.label} ${u.group}`.toLowerCase();
    return words.every((w) => haystack.includes(w));
  });
}
