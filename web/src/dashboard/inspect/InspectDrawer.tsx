// Placeholder until the inspect drawer lands (same session): the page's contract for it.
export interface InspectDrawerProps {
  panelId: number;
  /** `data`, `query` or `json` (Grafana's inspectTab). */
  tab: string;
  onTabChange: (tab: string) => void;
  onClose: () => void;
}

export default function InspectDrawer({ panelId, onClose }: InspectDrawerProps) {
  return (
    <aside className="inspect-drawer" data-testid="inspect-drawer" data-panel-id={panelId}>
      <button type="button" className="button" onClick={onClose}>
        Close
      </button>
    </aside>
  );
}
