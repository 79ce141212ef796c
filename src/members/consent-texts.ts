import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface ConsentText {
  version: string;
  text: string;
  sha256: string;
}

/**
 * The consent texts the apps show, one file per version in templates/consent/. The service knows
 * each version's exact wording, so every consent event can record the hash of what was shown.
 */
export class ConsentTexts {
  private readonly byVersion = new Map<string, ConsentText>();

  constructor(dir = path.join(__dirname, '..', '..', 'templates', 'consent')) {
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.txt'))) {
      const text = fs.readFileSync(path.join(dir, file), 'utf8');
      const version = file.slice(0, -'.txt'.length);
      this.byVersion.set(version, {
        version,
        text,
        sha256: crypto.createHash('sha256').update(text).digest('hex'),
      });
    }
  }

  get(version: string): ConsentText | undefined {
    return this.byVersion.get(version);
  }

  versions(): string[] {
    return [...this.byVersion.keys()].sort();
  }
}
