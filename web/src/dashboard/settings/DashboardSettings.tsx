// Placeholder until the settings pages land (same session): the page's contract for them.
export interface DashboardSettingsProps {
  /** Grafana's editview: settings, variables, versions, json. */
  view: string;
  onViewChange: (view: string) => void;
  onClose: () => void;
}

export default function DashboardSettings({ view, onClose }: DashboardSettingsProps) {
  return (
    <div className="dashboard-settings" data-testid="dashboard-settings" data-view={view}>
      <button type="button" className="button" onClick={onClose}>
        Back to dashboard
      </button>
    </div>
  );
}
