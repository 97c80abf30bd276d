import { useDashboardEditor } from '../editor';
import { GeneralSettings } from './GeneralSettings';
import { JsonModelSettings } from './JsonModelSettings';
import { VariablesSettings } from './VariablesSettings';
import { VersionsSettings } from './VersionsSettings';
import '../edit.css';
import './settings.css';

export interface DashboardSettingsProps {
  /** Grafana's editview: settings, variables, versions, json. */
  view: string;
  onViewChange: (view: string) => void;
  onClose: () => void;
}

const VIEWS = [
  { view: 'settings', label: 'General' },
  { view: 'variables', label: 'Variables' },
  { view: 'versions', label: 'Versions' },
  { view: 'json', label: 'JSON Model' },
] as const;

/**
 * Dashboard settings (`editview=`): a side nav of the pages, each editing the working copy live (the
 * versions page reads the server's history). Saving stays with the save dialog, one click away.
 */
export default function DashboardSettings({ view, onViewChange, onClose }: DashboardSettingsProps) {
  const editor = useDashboardEditor();
  let page: React.ReactNode;
  switch (view) {
    case 'settings':
      page = <GeneralSettings />;
      break;
    case 'variables':
      page = <VariablesSettings />;
      break;
    case 'versions':
      page = <VersionsSettings />;
      break;
    case 'json':
      page = <JsonModelSettings />;
      break;
    default:
      page = <p className="settings-empty">The “{view}” settings are not available in Pharos.</p>;
  }
  return (
    <div className="dashboard-settings" data-testid="dashboard-settings" data-view={view}>
      <nav className="settings-nav" aria-label="Dashboard settings">
        <button type="button" className="button ghost settings-back" data-testid="settings-back" onClick={onClose}>
          ← Back to dashboard
        </button>
        {VIEWS.map((v) => (
          <button
            key={v.view}
            type="button"
            className={`settings-nav-item${v.view === view ? ' active' : ''}`}
            aria-current={v.view === view ? 'page' : undefined}
            data-testid="settings-nav"
            data-view={v.view}
            onClick={() => onViewChange(v.view)}
          >
            {v.label}
          </button>
        ))}
        {editor.meta.canSave !== false && (
          <button type="button" className={`button${editor.dirty ? ' primary' : ''} settings-save`} data-testid="settings-save" data-dirty={editor.dirty ? 'true' : 'false'} onClick={editor.openSave}>
            Save dashboard{editor.dirty ? ' •' : ''}
          </button>
        )}
        {editor.dirty && <p className="settings-unsaved">Unsaved changes</p>}
      </nav>
      <section className="settings-page">{page}</section>
    </div>
  );
}
