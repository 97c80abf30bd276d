// The datasources the panel editor offers. They come from the boot data
// (/api/frontend/settings), which every signed-in role may read: GET /api/datasources is for
// admins only, and Editors edit panels too.

import { useEffect, useState } from 'react';
import { frontendSettings } from '../../api/query';
import type { DatasourceInfo } from './targets';

export interface DatasourceList {
  list: DatasourceInfo[];
  loading: boolean;
  error?: string;
}

export function useDatasources(): DatasourceList {
  const [state, setState] = useState<DatasourceList>({ list: [], loading: true });
  useEffect(() => {
    let live = true;
    frontendSettings()
      .then((settings) => {
        if (!live) return;
        const list = Object.values(settings.datasources ?? {})
          .map((d) => ({ uid: d.uid, name: d.name, type: d.type, isDefault: d.isDefault === true || d.name === settings.defaultDatasource }))
          .sort((a, b) => a.name.localeCompare(b.name));
        setState({ list, loading: false });
      })
      .catch((e: unknown) => live && setState({ list: [], loading: false, error: e instanceof Error ? e.message : String(e) }));
    return () => {
      live = false;
    };
  }, []);
  return state;
}
