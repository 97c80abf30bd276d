// The datasource pages: one lazily loaded chunk (the routes import this module, not the pages).
export { DatasourceListPage } from './DatasourceListPage';
export { NewDatasourcePage } from './NewDatasourcePage';
export { EditDatasourcePage } from './EditDatasourcePage';
