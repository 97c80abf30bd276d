// The alerting rule pages: one lazily loaded chunk (the routes import this module, not the pages).
export { RuleListPage } from './RuleListPage';
export { RuleEditorPage } from './RuleEditorPage';
export { HistoryPage } from './HistoryPage';
