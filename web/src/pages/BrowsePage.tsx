import { useEffect, useMemo, useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router';
import { getTags, searchDashboards, type SearchHit } from '../api/dashboards';
import { getFolder, listFolders, type FolderSummary } from '../api/folders';
import { useOrgRole } from '../app/orgRole';
import { GENERAL_UID, groupByFolder } from './folders/browseGroups';
import { NewMenu } from './folders/NewMenu';
import './folders/folders.css';

/**
 * `/dashboards`: every folder with its dashboards; `/dashboards/f/:folderUid/:slug?` (Grafana's
 * folder URL): one folder.
 */
export function BrowsePage() {
  const { folderUid } = useParams();
  // Filters live in the URL so a filtered list can be shared and survives reload.
  const [params, setParams] = useSearchParams();
  const query = params.get('query') ?? '';
  const tags = params.getAll('tag');
  const starred = params.get('starred') === 'true';
  const sort = params.get('sort') === 'alpha-desc' ? 'alpha-desc' : 'alpha-asc';

  const [hits, setHits] = useState<SearchHit[]>();
  const [error, setError] = useState<string>();
  const [allTags, setAllTags] = useState<{ term: string; count: number }[]>([]);
  const [folders, setFolders] = useState<FolderSummary[]>([]);
  const role = useOrgRole();
  const canCreate = role === 'Editor' || role === 'Admin';
  const folder = useFolderTitle(folderUid);

  // Search finds only folders with dashboards; the folder list adds the empty ones.
  useEffect(() => {
    const abort = new AbortController();
    listFolders(abort.signal)
      .then(setFolders)
      .catch(() => {
        /* empty folders stay unlisted; the search results still show */
      });
    return () => abort.abort();
  }, []);

  useEffect(() => {
    const abort = new AbortController();
    getTags(abort.signal)
      .then(setAllTags)
      .catch(() => {
        /* the tag filter stays empty; search still works */
      });
    return () => abort.abort();
  }, []);

  const tagsKey = tags.join('\u0000');
  useEffect(() => {
    const abort = new AbortController();
    // Debounce typing: one search per pause, not per key.
    const timer = setTimeout(() => {
      searchDashboards({ query, tag: tagsKey ? tagsKey.split('\u0000') : [], starred, sort, type: 'dash-db', limit: 5000 }, abort.signal)
        .then((result) => {
          setHits(result);
          setError(undefined);
        })
        .catch((e: unknown) => {
          if (!abort.signal.aborted) setError(e instanceof Error ? e.message : String(e));
        });
    }, 150);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [query, tagsKey, starred, sort]);

  const update = (change: (p: URLSearchParams) => void) => {
    const next = new URLSearchParams(params);
    change(next);
    setParams(next, { replace: true });
  };

  const filtered = query !== '' || tags.length > 0 || starred;
  const groups = useMemo(() => {
    // Nothing until the search answers: folders alone would show as empty for a moment.
    if (!hits) return [];
    // Under a filter, a folder with no match is noise; unfiltered, an empty folder is still a place.
    const all = groupByFolder(hits, filtered ? [] : folders);
    if (!folderUid) return all;
    return [all.find((g) => g.uid === folderUid) ?? { uid: folderUid, title: folder.title ?? '', items: [] }];
  }, [hits, folders, filtered, folderUid, folder.title]);
  // Folders follow the chosen order too.
  const orderedGroups = sort === 'alpha-desc' ? [...groups].reverse() : groups;

  return (
    <div className="browse">
      <div className="browse-header">
        {folderUid ? (
          <h1>
            <Link to="/dashboards" className="folder-crumb">
              Dashboards
            </Link>{' '}
            / <span data-testid="folder-view-title">{folder.title ?? '…'}</span>
          </h1>
        ) : (
          <h1>Dashboards</h1>
        )}
        {canCreate && <NewMenu folderUid={folderUid} />}
      </div>
      {folder.error && (
        <p className="form-error" role="alert">
          {folder.error}
        </p>
      )}
      <div className="browse-controls">
        <label className="grow">
          <span className="visually-hidden">Search dashboards</span>
          <input type="search" placeholder="Search dashboards" data-testid="search-input" autoFocus value={query} onChange={(e) => update((p) => (e.target.value ? p.set('query', e.target.value) : p.delete('query')))} />
        </label>
        <label>
          <span className="visually-hidden">Filter by tag</span>
          <select
            data-testid="tag-filter"
            value=""
            onChange={(e) => {
              const tag = e.target.value;
              if (tag && !tags.includes(tag)) update((p) => p.append('tag', tag));
            }}
          >
            <option value="">Filter by tag</option>
            {allTags.map((t) => (
              <option key={t.term} value={t.term}>
                {t.term} ({t.count})
              </option>
            ))}
          </select>
        </label>
        <label className="checkbox">
          <input type="checkbox" data-testid="starred-filter" checked={starred} onChange={(e) => update((p) => (e.target.checked ? p.set('starred', 'true') : p.delete('starred')))} />
          Starred
        </label>
        <label>
          <span className="visually-hidden">Sort</span>
          <select data-testid="sort-select" value={sort} onChange={(e) => update((p) => p.set('sort', e.target.value))}>
            <option value="alpha-asc">Sort A–Z</option>
            <option value="alpha-desc">Sort Z–A</option>
          </select>
        </label>
      </div>
      {tags.length > 0 && (
        <div className="tag-list" aria-label="Active tag filters">
          {tags.map((t) => (
            <button key={t} type="button" className="tag" onClick={() => update((p) => {
              p.delete('tag');
              tags.filter((x) => x !== t).forEach((x) => p.append('tag', x));
            })} aria-label={`Remove tag filter ${t}`}>
              {t} ×
            </button>
          ))}
        </div>
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {hits === undefined && !error && <div className="page-loading" aria-busy="true" />}
      {hits !== undefined && groups.length === 0 && <p className="empty-state">No dashboards found.</p>}
      {orderedGroups.map((group) => (
        <section key={group.uid} className="folder" data-testid="browse-folder" data-folder-uid={group.uid}>
          {!folderUid && (
            <h2 className="folder-title">
              {group.uid === GENERAL_UID ? group.title : <Link to={`/dashboards/f/${encodeURIComponent(group.uid)}`}>{group.title}</Link>}
            </h2>
          )}
          {group.items.length === 0 && <p className="folder-empty">{filtered ? 'No matching dashboards in this folder.' : 'No dashboards in this folder yet.'}</p>}
          {group.items.length > 0 && (
            <ul className="dash-list">
              {group.items.map((hit) => (
                <li key={hit.uid} data-testid="browse-item" data-uid={hit.uid}>
                  <Link to={hit.url || `/d/${hit.uid}`}>{hit.title}</Link>
                  {hit.isStarred && <span aria-label="Starred" title="Starred" className="star">★</span>}
                  <span className="tags">
                    {hit.tags.map((t) => (
                      <button key={t} type="button" className="tag" onClick={() => !tags.includes(t) && update((p) => p.append('tag', t))}>
                        {t}
                      </button>
                    ))}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </section>
      ))}
    </div>
  );
}

/** The title of the folder being browsed (from the folder API), or why it cannot be shown. */
function useFolderTitle(uid: string | undefined): { title?: string; error?: string } {
  const [state, setState] = useState<{ uid?: string; title?: string; error?: string }>({});
  useEffect(() => {
    if (!uid) return;
    const abort = new AbortController();
    getFolder(uid, abort.signal)
      .then((f) => setState({ uid, title: f.title }))
      .catch((e: unknown) => {
        if (!abort.signal.aborted) setState({ uid, error: e instanceof Error ? e.message : String(e) });
      });
    return () => abort.abort();
  }, [uid]);
  return state.uid === uid && uid ? state : {};
}
