import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  assertFunctionRuntime,
  lambdaNodeBinary,
  nodeMajor,
  runtimeNodeMajor,
} from '#localstack/local-cloud/lambda-node.ts';

describe("the functions' Node", () => {
  it('reads the major of a Node.js Lambda runtime, and nothing from other runtimes', () => {
    // Act
    const majors = ['nodejs22.x', 'nodejs20.x', 'python3.12', ''].map(runtimeNodeMajor);

    // Assess
    expect(majors).toEqual([22, 20, undefined, undefined]);
    expect(nodeMajor('v22.23.3')).toBe(22);
  });

  it('refuses to host a function on another Node major than its runtime, naming both', () => {
    // Prepare
    const functions = [{ name: 'CjEngine-dev-judge', runtime: 'nodejs22.x' }];

    // Act
    const onTwenty = () => assertFunctionRuntime(functions, 'v20.20.2');
    const onTwentyTwo = () => assertFunctionRuntime(functions, 'v22.23.3');

    // Assess
    expect(onTwenty).toThrow(/CjEngine-dev-judge runs on nodejs22\.x .* Node v20\.20\.2/);
    expect(onTwentyTwo).not.toThrow();
  });

  it('finds the Node 22 binary the `node` dependency installs', () => {
    // Act
    const binary = lambdaNodeBinary();

    // Assess
    expect(binary).toMatch(/node_modules\/node\/bin\/node$/);
    expect(existsSync(binary)).toBe(true);
  });
});
