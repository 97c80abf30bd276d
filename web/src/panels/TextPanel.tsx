import { useMemo } from 'react';
import { marked } from 'marked';
import DOMPurify from 'dompurify';
import type { PanelProps } from './types';

/** Markdown (or HTML) from the dashboard, sanitized: a dashboard is user input and must not run scripts. */
export function TextPanel({ panel }: PanelProps) {
  const options = panel.options as { mode?: string; content?: string } | undefined;
  const mode = options?.mode ?? panel.mode ?? 'markdown';
  const content = options?.content ?? panel.content ?? '';
  const html = useMemo(() => {
    const raw = mode === 'html' ? content : (marked.parse(content, { async: false }) as string);
    return DOMPurify.sanitize(raw);
  }, [mode, content]);
  if (mode === 'code') return <pre className="text-panel">{content}</pre>;
  return <div className="text-panel" dangerouslySetInnerHTML={{ __html: html }} />;
}
