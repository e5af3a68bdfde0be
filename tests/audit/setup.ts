import { flushAuditedLogs } from '@dativo/testing';
import { afterAll } from 'vitest';

// Every test file's in-process log records (run contexts from `testRunContext`) go to the suite's
// secrets audit when the file is done (tests/audit/secrets.audit.test.ts scans them last).
afterAll(() => flushAuditedLogs());
