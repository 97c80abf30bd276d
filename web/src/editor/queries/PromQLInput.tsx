// The React side of the PromQL code editor (loaded lazily; see promqlView.ts).

import { useEffect, useEffectEvent, useRef } from 'react';
import type { EditorView } from '@codemirror/view';
import { createPromQLView, setText } from './promqlView';

interface Props {
  datasourceUid: string;
  expr: string;
  /** The text when the editor loses focus. */
  onBlur: (expr: string) => void;
  /** Shift+Enter with the current text. */
  onRun: (expr: string) => void;
}

export default function PromQLInput({ datasourceUid, expr, onBlur, onRun }: Props) {
  const parent = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const handleBlur = useEffectEvent((text: string) => onBlur(text));
  const handleRun = useEffectEvent((text: string) => onRun(text));
  const initialExpr = useEffectEvent(() => expr);

  // One editor per datasource (its completion client is tied to the datasource's proxy URL).
  useEffect(() => {
    if (!parent.current) return;
    const editor = createPromQLView({
      parent: parent.current,
      doc: initialExpr(),
      datasourceUid,
      onBlur: (text) => handleBlur(text),
      onRun: (text) => handleRun(text),
    });
    view.current = editor.view;
    return () => {
      view.current = null;
      editor.destroy();
    };
  }, [datasourceUid]);

  // A change from outside shows at once, but never under the cursor of someone typing.
  useEffect(() => {
    if (view.current && !view.current.hasFocus) setText(view.current, expr);
  }, [expr]);

  return <div ref={parent} className="promql-input" data-testid="promql-input" />;
}
