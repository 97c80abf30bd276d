import { lazy, Suspense, type ComponentType } from 'react';
import { BrowserRouter, Navigate, Route, Routes } from 'react-router';
import { SignedInLayout } from './Layout';
import { ErrorBoundary } from './ErrorBoundary';
import { LoginPage } from '../pages/LoginPage';
import { BrowsePage } from '../pages/BrowsePage';
import { NotFoundPage } from '../pages/NotFoundPage';
import { ProfilePage } from '../pages/ProfilePage';

type PageModule = { default: ComponentType };

/**
 * A lazy route whose chunk starts loading with the app when the app opens on one of its URLs. Once
 * loaded, lazy() gets a thenable that resolves synchronously, so the route renders without
 * suspending: a suspended route shows its fallback for at least 300 ms (React's Suspense throttle),
 * which was a third of a dashboard's time to first draw.
 */
function preloadedWhen(opening: boolean, load: () => Promise<PageModule>): () => Promise<PageModule> {
  let loaded: PageModule | undefined;
  const pending = opening ? load().then((m) => (loaded = m)) : undefined;
  return () => (loaded ? ({ then: (resolve: (m: PageModule) => void) => resolve(loaded!) } as unknown as Promise<PageModule>) : (pending ?? load()));
}

// The dashboard view (with uPlot and the grid) is its own chunk, so login and browse load little;
// opening a dashboard's URL directly fetches it alongside the app.
const DashboardPage = lazy(preloadedWhen(window.location.pathname.startsWith('/d/'), () => import('../pages/DashboardPage')));
// The datasource pages, likewise: one chunk for the three routes, loaded only by admins who go there.
const datasourcePages = () => import('../pages/datasources');
const DatasourceListPage = lazy(() => datasourcePages().then((m) => ({ default: m.DatasourceListPage })));
const NewDatasourcePage = lazy(() => datasourcePages().then((m) => ({ default: m.NewDatasourcePage })));
const EditDatasourcePage = lazy(() => datasourcePages().then((m) => ({ default: m.EditDatasourcePage })));
// Creating dashboards (new, import): a chunk of its own, loaded from the browse page's New menu.
const createPages = () => import('../pages/import');
const NewDashboardPage = lazy(() => createPages().then((m) => ({ default: m.NewDashboardPage })));
const ImportPage = lazy(() => createPages().then((m) => ({ default: m.ImportPage })));
// The admin pages (users, service accounts, cluster): one chunk, for admins only.
const adminPages = () => import('../pages/admin');
const UsersPage = lazy(() => adminPages().then((m) => ({ default: m.UsersPage })));
const ServiceAccountsPage = lazy(() => adminPages().then((m) => ({ default: m.ServiceAccountsPage })));
const ClusterPage = lazy(() => adminPages().then((m) => ({ default: m.ClusterPage })));

export function App() {
  return (
    <BrowserRouter>
      <ErrorBoundary fallback={(error) => <PageError error={error} />}>
        <Suspense fallback={<div className="page-loading" aria-busy="true" />}>
          <Routes>
            <Route path="/login" element={<LoginPage />} />
            <Route element={<SignedInLayout />}>
              <Route index element={<Navigate to="/dashboards" replace />} />
              <Route path="/dashboards" element={<BrowsePage />} />
              <Route path="/dashboards/f/:folderUid/:slug?" element={<BrowsePage />} />
              <Route path="/dashboard/new" element={<NewDashboardPage />} />
              <Route path="/dashboard/import" element={<ImportPage />} />
              <Route path="/d/:uid/:slug?" element={<DashboardPage />} />
              <Route path="/profile" element={<ProfilePage />} />
              <Route path="/connections/datasources" element={<DatasourceListPage />} />
              <Route path="/connections/datasources/new" element={<NewDatasourcePage />} />
              <Route path="/connections/datasources/edit/:uid" element={<EditDatasourcePage />} />
              <Route path="/admin/users" element={<UsersPage />} />
              <Route path="/org/serviceaccounts" element={<ServiceAccountsPage />} />
              <Route path="/admin/cluster" element={<ClusterPage />} />
              <Route path="*" element={<NotFoundPage />} />
            </Route>
          </Routes>
        </Suspense>
      </ErrorBoundary>
    </BrowserRouter>
  );
}

/** Shown when a page fails to render or its code cannot be loaded (assets replaced by a deploy). */
function PageError({ error }: { error: Error }) {
  return (
    <div className="page-error" role="alert">
      <p>Something went wrong: {error.message}</p>
      <button type="button" className="button" onClick={() => window.location.reload()}>
        Reload
      </button>
    </div>
  );
}
