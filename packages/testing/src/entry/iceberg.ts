export { icebergDataFiles, readIcebergTable, type IcebergDataFileEntry, type IcebergReadOptions } from '../iceberg.js';
export { startRestCatalog, type RestCatalogServer, type RestCatalogServerOptions } from '../rest-catalog.js';
