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
 * A lazy route that can be fetched ahead of time. Once its chunk is loaded, lazy() gets a thenable
 * that resolves synchronously, so the route renders without suspending: a suspended route shows its
 * fallback for at least 300 ms (React's Suspense throttle), a third of a dashboard's time to draw.
 */
function preloadable(load: () => Promise<PageModule>) {
  let loaded: PageModule | undefined;
  let pending: Promise<PageModule> | undefined;
  // A failed fetch (a deploy replaced the assets) is forgotten, so the route's next try fetches again.
  const preload = () =>
    (pending ??= load().then(
      (m) => (loaded = m),
      (e: unknown) => {
        pending = undefined;
        throw e;
      },
    ));
  const lazyLoader = () => (loaded ? ({ then: (resolve: (m: PageModule) => void) => resolve(loaded!) } as unknown as Promise<PageModule>) : preload());
  return { preload, lazyLoader };
}

// The dashboard view (with uPlot and the grid) is its own chunk, so login and browse load little.
// Opening a dashboard's URL fetches it alongside the app; any other page fetches it once the browser
// is idle, so following a link to a dashboard does not wait for it either.
const dashboardRoute = preloadable(() => import('../pages/DashboardPage'));
// A background fetch that fails stays quiet: the route reports it if the user goes there.
const preloadQuietly = () => dashboardRoute.preload().catch(() => undefined);
if (window.location.pathname.startsWith('/d/')) void preloadQuietly();
else if ('requestIdleCallback' in window) window.requestIdleCallback(() => void preloadQuietly(), { timeout: 3000 });
else setTimeout(() => void preloadQuietly(), 1000);
const DashboardPage = lazy(dashboardRoute.lazyLoader);
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
// Alerting: the rule pages (list, editor, history) are one chunk; the editor pulls the query editors.
const alertingPages = () => import('../pages/alerting');
const AlertRuleListPage = lazy(() => alertingPages().then((m) => ({ default: m.RuleListPage })));
const AlertRuleEditorPage = lazy(() => alertingPages().then((m) => ({ default: m.RuleEditorPage })));
const AlertHistoryPage = lazy(() => alertingPages().then((m) => ({ default: m.HistoryPage })));
// Notifications (contact points, policies, silences): a chunk of their own.
const notificationPages = () => import('../pages/alerting-notifications');
const ContactPointsPage = lazy(() => notificationPages().then((m) => ({ default: m.ContactPointsPage })));
const PoliciesPage = lazy(() => notificationPages().then((m) => ({ default: m.PoliciesPage })));
const SilencesPage = lazy(() => notificationPages().then((m) => ({ default: m.SilencesPage })));

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
              <Route path="/alerting" element={<Navigate to="/alerting/list" replace />} />
              <Route path="/alerting/list" element={<AlertRuleListPage />} />
              <Route path="/alerting/new" element={<AlertRuleEditorPage />} />
              <Route path="/alerting/:uid/edit" element={<AlertRuleEditorPage key="edit" />} />
              <Route path="/alerting/history" element={<AlertHistoryPage />} />
              <Route path="/alerting/notifications" element={<ContactPointsPage />} />
              <Route path="/alerting/routes" element={<PoliciesPage />} />
              <Route path="/alerting/silences" element={<SilencesPage />} />
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
