import { describe, expect, it } from 'vitest';
import type { SearchHit } from '../../api/dashboards';
import { groupByFolder } from './browseGroups';

const hit = (uid: string, folderUid?: string, folderTitle?: string): SearchHit => ({ id: 1, uid, title: uid, url: `/d/${uid}`, type: 'dash-db', tags: [], isStarred: false, folderUid, folderTitle });

describe('groupByFolder', () => {
  it('puts the top level first and the folders by title', () => {
    const groups = groupByFolder([hit('a', 'f2', 'Zeta'), hit('b'), hit('c', 'f1', 'Alpha'), hit('d', 'f2', 'Zeta')]);
    expect(groups.map((g) => [g.uid, g.title, g.items.map((i) => i.uid)])).toEqual([
      ['general', 'Dashboards', ['b']],
      ['f1', 'Alpha', ['c']],
      ['f2', 'Zeta', ['a', 'd']],
    ]);
  });

  it('lists folders that have no dashboards', () => {
    const groups = groupByFolder([hit('a', 'f1', 'Alpha')], [{ id: 1, uid: 'f1', title: 'Alpha' }, { id: 2, uid: 'f3', title: 'Empty' }]);
    expect(groups.map((g) => [g.uid, g.items.length])).toEqual([
      ['f1', 1],
      ['f3', 0],
    ]);
  });

  it('skips folder hits in the results', () => {
    expect(groupByFolder([{ ...hit('f1'), type: 'dash-folder' }])).toEqual([]);
  });
});
