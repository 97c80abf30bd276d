// The admin pages (users, service accounts, cluster): one lazily loaded chunk.
export { UsersPage } from './UsersPage';
export { ServiceAccountsPage } from './ServiceAccountsPage';
export { ClusterPage } from './ClusterPage';
