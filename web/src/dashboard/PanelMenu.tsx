// A panel's menu (Grafana's panel header menu): View, Edit, Inspect ▸ Data / Query / Panel JSON,
// and in edit mode Duplicate and Remove; plus the `v`, `e`, `i` shortcuts while the mouse is over
// the panel. The menu and the remove confirmation are drawn in a portal: the panel clips its
// content and the grid item's transform would trap `position: fixed`.

import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { createPortal } from 'react-dom';
import { useDashboardEditor } from './editor';
import type { PanelModel } from './model';
import './edit.css';
import './panelMenu.css';

interface Props {
  panel: PanelModel;
  /** The panel's shown title, for labels. */
  title: string;
  /** The panel's element: the shortcuts apply while the mouse is over it. */
  hoverRef: React.RefObject<HTMLElement | null>;
  /** Absent when the panel is already viewed alone: View then goes back to the dashboard. */
  onView?: (id: number) => void;
}

export interface PanelActions {
  view: () => void;
  edit?: () => void;
  inspect: (tab: 'data' | 'query' | 'json') => void;
  duplicate?: () => void;
  remove?: () => void;
}

/** The actions this user has on this panel now (edit needs save rights, duplicate and remove edit mode). */
function usePanelActions(panel: PanelModel, onView: Props['onView'], askRemove: () => void): PanelActions {
  const editor = useDashboardEditor();
  // A repeated copy stands for the panel it repeats: editing it edits that panel.
  const sourceId = panel.repeatPanelId ?? panel.id;
  const canEdit = editor.meta.canSave !== false;
  return {
    view: () => (onView ? onView(panel.id) : editor.openPanel(undefined)),
    edit: canEdit ? () => editor.openPanel(sourceId, 'edit') : undefined,
    inspect: (tab) => editor.openPanel(sourceId, 'inspect', tab),
    duplicate: editor.editing ? () => editor.duplicatePanel(sourceId) : undefined,
    remove: editor.editing ? askRemove : undefined,
  };
}

/** Grafana's panel shortcuts while the pointer is over the panel: v view, e edit, i inspect. */
function usePanelShortcuts(hoverRef: Props['hoverRef'], actions: PanelActions) {
  const actionsRef = useRef(actions);
  useEffect(() => {
    actionsRef.current = actions;
  });
  useEffect(() => {
    const el = hoverRef.current;
    if (!el) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || e.repeat) return;
      const target = e.target as HTMLElement | null;
      if (target?.closest?.('input, select, textarea, [contenteditable], [role="dialog"], [role="menu"]')) return;
      const a = actionsRef.current;
      const run = e.key === 'v' ? a.view : e.key === 'e' ? a.edit : e.key === 'i' ? () => a.inspect('data') : undefined;
      if (!run) return;
      e.preventDefault();
      run();
    };
    const enter = () => document.addEventListener('keydown', onKey);
    const leave = () => document.removeEventListener('keydown', onKey);
    el.addEventListener('mouseenter', enter);
    el.addEventListener('mouseleave', leave);
    // Mounted under the pointer (after a layout change): listen at once.
    if (el.matches(':hover')) enter();
    return () => {
      leave();
      el.removeEventListener('mouseenter', enter);
      el.removeEventListener('mouseleave', leave);
    };
  }, [hoverRef]);
}

interface MenuItemProps {
  testId: string;
  label: string;
  shortcut?: string;
  onSelect: () => void;
  onMouseEnter?: () => void;
  onKeyDown?: (e: React.KeyboardEvent) => void;
}

function MenuItem({ testId, label, shortcut, onSelect, onMouseEnter, onKeyDown }: MenuItemProps) {
  return (
    <button type="button" role="menuitem" data-testid={testId} onClick={onSelect} onMouseEnter={onMouseEnter} onKeyDown={onKeyDown}>
      <span>{label}</span>
      {shortcut && <kbd className="panel-menu-shortcut">{shortcut}</kbd>}
    </button>
  );
}

/** Moves focus between a menu's items with the arrow keys, Home and End. */
function onMenuKeys(e: React.KeyboardEvent<HTMLElement>) {
  const items = Array.from(e.currentTarget.querySelectorAll<HTMLElement>(':scope > li > [role="menuitem"]'));
  const at = items.indexOf(document.activeElement as HTMLElement);
  const move = (i: number) => {
    e.preventDefault();
    items[(i + items.length) % items.length]?.focus();
  };
  if (e.key === 'ArrowDown') move(at + 1);
  else if (e.key === 'ArrowUp') move(at - 1);
  else if (e.key === 'Home') move(0);
  else if (e.key === 'End') move(items.length - 1);
}

export function PanelMenu({ panel, title, hoverRef, onView }: Props) {
  const editor = useDashboardEditor();
  const [open, setOpen] = useState(false);
  const [inspectOpen, setInspectOpen] = useState(false);
  const [confirmRemove, setConfirmRemove] = useState(false);
  const [position, setPosition] = useState<{ top: number; left: number; subLeft: boolean }>();
  const buttonRef = useRef<HTMLButtonElement>(null);
  const menuRef = useRef<HTMLUListElement>(null);
  const actions = usePanelActions(panel, onView, () => setConfirmRemove(true));
  usePanelShortcuts(hoverRef, actions);

  const close = useCallback((refocus = false) => {
    setOpen(false);
    setInspectOpen(false);
    if (refocus) buttonRef.current?.focus();
  }, []);

  // Place the menu under its button, kept inside the window.
  useLayoutEffect(() => {
    if (!open || !buttonRef.current) return;
    const r = buttonRef.current.getBoundingClientRect();
    const width = menuRef.current?.offsetWidth ?? 200;
    const left = Math.max(4, Math.min(r.right - width, window.innerWidth - width - 4));
    setPosition({ top: r.bottom + 2, left, subLeft: left + 2 * width > window.innerWidth });
    menuRef.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
  }, [open]);

  // Clicking elsewhere, scrolling or resizing closes it.
  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      const t = e.target as Node;
      if (!menuRef.current?.contains(t) && !buttonRef.current?.contains(t)) close();
    };
    const onMove = () => close();
    document.addEventListener('mousedown', onDown);
    window.addEventListener('scroll', onMove, true);
    window.addEventListener('resize', onMove);
    return () => {
      document.removeEventListener('mousedown', onDown);
      window.removeEventListener('scroll', onMove, true);
      window.removeEventListener('resize', onMove);
    };
  }, [open, close]);

  const select = (action: () => void) => () => {
    close();
    action();
  };

  const focusSubmenu = () => {
    setInspectOpen(true);
    requestAnimationFrame(() => menuRef.current?.querySelector<HTMLElement>('.panel-submenu [role="menuitem"]')?.focus());
  };

  return (
    <>
      <button
        ref={buttonRef}
        type="button"
        className={`panel-menu-button${open ? ' open' : ''}`}
        data-testid="panel-menu"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-label={`Menu for panel ${title}`}
        title="Panel menu"
        onClick={() => (open ? close() : setOpen(true))}
      >
        ⋮
      </button>
      {open &&
        createPortal(
          <ul
            ref={menuRef}
            className="dropdown panel-menu"
            role="menu"
            aria-label={`Panel ${title}`}
            style={{ position: 'fixed', top: position?.top ?? -9999, left: position?.left ?? -9999 }}
            onKeyDown={(e) => {
              if (e.key === 'Escape') {
                e.preventDefault();
                e.stopPropagation();
                close(true);
              } else if (e.key === 'Tab') close();
              else onMenuKeys(e);
            }}
          >
            <li role="none" onMouseEnter={() => setInspectOpen(false)}>
              <MenuItem testId="panel-menu-view" label={onView ? 'View' : 'Back to dashboard'} shortcut="v" onSelect={select(actions.view)} />
            </li>
            {actions.edit && (
              <li role="none" onMouseEnter={() => setInspectOpen(false)}>
                <MenuItem testId="panel-menu-edit" label="Edit" shortcut="e" onSelect={select(actions.edit)} />
              </li>
            )}
            <li role="none" className="panel-menu-parent" onMouseEnter={() => setInspectOpen(true)} onMouseLeave={() => setInspectOpen(false)}>
              <MenuItem
                testId="panel-menu-inspect"
                label="Inspect ▸"
                shortcut="i"
                onSelect={select(() => actions.inspect('data'))}
                onKeyDown={(e) => {
                  if (e.key === 'ArrowRight' || (e.key === 'ArrowLeft' && position?.subLeft)) {
                    e.preventDefault();
                    e.stopPropagation();
                    focusSubmenu();
                  }
                }}
              />
              {inspectOpen && (
                <ul
                  className={`dropdown panel-submenu${position?.subLeft ? ' left' : ''}`}
                  role="menu"
                  aria-label="Inspect"
                  onKeyDown={(e) => {
                    e.stopPropagation();
                    if (e.key === 'Escape' || e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
                      e.preventDefault();
                      setInspectOpen(false);
                      menuRef.current?.querySelector<HTMLElement>('[data-testid="panel-menu-inspect"]')?.focus();
                    } else onMenuKeys(e);
                  }}
                >
                  <li role="none">
                    <MenuItem testId="panel-menu-inspect-data" label="Data" onSelect={select(() => actions.inspect('data'))} />
                  </li>
                  <li role="none">
                    <MenuItem testId="panel-menu-inspect-query" label="Query" onSelect={select(() => actions.inspect('query'))} />
                  </li>
                  <li role="none">
                    <MenuItem testId="panel-menu-inspect-json" label="Panel JSON" onSelect={select(() => actions.inspect('json'))} />
                  </li>
                </ul>
              )}
            </li>
            {actions.duplicate && (
              <li role="none" onMouseEnter={() => setInspectOpen(false)}>
                <MenuItem testId="panel-menu-duplicate" label="Duplicate" onSelect={select(actions.duplicate)} />
              </li>
            )}
            {actions.remove && (
              <li role="none" onMouseEnter={() => setInspectOpen(false)}>
                <MenuItem testId="panel-menu-remove" label="Remove" onSelect={select(actions.remove)} />
              </li>
            )}
          </ul>,
          document.body,
        )}
      {confirmRemove &&
        createPortal(
          <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && setConfirmRemove(false)}>
            <div
              className="modal"
              role="dialog"
              aria-modal="true"
              aria-labelledby="panel-remove-title"
              data-testid="panel-remove-dialog"
              onKeyDown={(e) => {
                if (e.key === 'Escape') {
                  e.stopPropagation();
                  setConfirmRemove(false);
                }
              }}
            >
              <h2 id="panel-remove-title">Remove panel</h2>
              <p>Are you sure you want to remove the panel “{title || 'Panel'}”?</p>
              <div className="modal-buttons">
                {/* Cancel first and focused: Enter right after the menu should not delete. */}
                <button type="button" className="button" autoFocus onClick={() => setConfirmRemove(false)}>
                  Cancel
                </button>
                <button
                  type="button"
                  className="button danger"
                  data-testid="panel-remove-confirm"
                  onClick={() => {
                    setConfirmRemove(false);
                    editor.removePanel(panel.repeatPanelId ?? panel.id);
                  }}
                >
                  Remove
                </button>
              </div>
            </div>
          </div>,
          document.body,
        )}
    </>
  );
}
