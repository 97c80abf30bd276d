// The PromQL code editor: CodeMirror 6 with Prometheus' PromQL language (highlighting, linting,
// completion). Metric names, label names and label values are completed from the datasource's
// Prometheus through Pharos' proxy. Only the lazily loaded PromQLInput imports this module, so
// CodeMirror stays out of the initial bundle.

import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { bracketMatching, HighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { lintKeymap } from '@codemirror/lint';
import { Compartment, EditorState, Prec } from '@codemirror/state';
import { EditorView, keymap, placeholder, tooltips } from '@codemirror/view';
import { tags } from '@lezer/highlight';
import { PromQLExtension } from '@prometheus-io/codemirror-promql';

/** Where the completion client sends its `/api/v1/...` requests: Pharos' proxy for the datasource. */
export function proxyUrl(uid: string): string {
  return `/api/datasources/proxy/uid/${encodeURIComponent(uid)}`;
}

/** The PromQL language with completion from the datasource and the syntax linter. */
export function promQL(uid: string): PromQLExtension {
  return new PromQLExtension().setComplete({
    remote: {
      // The library appends `/api/v1/labels`, `/api/v1/label/<name>/values`, `/api/v1/series` and
      // `/api/v1/metadata`, all of which the proxy forwards.
      url: proxyUrl(uid),
      // Reads only: GET needs no body, so no cross-site (Origin) check can refuse it.
      httpMethod: 'GET',
      // Names seen in the last 12 hours, so old series do not crowd the suggestions.
      lookbackInterval: 12 * 60 * 60 * 1000,
      // Same-origin with the session cookie, whatever the browser's fetch default.
      fetchFn: (input, init) => fetch(input, { ...init, credentials: 'same-origin' }),
      cache: { maxAge: 5 * 60 * 1000 },
    },
  });
}

/** Colors from the theme's CSS variables (queries.css), so light and dark need no second style. */
const highlight = HighlightStyle.define([
  { tag: tags.comment, color: 'var(--pq-comment)', fontStyle: 'italic' },
  { tag: tags.labelName, color: 'var(--pq-label)' },
  { tag: tags.string, color: 'var(--pq-string)' },
  { tag: tags.number, color: 'var(--pq-number)' },
  { tag: tags.function(tags.variableName), color: 'var(--pq-function)' },
  { tag: [tags.operatorKeyword, tags.modifier, tags.logicOperator], color: 'var(--pq-keyword)' },
  { tag: tags.invalid, color: 'var(--error)' },
]);

const theme = EditorView.theme({
  '&': {
    color: 'var(--text)',
    backgroundColor: 'var(--bg-panel)',
    border: '1px solid var(--border)',
    borderRadius: '2px',
    fontSize: '13px',
  },
  '&.cm-focused': { outline: '2px solid var(--primary)', outlineOffset: '-1px' },
  '.cm-content': { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace', padding: '6px 0', caretColor: 'var(--text)' },
  '.cm-line': { padding: '0 8px' },
  '.cm-cursor, .cm-dropCursor': { borderLeftColor: 'var(--text)' },
  '&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground': {
    backgroundColor: 'var(--pq-selection)',
  },
  '.cm-placeholder': { color: 'var(--text-weak)' },
  '.cm-matchingBracket': { backgroundColor: 'var(--pq-selection)', outline: 'none' },
  '.cm-tooltip': { backgroundColor: 'var(--bg-panel)', color: 'var(--text)', border: '1px solid var(--border)' },
  '.cm-tooltip-autocomplete > ul': { fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace', maxHeight: '16em' },
  '.cm-tooltip-autocomplete > ul > li[aria-selected]': { backgroundColor: 'var(--primary)', color: 'var(--primary-text)' },
  '.cm-completionDetail': { color: 'var(--text-weak)', fontStyle: 'normal', marginLeft: '1em' },
  '.cm-tooltip-autocomplete > ul > li[aria-selected] .cm-completionDetail': { color: 'inherit', opacity: 0.8 },
  '.cm-completionInfo': { maxWidth: '30em', padding: '4px 8px' },
  '.cm-diagnostic-error': { borderLeftColor: 'var(--error)' },
});

export interface PromQLViewOptions {
  parent: HTMLElement;
  doc: string;
  datasourceUid: string;
  /** The editor lost focus; `text` is its content. */
  onBlur: (text: string) => void;
  /** Shift+Enter: run the query in `text`. */
  onRun: (text: string) => void;
}

/** Whether the app shows its dark theme (`data-theme` on <html>, set by app/theme.ts). */
const isDark = () => document.documentElement.dataset.theme === 'dark';

/** A PromQL editor in `parent`. Call `destroy()` to remove it and cancel its pending requests. */
export function createPromQLView(options: PromQLViewOptions): { view: EditorView; destroy: () => void } {
  const language = promQL(options.datasourceUid);
  const darkMode = new Compartment();
  const run = (view: EditorView) => {
    options.onRun(view.state.doc.toString());
    return true;
  };
  const view = new EditorView({
    parent: options.parent,
    state: EditorState.create({
      doc: options.doc,
      extensions: [
        // Shift+Enter (as in Grafana, or Ctrl/Cmd+Enter) runs the query, even with the completion list open.
        Prec.highest(keymap.of([{ key: 'Shift-Enter', run }, { key: 'Mod-Enter', run }])),
        history(),
        closeBrackets(),
        bracketMatching(),
        autocompletion(),
        keymap.of([...closeBracketsKeymap, ...completionKeymap, ...historyKeymap, ...lintKeymap, ...defaultKeymap]),
        language.asExtension(),
        syntaxHighlighting(highlight),
        theme,
        darkMode.of(EditorView.darkTheme.of(isDark())),
        EditorView.lineWrapping,
        placeholder('Enter a PromQL query (Shift+Enter to run)'),
        EditorView.contentAttributes.of({ 'aria-label': 'PromQL query' }),
        // In document.body, so a scrolling or clipped panel editor does not cut the list off.
        tooltips({ parent: document.body }),
        EditorView.domEventHandlers({
          blur: (_event, v) => {
            options.onBlur(v.state.doc.toString());
            return false;
          },
        }),
      ],
    }),
  });
  // Follow the theme toggle, which flips `data-theme` on <html>.
  const observer = new MutationObserver(() => view.dispatch({ effects: darkMode.reconfigure(EditorView.darkTheme.of(isDark())) }));
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
  return {
    view,
    destroy: () => {
      observer.disconnect();
      language.destroy();
      view.destroy();
    },
  };
}

/** Replaces the editor's text (a change from outside: undo in the panel editor, the JSON view). */
export function setText(view: EditorView, text: string): void {
  const current = view.state.doc.toString();
  if (current !== text) view.dispatch({ changes: { from: 0, to: current.length, insert: text } });
}
