// Placeholder until the panel editor lands (same session): the page's contract for it.
export interface PanelEditorProps {
  panelId: number;
  /** Back to the dashboard (Grafana's "Back to dashboard"; the changes stay in the working copy). */
  onClose: () => void;
}

export default function PanelEditor({ panelId, onClose }: PanelEditorProps) {
  return (
    <div className="panel-editor" data-testid="panel-editor" data-panel-id={panelId}>
      <button type="button" className="button" onClick={onClose}>
        Back to dashboard
      </button>
    </div>
  );
}
