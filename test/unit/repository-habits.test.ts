/**
 * Repository habits a reviewer would otherwise check by hand: the code and docs cite the repo's own
 * docs (never the reference documents beside the repo), and dependencies are pinned exactly with
 * one version per AWS SDK and Powertools family.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const trackedFiles = execFileSync('git', ['ls-files'], { encoding: 'utf8' })
  .split('\n')
  .filter((path) => /\.(ts|mjs|md|sh|json|py)$/.test(path) && path !== 'package-lock.json');

const packageJson = JSON.parse(readFileSync('package.json', 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

describe('repository habits', () => {
  it('cites the repo docs, never section numbers of documents outside the repo', () => {
    // Prepare: built from parts so this file does not match itself.
    const outside = new RegExp(['SPEC', 'ANCHORS'].map((name) => `${name}(\\.md)? §`).join('|'));
    const referenceDir = ['shared', 'reference'].join('/');

    // Act
    const offenders = trackedFiles.filter((path) => {
      const text = readFileSync(path, 'utf8');
      return outside.test(text) || text.includes(`../${referenceDir}`) || /ANCHORS\.md/.test(text);
    });

    // Assess
    expect(trackedFiles.length).toBeGreaterThan(100);
    expect(offenders).toEqual([]);
  });

  it('pins every dependency to an exact version', () => {
    // Prepare
    const all = { ...packageJson.dependencies, ...packageJson.devDependencies };

    // Act
    const ranged = Object.entries(all).filter(([, version]) => !/^\d+\.\d+\.\d+$/.test(version));

    // Assess
    expect(ranged).toEqual([]);
  });

  it('uses one version of the AWS SDK clients and one of Powertools', () => {
    // Prepare
    const deps = packageJson.dependencies;
    const versionsOf = (prefix: string) =>
      new Set(
        Object.entries(deps)
          .filter(([name]) => name.startsWith(prefix))
          .map(([, version]) => version),
      );

    // Act
    const sdk = versionsOf('@aws-sdk/');
    const powertools = versionsOf('@aws-lambda-powertools/');

    // Assess
    expect(sdk.size).toBe(1);
    expect(powertools.size).toBe(1);
  });
});
