// The pages that create dashboards (new and import): one lazily loaded chunk.
export { ImportPage } from './ImportPage';
export { NewDashboardPage } from '../newdashboard/NewDashboardPage';
