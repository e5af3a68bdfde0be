export { dativoConnector, googleSheetsSink, googleSheetsSource, sheetsSourceHead, sheetsTargetHead, sheetsV1Source, sheetsV1Target } from './connector.js';
export { sheetsSourceConfigSchema, sheetsTargetConfigSchema, type SheetEntry, type SheetsSourceConfig, type SheetsTargetConfig } from './config.js';
export { columnIndex, columnLetters, formatA1, parseA1, type A1Range } from './a1.js';
export { VERSION } from './version.js';
