export { tempPostgresDatabase, type TempDatabase } from '../postgres.js';
export { tempMysqlDatabase, type TempMysqlDatabase } from '../mysql.js';
export { startMysqlTlsProxy, startPostgresTlsProxy, testCertificates, type TestCertificates, type TlsProxy } from '../tls.js';
