// The alerting notification pages (contact points, notification policies, silences): one lazily
// loaded chunk for the three routes /alerting/notifications, /alerting/routes, /alerting/silences.
export { ContactPointsPage } from './ContactPointsPage';
export { PoliciesPage } from './PoliciesPage';
export { SilencesPage } from './SilencesPage';
