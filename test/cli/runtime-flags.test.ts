import fs from 'node:fs';
import path from 'node:path';

/**
 * The heap flags are written in two files a bench cannot share code with: the Dockerfile's
 * `ENV NODE_OPTIONS` (which the benches read) and the npm scripts. They must agree, or
 * `npm start` and the bench figures would describe a different runtime than the image's.
 */
describe('runtime flags', () => {
  const root = path.resolve(__dirname, '..', '..');
  const dockerfile = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  const nodeOptions = /^ENV NODE_OPTIONS="?([^"\n]*)"?$/m.exec(dockerfile)?.[1].trim();
  const scripts: Record<string, string> = JSON.parse(
    fs.readFileSync(path.join(root, 'package.json'), 'utf8'),
  ).scripts;

  it('npm start and every bench script run node with the Dockerfile NODE_OPTIONS', () => {
    expect(nodeOptions).toMatch(/--max-old-space-size=\d+/);
    const nodeScripts = Object.entries(scripts).filter(
      ([name]) => name === 'start' || name.startsWith('bench:'),
    );
    expect(nodeScripts.length).toBeGreaterThan(5);
    for (const [name, command] of nodeScripts)
      expect({ name, command }).toEqual({ name, command: expect.stringContaining(`node ${nodeOptions} `) });
  });
});
