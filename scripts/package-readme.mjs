// Runs as each package's `prepack`: the package README published to npm is its page in
// docs/packages/, with links made absolute. The docs page is the only copy kept in git.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.cwd();
const name = path.basename(dir);
const root = path.resolve(dir, '..', '..');
const page = readFileSync(path.join(root, 'docs', 'packages', `${name}.md`), 'utf8');
const absolute = page.replace(/\]\(\.\.\//g, '](https://github.com/dativo-io/dativo/blob/main/docs/');
writeFileSync(path.join(dir, 'README.md'), `${absolute}\n---\n\nPart of [Dativo](https://github.com/dativo-io/dativo) · Apache-2.0\n`);
