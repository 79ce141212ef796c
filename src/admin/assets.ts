import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { RequestHandler } from 'express';
import { TEMPLATES_DIR } from '../templates';

/**
 * The admin UI's only two assets, served by the service itself (no CDN, no build step). They
 * live in templates/admin/ so the Docker image (which ships templates/) has them; URLs carry a
 * content hash, so browsers may cache them for a year.
 */

const ASSETS: Record<string, string> = {
  'admin.css': 'text/css; charset=utf-8',
  'admin.js': 'text/javascript; charset=utf-8',
};

interface Asset {
  body: Buffer;
  type: string;
  version: string;
}

const loaded = new Map<string, Asset>();

function load(name: string): Asset {
  let a = loaded.get(name);
  if (!a) {
    const body = fs.readFileSync(path.join(TEMPLATES_DIR, 'admin', name));
    a = {
      body,
      type: ASSETS[name],
      version: crypto.createHash('sha256').update(body).digest('hex').slice(0, 12),
    };
    loaded.set(name, a);
  }
  return a;
}

export function assetUrl(name: 'admin.css' | 'admin.js'): string {
  return `/admin/assets/${name}?v=${load(name).version}`;
}

export function serveAssets(): RequestHandler {
  return (req, res, next) => {
    const name = req.path.replace(/^\//, '');
    if (
      !Object.prototype.hasOwnProperty.call(ASSETS, name) ||
      (req.method !== 'GET' && req.method !== 'HEAD')
    )
      return next();
    const a = load(name);
    res
      .status(200)
      .type(a.type)
      .set('Cache-Control', 'public, max-age=31536000, immutable')
      .set('X-Content-Type-Options', 'nosniff')
      .send(a.body);
  };
}
