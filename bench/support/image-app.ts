import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { imageNodeOptions, passOnWarnings, ROOT } from './bench-env';

/**
 * The image's runtime folder as the Dockerfile lays it out (/app: dist, bin, templates,
 * package.json, node_modules), in a temporary folder, so a bench measures the process operators
 * run: the compiled build, started with the image's NODE_OPTIONS (read from the Dockerfile's
 * `ENV NODE_OPTIONS=` line, so the bench follows the image). node_modules is a link to this
 * checkout's (dev dependencies included: they are never loaded by the compiled service).
 * `npm run check:image` is the full reproduction of the image; this is its runtime layout only.
 */
export interface ImageApp {
  dir: string;
  /** The image's NODE_OPTIONS; a bench may set others to compare. */
  nodeOptions: string;
  /** `node bin/kundeklubb.js <command>` in the folder, as the image's CMD runs it. */
  spawn(command: string, env: Record<string, string>): ChildProcess;
  remove(): void;
}

export function buildImageApp(): ImageApp {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kk-bench-image-'));
  const tsc = spawnSync(
    process.execPath,
    [
      path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      path.join(ROOT, 'tsconfig.build.json'),
      '--outDir',
      path.join(dir, 'dist'),
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (tsc.status !== 0) throw new Error(`the build failed:\n${tsc.stdout}${tsc.stderr}`);
  for (const part of ['bin', 'templates'])
    fs.cpSync(path.join(ROOT, part), path.join(dir, part), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const app: ImageApp = {
    dir,
    nodeOptions: imageNodeOptions(),
    spawn(command, env) {
      const child = spawn(process.execPath, [path.join(dir, 'bin', 'kundeklubb.js'), command], {
        cwd: dir,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? os.tmpdir(),
          ...env,
          NODE_OPTIONS: app.nodeOptions,
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      if (child.stdout) passOnWarnings(child.stdout);
      return child;
    },
    remove() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return app;
}
