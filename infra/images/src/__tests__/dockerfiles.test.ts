import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { IMAGES, nodeImage, pnpmVersion, renderDockerfile, repoRoot, staleDockerfiles } from '../../dockerfiles.mjs';

const generator = fileURLToPath(new URL('../../dockerfiles.mjs', import.meta.url));

describe('Dockerfiles', () => {
  it('are committed exactly as infra/images/dockerfiles.mjs writes them (run it when this fails)', () => {
    expect(staleDockerfiles()).toEqual([]);
    const check = spawnSync(process.execPath, [generator, '--check'], { encoding: 'utf8' });
    expect(check.status).toBe(0);
  });

  it('--check names a Dockerfile edited by hand and exits 1', () => {
    // A copy of what the generator reads, so the repo's own Dockerfiles stay untouched.
    const root = mkdtempSync(join(tmpdir(), 'dockerfiles-'));
    try {
      cpSync(join(repoRoot, '.nvmrc'), join(root, '.nvmrc'));
      cpSync(join(repoRoot, 'package.json'), join(root, 'package.json'));
      for (const image of IMAGES) {
        mkdirSync(join(root, image.dir), { recursive: true });
        cpSync(join(repoRoot, image.dir, 'Dockerfile'), join(root, image.dir, 'Dockerfile'));
      }
      expect(staleDockerfiles(root)).toEqual([]);
      const path = join(root, 'services/sales/Dockerfile');
      writeFileSync(path, readFileSync(path, 'utf8').replace('USER 10001:10001', 'USER root'));
      expect(staleDockerfiles(root)).toEqual(['services/sales/Dockerfile']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('one per image, each running its own package on its own port as a numeric non-root user', () => {
    expect(IMAGES.map((i) => [i.dir, i.port])).toEqual([
      ['gateway', 4000],
      ['services/customers', 4001],
      ['services/sales', 4002],
      ['services/service-desk', 4003],
      ['services/marketing', 4004],
      ['services/analytics', 4005],
      ['services/admin', 4006],
    ]);
    for (const image of IMAGES) {
      const text = renderDockerfile(image);
      const pkg = JSON.parse(readFileSync(join(repoRoot, image.dir, 'package.json'), 'utf8'));
      expect(pkg.name).toBe(image.name);
      expect(pkg.main).toBe('dist/main.js');
      expect(text).toContain(`RUN bash infra/images/bundle.sh ${image.name} /out`);
      expect(text).toContain(`EXPOSE ${image.port}`);
      expect(text).toMatch(/\nUSER 10001:10001\n/);
      expect(text).toContain('ENV NODE_ENV=production HOST=0.0.0.0');
      expect(text).toMatch(/\nCMD \["node", "dist\/main\.js"\]\n$/);
    }
  });

  it('take Node and pnpm from the versions the repo pins', () => {
    const nvmrc = readFileSync(join(repoRoot, '.nvmrc'), 'utf8').trim();
    expect(nodeImage()).toBe(`node:${nvmrc.split('.').slice(0, 2).join('.')}-bookworm-slim`);
    const { packageManager } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    expect(`pnpm@${pnpmVersion()}`).toBe(packageManager);
    expect(renderDockerfile(IMAGES[0]!)).toContain(`corepack install --global pnpm@${pnpmVersion()}`);
  });
});
