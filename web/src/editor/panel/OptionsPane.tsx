// The panel editor's right pane: visualization, panel options, standard options, thresholds,
// legend and the options of the chosen type. Every edit goes straight into the working copy.

import type { PanelModel } from '../../dashboard/model';
import type { Thresholds } from '../../lib/thresholds';
import { ChoiceButtons, NumberInput, OptionField, OptionSection, SelectInput, useFieldId, type Choice } from './fields';
import { getOption, setOption, textOption } from './options';
import { ThresholdsEditor } from './ThresholdsEditor';
import { UnitPicker } from './UnitPicker';
import { changeVizType, VIZ_TYPES } from './vizTypes';

interface Props {
  panel: PanelModel;
  onChange: (change: (p: PanelModel) => PanelModel) => void;
}

const REDUCERS: Choice<string>[] = [
  { value: 'lastNotNull', label: 'Last *' },
  { value: 'last', label: 'Last' },
  { value: 'firstNotNull', label: 'First *' },
  { value: 'first', label: 'First' },
  { value: 'mean', label: 'Mean' },
  { value: 'max', label: 'Max' },
  { value: 'min', label: 'Min' },
  { value: 'sum', label: 'Total' },
  { value: 'count', label: 'Count' },
  { value: 'range', label: 'Range' },
  { value: 'delta', label: 'Delta' },
  { value: 'diff', label: 'Difference' },
];

const LEGEND_CALCS: Choice<string>[] = [
  { value: 'min', label: 'Min' },
  { value: 'max', label: 'Max' },
  { value: 'mean', label: 'Mean' },
  { value: 'lastNotNull', label: 'Last *' },
];

const str = (v: unknown, fallback: string) => (typeof v === 'string' ? v : fallback);
const num = (v: unknown) => (typeof v === 'number' ? v : undefined);

export function OptionsPane({ panel, onChange }: Props) {
  const ids = useFieldId();
  const set = (path: string, value: unknown) => onChange((p) => setOption(p, path, value));
  const get = (path: string) => getOption(panel, path);
  const type = panel.type;
  const isTimeSeries = type === 'timeseries' || type === 'graph';
  const isText = type === 'text';
  const reduces = ['stat', 'singlestat', 'gauge', 'bargauge'].includes(type);

  return (
    <div className="pe-options" data-testid="panel-editor-options">
      <OptionSection title="Visualization">
        <div className="pe-viz" data-testid="viz-picker" role="radiogroup" aria-label="Visualization">
          {VIZ_TYPES.map((v) => (
            <button key={v.type} type="button" role="radio" className="pe-viz-option" data-testid="viz-option" data-type={v.type} aria-checked={v.type === type} title={v.description} onClick={() => onChange((p) => changeVizType(p, v.type))}>
              {v.name}
            </button>
          ))}
        </div>
        {!VIZ_TYPES.some((v) => v.type === type) && <p className="muted">This panel is a {type} panel (shown as its modern equivalent); pick a type to convert it.</p>}
      </OptionSection>

      <OptionSection title="Panel options">
        <OptionField label="Title" htmlFor={`${ids}-title`}>
          <input id={`${ids}-title`} type="text" data-testid="option-title" value={panel.title ?? ''} onChange={(e) => onChange((p) => ({ ...p, title: e.target.value }))} />
        </OptionField>
        <OptionField label="Description" htmlFor={`${ids}-description`}>
          <textarea id={`${ids}-description`} rows={3} data-testid="option-description" value={panel.description ?? ''} onChange={(e) => set('description', textOption(e.target.value))} />
        </OptionField>
        <label className="pe-check">
          <input type="checkbox" data-testid="option-transparent" checked={panel.transparent === true} onChange={(e) => set('transparent', e.target.checked || undefined)} /> Transparent background
        </label>
      </OptionSection>

      {isText && (
        <OptionSection title="Text">
          <OptionField label="Mode">
            <ChoiceButtons
              label="Text mode"
              testId="option-text-mode"
              value={str(get('options.mode'), str(panel.mode, 'markdown'))}
              choices={[
                { value: 'markdown', label: 'Markdown' },
                { value: 'html', label: 'HTML' },
              ]}
              onChange={(v) => set('options.mode', v)}
            />
          </OptionField>
          <OptionField label="Content" htmlFor={`${ids}-content`}>
            <textarea id={`${ids}-content`} className="pe-code" rows={12} data-testid="option-text-content" value={str(get('options.content'), str(panel.content, ''))} onChange={(e) => set('options.content', e.target.value)} />
          </OptionField>
        </OptionSection>
      )}

      {isTimeSeries && (
        <OptionSection title="Tooltip" open={false}>
          <ChoiceButtons
            label="Tooltip mode"
            testId="option-tooltip-mode"
            value={str(get('options.tooltip.mode'), 'single')}
            choices={[
              { value: 'single', label: 'Single' },
              { value: 'multi', label: 'All' },
              { value: 'none', label: 'Hidden' },
            ]}
            onChange={(v) => set('options.tooltip.mode', v)}
          />
        </OptionSection>
      )}

      {isTimeSeries && (
        <OptionSection title="Legend">
          <label className="pe-check">
            <input type="checkbox" data-testid="legend-show" checked={get('options.legend.showLegend') !== false && get('options.legend.displayMode') !== 'hidden'} onChange={(e) => onChange((p) => setOption(setOption(p, 'options.legend.showLegend', e.target.checked), 'options.legend.displayMode', e.target.checked ? (get('options.legend.displayMode') === 'hidden' ? 'list' : get('options.legend.displayMode') ?? 'list') : 'hidden'))} />{' '}
            Visibility
          </label>
          <OptionField label="Mode">
            <ChoiceButtons
              label="Legend mode"
              testId="legend-mode"
              value={str(get('options.legend.displayMode'), 'list') === 'table' ? 'table' : 'list'}
              choices={[
                { value: 'list', label: 'List' },
                { value: 'table', label: 'Table' },
              ]}
              onChange={(v) => onChange((p) => setOption(setOption(p, 'options.legend.displayMode', v), 'options.legend.showLegend', true))}
            />
          </OptionField>
          <OptionField label="Placement">
            <ChoiceButtons
              label="Legend placement"
              testId="legend-placement"
              value={str(get('options.legend.placement'), 'bottom')}
              choices={[
                { value: 'bottom', label: 'Bottom' },
                { value: 'right', label: 'Right' },
              ]}
              onChange={(v) => set('options.legend.placement', v)}
            />
          </OptionField>
          <OptionField label="Values">
            <div className="pe-checks" data-testid="legend-calcs">
              {LEGEND_CALCS.map((c) => {
                const calcs = (get('options.legend.calcs') as string[] | undefined) ?? [];
                return (
                  <label key={c.value} className="pe-check">
                    <input type="checkbox" data-calc={c.value} checked={calcs.includes(c.value)} onChange={(e) => set('options.legend.calcs', e.target.checked ? [...calcs, c.value] : calcs.filter((x) => x !== c.value))} /> {c.label}
                  </label>
                );
              })}
            </div>
          </OptionField>
        </OptionSection>
      )}

      {isTimeSeries && (
        <OptionSection title="Graph styles">
          <OptionField label="Style">
            <ChoiceButtons
              label="Draw style"
              testId="option-draw-style"
              value={str(get('fieldConfig.defaults.custom.drawStyle'), 'line')}
              choices={[
                { value: 'line', label: 'Lines' },
                { value: 'bars', label: 'Bars' },
                { value: 'points', label: 'Points' },
              ]}
              onChange={(v) => set('fieldConfig.defaults.custom.drawStyle', v)}
            />
          </OptionField>
          <OptionField label="Line width" htmlFor={`${ids}-lw`}>
            <input id={`${ids}-lw`} type="range" min={0} max={10} step={1} data-testid="option-line-width" value={num(get('fieldConfig.defaults.custom.lineWidth')) ?? 1} onChange={(e) => set('fieldConfig.defaults.custom.lineWidth', Number(e.target.value))} />
            <span className="pe-range-value">{num(get('fieldConfig.defaults.custom.lineWidth')) ?? 1}</span>
          </OptionField>
          <OptionField label="Fill opacity" htmlFor={`${ids}-fill`}>
            <input id={`${ids}-fill`} type="range" min={0} max={100} step={1} data-testid="option-fill-opacity" value={num(get('fieldConfig.defaults.custom.fillOpacity')) ?? 0} onChange={(e) => set('fieldConfig.defaults.custom.fillOpacity', Number(e.target.value))} />
            <span className="pe-range-value">{num(get('fieldConfig.defaults.custom.fillOpacity')) ?? 0}</span>
          </OptionField>
          <OptionField label="Stack series">
            <ChoiceButtons
              label="Stack series"
              testId="option-stacking"
              value={str(get('fieldConfig.defaults.custom.stacking.mode'), 'none')}
              choices={[
                { value: 'none', label: 'Off' },
                { value: 'normal', label: 'Normal' },
                { value: 'percent', label: '100%' },
              ]}
              onChange={(v) => onChange((p) => setOption(setOption(p, 'fieldConfig.defaults.custom.stacking.mode', v), 'fieldConfig.defaults.custom.stacking.group', str(getOption(p, 'fieldConfig.defaults.custom.stacking.group'), 'A')))}
            />
          </OptionField>
        </OptionSection>
      )}

      {reduces && (
        <OptionSection title="Value options">
          <OptionField label="Calculation" htmlFor={`${ids}-calc`}>
            <SelectInput id={`${ids}-calc`} testId="option-reduce" value={((get('options.reduceOptions.calcs') as string[] | undefined) ?? [])[0] ?? 'lastNotNull'} choices={REDUCERS} onChange={(v) => set('options.reduceOptions.calcs', [v])} />
          </OptionField>
        </OptionSection>
      )}

      {(type === 'stat' || type === 'singlestat') && (
        <OptionSection title="Stat styles">
          <OptionField label="Color mode">
            <ChoiceButtons
              label="Color mode"
              testId="option-color-mode"
              value={str(get('options.colorMode'), 'value')}
              choices={[
                { value: 'value', label: 'Value' },
                { value: 'background', label: 'Background' },
                { value: 'none', label: 'None' },
              ]}
              onChange={(v) => set('options.colorMode', v)}
            />
          </OptionField>
          <OptionField label="Graph mode">
            <ChoiceButtons
              label="Graph mode"
              testId="option-graph-mode"
              value={str(get('options.graphMode'), 'area')}
              choices={[
                { value: 'none', label: 'None' },
                { value: 'area', label: 'Area' },
              ]}
              onChange={(v) => set('options.graphMode', v)}
            />
          </OptionField>
        </OptionSection>
      )}

      {!isText && (
        <OptionSection title="Standard options">
          <OptionField label="Unit" htmlFor={`${ids}-unit`}>
            <UnitPicker id={`${ids}-unit`} value={get('fieldConfig.defaults.unit') as string | undefined} onChange={(u) => set('fieldConfig.defaults.unit', u)} />
          </OptionField>
          <div className="pe-pair">
            <OptionField label="Min" htmlFor={`${ids}-min`}>
              <NumberInput id={`${ids}-min`} testId="option-min" value={num(get('fieldConfig.defaults.min'))} onChange={(v) => set('fieldConfig.defaults.min', v)} />
            </OptionField>
            <OptionField label="Max" htmlFor={`${ids}-max`}>
              <NumberInput id={`${ids}-max`} testId="option-max" value={num(get('fieldConfig.defaults.max'))} onChange={(v) => set('fieldConfig.defaults.max', v)} />
            </OptionField>
          </div>
          <OptionField label="Decimals" htmlFor={`${ids}-decimals`}>
            <NumberInput id={`${ids}-decimals`} testId="option-decimals" value={num(get('fieldConfig.defaults.decimals'))} min={0} max={20} onChange={(v) => set('fieldConfig.defaults.decimals', v === undefined ? undefined : Math.round(v))} />
          </OptionField>
          <OptionField label="Display name" description="Change the field or series name" htmlFor={`${ids}-dn`}>
            <input id={`${ids}-dn`} type="text" data-testid="option-display-name" value={str(get('fieldConfig.defaults.displayName'), '')} onChange={(e) => set('fieldConfig.defaults.displayName', textOption(e.target.value))} />
          </OptionField>
        </OptionSection>
      )}

      {!isText && type !== 'table' && (
        <OptionSection title="Thresholds">
          <ThresholdsEditor value={get('fieldConfig.defaults.thresholds') as Thresholds | undefined} onChange={(t) => set('fieldConfig.defaults.thresholds', t)} />
          {isTimeSeries && (
            <OptionField label="Show thresholds">
              <SelectInput
                testId="option-thresholds-style"
                value={str(get('fieldConfig.defaults.custom.thresholdsStyle.mode'), 'off')}
                choices={[
                  { value: 'off', label: 'Off' },
                  { value: 'line', label: 'As lines' },
                  { value: 'dashed', label: 'As lines (dashed)' },
                ]}
                onChange={(v) => set('fieldConfig.defaults.custom.thresholdsStyle.mode', v)}
              />
            </OptionField>
          )}
        </OptionSection>
      )}
    </div>
  );
}
